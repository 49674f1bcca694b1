/* Figures in the study's style, with cairo: for each metric and load, grouped bars per driver
 * pair, one bar per runtime, error bars for the 95% confidence interval of the mean, the axis in
 * the metric's unit, a legend. A runtime that cannot use a driver gets "n/a", never a zero bar.
 * Each figure is written as SVG and as PNG. */
#ifndef MEASURED_REPORT_PLOT_H
#define MEASURED_REPORT_PLOT_H

#include "dataset.h"
#include "merr.h"

enum { PLOT_WIDTH = 800, PLOT_HEIGHT = 480 };

/* d must be grouped by runtime, pair, load (in that order). Writes DIR/<metric>-<load>.svg and
 * .png; *count gets how many figures. */
int plot_all(const struct dataset *d, const char *dir, int *count, merr **err);

/* The same figures as SVG documents in memory, for a page that holds them. */
struct plot_svg {
  char *name;  /* "<metric>-<load>", as plot_all names the files */
  char *title; /* "<metric's label>, load: <load>" */
  char *svg;   /* the whole SVG document, as cairo wrote it */
};
int plot_svgs(const struct dataset *d, struct plot_svg **out, size_t *n, merr **err);
void plot_svgs_free(struct plot_svg *svgs, size_t n);

/* The fill color of the i-th runtime in name order (0..1 each): the same in every figure, and
 * how tests find its bars. */
void plot_runtime_color(size_t i, double rgb[3]);

#endif
