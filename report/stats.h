/* Descriptive statistics and confidence intervals for the report.
 *
 * Percentiles interpolate linearly between closest ranks (the common "type 7" definition, as
 * numpy and R use by default). The 95% confidence interval of a mean is Student's t: mean +-
 * t(0.975, n-1) * sd / sqrt(n), with t from the exact distribution (regularized incomplete beta
 * function, inverted by bisection), not a table. A ratio of two independent means gets its
 * interval by the delta method, with Welch-Satterthwaite degrees of freedom. */
#ifndef MEASURED_REPORT_STATS_H
#define MEASURED_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct summary {
  size_t n;
  double mean, sd, median, p5, p95;
  bool has_sd;         /* n >= 2 */
  double ci_lo, ci_hi; /* 95% interval of the mean, when has_sd */
};

/* Sorts v in place. */
void summarize(double *v, size_t n, struct summary *out);

/* The Student t distribution's CDF and its quantile for df degrees of freedom (df > 0). */
double student_t_cdf(double t, double df);
double student_t_quantile(double p, double df);

struct ratio {
  double value, lo, hi; /* of a.mean / b.mean, 95% */
  bool has_ci;
};

/* a over b; no interval when either lacks a deviation or b's mean is 0. */
void ratio_of_means(const struct summary *a, const struct summary *b, struct ratio *out);

#endif
