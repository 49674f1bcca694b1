#include "exporter.h"
#include "checkpoint.h"
#include "cleanup.h"
#include "clock.h"
#include "lines.h"
#include "running.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void count_line(void *ctx, const char *line, size_t len)
{
  aggregate_line(ctx, line, len);
}

/* One range of a store: the first part counts straight into the aggregates, the others into
 * their own, merged afterwards. */
static void read_range(void *arg, int fd, off_t begin, off_t end)
{
  struct exporter *x = arg;
  struct aggregate parts[LINES_MAX_THREADS];
  void *ctxs[LINES_MAX_THREADS];
  int threads = x->threads < LINES_MAX_THREADS ? x->threads : LINES_MAX_THREADS;
  ctxs[0] = &x->agg;
  for (int i = 1; i < threads; i++) {
    aggregate_init_like(&parts[i], &x->agg);
    ctxs[i] = &parts[i];
  }
  int used = lines_read(fd, begin, end, threads, count_line, ctxs);
  for (int i = 1; i < threads; i++) {
    if (i < used)
      aggregate_merge(&x->agg, &parts[i]);
    aggregate_clear(&parts[i]);
  }
}

static uint64_t lines_counted(const struct aggregate *a)
{
  return a->records + a->malformed + a->other_kinds;
}

static void catch_up_locked(struct exporter *x)
{
  int64_t t0 = mono_us();
  uint64_t before = lines_counted(&x->agg);
  for (size_t i = 0; i < x->nstores; i++)
    follower_catch_up(&x->stores[i], read_range, x);
  if (lines_counted(&x->agg) != before) /* the last time there was something to read */
    x->last_catch_up_seconds = (double)(mono_us() - t0) / 1e6;
}

void exporter_catch_up(struct exporter *x)
{
  pthread_mutex_lock(&x->lock);
  catch_up_locked(x);
  pthread_mutex_unlock(&x->lock);
}

int exporter_open(struct exporter *x, const struct exporter_config *c, merr **err)
{
  memset(x, 0, sizeof *x);
  if (c->nstores > EXPORTER_MAX_STORES)
    return merr_set(err, 0, "at most %d stores", EXPORTER_MAX_STORES);
  pthread_mutex_init(&x->lock, NULL);
  aggregate_init(&x->agg, c->labels, c->nlabels);
  for (size_t i = 0; i < c->nstores; i++)
    x->stores[i].path = xstrdup(c->stores[i]);
  x->nstores = c->nstores;
  x->state_dir = c->state_dir ? xstrdup(c->state_dir) : NULL;
  x->checkpoint = c->checkpoint ? xstrdup(c->checkpoint) : NULL;
  x->threads = c->threads < 1 ? 1 : c->threads;
  cleanup_merr merr *lerr = NULL;
  if (x->checkpoint && checkpoint_load(x->checkpoint, &x->agg, x->stores, x->nstores, &lerr) < 0 &&
      !merr_is(lerr, ENOENT))
    fprintf(stderr,
            "measured exporter: checkpoint not used (%s): counting the stores from their "
            "beginning\n",
            merr_msg(lerr));
  x->saved_lines = lines_counted(&x->agg);
  exporter_catch_up(x);
  return 0;
}

void exporter_close(struct exporter *x)
{
  aggregate_clear(&x->agg);
  for (size_t i = 0; i < x->nstores; i++)
    free(x->stores[i].path);
  free(x->state_dir);
  free(x->checkpoint);
  pthread_mutex_destroy(&x->lock);
}

int exporter_save(struct exporter *x, bool force, merr **err)
{
  if (x->checkpoint == NULL)
    return 0;
  pthread_mutex_lock(&x->lock);
  uint64_t lines = lines_counted(&x->agg);
  int ret = 0;
  if (force || lines != x->saved_lines) {
    ret = checkpoint_save(x->checkpoint, &x->agg, x->stores, x->nstores, err);
    if (ret == 0)
      x->saved_lines = lines;
  }
  pthread_mutex_unlock(&x->lock);
  return ret;
}

char *exporter_render(struct exporter *x, enum exposition_format fmt, size_t *len)
{
  cleanup_free struct running_container *running = xzalloc(EXPORTER_MAX_RUNNING * sizeof *running);
  size_t seen = 0, n = 0;
  if (x->state_dir)
    n = running_read(x->state_dir, running, EXPORTER_MAX_RUNNING, &seen);
  char *buf = NULL;
  FILE *out = open_memstream(&buf, len);
  if (out == NULL)
    abort(); /* out of memory, as xmalloc would */
  pthread_mutex_lock(&x->lock);
  catch_up_locked(x);
  struct exposition e = {.agg = &x->agg,
                         .stores = x->stores,
                         .nstores = x->nstores,
                         .running = running,
                         .nrunning = n,
                         .running_seen = seen,
                         .last_catch_up_seconds = x->last_catch_up_seconds};
  exposition_write(out, &e, fmt);
  pthread_mutex_unlock(&x->lock);
  fclose(out);
  return buf;
}
