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

/* The fill color of the i-th runtime in name order (0..1 each): the same in every figure, and
 * how tests find its bars. */
void plot_runtime_color(size_t i, double rgb[3]);

#endif
