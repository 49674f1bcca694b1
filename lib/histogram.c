#include "histogram.h"

#include <math.h>
#include <string.h>

static int bucket_of(double v)
{
  if (!(v >= 1))
    return 0;
  int b = 1 + (int)(log2(v) * HIST_SUB);
  return b >= HIST_BUCKETS ? HIST_BUCKETS - 1 : b;
}

/* The geometric middle of bucket b: between 2^((b-1)/16) and 2^(b/16). */
static double bucket_value(int b)
{
  return b == 0 ? 0.5 : exp2(((double)b - 0.5) / HIST_SUB);
}

void hist_add(struct histogram *h, double v)
{
  if (!(v >= 0))
    return; /* NaN and negatives are not values of ours */
  if (h->n == 0 || v < h->min)
    h->min = v;
  if (h->n == 0 || v > h->max)
    h->max = v;
  h->n++;
  h->sum += v;
  h->count[bucket_of(v)]++;
}

double hist_quantile(const struct histogram *h, double q)
{
  if (h->n == 0)
    return 0;
  uint64_t rank = (uint64_t)ceil(q * (double)h->n);
  if (rank < 1)
    rank = 1;
  uint64_t seen = 0;
  for (int b = 0; b < HIST_BUCKETS; b++) {
    seen += h->count[b];
    if (seen >= rank) {
      double v = bucket_value(b);
      return v < h->min ? h->min : v > h->max ? h->max : v;
    }
  }
  return h->max;
}

json *hist_json(const struct histogram *h)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "n", json_new_uint(h->n));
  if (h->n == 0)
    return o;
  json_set(o, "mean", json_new_rounded(h->sum / (double)h->n));
  json_set(o, "p50", json_new_rounded(hist_quantile(h, 0.50)));
  json_set(o, "p90", json_new_rounded(hist_quantile(h, 0.90)));
  json_set(o, "p99", json_new_rounded(hist_quantile(h, 0.99)));
  json_set(o, "max", json_new_rounded(h->max));
  return o;
}

static void sort5(float *v, uint32_t n)
{
  for (uint32_t i = 1; i < n; i++)
    for (uint32_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
      float t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
}

/* The parabolic (or, failing it, linear) adjustment of marker i by d (+1 or -1). */
static void adjust(struct p2_median *m, int i, int d)
{
  float qi = m->q[i], qp = m->q[i + 1], qm = m->q[i - 1];
  float ni = (float)m->pos[i], np = (float)m->pos[i + 1], nm = (float)m->pos[i - 1];
  float parabolic = qi + (float)d / (np - nm) *
                             ((ni - nm + (float)d) * (qp - qi) / (np - ni) +
                              (np - ni - (float)d) * (qi - qm) / (ni - nm));
  if (qm < parabolic && parabolic < qp)
    m->q[i] = parabolic;
  else
    m->q[i] = qi + (float)d * (m->q[i + d] - qi) / ((float)m->pos[i + d] - ni);
  m->pos[i] += d;
}

void p2_add(struct p2_median *m, float v)
{
  if (m->n < 5) {
    m->q[m->n++] = v;
    if (m->n == 5) {
      sort5(m->q, 5);
      for (int i = 0; i < 5; i++)
        m->pos[i] = i + 1;
    }
    return;
  }
  int k;
  if (v < m->q[0]) {
    m->q[0] = v;
    k = 0;
  } else if (v >= m->q[4]) {
    m->q[4] = v;
    k = 3;
  } else {
    for (k = 0; k < 3 && v >= m->q[k + 1]; k++)
      ;
  }
  for (int i = k + 1; i < 5; i++)
    m->pos[i]++;
  m->n++;
  /* The markers' desired positions for the median: 1, 1+(n-1)/4, 1+(n-1)/2, 1+3(n-1)/4, n. */
  static const float frac[5] = {0, 0.25f, 0.5f, 0.75f, 1};
  for (int i = 1; i <= 3; i++) {
    float want = 1 + (float)(m->n - 1) * frac[i];
    float d = want - (float)m->pos[i];
    if ((d >= 1 && m->pos[i + 1] - m->pos[i] > 1) || (d <= -1 && m->pos[i - 1] - m->pos[i] < -1))
      adjust(m, i, d > 0 ? 1 : -1);
  }
}

float p2_value(const struct p2_median *m)
{
  if (m->n == 0)
    return 0;
  if (m->n < 5) {
    float v[5];
    memcpy(v, m->q, sizeof v);
    sort5(v, m->n);
    return m->n % 2 ? v[m->n / 2] : (v[m->n / 2 - 1] + v[m->n / 2]) / 2;
  }
  return m->q[2];
}

uint32_t p2_value_u32(const struct p2_median *m)
{
  float v = p2_value(m) + 0.5f;
  /* A float near UINT32_MAX rounds to 2^32, which a uint32_t cannot hold. */
  return v >= 4294967295.0f ? UINT32_MAX : v <= 0 ? 0 : (uint32_t)v;
}
