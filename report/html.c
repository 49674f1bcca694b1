#include "html.h"
#include "cleanup.h"
#include "fileio.h"
#include "output.h"
#include "plot.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The study's palette (plot.c) for the page's accents; print-friendly, readable on a phone. */
static const char style[] =
    "body{font-family:sans-serif;margin:0 auto;padding:0 1rem;max-width:64rem;color:#111;"
    "line-height:1.4}\n"
    "h1{font-size:1.5rem;border-bottom:3px solid #0072b2}h2{font-size:1.25rem;margin-top:2rem}\n"
    "h3{font-size:1rem;margin:1.2rem 0 .3rem}dt{font-weight:bold}dd{margin:0 0 .4rem 1rem}\n"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem}\n"
    "th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:right;white-space:nowrap}\n"
    "th:first-child,td:first-child{text-align:left}th{background:#eef4fa}\n"
    "table.stats td:nth-child(2),table.cmp td:nth-child(-n+3),table.cmp td:last-child,"
    "table.cmp th{text-align:left}\n"
    ".better{color:#009e73;font-weight:bold}.worse{color:#d55e00;font-weight:bold}\n"
    ".na{color:#666}figure{margin:1.5rem 0}figure svg{width:100%;height:auto;max-width:800px;"
    "display:block}\nfigcaption{font-size:.85rem;color:#444}\n"
    "@media print{body{max-width:none}.scroll{overflow:visible}figure,table{break-inside:"
    "avoid}a{color:inherit}}\n";

/* Text from the stores (runtime names, labels, reasons) is anyone's: escaped. */
static void esc(FILE *out, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", out);
      break;
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    case '\'':
      fputs("&#39;", out);
      break;
    default:
      fputc(*s, out);
    }
  }
}

static void value_cell(FILE *out, const json *v)
{
  double d;
  char buf[32];
  if (json_double(v, &d)) {
    format_value(d, buf, sizeof buf);
    fprintf(out, "<td>%s</td>", buf);
  } else {
    fputs("<td class=\"na\">-</td>", out);
  }
}

/* A [low, high] interval, or "-" when there is none. */
static void interval_cell(FILE *out, const json *ci)
{
  double lo, hi;
  char a[32], b[32];
  if (json_is(ci, JSON_ARRAY) && ci->n == 2 && json_double(ci->items[0], &lo) &&
      json_double(ci->items[1], &hi)) {
    format_value(lo, a, sizeof a);
    format_value(hi, b, sizeof b);
    fprintf(out, "<td>%s &ndash; %s</td>", a, b);
  } else {
    fputs("<td class=\"na\">-</td>", out);
  }
}

static void key_text(FILE *out, const json *key)
{
  for (size_t k = 0; json_is(key, JSON_OBJECT) && k < key->n; k++) {
    fputs(k ? " | " : "", out);
    esc(out, json_string(key->items[k]));
  }
}

static void header(FILE *out, const json *rep, const struct html_request *r)
{
  fputs("<header><h1>measured report</h1>\n<p>", out);
  fprintf(out, "%zu groups from ", json_get(rep, "groups")->n);
  int64_t lines = 0, bad = 0, filtered = 0;
  json_int64(json_get(rep, "lines"), &lines);
  json_int64(json_get(rep, "malformed"), &bad);
  json_int64(json_get(rep, "filtered_out"), &filtered);
  fprintf(out, "%lld lines (%lld malformed, %lld filtered out)</p>\n<dl><dt>Stores</dt>",
          (long long)lines, (long long)bad, (long long)filtered);
  const json *files = json_get(rep, "files");
  for (size_t i = 0; i < files->n; i++) {
    fputs("<dd>", out);
    esc(out, json_string(files->items[i]));
    fputs("</dd>", out);
  }
  fputs("\n<dt>Filters</dt><dd>", out);
  const struct filters *f = r->filters;
  bool any = false;
  if (f->since) {
    fputs("since ", out);
    esc(out, f->since);
    any = true;
  }
  const char *const *lists[] = {f->runtimes, f->drivers, f->labels};
  const size_t counts[] = {f->nruntimes, f->ndrivers, f->nlabels};
  const char *names[] = {"runtime", "driver", "label"};
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      fprintf(out, "%s%s ", any ? "; " : "", names[l]);
      esc(out, lists[l][i]);
      any = true;
    }
  fputs(any ? "" : "none", out);
  fputs("</dd>\n<dt>Grouped by</dt><dd>", out);
  const json *by = json_get(rep, "group_by");
  for (size_t k = 0; k < by->n; k++) {
    fputs(k ? ", " : "", out);
    esc(out, json_string(by->items[k]));
  }
  fputs("</dd></dl>\n<p>Each group: n, mean, standard deviation, median, 5th and 95th "
        "percentiles, and the 95% Student t interval of the mean.</p></header>\n",
        out);
}

