/* The last runtime table that parsed, kept so that a table broken later (a typo while containers
 * run) breaks nothing that already runs: their calls (pass-through, start, exec, kill, delete)
 * use the last good table, with one warning line; only a new container's create refuses a
 * broken table, where the user sees the error at once.
 *
 * The copy is the table file's bytes as they last parsed, under
 * <state directory>/.cache/table-<hash of the table's path>.json (places.h says where). */
#ifndef MEASURED_TABLE_CACHE_H
#define MEASURED_TABLE_CACHE_H

#include "table.h"

/* Loads the table strictly (as runtime_table_load) and, when it parsed, keeps its bytes as the
 * last good table. */
int runtime_table_load_and_remember(const char *path, struct runtime_table **out, merr **err);

/* Loads the table; when it does not parse, the last good one, else the built-in entries. *warning
 * (to free) says so then; NULL when the table itself was used. */
int runtime_table_load_or_last_good(const char *path, struct runtime_table **out, char **warning,
                                    merr **err);

#endif
