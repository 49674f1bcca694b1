/* Quantiles of a sample, in the two definitions measured uses, each where it fits:
 *
 *   nearest rank  an observed value: the smallest x with at least q of the sample <= x, as
 *                 sockperf reports its percentiles. For distributions of one run's round trips
 *                 and of connections (thousands of values): a latency that really happened.
 *   type 7        linear interpolation between the closest ranks (R's and numpy's default).
 *                 For summaries over repetitions (a handful of values), where an estimate
 *                 between two observations is what a reader expects. */
#ifndef MEASURED_QUANTILE_H
#define MEASURED_QUANTILE_H

#include <stddef.h>

/* Sorts v ascending (NaN-free input). */
void quantile_sort(double *v, size_t n);

/* q in [0, 1], over sorted v; 0 (nearest rank) or NaN (type 7) when n is 0. */
double quantile_nearest_rank(const double *sorted, size_t n, double q);
double quantile_type7(const double *sorted, size_t n, double q);

#endif
