/* The per-container monitor: a detached process started after `create` that records what no
 * wrapper call can see: the container init's exit status (from the process events connector),
 * and the container's network path and its counters over its life (sampler.c).
 *
 * The monitor is this program exec'd again (monitor_argv.h says how it gets its configuration).
 * Detached means: double clone and setsid (not a child of the runtime or the shim), every
 * inherited file descriptor closed and stdio on /dev/null (a stray copy of containerd's pipes
 * would hang `docker run`), its own helper children reaped by the kernel (SIGCHLD ignored). It
 * ends when the init exits and the traffic it left in flight has drained. While it has not
 * written the exit status and its final counters it holds an exclusive flock on
 * <state>/monitor.lock (taken for it by monitor_start, before create returns), which `delete`
 * waits on (bounded) before building the record. `start` wakes it through the FIFO <state>/wake to
 * begin sampling. */
#ifndef MEASURED_MONITOR_H
#define MEASURED_MONITOR_H

#include "merr.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct monitor_config {
  const char *container;  /* its id: only shown in the monitor's command line */
  int dirfd;              /* this container's state directory */
  pid_t init_pid;         /* 0 when unknown */
  int netns_fd;           /* the container's network namespace (taken), -1 when none */
  const char *netns_why;  /* why there is none */
  int64_t interval_us;    /* counter sampling interval */
  bool flows;             /* measure the workload's connections (flows.h) */
  const char *flows_why;  /* why not, when !flows */
  const char *probe_peer; /* the probe's reflector ("IP:PORT", "[IPv6]:PORT"), NULL if none */
  bool wait_ready;        /* return only once it is ready (monitor_wait_ready) */
};

/* Starts the monitor. What it cannot watch it reports as events; only a failure to start at
 * all is an error. Once it has taken the counters' baseline (and its exit subscription is in
 * place) it makes <state>/ready: the container must not start before, so that everything it
 * sends is counted. With wait_ready this returns only then (bounded); without, whoever starts
 * the container waits (monitor_wait_ready), and the monitor's start-up runs while the engine
 * goes from create to start. */
int monitor_start(const struct monitor_config *cfg, merr **err);

/* The monitor's process: main() of every program that starts monitors hands itself over to this
 * when it runs as MONITOR_ARGV0 (monitor_argv.h). Does not return but with a usage error. */
int monitor_exec_main(int argc, char **argv);

/* How long the container's start may wait for its monitor to be ready. */
enum { MONITOR_READY_MS = 2000 };

/* Waits at most timeout_ms for the monitor of dirfd to be ready. 0 when it is, or when no monitor
 * runs (none started, or it ended: nothing to wait for); -1 on timeout. */
int monitor_wait_ready(int dirfd, int timeout_ms);

/* Tells the monitor of dirfd that the container started (non-blocking; 0 when delivered). */
int monitor_wake(int dirfd, merr **err);

/* How long a delete waits for the monitor's end: the exit event (at most 200 ms after the init
 * is gone), the traffic in flight draining (at most SAMPLER_DRAIN_MS), and a margin. */
enum { MONITOR_END_WAIT_MS = 1000 };

/* Waits at most timeout_ms for the monitor to have recorded the exit status. 0 when it has (or
 * no monitor ever watched), -1 on timeout. */
int monitor_wait_exit_recorded(int dirfd, int timeout_ms);

#endif
