/* The running measured containers, as their state and their monitors show them: the runtime,
 * the driver and path the last network event gave, the container link's byte counters and the
 * connections from the summary the monitor rewrites every couple of seconds. `measured top` and
 * `measured exporter` read them this way. */
#ifndef MEASURED_RUNNING_H
#define MEASURED_RUNNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct running_container {
  char id[13]; /* the container id's first 12 characters */
  char runtime[24];
  char driver[24];
  char path[96];
  int64_t at_us; /* the summary's last sample */
  uint64_t tx, rx;
  int64_t open, total; /* connections open now, and seen in all (open ones included) */
  double rtt_p50;
  bool has_counters, has_flows;
};

/* Every running lifecycle of every scope of the state directory (those being recorded are left
 * out), at most max of them; *seen gets how many there were (NULL: not wanted). */
size_t running_read(const char *state_dir, struct running_container *out, size_t max, size_t *seen);

#endif
