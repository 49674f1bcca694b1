/* `measured report`: statistics over one or more stores, by group, with a baseline comparison,
 * as a table, CSV or JSON, and figures (cli/report.c parses the command line). */
#ifndef MEASURED_REPORT_H
#define MEASURED_REPORT_H

#include "dataset.h"
#include "merr.h"

enum { REPORT_MAX_LIST = 32 };

struct report_request {
  const char *files[REPORT_MAX_LIST + 1]; /* stores; none: the runtime table's */
  size_t nfiles;
  const char *runtimes[REPORT_MAX_LIST], *drivers[REPORT_MAX_LIST], *labels[REPORT_MAX_LIST];
  struct filters f; /* points into the lists above */
  char since[32];
  const char *by, *baseline, *format, *plot, *html;
  int threads;
};

/* Reads the stores once and prints the report (and writes the figures) as asked. */
int report_run(struct report_request *r, merr **err);

#endif
