/* The end of a lifecycle, one way for every caller: what its state directory holds becomes its
 * record, the record goes to the store (or waits in the state directory for `measured gc` when
 * the store refuses it), and the directory goes. `delete` calls it with the lifecycle it
 * claimed; `measured gc` with one that no delete will come for. */
#ifndef MEASURED_FINISH_H
#define MEASURED_FINISH_H

#include "json.h"
#include "merr.h"
#include "record.h"
#include "table.h"

#include <stdbool.h>

struct finish {
  const struct runtime_table *table;
  const char *scope_path; /* the state scope's directory (state.h) */
  int rootfd;             /* its fd */
  int dirfd;              /* the lifecycle's directory (borrowed) */
  const char *name;       /* its entry in the scope */
  const char *id;
  /* What the caller knows of the delete. For a delete measured saw, overhead_now gives the
   * wrapper's own time at the moment the record is ready; gc sets del.unobserved. */
  struct delete_info del;
  int64_t (*overhead_now)(const void *arg);
  const void *overhead_arg;
  const json *missed; /* what the caller already knows was missed (borrowed), or NULL */
  /* gc: a delete killed between its append and its rename may have stored this record. */
  bool maybe_stored;
  /* gc: a lifecycle without a create event gives no record. */
  bool skip_without_create;
};

enum finish_outcome {
  FINISH_STORED,         /* appended to the store; the directory is gone */
  FINISH_ALREADY_STORED, /* its delete had stored it; the directory is gone */
  FINISH_NOTHING,        /* nothing to record (no create was seen); the directory is gone */
  FINISH_UNSTORED,       /* the store refused it: waiting as .unstored-* for gc */
  FINISH_LOST,           /* the store refused it, and it could not be kept either */
};

/* *outcome says where the record is. -1 with err when something failed: the store (UNSTORED,
 * LOST), or removing the directory once the record was stored. */
int lifecycle_finish(const struct finish *f, enum finish_outcome *outcome, merr **err);

/* Appends a record to the store of the runtime entry it names (the table's store otherwise). */
int lifecycle_store_record(const struct runtime_table *t, const json *rec, merr **err);

/* The store a record of that runtime entry goes to. */
const char *lifecycle_store_of(const struct runtime_table *t, const char *runtime_name);

#endif
