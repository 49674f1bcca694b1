#include "quantile.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void quantile_sort(double *v, size_t n)
{
  qsort(v, n, sizeof *v, cmp_double);
}

double quantile_nearest_rank(const double *sorted, size_t n, double q)
{
  if (n == 0)
    return 0;
  size_t rank = (size_t)ceil(q * (double)n);
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return sorted[rank - 1];
}

double quantile_type7(const double *sorted, size_t n, double q)
{
  if (n == 0)
    return NAN;
  double h = q * (double)(n - 1);
  size_t lo = (size_t)floor(h);
  size_t hi = lo + 1 < n ? lo + 1 : lo;
  return sorted[lo] + (h - (double)lo) * (sorted[hi] - sorted[lo]);
}
