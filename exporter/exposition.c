#include "exposition.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

enum exposition_format exposition_negotiate(const char *accept)
{
  return accept && strcasestr(accept, "application/openmetrics-text") ? FORMAT_OPENMETRICS
                                                                      : FORMAT_PROMETHEUS;
}

const char *exposition_content_type(enum exposition_format fmt)
{
  return fmt == FORMAT_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                   : "text/plain; version=0.0.4; charset=utf-8";
}

/* The length of the valid UTF-8 sequence at s (0: none there). */
static size_t utf8_sequence(const unsigned char *s)
{
  if (s[0] < 0x80)
    return 1;
  size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
  if (n == 0 || (s[0] >= 0xf8))
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
      (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
    return 0; /* overlong, surrogate, beyond U+10FFFF */
  return n;
}

/* A label value, escaped; bytes that are not UTF-8 (a value cut at its 63rd byte, or a record's
 * own) become U+FFFD: a scraper refuses the whole exposition for one of them. */
static void label_value(FILE *out, const char *v)
{
  const unsigned char *s = (const unsigned char *)v;
  while (*s) {
    size_t n = utf8_sequence(s);
    if (n == 0) {
      fputs("\xef\xbf\xbd", out);
      s++;
    } else if (*s == '\\' || *s == '"') {
      fputc('\\', out);
      fputc(*s++, out);
    } else if (*s == '\n') {
      fputs("\\n", out);
      s++;
    } else {
      fwrite(s, 1, n, out);
      s += n;
    }
  }
}

/* The series' labels, then one more (NULL: none), then le (NULL: none). */
static void labels(FILE *out, const struct aggregate *a, const struct series *x, const char *key,
                   const char *val, const char *le)
{
  fputc('{', out);
  for (size_t k = 0; k < a->nlabels; k++) {
    fprintf(out, "%s%s=\"", k ? "," : "", a->label_name[k]);
    label_value(out, x->label[k]);
    fputc('"', out);
  }
  if (key) {
    fprintf(out, ",%s=\"", key);
    label_value(out, val);
    fputc('"', out);
  }
  if (le)
    fprintf(out, ",le=\"%s\"", le);
  fputc('}', out);
}

/* TYPE, UNIT and HELP of a family: name is the family's, without _total. */
static void family(FILE *out, enum exposition_format fmt, const char *name, const char *type,
                   const char *unit, const char *help)
{
  bool counter = strcmp(type, "counter") == 0;
  fprintf(out, "# TYPE %s%s %s\n", name, counter && fmt == FORMAT_PROMETHEUS ? "_total" : "", type);
  if (unit && fmt == FORMAT_OPENMETRICS)
    fprintf(out, "# UNIT %s %s\n", name, unit);
  fprintf(out, "# HELP %s%s %s\n", name, counter && fmt == FORMAT_PROMETHEUS ? "_total" : "", help);
}

static void lifecycles(FILE *out, const struct aggregate *a, enum exposition_format fmt)
{
  family(out, fmt, "measured_lifecycles", "counter", NULL,
         "Container lifecycles recorded, by outcome.");
  for (size_t i = 0; i < a->nseries; i++) {
    const struct series *x = &a->series[i];
    for (size_t k = 0; k < x->noutcomes; k++) {
      fputs("measured_lifecycles_total", out);
      labels(out, a, x, "outcome", x->outcomes[k].outcome, NULL);
      fprintf(out, " %" PRIu64 "\n", x->outcomes[k].n);
    }
    if (x->outcome_other) {
      fputs("measured_lifecycles_total", out);
      labels(out, a, x, "outcome", "_other", NULL);
      fprintf(out, " %" PRIu64 "\n", x->outcome_other);
    }
  }
}

/* A counter of every series, from one field of it. */
static void series_counter(FILE *out, const struct aggregate *a, enum exposition_format fmt,
                           const char *name, const char *unit, const char *help, size_t offset)
{
  family(out, fmt, name, "counter", unit, help);
  for (size_t i = 0; i < a->nseries; i++) {
    const struct series *x = &a->series[i];
    fprintf(out, "%s_total", name);
    labels(out, a, x, NULL, NULL, NULL);
    fprintf(out, " %.0f\n", *(const double *)((const char *)x + offset));
  }
}

static void histogram(FILE *out, const struct aggregate *a, enum exposition_format fmt,
                      enum hist_family_id f)
{
  const struct hist_family *hf = &hist_families[f];
  char name[96];
  snprintf(name, sizeof name, "%s_%s", hf->name, hf->unit);
  family(out, fmt, name, "histogram", hf->unit, hf->help);
  double bounds[AGG_MAX_BUCKETS];
  size_t nb = hist_bounds(f, bounds, AGG_MAX_BUCKETS - 1);
  for (size_t i = 0; i < a->nseries; i++)
    for (int s = 0; s < H_SLOTS; s++) {
      const struct histogram_counts *h = &a->series[i].hist[s];
      if (hist_slot_family((enum hist_slot)s) != f || h->count == 0)
        continue; /* a histogram nothing was observed in says nothing */
      const char *lv = hist_slot_label((enum hist_slot)s);
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= nb; b++) {
        char le[32];
        if (b < nb)
          snprintf(le, sizeof le, "%.6g", bounds[b]);
        else
          snprintf(le, sizeof le, "+Inf");
        cumulative += h->bucket[b];
        fprintf(out, "%s_bucket", name);
        labels(out, a, &a->series[i], hf->label, lv, le);
        fprintf(out, " %" PRIu64 "\n", cumulative);
      }
      fprintf(out, "%s_count", name);
      labels(out, a, &a->series[i], hf->label, lv, NULL);
      fprintf(out, " %" PRIu64 "\n%s_sum", h->count, name);
      labels(out, a, &a->series[i], hf->label, lv, NULL);
      fprintf(out, " %.9g\n", h->sum);
    }
}

