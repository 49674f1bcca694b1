/* The exporter's checkpoint: its aggregates and where it has read each store up to, saved
 * together in one file (temporary file, fsync, rename), so that an exporter restarted resumes
 * where the checkpoint left it: what it had counted after the checkpoint is read and counted
 * again from the stores, exactly once. A checkpoint made with other labels or other buckets (or
 * unreadable) is refused: the caller starts from the stores' beginning and says so. */
#ifndef MEASURED_EXPORTER_CHECKPOINT_H
#define MEASURED_EXPORTER_CHECKPOINT_H

#include "aggregate.h"
#include "follow.h"
#include "merr.h"

int checkpoint_save(const char *path, const struct aggregate *a, const struct follower *stores,
                    size_t nstores, merr **err);

/* Loads into a (initialised with the labels wanted, empty) and into the followers of the same
 * paths (those the checkpoint does not name start from the beginning). -1 with ENOENT: none. */
int checkpoint_load(const char *path, struct aggregate *a, struct follower *stores, size_t nstores,
                    merr **err);

/* The same from a document in memory; `what` names it in errors. */
int checkpoint_parse(const char *buf, size_t len, const char *what, struct aggregate *a,
                     struct follower *stores, size_t nstores, merr **err);

#endif