static void group_table(FILE *out, const json *g)
{
  fputs("<h3>", out);
  key_text(out, json_get(g, "key"));
  fputs("</h3>\n", out);
  if (json_is(json_get(g, "unsupported"), JSON_TRUE)) {
    fputs("<p class=\"na\">unsupported", out);
    const char *why = json_string(json_get(g, "reason"));
    if (why) {
      fputs(": ", out);
      esc(out, why);
    }
    fputs("</p>\n", out);
    return;
  }
  int64_t records = 0, failed = 0;
  json_int64(json_get(g, "records"), &records);
  json_int64(json_get(g, "failed"), &failed);
  fprintf(out, "<p>%lld record%s", (long long)records, records == 1 ? "" : "s");
  if (failed)
    fprintf(out, ", %lld failed", (long long)failed);
  fputs("</p>\n", out);
  const json *ms = json_get(g, "metrics");
  if (!json_is(ms, JSON_OBJECT) || ms->n == 0)
    return;
  fputs("<div class=\"scroll\"><table "
        "class=\"stats\"><tr><th>metric</th><th>unit</th><th>n</th><th>mean</th>"
        "<th>sd</th><th>median</th><th>p5</th><th>p95</th><th>95% CI</th></tr>\n",
        out);
  for (size_t m = 0; m < ms->n; m++) {
    const json *s = ms->items[m];
    int metric = metric_index(ms->keys[m]);
    fputs("<tr><td>", out);
    esc(out, metric >= 0 ? metric_defs[metric].label : ms->keys[m]);
    fputs("</td><td>", out);
    esc(out, json_string(json_get(s, "unit")));
    int64_t n = 0;
    json_int64(json_get(s, "n"), &n);
    fprintf(out, "</td><td>%lld</td>", (long long)n);
    value_cell(out, json_get(s, "mean"));
    value_cell(out, json_get(s, "sd"));
    value_cell(out, json_get(s, "median"));
    value_cell(out, json_get(s, "p5"));
    value_cell(out, json_get(s, "p95"));
    interval_cell(out, json_get(s, "ci95"));
    fputs("</tr>\n", out);
  }
  fputs("</table></div>\n", out);
}

static void comparisons(FILE *out, const json *base)
{
  const char *rt = json_string(json_get(base, "runtime"));
  const json *cmp = json_get(base, "comparisons");
  fputs("<section id=\"baseline\"><h2>Compared with ", out);
  esc(out, rt);
  fputs("</h2>\n<p>Ratio of means with its 95% interval; a verdict only where the two means' "
        "intervals do not overlap.</p>\n",
        out);
  if (cmp->n == 0) {
    fputs("<p class=\"na\">Nothing to compare: no group has both the baseline and another "
          "runtime.</p></section>\n",
          out);
    return;
  }
  fputs(
      "<div class=\"scroll\"><table class=\"cmp\"><tr><th>runtime</th><th>group</th><th>metric</th>"
      "<th>ratio</th><th>95% CI</th><th>verdict</th></tr>\n",
      out);
  for (size_t i = 0; i < cmp->n; i++) {
    const json *c = cmp->items[i];
    int metric = metric_index(json_string(json_get(c, "metric")));
    fputs("<tr><td>", out);
    esc(out, json_string(json_get(c, "runtime")));
    fputs("</td><td>", out);
    key_text(out, json_get(c, "key"));
    fputs("</td><td>", out);
    esc(out, metric >= 0 ? metric_defs[metric].label : json_string(json_get(c, "metric")));
    fputs("</td>", out);
    value_cell(out, json_get(c, "ratio"));
    interval_cell(out, json_get(c, "ci95"));
    const char *v = json_string(json_get(c, "verdict"));
    if (v) {
      fprintf(out, "<td class=\"%s\">", strstr(v, "(better)") ? "better" : "worse");
      esc(out, v);
      fputs("</td>", out);
    } else {
      fputs("<td class=\"na\">overlap</td>", out);
    }
    fputs("</tr>\n", out);
  }
  fputs("</table></div></section>\n", out);
}

