#include "config_file.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A hard link keeps the old content under the backup name when the new file is renamed over
 * the original: atomic, and byte-for-byte the file as it was. */
static int backup(const char *path, char **out, merr **err)
{
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  for (int n = 0; n < 100; n++) {
    cleanup_free char *name = n ? xasprintf("%s.measured-backup-%s-%d", path, stamp, n)
                                : xasprintf("%s.measured-backup-%s", path, stamp);
    if (link(path, name) == 0) {
      *out = steal_pointer(&name);
      return 0;
    }
    if (errno != EEXIST)
      return merr_set(err, errno, "back up %s as %s", path, name);
  }
  return merr_set(err, 0, "back up %s: too many backups this second", path);
}

int config_file_replace(const char *path, const char *text, size_t len, mode_t mode, bool existed,
                        char **backup_path, merr **err)
{
  *backup_path = NULL;
  if (existed && backup(path, backup_path, err) < 0)
    return -1;
  cleanup_free char *dir = path_dirname(path);
  struct stat st;
  if (stat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0755) < 0)
    return merr_set(err, errno, "create %s", dir);
  return write_file_atomic_at(AT_FDCWD, path, text, len, mode, err);
}
