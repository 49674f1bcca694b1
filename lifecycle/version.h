/* The real runtime's version for records. Asking it (`runc --version`) costs milliseconds, so the
 * answer is cached under <state_dir>/.cache, keyed by the binary's device, inode, size and mtime:
 * an upgrade of the runtime invalidates it. */
#ifndef MEASURED_VERSION_H
#define MEASURED_VERSION_H

#include "json.h"
#include "merr.h"

/* The cached version of the binary at path, or NULL on a miss. */
char *version_cached(int rootfd, const char *runtime_name, const char *path);

/* Runs `path --version` (bounded), caches and returns the version. */
int version_query(int rootfd, const char *runtime_name, const char *path, char **version,
                  merr **err);

/* "runc version 1.1.5" -> "1.1.5"; otherwise the first line (at most 128 bytes). */
char *version_from_output(const char *out);

#endif