static void container_labels(FILE *out, const struct running_container *r)
{
  fputs("{container=\"", out);
  label_value(out, r->id);
  fputs("\",runtime=\"", out);
  label_value(out, r->runtime);
  fputs("\",driver=\"", out);
  label_value(out, r->driver);
  fputs("\"}", out);
}

/* Each running container's figure: false when it has none. */
typedef bool (*container_value)(const struct running_container *r, uint64_t *v);

static bool transmitted(const struct running_container *r, uint64_t *v)
{
  *v = r->tx;
  return r->has_counters;
}

static bool received(const struct running_container *r, uint64_t *v)
{
  *v = r->rx;
  return r->has_counters;
}

static bool open_connections(const struct running_container *r, uint64_t *v)
{
  *v = r->open > 0 ? (uint64_t)r->open : 0;
  return r->has_flows;
}

static void container_family(FILE *out, const struct exposition *e, enum exposition_format fmt,
                             const char *name, const char *type, const char *unit, const char *help,
                             container_value value)
{
  bool counter = strcmp(type, "counter") == 0;
  family(out, fmt, name, type, unit, help);
  for (size_t i = 0; i < e->nrunning; i++) {
    uint64_t v;
    if (!value(&e->running[i], &v))
      continue;
    fprintf(out, "%s%s", name, counter ? "_total" : "");
    container_labels(out, &e->running[i]);
    fprintf(out, " %" PRIu64 "\n", v);
  }
}

static void running(FILE *out, const struct exposition *e, enum exposition_format fmt)
{
  family(out, fmt, "measured_running_containers", "gauge", NULL,
         "Containers running under a measured runtime now.");
  fprintf(out, "measured_running_containers %zu\n", e->running_seen);
  container_family(out, e, fmt, "measured_container_transmit_bytes", "counter", "bytes",
                   "Bytes the running container's link sent (per container; at most 1024).",
                   transmitted);
  container_family(out, e, fmt, "measured_container_receive_bytes", "counter", "bytes",
                   "Bytes the running container's link received (per container).", received);
  container_family(out, e, fmt, "measured_container_connections_open", "gauge", NULL,
                   "The running container's own TCP connections open now.", open_connections);
}

static void store_counter(FILE *out, const struct exposition *e, enum exposition_format fmt,
                          const char *name, const char *help, size_t offset)
{
  family(out, fmt, name, "counter", NULL, help);
  for (size_t i = 0; i < e->nstores; i++) {
    fprintf(out, "%s_total{store=\"", name);
    label_value(out, e->stores[i].path);
    fprintf(out, "\"} %" PRIu64 "\n", *(const uint64_t *)((const char *)&e->stores[i] + offset));
  }
}

static void self(FILE *out, const struct exposition *e, enum exposition_format fmt)
{
  const struct aggregate *a = e->agg;
  family(out, fmt, "measured_exporter_lines", "counter", NULL,
         "Store lines read: records counted, malformed lines skipped, lines of other kinds.");
  fprintf(out,
          "measured_exporter_lines_total{result=\"record\"} %" PRIu64 "\n"
          "measured_exporter_lines_total{result=\"malformed\"} %" PRIu64 "\n"
          "measured_exporter_lines_total{result=\"other\"} %" PRIu64 "\n",
          a->records, a->malformed, a->other_kinds);
  family(out, fmt, "measured_exporter_series_overflow", "counter", NULL,
         "Records counted in the series labelled _other: past 500 series.");
  fprintf(out, "measured_exporter_series_overflow_total %" PRIu64 "\n", a->series_overflow);
  store_counter(out, e, fmt, "measured_exporter_rotations", "Store rotations followed.",
                offsetof(struct follower, rotations));
  store_counter(out, e, fmt, "measured_exporter_unread_files",
                "Rotated store files dropped before they were read to their end.",
                offsetof(struct follower, unread));
  family(out, fmt, "measured_exporter_catch_up_seconds", "gauge", "seconds",
         "How long the last reading of new store lines took (the first: the whole stores).");
  fprintf(out, "measured_exporter_catch_up_seconds %.6f\n", e->last_catch_up_seconds);
}

void exposition_write(FILE *out, const struct exposition *e, enum exposition_format fmt)
{
  const struct aggregate *a = e->agg;
  lifecycles(out, a, fmt);
  series_counter(out, a, fmt, "measured_link_transmit_bytes", "bytes",
                 "Bytes the container's link sent over the lifecycles recorded.",
                 offsetof(struct series, tx_bytes));
  series_counter(out, a, fmt, "measured_link_receive_bytes", "bytes",
                 "Bytes the container's link received over the lifecycles recorded.",
                 offsetof(struct series, rx_bytes));
  series_counter(out, a, fmt, "measured_connections", NULL,
                 "The workload's own TCP connections over the lifecycles recorded.",
                 offsetof(struct series, connections));
  for (int f = 0; f < F_FAMILIES; f++)
    histogram(out, a, fmt, (enum hist_family_id)f);
  running(out, e, fmt);
  self(out, e, fmt);
  if (fmt == FORMAT_OPENMETRICS)
    fputs("# EOF\n", out);
}
