#include "stats.h"
#include "quantile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latency_stats_compute(double *samples, size_t count, struct latency_stats *out)
{
  memset(out, 0, sizeof *out);
  out->count = count;
  if (count == 0)
    return;
  quantile_sort(samples, count);
  double sum = 0;
  for (size_t i = 0; i < count; i++)
    sum += samples[i];
  out->min = samples[0];
  out->max = samples[count - 1];
  out->mean = sum / (double)count;
  /* Nearest rank: each percentile is a round trip that happened, as sockperf reports them. */
  out->p50 = quantile_nearest_rank(samples, count, 0.50);
  out->p90 = quantile_nearest_rank(samples, count, 0.90);
  out->p99 = quantile_nearest_rank(samples, count, 0.99);
  out->p999 = quantile_nearest_rank(samples, count, 0.999);
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
