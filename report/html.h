/* `measured report --html FILE`: the whole report as one self-contained page: the header
 * (stores, filters, grouping), each group's table, the comparison with the baseline and its
 * verdicts, and every figure inline as SVG (plot.c's, the study's style and palette). No
 * script, no external resource; readable on a phone (tables scroll sideways, figures scale) and
 * printable. Written atomically (temp file, fsync, rename). */
#ifndef MEASURED_REPORT_HTML_H
#define MEASURED_REPORT_HTML_H

#include "dataset.h"
#include "merr.h"

struct html_request {
  const char *path;
  const struct dataset *table;   /* grouped as asked */
  const struct dataset *figures; /* grouped by runtime, pair, load */
  const char *const *files;
  size_t nfiles;
  const struct filters *filters;
  const char *baseline; /* NULL: none */
};

int report_html(const struct html_request *r, merr **err);

#endif
