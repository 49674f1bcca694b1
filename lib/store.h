/* The sample store: JSON Lines, one record per container lifecycle.
 *
 * Appends are whole lines or nothing: the file is locked with flock (bounded wait), the line goes
 * out in a single write, a short write is cut back off, and the data is synced before the lock
 * is released. Readers never see a partial line from a live writer. */
#ifndef MEASURED_STORE_H
#define MEASURED_STORE_H

#include "merr.h"

#include <stddef.h>

/* Appends line (which must not contain '\n'; one is added) to the store at path, creating the
 * file 0600 and its missing parent directories 0700. */
int store_append(const char *path, const char *line, size_t len, merr **err);

#endif
