#include "daemon_file.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { DAEMON_JSON_MAX = 4 << 20 };

int daemon_file_load(const char *path, struct daemon_file *f, merr **err)
{
  memset(f, 0, sizeof *f);
  f->path = xstrdup(path);
  f->mode = 0644;
  cleanup_free char *buf = NULL;
  size_t len;
  merr *rerr = NULL;
  if (read_file_at(AT_FDCWD, path, DAEMON_JSON_MAX, &buf, &len, &rerr) < 0) {
    if (!merr_is(rerr, ENOENT)) {
      *err = rerr;
      return -1;
    }
    merr_free(rerr);
    f->doc = json_new(JSON_OBJECT);
    return 0;
  }
  f->existed = true;
  struct stat st;
  if (stat(path, &st) == 0)
    f->mode = st.st_mode & 07777;
  /* Docker accepts an empty file as no configuration. */
  if (strspn(buf, " \t\r\n") == len) {
    f->doc = json_new(JSON_OBJECT);
    return 0;
  }
  if (json_parse(buf, len, NULL, path, &f->doc, err) < 0)
    return -1;
  if (!json_is(f->doc, JSON_OBJECT))
    return merr_set(err, 0, "%s: the top level is not a JSON object", path);
  return 0;
}

char *daemon_file_render(const struct daemon_file *f, merr **err)
{
  char *text = NULL;
  size_t len;
  if (json_serialize(f->doc, true, &text, &len, err) < 0)
    return NULL;
  text = xrealloc(text, len + 2);
  text[len] = '\n';
  text[len + 1] = '\0';
  return text;
}

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

int daemon_file_save(const struct daemon_file *f, char **backup_path, merr **err)
{
  *backup_path = NULL;
  cleanup_free char *text = daemon_file_render(f, err);
  if (text == NULL)
    return -1;
  if (f->existed && backup(f->path, backup_path, err) < 0)
    return -1;
  cleanup_free char *dir = path_dirname(f->path);
  struct stat st;
  if (stat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0755) < 0)
    return merr_set(err, errno, "create %s", dir);
  return write_file_atomic_at(AT_FDCWD, f->path, text, strlen(text), f->mode, err);
}

void daemon_file_clear(struct daemon_file *f)
{
  free(f->path);
  json_free(f->doc);
  memset(f, 0, sizeof *f);
}
