#include "plot.h"
#include "cleanup.h"
#include "output.h"
#include "stats.h"
#include "xalloc.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { K_RUNTIME, K_PAIR, K_LOAD };
enum { MARGIN_L = 80, MARGIN_R = 150, MARGIN_T = 50, MARGIN_B = 70, MAX_ITEMS = 32 };

/* Colorblind-safe (Okabe-Ito). */
static const double palette[][3] = {
    {0.000, 0.447, 0.698}, {0.835, 0.369, 0.000}, {0.000, 0.620, 0.451}, {0.800, 0.475, 0.655},
    {0.941, 0.894, 0.259}, {0.337, 0.706, 0.914}, {0.902, 0.624, 0.000}, {0.000, 0.000, 0.000}};

void plot_runtime_color(size_t i, double rgb[3])
{
  memcpy(rgb, palette[i % (sizeof palette / sizeof palette[0])], 3 * sizeof *rgb);
}

/* The distinct values of one key, the study's driver pairs first. */
static size_t distinct(const struct dataset *d, int field, const char *load, const char **out)
{
  static const char *const study[] = {"bridge/bridge", "host/bridge", "macvlan/macvlan",
                                      "overlay/overlay"};
  size_t n = 0;
  if (field == K_PAIR)
    for (size_t s = 0; s < sizeof study / sizeof study[0]; s++)
      for (size_t i = 0; i < d->ngroups; i++)
        if (strcmp(d->groups[i].key[K_PAIR], study[s]) == 0) {
          out[n++] = study[s];
          break;
        }
  for (size_t i = 0; i < d->ngroups && n < MAX_ITEMS; i++) {
    const char *v = d->groups[i].key[field];
    if (load && strcmp(d->groups[i].key[K_LOAD], load) != 0 && field != K_LOAD)
      continue;
    bool seen = false;
    for (size_t k = 0; k < n && !seen; k++)
      seen = strcmp(out[k], v) == 0;
    if (!seen)
      out[n++] = v;
  }
  return n;
}

static const struct group *find(const struct dataset *d, const char *rt, const char *pair,
                                const char *load)
{
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct group *g = &d->groups[i];
    if (strcmp(g->key[K_RUNTIME], rt) == 0 && strcmp(g->key[K_PAIR], pair) == 0 &&
        strcmp(g->key[K_LOAD], load) == 0)
      return g;
  }
  return NULL;
}

struct bar {
  bool present, unsupported;
  struct summary s;
};

struct chart {
  int metric;
  const char *load;
  const char *runtimes[MAX_ITEMS], *pairs[MAX_ITEMS];
  size_t color[MAX_ITEMS]; /* each runtime keeps its color across figures */
  size_t nrt, npairs;
  struct bar bars[MAX_ITEMS][MAX_ITEMS]; /* [pair][runtime] */
  double ymax;
};

static bool bar_shown(const struct bar *b)
{
  return b->present || b->unsupported;
}

/* Drops the pairs and runtimes with nothing to show for this metric. */
static void compact(struct chart *c)
{
  size_t np = 0;
  for (size_t p = 0; p < c->npairs; p++) {
    bool any = false;
    for (size_t r = 0; r < c->nrt; r++)
      any |= bar_shown(&c->bars[p][r]);
    if (!any)
      continue;
    c->pairs[np] = c->pairs[p];
    memmove(c->bars[np], c->bars[p], sizeof c->bars[p]);
    np++;
  }
  c->npairs = np;
  size_t nr = 0;
  for (size_t r = 0; r < c->nrt; r++) {
    bool any = false;
    for (size_t p = 0; p < c->npairs; p++)
      any |= bar_shown(&c->bars[p][r]);
    if (!any)
      continue;
    c->runtimes[nr] = c->runtimes[r];
    c->color[nr] = c->color[r];
    for (size_t p = 0; p < c->npairs; p++)
      c->bars[p][nr] = c->bars[p][r];
    nr++;
  }
  c->nrt = nr;
}

static bool chart_collect(const struct dataset *d, int m, const char *load, struct chart *c)
{
  memset(c, 0, sizeof *c);
  c->metric = m;
  c->load = load;
  c->nrt = distinct(d, K_RUNTIME, NULL, c->runtimes);
  for (size_t r = 0; r < c->nrt; r++)
    c->color[r] = r;
  c->npairs = distinct(d, K_PAIR, load, c->pairs);
  bool any = false;
  for (size_t p = 0; p < c->npairs; p++)
    for (size_t r = 0; r < c->nrt; r++) {
      const struct group *g = find(d, c->runtimes[r], c->pairs[p], load);
      struct bar *b = &c->bars[p][r];
      if (g == NULL)
        continue;
      b->unsupported = g->unsupported;
      if (g->unsupported || g->metric[m].n == 0)
        continue;
      double *v = xreallocarray(NULL, g->metric[m].n, sizeof *v);
      memcpy(v, g->metric[m].v, g->metric[m].n * sizeof *v);
      summarize(v, g->metric[m].n, &b->s);
      free(v);
      b->present = any = true;
      double top = b->s.has_sd ? fmax(b->s.mean, b->s.ci_hi) : b->s.mean;
      c->ymax = fmax(c->ymax, top);
    }
  compact(c);
  return any;
}

