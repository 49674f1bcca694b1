/* The sample store: JSON Lines, one record per container lifecycle.
 *
 * Appends are whole lines or nothing: the file is locked with flock (bounded wait), the line goes
 * out in a single write, a short write is cut back off; the lock is released, then the data is
 * synced. A line after a torn last one (a crash of the machine mid-write) starts on a line of its
 * own. Readers never see a partial line from a live writer, and read with read(), never mmap: a
 * writer cutting back a short write cannot fault a reader.
 *
 * Rotation by size: past max_bytes the store becomes <path>.1 (the older ones <path>.2 ... up to
 * <path>.<keep>, the oldest dropped) under the writer's lock, and a new <path> begins; readers
 * of a store read its rotated files too (store_files). */
#ifndef MEASURED_STORE_H
#define MEASURED_STORE_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { STORE_MAX_LINE = 4 << 20, STORE_MAX_KEEP = 100 };

struct store_policy {
  int64_t max_bytes; /* rotate past this size; 0: never */
  int keep;          /* rotated files kept, 1 to STORE_MAX_KEEP */
};

/* Appends line (which must not contain '\n'; one is added; at most STORE_MAX_LINE bytes) to the
 * store at path, creating the file 0600 and its missing parent directories 0700; policy NULL:
 * no rotation. Once the line is in the file the append has succeeded, even when the sync that
 * follows fails: appending it again would store it twice. */
int store_append(const char *path, const struct store_policy *policy, const char *line, size_t len,
                 merr **err);

/* The files of a store, newest first: path, then path.1, path.2 ... those that exist (at most
 * STORE_MAX_KEEP; past one number missing, as a rotation under way leaves, up to two in a row).
 * *n gets their count; the strings are new. A rotation may run while the caller opens them:
 * whoever must not miss one checks that the names still lead where they did (exporter/follow.c). */
char **store_files(const char *path, size_t *n);

/* The store's size now: where the next append will begin at the earliest (0 when absent). */
int store_size(const char *path, int64_t *size, merr **err);

/* Whether a line beginning with prefix was appended at or after offset (the next window bytes
 * are searched: appends after it are other records, a few KB each); when the store rotated since,
 * in the file it became. */
int store_has_line_after(const char *path, int64_t offset, const char *prefix, size_t len,
                         size_t window, bool *found, merr **err);

#endif
