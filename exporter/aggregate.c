#include "aggregate.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three bounds a decade (Prometheus' usual 1-2-5): a quantile read off a bucket is within a factor
 * of 2.5 of the truth, and a series' histograms stay a few hundred lines. */
static const double mantissas[] = {1, 2, 5};
enum { MANTISSAS = sizeof mantissas / sizeof mantissas[0] };

const struct hist_family hist_families[F_FAMILIES] = {
    [F_RUNTIME_CALL] = {"measured_runtime_call", "seconds",
                        "The real runtime's time per call (create, start, delete).", "call", -3, 2},
    [F_WRAPPER_CALL] = {"measured_wrapper_call", "seconds",
                        "measured's own time per call, the real runtime's excluded.", "call", -5,
                        0},
    [F_PROBE_RTT_P50] = {"measured_probe_rtt_p50", "seconds",
                         "The in-container probe's median round trip, one per lifecycle.",
                         "protocol", -5, 0},
    [F_PROBE_RTT_P99] = {"measured_probe_rtt_p99", "seconds",
                         "The in-container probe's 99th percentile round trip, one per lifecycle.",
                         "protocol", -5, 0},
    [F_PROBE_BANDWIDTH] = {"measured_probe_bandwidth", "bytes_per_second",
                           "The in-container probe's TCP bandwidth, one per lifecycle.", NULL, 4,
                           10},
    [F_CONN_RTT_P50] = {"measured_connection_rtt_p50", "seconds",
                        "The median smoothed round trip of a lifecycle's own TCP connections.",
                        NULL, -5, 1},
    [F_CONN_DURATION_P50] = {"measured_connection_duration_p50", "seconds",
                             "The median duration of a lifecycle's own TCP connections.", NULL, -3,
                             4},
};

static const struct {
  enum hist_family_id family;
  const char *label;
} slots[H_SLOTS] = {
    [H_RUNTIME_CREATE] = {F_RUNTIME_CALL, "create"},
    [H_RUNTIME_START] = {F_RUNTIME_CALL, "start"},
    [H_RUNTIME_DELETE] = {F_RUNTIME_CALL, "delete"},
    [H_WRAPPER_CREATE] = {F_WRAPPER_CALL, "create"},
    [H_WRAPPER_START] = {F_WRAPPER_CALL, "start"},
    [H_WRAPPER_DELETE] = {F_WRAPPER_CALL, "delete"},
    [H_WRAPPER_EXEC] = {F_WRAPPER_CALL, "exec"},
    [H_WRAPPER_KILL] = {F_WRAPPER_CALL, "kill"},
    [H_PROBE_TCP_P50] = {F_PROBE_RTT_P50, "tcp"},
    [H_PROBE_UDP_P50] = {F_PROBE_RTT_P50, "udp"},
    [H_PROBE_TCP_P99] = {F_PROBE_RTT_P99, "tcp"},
    [H_PROBE_UDP_P99] = {F_PROBE_RTT_P99, "udp"},
    [H_PROBE_BANDWIDTH] = {F_PROBE_BANDWIDTH, NULL},
    [H_CONN_RTT_P50] = {F_CONN_RTT_P50, NULL},
    [H_CONN_DURATION_P50] = {F_CONN_DURATION_P50, NULL},
};

/* Where a sample's metric goes, and its scale to the family's base unit. */
static const struct {
  enum metric m;
  enum hist_slot slot;
  double scale;
} metric_slots[] = {
    {M_CREATE, H_RUNTIME_CREATE, 1e-3},     {M_START, H_RUNTIME_START, 1e-3},
    {M_DELETE, H_RUNTIME_DELETE, 1e-3},     {M_TCP_P50, H_PROBE_TCP_P50, 1e-6},
    {M_UDP_P50, H_PROBE_UDP_P50, 1e-6},     {M_TCP_P99, H_PROBE_TCP_P99, 1e-6},
    {M_UDP_P99, H_PROBE_UDP_P99, 1e-6},     {M_BANDWIDTH, H_PROBE_BANDWIDTH, 1e9 / 8},
    {M_CONN_RTT_P50, H_CONN_RTT_P50, 1e-6}, {M_CONN_DURATION_P50, H_CONN_DURATION_P50, 1e-3},
};

static const enum hist_slot wrapper_slot[CALL_KINDS] = {[CALL_CREATE] = H_WRAPPER_CREATE,
                                                        [CALL_START] = H_WRAPPER_START,
                                                        [CALL_DELETE] = H_WRAPPER_DELETE,
                                                        [CALL_EXEC] = H_WRAPPER_EXEC,
                                                        [CALL_KILL] = H_WRAPPER_KILL};

enum hist_family_id hist_slot_family(enum hist_slot s)
{
  return slots[s].family;
}

const char *hist_slot_label(enum hist_slot s)
{
  return slots[s].label;
}

