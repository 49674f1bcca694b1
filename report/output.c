#include "output.h"
#include "cleanup.h"
#include "stats.h"
#include "xalloc.h"

#include <math.h>
#include <string.h>

void format_value(double v, char *buf, size_t size)
{
  double a = fabs(v);
  if (!isfinite(v))
    snprintf(buf, size, "-");
  else if (a >= 1000)
    snprintf(buf, size, "%.0f", v);
  else if (a >= 100)
    snprintf(buf, size, "%.1f", v);
  else if (a >= 10)
    snprintf(buf, size, "%.2f", v);
  else
    snprintf(buf, size, "%.3f", v);
}

static struct summary summary_of(const struct values *vals)
{
  struct summary s;
  double *copy = xreallocarray(NULL, vals->n ? vals->n : 1, sizeof *copy);
  memcpy(copy, vals->v, vals->n * sizeof *copy);
  summarize(copy, vals->n, &s);
  free(copy);
  return s;
}

static int field_index(const struct dataset *d, const char *field)
{
  for (size_t k = 0; k < d->by.n; k++)
    if (strcmp(d->by.fields[k], field) == 0)
      return (int)k;
  return -1;
}

/* ---- comparisons ---- */

static json *num(double v)
{
  return isfinite(v) ? json_new_double(v) : json_new(JSON_NULL);
}

static json *key_json(const struct dataset *d, const struct group *g, int skip)
{
  json *o = json_new(JSON_OBJECT);
  for (size_t k = 0; k < d->by.n; k++)
    if ((int)k != skip)
      json_set(o, d->by.fields[k], json_new_text(g->key[k]));
  return o;
}

/* Plain words, only when the two means' intervals do not overlap. */
static char *verdict(const char *rt, const char *base, int m, const struct summary *a,
                     const struct summary *b, const struct ratio *r)
{
  if (!a->has_sd || !b->has_sd || !(a->ci_hi < b->ci_lo || b->ci_hi < a->ci_lo))
    return NULL;
  bool higher = a->mean > b->mean;
  bool better = higher == metric_defs[m].higher_is_better;
  return xasprintf("%s: %s is %.2fx %s's (%s)", rt, metric_defs[m].label, r->value, base,
                   better ? "better" : "worse");
}

static void compare_group(const struct dataset *d, size_t rt_field, const struct group *g,
                          const struct group *base, const char *baseline, json *out)
{
  for (int m = 0; m < M_COUNT; m++) {
    if (g->metric[m].n == 0 || base->metric[m].n == 0)
      continue;
    struct summary a = summary_of(&g->metric[m]), b = summary_of(&base->metric[m]);
    struct ratio r;
    ratio_of_means(&a, &b, &r);
    json *c = json_new(JSON_OBJECT);
    json_set(c, "key", key_json(d, g, (int)rt_field));
    json_set(c, "runtime", json_new_text(g->key[rt_field]));
    json_set(c, "baseline", json_new_text(baseline));
    json_set(c, "metric", json_new_string(metric_defs[m].name));
    json_set(c, "ratio", num(r.value));
    json *ci = json_new(JSON_ARRAY);
    json_append(ci, num(r.lo));
    json_append(ci, num(r.hi));
    json_set(c, "ci95", r.has_ci ? ci : (json_free(ci), json_new(JSON_NULL)));
    cleanup_free char *v = verdict(g->key[rt_field], baseline, m, &a, &b, &r);
    json_set(c, "verdict", v ? json_new_text(v) : json_new(JSON_NULL));
    json_append(out, c);
  }
}

json *report_comparisons(const struct dataset *d, const char *baseline)
{
  json *out = json_new(JSON_ARRAY);
  int rt = field_index(d, "runtime");
  if (baseline == NULL || rt < 0)
    return out;
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct group *g = &d->groups[i];
    if (strcmp(g->key[rt], baseline) == 0 || g->unsupported)
      continue;
    for (size_t j = 0; j < d->ngroups; j++) {
      const struct group *b = &d->groups[j];
      if (strcmp(b->key[rt], baseline) == 0 && !b->unsupported &&
          groups_match_except(d, g, b, (size_t)rt))
        compare_group(d, (size_t)rt, g, b, baseline, out);
    }
  }
  return out;
}

/* ---- JSON ---- */

