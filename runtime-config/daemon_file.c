#include "daemon_file.h"
#include "cleanup.h"
#include "config_file.h"
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
  f->edit.lockfd = -1;
  f->path = xstrdup(path);
  f->mode = 0644;
  if (config_edit_begin(path, &f->edit, err) < 0)
    return -1;
  path = f->edit.path;
  cleanup_free char *buf = NULL;
  size_t len;
  cleanup_merr merr *rerr = NULL;
  if (read_file_at(AT_FDCWD, path, DAEMON_JSON_MAX, &buf, &len, &rerr) < 0) {
    if (!merr_is(rerr, ENOENT))
      return merr_pass(err, &rerr);
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

int daemon_file_save(const struct daemon_file *f, char **backup_path, merr **err)
{
  *backup_path = NULL;
  cleanup_free char *text = daemon_file_render(f, err);
  if (text == NULL)
    return -1;
  return config_file_replace(f->edit.path, text, strlen(text), f->mode, f->existed, backup_path,
                             err);
}

void daemon_file_clear(struct daemon_file *f)
{
  free(f->path);
  json_free(f->doc);
  config_edit_end(&f->edit);
  memset(f, 0, sizeof *f);
  f->edit.lockfd = -1;
}
