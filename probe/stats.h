/* Latency statistics as sockperf reports them: count, min, mean, percentiles (nearest rank),
 * max, over round-trip times in microseconds. */
#ifndef MEASURED_PROBE_STATS_H
#define MEASURED_PROBE_STATS_H

#include "json.h"

#include <stddef.h>

struct latency_stats {
  size_t count;
  double min, mean, p50, p90, p99, p999, max;
};

/* Sorts samples in place. count 0 gives all zeros. */
void latency_stats_compute(double *samples_us, size_t count, struct latency_stats *out);

json *latency_stats_json(const struct latency_stats *s);

#endif
