#include "stats.h"
#include "quantile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ln of the beta function, through lgamma. */
static double lbeta(double a, double b)
{
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  d = fabs(d) < tiny ? tiny : d;
  d = 1 / d;
  double f = d;
  for (int m = 1; m <= 300; m++) {
    double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    d = fabs(d) < tiny ? tiny : d;
    c = 1 + num / c;
    c = fabs(c) < tiny ? tiny : c;
    d = 1 / d;
    f *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    d = fabs(d) < tiny ? tiny : d;
    c = 1 + num / c;
    c = fabs(c) < tiny ? tiny : c;
    d = 1 / d;
    double delta = d * c;
    f *= delta;
    if (fabs(delta - 1) < eps)
      break;
  }
  return f;
}

/* The regularized incomplete beta function I_x(a, b). */
static double incbeta(double a, double b, double x)
{
  if (x <= 0)
    return 0;
  if (x >= 1)
    return 1;
  double front = exp(a * log(x) + b * log(1 - x) - lbeta(a, b));
  /* The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise. */
  if (x < (a + 1) / (a + b + 2))
    return front * beta_cf(a, b, x) / a;
  return 1 - exp(b * log(1 - x) + a * log(x) - lbeta(b, a)) * beta_cf(b, a, 1 - x) / b;
}

double student_t_cdf(double t, double df)
{
  double x = df / (df + t * t);
  double tail = 0.5 * incbeta(df / 2, 0.5, x);
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df)
{
  double lo = -1e4, hi = 1e4;
  for (int i = 0; i < 200; i++) {
    double mid = (lo + hi) / 2;
    if (student_t_cdf(mid, df) < p)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

void summarize(double *v, size_t n, struct summary *s)
{
  memset(s, 0, sizeof *s);
  s->n = n;
  if (n == 0) {
    s->mean = s->median = s->p5 = s->p95 = NAN;
    return;
  }
  quantile_sort(v, n);
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  s->mean = sum / (double)n;
  /* Type 7: over a handful of repetitions, an estimate between two observations. */
  s->median = quantile_type7(v, n, 0.5);
  s->p5 = quantile_type7(v, n, 0.05);
  s->p95 = quantile_type7(v, n, 0.95);
  if (n < 2)
    return;
  double ss = 0;
  for (size_t i = 0; i < n; i++)
    ss += (v[i] - s->mean) * (v[i] - s->mean);
  s->sd = sqrt(ss / (double)(n - 1));
  s->has_sd = true;
  double half = student_t_quantile(0.975, (double)(n - 1)) * s->sd / sqrt((double)n);
  s->ci_lo = s->mean - half;
  s->ci_hi = s->mean + half;
}

void ratio_of_means(const struct summary *a, const struct summary *b, struct ratio *r)
{
  memset(r, 0, sizeof *r);
  r->value = b->mean != 0 ? a->mean / b->mean : NAN;
  if (!a->has_sd || !b->has_sd || b->mean == 0 || a->mean == 0)
    return;
  double va = a->sd * a->sd / (double)a->n, vb = b->sd * b->sd / (double)b->n;
  double rel = va / (a->mean * a->mean) + vb / (b->mean * b->mean);
  double se = fabs(r->value) * sqrt(rel);
  /* Welch-Satterthwaite degrees of freedom for the two relative variances. */
  double ra = va / (a->mean * a->mean), rb = vb / (b->mean * b->mean);
  double df = rel * rel / (ra * ra / (double)(a->n - 1) + rb * rb / (double)(b->n - 1));
  if (!isfinite(df) || df < 1)
    df = 1;
  double t = student_t_quantile(0.975, df);
  r->lo = r->value - t * se;
  r->hi = r->value + t * se;
  r->has_ci = true;
}