/* A tick step of 1, 2 or 5 times a power of ten, about five ticks up to max. */
static double tick_step(double max)
{
  double raw = max / 5, mag = pow(10, floor(log10(raw)));
  double n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align)
{
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - e.width * align - e.x_bearing * (1 - align), y);
  cairo_show_text(cr, s);
}

static void draw_axes(cairo_t *cr, const struct chart *c, double top, double step)
{
  double x0 = MARGIN_L, y0 = PLOT_HEIGHT - MARGIN_B, plot_h = y0 - MARGIN_T;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_set_font_size(cr, 11);
  for (double v = 0; v <= top * 1.0001; v += step) {
    double y = y0 - v / top * plot_h;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, PLOT_WIDTH - MARGIN_R, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    char buf[32];
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step));
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    text_at(cr, x0 - 6, y + 4, buf, 1);
  }
  cairo_move_to(cr, x0, MARGIN_T);
  cairo_line_to(cr, x0, y0);
  cairo_line_to(cr, PLOT_WIDTH - MARGIN_R, y0);
  cairo_stroke(cr);
  cleanup_free char *ylabel =
      xasprintf("%s (%s)", metric_defs[c->metric].label, metric_defs[c->metric].unit);
  cairo_save(cr);
  cairo_translate(cr, 22, MARGIN_T + plot_h / 2);
  cairo_rotate(cr, -M_PI / 2);
  text_at(cr, 0, 0, ylabel, 0.5);
  cairo_restore(cr);
  cairo_set_font_size(cr, 14);
  cleanup_free char *title = xasprintf("%s, load: %s", metric_defs[c->metric].label, c->load);
  text_at(cr, (MARGIN_L + PLOT_WIDTH - MARGIN_R) / 2.0, 28, title, 0.5);
}

static void draw_bar(cairo_t *cr, const struct bar *b, size_t color, double x, double w, double top)
{
  double y0 = PLOT_HEIGHT - MARGIN_B, plot_h = y0 - MARGIN_T;
  if (b->unsupported) {
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_font_size(cr, 10);
    text_at(cr, x + w / 2, y0 - 4, "n/a", 0.5);
    return;
  }
  if (!b->present)
    return;
  double rgb[3];
  plot_runtime_color(color, rgb);
  double h = b->s.mean / top * plot_h;
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  cairo_rectangle(cr, x, y0 - h, w, h);
  cairo_fill(cr);
  if (!b->s.has_sd)
    return;
  double ylo = y0 - fmax(b->s.ci_lo, 0) / top * plot_h, yhi = y0 - b->s.ci_hi / top * plot_h;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1.2);
  cairo_move_to(cr, x + w / 2, ylo);
  cairo_line_to(cr, x + w / 2, yhi);
  cairo_move_to(cr, x + w * 0.3, ylo);
  cairo_line_to(cr, x + w * 0.7, ylo);
  cairo_move_to(cr, x + w * 0.3, yhi);
  cairo_line_to(cr, x + w * 0.7, yhi);
  cairo_stroke(cr);
}

static void draw_legend(cairo_t *cr, const struct chart *c)
{
  double x = PLOT_WIDTH - MARGIN_R + 20, y = MARGIN_T + 10;
  cairo_set_font_size(cr, 12);
  for (size_t r = 0; r < c->nrt; r++, y += 22) {
    double rgb[3];
    plot_runtime_color(c->color[r], rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, x, y, 14, 14);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, x + 20, y + 12, c->runtimes[r], 0);
  }
  cairo_set_font_size(cr, 10);
  text_at(cr, x, y + 10, "bars: mean", 0);
  text_at(cr, x, y + 24, "whiskers: 95% CI", 0);
}

static void draw(cairo_t *cr, const struct chart *c)
{
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  double step = tick_step(c->ymax > 0 ? c->ymax * 1.1 : 1);
  double top = ceil((c->ymax > 0 ? c->ymax * 1.05 : 1) / step) * step;
  draw_axes(cr, c, top, step);
  double plot_w = PLOT_WIDTH - MARGIN_R - MARGIN_L, slot = plot_w / (double)c->npairs;
  double w = slot * 0.8 / (double)c->nrt;
  for (size_t p = 0; p < c->npairs; p++) {
    double x0 = MARGIN_L + slot * (double)p + slot * 0.1;
    for (size_t r = 0; r < c->nrt; r++)
      draw_bar(cr, &c->bars[p][r], c->color[r], x0 + w * (double)r, w, top);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 11);
    text_at(cr, MARGIN_L + slot * ((double)p + 0.5), PLOT_HEIGHT - MARGIN_B + 18, c->pairs[p], 0.5);
  }
  cairo_set_font_size(cr, 11);
  text_at(cr, MARGIN_L + plot_w / 2, PLOT_HEIGHT - 20, "driver pair (server/client)", 0.5);
  draw_legend(cr, c);
}