static json *summary_json(int m, const struct summary *s)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "unit", json_new_string(metric_defs[m].unit));
  json_set(o, "n", json_new_uint(s->n));
  json_set(o, "mean", num(s->mean));
  json_set(o, "sd", s->has_sd ? num(s->sd) : json_new(JSON_NULL));
  json_set(o, "median", num(s->median));
  json_set(o, "p5", num(s->p5));
  json_set(o, "p95", num(s->p95));
  if (s->has_sd) {
    json *ci = json_new(JSON_ARRAY);
    json_append(ci, num(s->ci_lo));
    json_append(ci, num(s->ci_hi));
    json_set(o, "ci95", ci);
  } else {
    json_set(o, "ci95", json_new(JSON_NULL));
  }
  return o;
}

json *report_json(const struct dataset *d, const char *const *files, size_t nfiles,
                  const char *baseline)
{
  json *o = json_new(JSON_OBJECT);
  json *fl = json_new(JSON_ARRAY);
  for (size_t i = 0; i < nfiles; i++)
    json_append(fl, json_new_text(files[i]));
  json_set(o, "files", fl);
  json_set(o, "lines", json_new_uint(d->lines));
  json_set(o, "malformed", json_new_uint(d->malformed));
  json_set(o, "filtered_out", json_new_uint(d->filtered));
  json *by = json_new(JSON_ARRAY);
  for (size_t k = 0; k < d->by.n; k++)
    json_append(by, json_new_string(d->by.fields[k]));
  json_set(o, "group_by", by);
  json *groups = json_new(JSON_ARRAY);
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct group *g = &d->groups[i];
    json *go = json_new(JSON_OBJECT);
    json_set(go, "key", key_json(d, g, -1));
    json_set(go, "records", json_new_uint(g->records));
    json_set(go, "failed", json_new_uint(g->failed));
    json_set(go, "unsupported", json_new_bool(g->unsupported));
    if (g->unsupported)
      json_set(go, "reason", g->reason ? json_new_text(g->reason) : json_new(JSON_NULL));
    json *ms = json_new(JSON_OBJECT);
    for (int m = 0; !g->unsupported && m < M_COUNT; m++)
      if (g->metric[m].n) {
        struct summary s = summary_of(&g->metric[m]);
        json_set(ms, metric_defs[m].name, summary_json(m, &s));
      }
    json_set(go, "metrics", ms);
    json_append(groups, go);
  }
  json_set(o, "groups", groups);
  if (baseline) {
    json *b = json_new(JSON_OBJECT);
    json_set(b, "runtime", json_new_text(baseline));
    json_set(b, "comparisons", report_comparisons(d, baseline));
    json_set(o, "baseline", b);
  }
  return o;
}

/* ---- CSV ---- */

static void csv_field(FILE *out, const char *s)
{
  if (strpbrk(s, ",\"\n\r") == NULL) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void csv_num(FILE *out, double v, bool have)
{
  fputc(',', out);
  if (have && isfinite(v))
    fprintf(out, "%.9g", v);
}

void report_csv(FILE *out, const struct dataset *d)
{
  for (size_t k = 0; k < d->by.n; k++) {
    csv_field(out, d->by.fields[k]);
    fputc(',', out);
  }
  fputs("metric,unit,n,mean,sd,median,p5,p95,ci95_low,ci95_high,unsupported\n", out);
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct group *g = &d->groups[i];
    for (int m = 0; m < M_COUNT; m++) {
      if (!g->unsupported && g->metric[m].n == 0)
        continue;
      if (g->unsupported && m > 0)
        break; /* one line says it */
      for (size_t k = 0; k < d->by.n; k++) {
        csv_field(out, g->key[k]);
        fputc(',', out);
      }
      if (g->unsupported) {
        fputs("-,-,0,,,,,,,,true\n", out);
        continue;
      }
      struct summary s = summary_of(&g->metric[m]);
      fprintf(out, "%s,%s,%zu", metric_defs[m].name, metric_defs[m].unit, s.n);
      csv_num(out, s.mean, true);
      csv_num(out, s.sd, s.has_sd);
      csv_num(out, s.median, true);
      csv_num(out, s.p5, true);
      csv_num(out, s.p95, true);
      csv_num(out, s.ci_lo, s.has_sd);
      csv_num(out, s.ci_hi, s.has_sd);
      fputs(",false\n", out);
    }
  }
}

/* ---- the table ---- */

static void group_title(FILE *out, const struct dataset *d, const struct group *g, int skip)
{
  for (size_t k = 0, shown = 0; k < d->by.n; k++)
    if ((int)k != skip)
      fprintf(out, "%s%s", shown++ ? " | " : "", g->key[k]);
}

