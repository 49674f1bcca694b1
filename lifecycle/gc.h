/* `measured gc`: reclaiming state that no delete will come for.
 *
 * In the state directory (see state.h) a lifecycle's directory outlives its container when a
 * wrapper was killed (during delete: .claimed-<id>-<pid>), when the engine never called delete
 * (<id>/, its init and monitor gone), or when a new lifecycle of the same id replaced it
 * (.stale-<id>-<n>); a record that could not be stored waits in .unstored-<id>-<pid>/. gc writes
 * the record each of those lifecycles can still give (saying in "missed" that its delete was not
 * observed), stores the waiting ones, releases probe channels and removes the directories. A
 * directory whose container or monitor still runs, whose claiming wrapper is alive, or that is
 * younger than min_age is left alone. */
#ifndef MEASURED_GC_H
#define MEASURED_GC_H

#include "merr.h"
#include "table.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct gc_options {
  int64_t min_age_s;  /* a live-looking <id>/ must be at least this old */
  unsigned max_items; /* 0: no limit (the opportunistic run after a delete takes a few) */
  bool dry_run;       /* say what would be done, change nothing */
  FILE *say;          /* one line per item, NULL: quiet */
};

struct gc_result {
  unsigned recorded; /* lifecycles turned into records */
  unsigned stored;   /* waiting records stored */
  unsigned removed;  /* directories removed */
  unsigned kept;     /* left alone (live, young, or a claim in progress) */
  unsigned failed;
};

int gc_run(const struct runtime_table *t, const struct gc_options *o, struct gc_result *r,
           merr **err);

/* After a delete: at most every GC_OPPORTUNISTIC_S seconds (a stamp file in the state directory
 * says when it last ran), a small, bounded gc of items older than an hour. */
enum { GC_OPPORTUNISTIC_S = 600, GC_OPPORTUNISTIC_MIN_AGE_S = 3600, GC_OPPORTUNISTIC_ITEMS = 8 };
void gc_opportunistic(const struct runtime_table *t, int rootfd);

#endif
