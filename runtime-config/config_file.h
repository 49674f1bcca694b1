/* Editing an engine's configuration file (daemon.json, containerd's config.toml): the file a
 * symlink names is the one edited (a link that leads nowhere is refused, naming both); the edit
 * holds a lock from reading to writing (flock on the file's directory), so that two concurrent
 * `measured install` runs never lose one's change; the previous content is kept as a
 * timestamped backup; the new file replaces it atomically with its owner, group, mode and
 * extended attributes. */
#ifndef MEASURED_CONFIG_FILE_H
#define MEASURED_CONFIG_FILE_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config_edit {
  char *path; /* the file edited: the one given, or the file its symlink names */
  char *link; /* the symlink given, NULL when it was not one */
  int lockfd; /* the locked directory */
};

/* Resolves and locks (waits at most CONFIG_LOCK_WAIT_MS for another install). */
enum { CONFIG_LOCK_WAIT_MS = 10000 };
int config_edit_begin(const char *path, struct config_edit *e, merr **err);
void config_edit_end(struct config_edit *e);

/* Backs up the current file (when `existed`) as <path>.measured-backup-<UTC time>[-N], a hard
 * link, so byte for byte what it was; creates missing parent directories; then replaces the file
 * atomically (temp file with the old one's owner, group and extended attributes, fsync, rename).
 * *backup gets the backup's path (NULL: none). */
int config_file_replace(const char *path, const char *text, size_t len, mode_t mode, bool existed,
                        char **backup, merr **err);

#endif
