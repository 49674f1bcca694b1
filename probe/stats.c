#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double percentile_sorted(const double *sorted, size_t count, double q)
{
  if (count == 0)
    return 0;
  size_t rank = (size_t)ceil(q * (double)count);
  if (rank < 1)
    rank = 1;
  if (rank > count)
    rank = count;
  return sorted[rank - 1];
}

void latency_stats_compute(double *samples, size_t count, struct latency_stats *out)
{
  memset(out, 0, sizeof *out);
  out->count = count;
  if (count == 0)
    return;
  qsort(samples, count, sizeof *samples, cmp_double);
  double sum = 0;
  for (size_t i = 0; i < count; i++)
    sum += samples[i];
  out->min = samples[0];
  out->max = samples[count - 1];
  out->mean = sum / (double)count;
  out->p50 = percentile_sorted(samples, count, 0.50);
  out->p90 = percentile_sorted(samples, count, 0.90);
  out->p99 = percentile_sorted(samples, count, 0.99);
  out->p999 = percentile_sorted(samples, count, 0.999);
}

/* Microseconds to three decimals: nanosecond resolution, no false precision. */
static json *us(double v)
{
  return json_new_double(round(v * 1000.0) / 1000.0);
}

json *latency_stats_json(const struct latency_stats *s)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "count", json_new_uint(s->count));
  if (s->count == 0)
    return o; /* no round trip: no figures, rather than zeros */
  json_set(o, "min_us", us(s->min));
  json_set(o, "mean_us", us(s->mean));
  json_set(o, "p50_us", us(s->p50));
  json_set(o, "p90_us", us(s->p90));
  json_set(o, "p99_us", us(s->p99));
  json_set(o, "p999_us", us(s->p999));
  json_set(o, "max_us", us(s->max));
  return o;
}
