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
#include "flowview.h"
#include "json.h"
#include "series.h"

#include <stdbool.h>
#include <stdint.h>

enum {
  SAMPLER_CHECKPOINT_MS =
      2000, /* the summary so far is written this often (a live view reads it) */
  /* After the init's exit the kernel still sends what its sockets held: sample every
   * SAMPLER_DRAIN_STEP_MS until the counters stand still for SAMPLER_DRAIN_QUIET samples in a row,
   * at most SAMPLER_DRAIN_MS. */
  SAMPLER_DRAIN_STEP_MS = 10,
  SAMPLER_DRAIN_QUIET = 3,
  SAMPLER_DRAIN_MS = 300,
  /* A path that changes is discovered again at most this often, and only the first changes'
   * topologies are kept as events (the others are counted): a container flapping links costs a
   * bounded CPU and state. */
  SAMPLER_CHANGE_MIN_MS = 1000,
  SAMPLER_MAX_CHANGE_EVENTS = 8,
  /* A container whose links, path and connections have stood still for SAMPLER_IDLE_AFTER_MS is
   * sampled at twice its interval, then four times, up to SAMPLER_IDLE_INTERVAL_MS (or its own
   * interval, if longer); anything that moves brings the interval back, and a packet of a
   * connection (the packet view wakes the monitor) takes a sample at once. Each wake-up costs
   * an idle monitor more than its work (docs/performance.md). */
  SAMPLER_IDLE_AFTER_MS = 5000,
  SAMPLER_IDLE_INTERVAL_MS = 8000,
  SAMPLER_MAX_POLLFDS = FLOWVIEW_MAX_POLLFDS + 1,
};

struct sampler {
  int dirfd;
  bool enabled;       /* the container has a namespace of its own, and we could open it */
  json *why_disabled; /* string, when not enabled */
  struct net_watch w;
  struct net_series series;
  bool baseline; /* the first sample is taken (at create, before the container can run) */
  bool sampling; /* sampling at the interval (from start) */
  /* The container's init has exited: what its links do now is their teardown (slirp4netns
   * removes its TAP when the container ends), not a change of its path. */
  bool exited;
  unsigned exit_sample;        /* the series' sample count then */
  int64_t interval_us;         /* the container's sampling interval */
  int64_t current_interval_us; /* the one in use now: longer while nothing moves */
  int64_t longest_interval_us; /* the longest used */
  uint64_t paced_activity;     /* movement() when the interval was last chosen */
  int64_t still_since_us;      /* when it last changed */
  int64_t next_us;
  int64_t next_checkpoint_us;
  uint64_t checkpoint_activity; /* sampler_activity() at the last checkpoint written */
  bool checkpointed;
  struct flowview flows; /* the workload's own connections */
  unsigned changes;      /* discoveries after a change */
  bool change_pending;   /* the links changed; rediscovery waits for next_change_us */
  int64_t next_change_us;
  json *missed; /* array of strings */
};

/* Whether to measure the workload's connections (flows.h), and why not. */
struct sampler_flows {
  bool on;
  const char *why_off;
  const struct sockaddr_storage *probe_peer; /* the probe's reflector (flows.h), or NULL */
};

/* ctrfd: the container's network namespace (taken), -1 with `why` when there is none to watch;
 * hostfd: the monitor's own (borrowed). Discovers at once (phase "create") and takes the
 * counters' baseline: the container cannot run yet, so everything it ever sends comes after.
 * Opens the flow view's sockets too: call it before the monitor confines itself. The summary is
 * not written yet: sampler_checkpoint() does it, once whoever waits for the baseline is told. */
void sampler_init(struct sampler *s, int dirfd, int ctrfd, int hostfd, const char *why,
                  int64_t interval_us, const struct sampler_flows *flows);

/* Writes the summary so far now, when there is a sample (after sampler_init: the baseline). */
void sampler_checkpoint(struct sampler *s);

/* The descriptors the monitor polls (at most SAMPLER_MAX_POLLFDS): the flow view's (see
 * flowview.h) and, while the interval is stretched, the links' notifications; and what to do
 * when they are readable. */
size_t sampler_pollfds(const struct sampler *s, struct pollfd *p);
void sampler_read(struct sampler *s);

/* The container started: discovers again (phase "start"), takes the first sample. */
void sampler_start(struct sampler *s);

/* Adds a line to what the record will say was missed ("what: err"), up to
 * STATE_NET_MAX_MISSED. */
void sampler_missed(struct sampler *s, const char *what, const merr *err);

/* Milliseconds until the next sample is due, -1 when not sampling. */
int sampler_timeout_ms(const struct sampler *s);

/* Samples when one is due. */
void sampler_tick(struct sampler *s);

/* The init exited: a sample at once, before the engine deletes the links. */
void sampler_exited(struct sampler *s);

/* The end: samples until what the container left in flight has drained (bounded), then the
 * summary for the record. */
void sampler_finish(struct sampler *s);

void sampler_close(struct sampler *s);

#endif
