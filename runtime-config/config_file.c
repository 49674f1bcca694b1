#include "config_file.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
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
  if (mkdir_parents(path, err) < 0)
    return -1;
  cleanup_close int old = existed ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
  return write_file_atomic_like(path, text, len, mode, old, err);
}

int config_edit_begin(const char *path, struct config_edit *e, merr **err)
{
  *e = (struct config_edit){.lockfd = -1};
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    char *target = realpath(path, NULL);
    if (target == NULL) {
      char to[4096];
      ssize_t n = readlink(path, to, sizeof to - 1);
      to[n > 0 ? n : 0] = '\0';
      return merr_set(err, errno, "%s is a symbolic link to %s, which cannot be edited", path, to);
    }
    e->link = xstrdup(path);
    e->path = target;
  } else {
    e->path = xstrdup(path);
  }
  cleanup_free char *dir = path_dirname(e->path);
  e->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (e->lockfd < 0 && errno == ENOENT)
    return 0; /* nothing there yet to race for: the directory is made when it is written */
  if (e->lockfd < 0)
    return merr_set(err, errno, "open %s", dir);
  for (int waited = 0; flock(e->lockfd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
    if (errno != EWOULDBLOCK && errno != EINTR)
      return merr_set(err, errno, "lock %s", dir);
    if (waited >= CONFIG_LOCK_WAIT_MS)
      return merr_set(err, 0, "%s: another edit still holds it after %d ms", e->path,
                      CONFIG_LOCK_WAIT_MS);
    nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
  }
  return 0;
}

void config_edit_end(struct config_edit *e)
{
  if (e->lockfd >= 0)
    close(e->lockfd); /* releases the lock */
  free(e->path);
  free(e->link);
  *e = (struct config_edit){.lockfd = -1};
}