size_t hist_bounds(enum hist_family_id f, double *bounds, size_t max)
{
  size_t n = 0;
  for (int e = hist_families[f].lo_exp; e < hist_families[f].hi_exp; e++)
    for (size_t m = 0; m < MANTISSAS && n < max; m++)
      bounds[n++] = mantissas[m] * pow(10, e);
  if (n < max)
    bounds[n++] = pow(10, hist_families[f].hi_exp);
  return n;
}

/* Bounds computed once per family: observing must not call pow. */
static struct {
  double v[AGG_MAX_BUCKETS];
  size_t n;
} family_bounds[F_FAMILIES];

static void bounds_once(void)
{
  static bool done;
  if (done)
    return;
  for (int f = 0; f < F_FAMILIES; f++)
    family_bounds[f].n =
        hist_bounds((enum hist_family_id)f, family_bounds[f].v, AGG_MAX_BUCKETS - 1);
  done = true;
}

static void observe(struct histogram_counts *h, enum hist_family_id f, double v)
{
  if (!isfinite(v) || v < 0)
    return;
  const double *b = family_bounds[f].v;
  size_t n = family_bounds[f].n, lo = 0, hi = n; /* the first bound >= v, n when none */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (b[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  h->bucket[lo]++;
  h->count++;
  h->sum += v;
}

void aggregate_init(struct aggregate *a, const char *const *export_labels, size_t n)
{
  bounds_once(); /* before any thread observes */
  memset(a, 0, sizeof *a);
  static const char *const own[] = {"runtime", "driver", "load"};
  for (size_t i = 0; i < 3; i++)
    snprintf(a->label_name[a->nlabels++], sizeof a->label_name[0], "%s", own[i]);
  for (size_t i = 0; i < n && a->nlabels < AGG_MAX_LABELS; i++)
    snprintf(a->label_name[a->nlabels++], sizeof a->label_name[0], "%s", export_labels[i]);
}

void aggregate_init_like(struct aggregate *a, const struct aggregate *like)
{
  bounds_once();
  memset(a, 0, sizeof *a);
  a->nlabels = like->nlabels;
  memcpy(a->label_name, like->label_name, sizeof a->label_name);
}

void aggregate_reset(struct aggregate *a)
{
  struct aggregate empty;
  aggregate_init_like(&empty, a);
  aggregate_clear(a);
  *a = empty;
}

void aggregate_clear(struct aggregate *a)
{
  free(a->series);
  free(a->slots);
  a->series = NULL;
  a->slots = NULL;
  a->nseries = a->cap = a->nslots = 0;
}

static uint64_t hash_values(char values[][SAMPLE_TEXT], size_t n)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; k < n; k++) {
    for (const char *s = values[k]; *s; s++)
      h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0x1f) * 1099511628211ull;
  }
  return h;
}

static bool same_values(const struct series *s, char values[][SAMPLE_TEXT], size_t n)
{
  for (size_t k = 0; k < n; k++)
    if (strcmp(s->label[k], values[k]) != 0)
      return false;
  return true;
}

static void rehash(struct aggregate *a)
{
  size_t nslots = a->nslots ? a->nslots * 2 : 64;
  size_t *t = xzalloc(nslots * sizeof *t);
  for (size_t i = 0; i < a->nseries; i++) {
    size_t s = hash_values(a->series[i].label, a->nlabels) & (nslots - 1);
    while (t[s])
      s = (s + 1) & (nslots - 1);
    t[s] = i + 1;
  }
  free(a->slots);
  a->slots = t;
  a->nslots = nslots;
}

static struct series *find(struct aggregate *a, char values[][SAMPLE_TEXT], size_t *slot)
{
  size_t s = hash_values(values, a->nlabels) & (a->nslots - 1);
  while (a->slots[s]) {
    struct series *x = &a->series[a->slots[s] - 1];
    if (same_values(x, values, a->nlabels))
      return x;
    s = (s + 1) & (a->nslots - 1);
  }
  *slot = s;
  return NULL;
}

static struct series *add(struct aggregate *a, char values[][SAMPLE_TEXT], size_t slot)
{
  if (a->nseries == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 8;
    a->series = xreallocarray(a->series, a->cap, sizeof *a->series);
  }
  struct series *x = &a->series[a->nseries];
  memset(x, 0, sizeof *x);
  for (size_t k = 0; k < a->nlabels; k++)
    memcpy(x->label[k], values[k], SAMPLE_TEXT);
  a->slots[slot] = ++a->nseries;
  return x;
}

struct series *aggregate_series(struct aggregate *a, char values[][SAMPLE_TEXT], bool *folded)
{
  *folded = false;
  if (a->nslots == 0 || a->nseries * 2 >= a->nslots)
    rehash(a);
  size_t slot;
  struct series *x = find(a, values, &slot);
  if (x)
    return x;
  if (a->nseries < AGG_MAX_SERIES - 1) /* the last place is the overflow series' */
    return add(a, values, slot);
  char other[AGG_MAX_LABELS][SAMPLE_TEXT];
  for (size_t k = 0; k < a->nlabels; k++)
    snprintf(other[k], SAMPLE_TEXT, "_other");
  *folded = true;
  x = find(a, other, &slot);
  return x ? x : add(a, other, slot);
}

