#include "links.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory of this program: the wrapper and its links live next to it. */
char *own_bindir(void)
{
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return xstrdup("/usr/local/bin");
  buf[n] = '\0';
  return path_dirname(buf);
}

int ensure_link(const char *bindir, const char *link_name, merr **err)
{
  cleanup_free char *path = xasprintf("%s/%s", bindir, link_name);
  cleanup_free char *wrapper = xasprintf("%s/%s", bindir, NAMING_WRAPPER_BINARY);
  struct stat st;
  if (access(wrapper, F_OK) < 0)
    return merr_set(err, errno, "the wrapper %s is missing", wrapper);
  if (lstat(path, &st) == 0) {
    if (same_file(path, wrapper))
      return 0;
    return merr_set(err, 0, "%s exists and is not a link to %s: refusing to replace it", path,
                    NAMING_WRAPPER_BINARY);
  }
  if (symlink(NAMING_WRAPPER_BINARY, path) < 0)
    return merr_set(err, errno, "create link %s", path);
  printf("created %s -> %s\n", path, NAMING_WRAPPER_BINARY);
  return 0;
}