/* "<metric>-<load>", safe as a file name. */
static char *chart_name(const struct chart *c)
{
  char *name = xasprintf("%s-%s", metric_defs[c->metric].name, c->load);
  for (char *s = name; *s; s++)
    if (*s == '/' || *s == ' ')
      *s = '_';
  return name;
}

/* Draws the chart on an SVG surface (a file's, or a stream's) and finishes it. */
static cairo_status_t draw_svg(const struct chart *c, cairo_surface_t *ss)
{
  cairo_t *cr = cairo_create(ss);
  draw(cr, c);
  cairo_destroy(cr);
  cairo_surface_finish(ss);
  cairo_status_t st = cairo_surface_status(ss);
  cairo_surface_destroy(ss);
  return st;
}

static int write_chart(const struct chart *c, const char *dir, merr **err)
{
  cleanup_free char *name = chart_name(c);
  cleanup_free char *base = xasprintf("%s/%s", dir, name);
  cleanup_free char *svg = xasprintf("%s.svg", base), *png = xasprintf("%s.png", base);
  cairo_status_t st = draw_svg(c, cairo_svg_surface_create(svg, PLOT_WIDTH, PLOT_HEIGHT));
  if (st != CAIRO_STATUS_SUCCESS)
    return merr_set(err, 0, "write %s: %s", svg, cairo_status_to_string(st));
  cairo_surface_t *is = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, PLOT_WIDTH, PLOT_HEIGHT);
  cairo_t *cr = cairo_create(is);
  draw(cr, c);
  cairo_destroy(cr);
  st = cairo_surface_write_to_png(is, png);
  cairo_surface_destroy(is);
  if (st != CAIRO_STATUS_SUCCESS)
    return merr_set(err, 0, "write %s: %s", png, cairo_status_to_string(st));
  return 0;
}

/* Calls emit for every figure there is something to show in, metric by metric. */
static int each_chart(const struct dataset *d, int (*emit)(const struct chart *, void *, merr **),
                      void *ctx, merr **err)
{
  const char *loads[MAX_ITEMS];
  size_t nloads = distinct(d, K_LOAD, NULL, loads);
  struct chart *c = xmalloc(sizeof *c); /* some 40 KiB: not on the stack */
  int ret = 0;
  for (int m = 0; m < M_COUNT && ret == 0; m++)
    for (size_t l = 0; l < nloads && ret == 0; l++)
      if (chart_collect(d, m, loads[l], c))
        ret = emit(c, ctx, err);
  free(c);
  return ret;
}

struct files_ctx {
  const char *dir;
  int count;
};

static int emit_files(const struct chart *c, void *ctx, merr **err)
{
  struct files_ctx *f = ctx;
  if (write_chart(c, f->dir, err) < 0)
    return -1;
  f->count++;
  return 0;
}

int plot_all(const struct dataset *d, const char *dir, int *count, merr **err)
{
  *count = 0;
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return merr_set(err, errno, "create %s", dir);
  struct files_ctx f = {.dir = dir};
  int ret = each_chart(d, emit_files, &f, err);
  *count = f.count;
  return ret;
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
  FILE *out = closure;
  return fwrite(data, 1, length, out) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

struct svg_ctx {
  struct plot_svg *svgs;
  size_t n;
};

static int emit_svg(const struct chart *c, void *ctx, merr **err)
{
  struct svg_ctx *s = ctx;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (out == NULL)
    return merr_set(err, errno, "memory stream");
  cairo_status_t st =
      draw_svg(c, cairo_svg_surface_create_for_stream(append_bytes, out, PLOT_WIDTH, PLOT_HEIGHT));
  fclose(out);
  if (st != CAIRO_STATUS_SUCCESS) {
    free(text);
    return merr_set(err, 0, "draw a figure: %s", cairo_status_to_string(st));
  }
  s->svgs = xreallocarray(s->svgs, s->n + 1, sizeof *s->svgs);
  s->svgs[s->n++] =
      (struct plot_svg){.name = chart_name(c),
                        .title = xasprintf("%s, load: %s", metric_defs[c->metric].label, c->load),
                        .svg = text};
  return 0;
}

int plot_svgs(const struct dataset *d, struct plot_svg **out, size_t *n, merr **err)
{
  struct svg_ctx s = {0};
  int ret = each_chart(d, emit_svg, &s, err);
  *out = s.svgs;
  *n = s.n;
  if (ret < 0) {
    plot_svgs_free(s.svgs, s.n);
    *out = NULL;
    *n = 0;
  }
  return ret;
}

void plot_svgs_free(struct plot_svg *svgs, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(svgs[i].name);
    free(svgs[i].title);
    free(svgs[i].svg);
  }
  free(svgs);
}
