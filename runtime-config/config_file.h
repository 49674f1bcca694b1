/* Replacing an engine's configuration file (daemon.json, containerd's config.toml): a
 * timestamped backup of the previous content, then an atomic write. */
#ifndef MEASURED_CONFIG_FILE_H
#define MEASURED_CONFIG_FILE_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Backs up the current file (when `existed`) as <path>.measured-backup-<UTC time>[-N], a hard
 * link, so byte for byte what it was; creates a missing parent directory; then replaces the file
 * atomically (temp file, fsync, rename). *backup gets the backup's path (NULL: none). */
int config_file_replace(const char *path, const char *text, size_t len, mode_t mode, bool existed,
                        char **backup, merr **err);

#endif
