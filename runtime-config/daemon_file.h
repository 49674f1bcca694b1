/* daemon.json on disk: read strictly (a malformed file is refused with its line and column and
 * left untouched), written atomically after a timestamped backup of the previous content. */
#ifndef MEASURED_DAEMON_FILE_H
#define MEASURED_DAEMON_FILE_H

#include "config_file.h"
#include "json.h"
#include "merr.h"

#include <stdbool.h>
#include <sys/types.h>

struct daemon_file {
  char *path;              /* as given */
  struct config_edit edit; /* the file edited (a symlink resolved), locked until cleared */
  json *doc;               /* {} when the file does not exist */
  bool existed;
  mode_t mode; /* of the existing file, 0644 for a new one */
};

/* Resolves, locks (see config_file.h) and reads; daemon_file_clear releases the lock. */
int daemon_file_load(const char *path, struct daemon_file *f, merr **err);

/* Backs up the current file (when there is one) as <path>.measured-backup-<UTC time>[-N], then
 * replaces it atomically with the document. *backup gets the backup's path (NULL: none). */
int daemon_file_save(const struct daemon_file *f, char **backup, merr **err);

/* The document as written: pretty JSON with a final newline. */
char *daemon_file_render(const struct daemon_file *f, merr **err);

void daemon_file_clear(struct daemon_file *f);

#endif
