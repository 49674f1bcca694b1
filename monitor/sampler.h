/* The network half of the monitor: discovery of the container's path at create and at start,
 * and its counters sampled at an interval from start until the init exits.
 *
 * Results go to the state directory: one "net" event per discovery (phase create / start /
 * change) and the network summary (state_write_net_summary), the counters so far, rewritten every
 * SAMPLER_CHECKPOINT samples and at the end, so that a sampler killed mid-life still leaves
 * what it had. */
#ifndef MEASURED_SAMPLER_H
#define MEASURED_SAMPLER_H

#include "discover.h"
#include "json.h"
#include "series.h"

#include <stdbool.h>
#include <stdint.h>

enum { SAMPLER_CHECKPOINT = 10 };

struct sampler {
  int dirfd;
  bool enabled;       /* the container has a namespace of its own, and we could open it */
  json *why_disabled; /* string, when not enabled */
  struct net_watch w;
  struct net_series series;
  bool sampling;
  int64_t interval_us;
  int64_t next_us;
  unsigned since_checkpoint;
  struct net_view at_create; /* counters at create: the baseline when start is never seen */
  bool have_at_create;
  json *missed; /* array of strings */
};

/* ctrfd: the container's network namespace (taken), -1 with `why` when there is none to watch;
 * hostfd: the monitor's own (borrowed). Discovers at once (phase "create"). */
void sampler_init(struct sampler *s, int dirfd, int ctrfd, int hostfd, const char *why,
                  int64_t interval_us);

/* The container started: discovers again (phase "start"), takes the first sample. */
void sampler_start(struct sampler *s);

/* Adds a line to what the record will say was missed ("what: err"), up to
 * STATE_NET_MAX_MISSED. */
void sampler_missed(struct sampler *s, const char *what, const merr *err);

/* Milliseconds until the next sample is due, -1 when not sampling. */
int sampler_timeout_ms(const struct sampler *s);

/* Samples when one is due. */
void sampler_tick(struct sampler *s);

/* The init exited: last sample, net.json written for the record. */
void sampler_finish(struct sampler *s);

void sampler_close(struct sampler *s);

#endif