/* Copies s[0..n) with every id, and every reference to one, prefixed: cairo names its glyphs
 * and clips the same in every document, and in one page the first of each name would win. */
static void svg_body(FILE *out, const char *svg, size_t fig)
{
  const char *start = strstr(svg, "<svg");
  if (start == NULL)
    return;
  static const char *const marks[] = {"id=\"", "href=\"#", "url(#"};
  for (const char *s = start; *s;) {
    const char *next = NULL;
    size_t k = 0;
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
      const char *hit = strstr(s, marks[m]);
      if (hit && (next == NULL || hit < next)) {
        next = hit;
        k = m;
      }
    }
    if (next == NULL) {
      fputs(s, out);
      return;
    }
    size_t len = strlen(marks[k]);
    fwrite(s, 1, (size_t)(next - s) + len, out);
    fprintf(out, "f%zu-", fig);
    s = next + len;
  }
}

static void figures(FILE *out, const struct plot_svg *svgs, size_t n)
{
  fputs("<section id=\"figures\"><h2>Figures</h2>\n<p>Bars: the mean; whiskers: its 95% "
        "interval; \"n/a\": the runtime cannot use that driver.</p>\n",
        out);
  if (n == 0)
    fputs("<p class=\"na\">No figure: the records name no driver pair and load.</p>\n", out);
  for (size_t i = 0; i < n; i++) {
    fputs("<figure id=\"fig-", out);
    esc(out, svgs[i].name);
    fputs("\">\n", out);
    svg_body(out, svgs[i].svg, i);
    fputs("<figcaption>", out);
    esc(out, svgs[i].title);
    fputs("</figcaption></figure>\n", out);
  }
  fputs("</section>\n", out);
}

int report_html(const struct html_request *r, merr **err)
{
  cleanup_json json *rep = report_json(r->table, r->files, r->nfiles, r->baseline);
  struct plot_svg *svgs = NULL;
  size_t nsvgs = 0;
  if (plot_svgs(r->figures, &svgs, &nsvgs, err) < 0)
    return -1;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (out == NULL) {
    plot_svgs_free(svgs, nsvgs);
    return merr_set(err, errno, "memory stream");
  }
  fprintf(out,
          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>measured report</title>\n<style>\n%s</style></head>\n<body>\n",
          style);
  header(out, rep, r);
  const json *groups = json_get(rep, "groups");
  fputs("<section id=\"groups\"><h2>Groups</h2>\n", out);
  for (size_t i = 0; i < groups->n; i++)
    group_table(out, groups->items[i]);
  fputs("</section>\n", out);
  const json *base = json_get(rep, "baseline");
  if (base)
    comparisons(out, base);
  figures(out, svgs, nsvgs);
  fputs("<footer><p>measured " MEASURED_VERSION "</p></footer>\n</body></html>\n", out);
  plot_svgs_free(svgs, nsvgs);
  if (fclose(out) != 0) {
    free(text);
    return merr_set(err, errno, "build the page");
  }
  int ret = write_file_atomic_at(AT_FDCWD, r->path, text, len, 0644, err);
  free(text);
  return ret < 0 ? merr_wrap(err, "write %s", r->path) : 0;
}
