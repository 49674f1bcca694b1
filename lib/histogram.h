/* Distributions of non-negative values (latencies, durations, rates) in fixed memory: buckets
 * whose bounds grow by 2^(1/16) (about 4.4 % apart) from 1 to 2^48, so any quantile read from it
 * is within 2.2 % of a value that was added, whatever the number of values. The exact minimum and
 * maximum are kept besides. */
#ifndef MEASURED_HISTOGRAM_H
#define MEASURED_HISTOGRAM_H

#include "json.h"

#include <stdint.h>

enum { HIST_SUB = 16, HIST_OCTAVES = 48, HIST_BUCKETS = HIST_SUB * HIST_OCTAVES + 1 };

struct histogram {
  uint32_t count[HIST_BUCKETS]; /* [0]: values below 1 */
  uint64_t n;
  double min, max, sum;
};

void hist_add(struct histogram *h, double v);

/* The value at quantile q (0 to 1; nearest rank over the buckets, each read as its geometric
 * middle, clamped to the exact min and max); 0 when empty. */
double hist_quantile(const struct histogram *h, double q);

/* {"n":..,"mean":..,"p50":..,"p90":..,"p99":..,"max":..}, or {"n":0}. */
json *hist_json(const struct histogram *h);

/* The streaming median of one series in five numbers (the P-square algorithm, Jain and
 * Chlamtac, 1985): for the per-connection medians, where a histogram each would not fit. */
struct p2_median {
  float q[5];
  int32_t pos[5];
  uint32_t n;
};

void p2_add(struct p2_median *m, float v);
float p2_value(const struct p2_median *m);        /* 0 when empty; exact while n <= 5 */
uint32_t p2_value_u32(const struct p2_median *m); /* rounded, within uint32_t */

#endif