static void table_group(FILE *out, const struct dataset *d, const struct group *g)
{
  group_title(out, d, g, -1);
  if (g->unsupported) {
    if (g->reason)
      fprintf(out, ": unsupported (%s)\n", g->reason);
    else
      fputs(": unsupported\n", out);
    return;
  }
  fprintf(out, "  (%zu record%s", g->records, g->records == 1 ? "" : "s");
  if (g->failed)
    fprintf(out, ", %zu failed", g->failed);
  fputs(")\n", out);
  bool any = false;
  for (int m = 0; m < M_COUNT; m++)
    any |= g->metric[m].n > 0;
  if (any)
    fprintf(out, "  %-12s %-6s %4s %8s %8s %8s %8s %8s %8s\n", "metric", "unit", "n", "mean", "sd",
            "median", "p5", "p95", "+-95%CI");
  for (int m = 0; m < M_COUNT; m++) {
    if (g->metric[m].n == 0)
      continue;
    struct summary s = summary_of(&g->metric[m]);
    char v[6][24];
    format_value(s.mean, v[0], sizeof v[0]);
    format_value(s.has_sd ? s.sd : NAN, v[1], sizeof v[1]);
    format_value(s.median, v[2], sizeof v[2]);
    format_value(s.p5, v[3], sizeof v[3]);
    format_value(s.p95, v[4], sizeof v[4]);
    format_value(s.has_sd ? (s.ci_hi - s.ci_lo) / 2 : NAN, v[5], sizeof v[5]);
    fprintf(out, "  %-12s %-6s %4zu %8s %8s %8s %8s %8s %8s\n", metric_defs[m].label,
            metric_defs[m].unit, s.n, v[0], v[1], v[2], v[3], v[4], v[5]);
  }
}

static void table_comparisons(FILE *out, const struct dataset *d, const char *baseline)
{
  cleanup_json json *cmp = report_comparisons(d, baseline);
  fprintf(out,
          "\ncompared with %s: ratio of means [95%% CI]; a verdict only where the two\n"
          "means' intervals do not overlap\n",
          baseline);
  if (cmp->n == 0) {
    fprintf(out, "  (nothing to compare: no group has both %s and another runtime)\n", baseline);
    return;
  }
  const json *last_key = NULL;
  const char *last_rt = NULL;
  for (size_t i = 0; i < cmp->n; i++) {
    const json *c = cmp->items[i];
    const json *key = json_get(c, "key");
    const char *rt = json_string(json_get(c, "runtime"));
    cleanup_free char *ks = NULL, *lks = NULL;
    json_serialize(key, false, &ks, NULL, NULL);
    if (last_key)
      json_serialize(last_key, false, &lks, NULL, NULL);
    if (!last_key || strcmp(ks, lks) != 0 || strcmp(rt, last_rt) != 0) {
      fprintf(out, "%s vs %s |", rt, baseline);
      for (size_t k = 0; k < key->n; k++)
        fprintf(out, " %s", json_string(key->items[k]));
      fputc('\n', out);
    }
    last_key = key;
    last_rt = rt;
    int m = metric_index(json_string(json_get(c, "metric")));
    if (m < 0)
      continue;
    double r, lo, hi;
    char rs[24], los[24], his[24];
    json_double(json_get(c, "ratio"), &r) ? format_value(r, rs, sizeof rs)
                                          : (void)snprintf(rs, sizeof rs, "-");
    const json *ci = json_get(c, "ci95");
    bool have =
        json_is(ci, JSON_ARRAY) && json_double(ci->items[0], &lo) && json_double(ci->items[1], &hi);
    if (have) {
      format_value(lo, los, sizeof los);
      format_value(hi, his, sizeof his);
    }
    fprintf(out, "  %-12s %8s", metric_defs[m].label, rs);
    if (have)
      fprintf(out, " [%s, %s]", los, his);
    /* The table says it short (80 columns); the JSON has the whole sentence. */
    const char *v = json_string(json_get(c, "verdict"));
    if (v)
      fprintf(out, "  %s than %s", strstr(v, "(better)") ? "better" : "worse", baseline);
    fputc('\n', out);
  }
}

void report_table(FILE *out, const struct dataset *d, const char *const *files, size_t nfiles,
                  const char *baseline)
{
  fprintf(out, "measured report: %zu groups from %zu lines (%zu malformed, %zu filtered out)\n",
          d->ngroups, d->lines, d->malformed, d->filtered);
  for (size_t i = 0; i < nfiles; i++)
    fprintf(out, "  %s\n", files[i]);
  fputs("grouped by ", out);
  for (size_t k = 0; k < d->by.n; k++)
    fprintf(out, "%s%s", k ? ", " : "", d->by.fields[k]);
  fputs("\n+-95%CI: half-width of the 95% Student t interval of the mean\n\n", out);
  for (size_t i = 0; i < d->ngroups; i++)
    table_group(out, d, &d->groups[i]);
  if (baseline)
    table_comparisons(out, d, baseline);
}