static void count_outcome(struct series *x, const char *outcome, uint64_t n)
{
  for (size_t i = 0; i < x->noutcomes; i++)
    if (strcmp(x->outcomes[i].outcome, outcome) == 0) {
      x->outcomes[i].n += n;
      return;
    }
  if (x->noutcomes == AGG_MAX_OUTCOMES) {
    x->outcome_other += n;
    return;
  }
  snprintf(x->outcomes[x->noutcomes].outcome, sizeof x->outcomes[0].outcome, "%s", outcome);
  x->outcomes[x->noutcomes++].n = n;
}

static void count_sample(struct aggregate *a, const struct sample *s)
{
  char values[AGG_MAX_LABELS][SAMPLE_TEXT];
  snprintf(values[0], SAMPLE_TEXT, "%s", s->runtime[0] ? s->runtime : "unknown");
  snprintf(values[1], SAMPLE_TEXT, "%s", s->driver[0] ? s->driver : "unknown");
  const char *load = sample_label(s, "load");
  snprintf(values[2], SAMPLE_TEXT, "%s", load ? load : "none");
  for (size_t k = 3; k < a->nlabels; k++) {
    const char *v = sample_label(s, a->label_name[k]);
    snprintf(values[k], SAMPLE_TEXT, "%s", v ? v : "");
  }
  bool folded;
  struct series *x = aggregate_series(a, values, &folded);
  a->series_overflow += folded;
  count_outcome(x, s->outcome[0] ? s->outcome : "unknown", 1);
  for (size_t i = 0; i < sizeof metric_slots / sizeof metric_slots[0]; i++)
    if (s->has[metric_slots[i].m]) {
      enum hist_slot h = metric_slots[i].slot;
      observe(&x->hist[h], slots[h].family, s->value[metric_slots[i].m] * metric_slots[i].scale);
    }
  for (size_t i = 0; i < s->ncall_times; i++) {
    enum hist_slot h = wrapper_slot[s->call_times[i].call];
    observe(&x->hist[h], slots[h].family, s->call_times[i].seconds);
  }
  if (s->has[M_TX_MB])
    x->tx_bytes += s->value[M_TX_MB] * 1e6;
  if (s->has[M_RX_MB])
    x->rx_bytes += s->value[M_RX_MB] * 1e6;
  if (s->has[M_CONNECTIONS])
    x->connections += s->value[M_CONNECTIONS];
}

void aggregate_line(struct aggregate *a, const char *line, size_t len)
{
  struct sample s;
  size_t next;
  bool blank = false;
  if (line == NULL) {
    a->malformed++;
    return;
  }
  bool ok = sample_parse_next(line, len, &s, &next, &blank);
  if (blank)
    return;
  if (!ok || (s.kind == KIND_RECORD && (s.runtime[0] == '\0' || s.outcome[0] == '\0')))
    a->malformed++; /* a record says at least which runtime, and how it ended */
  else if (s.kind != KIND_RECORD)
    a->other_kinds++; /* the harness's tool lines and the like: not lifecycles */
  else {
    a->records++;
    count_sample(a, &s);
  }
}

static void merge_series(struct series *x, const struct series *y)
{
  for (size_t i = 0; i < y->noutcomes; i++)
    count_outcome(x, y->outcomes[i].outcome, y->outcomes[i].n);
  x->outcome_other += y->outcome_other;
  x->tx_bytes += y->tx_bytes;
  x->rx_bytes += y->rx_bytes;
  x->connections += y->connections;
  for (int h = 0; h < H_SLOTS; h++) {
    x->hist[h].count += y->hist[h].count;
    x->hist[h].sum += y->hist[h].sum;
    for (size_t b = 0; b < AGG_MAX_BUCKETS; b++)
      x->hist[h].bucket[b] += y->hist[h].bucket[b];
  }
}

void aggregate_merge(struct aggregate *a, const struct aggregate *from)
{
  for (size_t i = 0; i < from->nseries; i++) {
    char values[AGG_MAX_LABELS][SAMPLE_TEXT];
    for (size_t k = 0; k < a->nlabels; k++)
      memcpy(values[k], from->series[i].label[k], SAMPLE_TEXT);
    bool folded;
    const struct series *y = &from->series[i];
    merge_series(aggregate_series(a, values, &folded), y);
    if (folded && strcmp(values[0], "_other") != 0) { /* its records fold here, not there */
      a->series_overflow += y->outcome_other;
      for (size_t k = 0; k < y->noutcomes; k++)
        a->series_overflow += y->outcomes[k].n;
    }
  }
  a->series_overflow += from->series_overflow;
  a->records += from->records;
  a->malformed += from->malformed;
  a->other_kinds += from->other_kinds;
}
