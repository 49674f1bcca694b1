/* The sample store: JSON Lines, one record per container lifecycle.
 *
 * Appends are whole lines or nothing: the file is locked with flock (bounded wait), the line goes
 * out in a single write, a short write is cut back off; the lock is released, then the data is
 * synced. Readers never see a partial line from a live writer. */
#ifndef MEASURED_STORE_H
#define MEASURED_STORE_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends line (which must not contain '\n'; one is added) to the store at path, creating the
 * file 0600 and its missing parent directories 0700. */
int store_append(const char *path, const char *line, size_t len, merr **err);

/* The store's size now: where the next append will begin at the earliest (0 when absent). */
int store_size(const char *path, int64_t *size, merr **err);

/* Whether a line beginning with prefix was appended at or after offset (the next window bytes
 * are searched: appends after it are other records, a few KB each). */
int store_has_line_after(const char *path, int64_t offset, const char *prefix, size_t len,
                         size_t window, bool *found, merr **err);

#endif
