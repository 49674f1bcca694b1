/* The exporter's state and its one lock: the aggregates, the stores followed, the checkpoint.
 * A scrape first reads what the stores gained since the last one (so that it shows every record
 * stored before it), then writes the exposition with the running containers read afresh. */
#ifndef MEASURED_EXPORTER_EXPORTER_H
#define MEASURED_EXPORTER_EXPORTER_H

#include "aggregate.h"
#include "exposition.h"
#include "follow.h"
#include "merr.h"

#include <pthread.h>
#include <stdbool.h>

enum { EXPORTER_MAX_STORES = 64, EXPORTER_MAX_RUNNING = 1024 };

struct exporter_config {
  const char *const *stores; /* the store paths followed (their rotated files too) */
  size_t nstores;
  const char *const *labels; /* the table's export_labels */
  size_t nlabels;
  const char *state_dir;  /* where the running containers are, NULL: none shown */
  const char *checkpoint; /* NULL: none kept */
  int threads;            /* for catching up */
};

struct exporter {
  pthread_mutex_t lock;
  struct aggregate agg;
  struct follower stores[EXPORTER_MAX_STORES];
  size_t nstores;
  char *state_dir, *checkpoint;
  int threads;
  double last_catch_up_seconds;
  uint64_t saved_lines;
};

/* Loads the checkpoint (a refused one is said on stderr, and the stores are read from their
 * beginning) and catches up. */
int exporter_open(struct exporter *x, const struct exporter_config *c, merr **err);
void exporter_close(struct exporter *x);

/* Reads what the stores gained. */
void exporter_catch_up(struct exporter *x);

/* Writes the checkpoint when something was counted since the last one (force: anyway). */
int exporter_save(struct exporter *x, bool force, merr **err);

/* Catches up and writes the exposition into a new buffer. */
char *exporter_render(struct exporter *x, enum exposition_format fmt, size_t *len);

#endif
