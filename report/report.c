#include "report.h"
#include "cleanup.h"
#include "dataset.h"
#include "html.h"
#include "output.h"
#include "plot.h"
#include "table.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int default_store(struct report_request *o, char **owned, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  *owned = xstrdup(t->store);
  runtime_table_free(t);
  o->files[o->nfiles++] = *owned;
  return 0;
}

static void group_by_clear(struct group_by *by)
{
  for (size_t k = 0; k < by->n; k++)
    free(by->fields[k]);
  by->n = 0;
}

static void print(const struct report_request *o, const struct dataset *d, merr **err)
{
  if (strcmp(o->format, "csv") == 0) {
    report_csv(stdout, d);
  } else if (strcmp(o->format, "json") == 0) {
    cleanup_json json *j = report_json(d, o->files, o->nfiles, o->baseline);
    cleanup_free char *text = NULL;
    if (json_serialize(j, true, &text, NULL, err) == 0)
      puts(text);
  } else {
    report_table(stdout, d, o->files, o->nfiles, o->baseline);
  }
}

/* One pass over the stores, grouped finely enough for both the table and the figures. */
int report_run(struct report_request *o, merr **err)
{
  cleanup_free char *store = NULL;
  if (o->nfiles == 0 && default_store(o, &store, err) < 0)
    return -1;
  struct group_by by = {0}, fig_by = {0}, all = {0};
  bool figures = o->plot || o->html;
  int r = group_by_parse(o->by, &by, err);
  if (r == 0 && figures)
    r = group_by_parse("runtime,pair,load", &fig_by, err);
  if (r == 0)
    r = figures ? group_by_union(&by, &fig_by, &all, err) : group_by_parse(o->by, &all, err);
  struct dataset fine = {0}, table = {0}, figs = {0};
  if (r == 0)
    r = dataset_load(o->files, o->nfiles, &all, &o->f, o->threads, &fine, err);
  if (r == 0)
    r = dataset_regroup(&fine, &by, &table, err);
  if (r == 0)
    print(o, &table, err);
  int count = 0;
  if (r == 0 && figures)
    r = dataset_regroup(&fine, &fig_by, &figs, err);
  if (r == 0 && o->plot && (r = plot_all(&figs, o->plot, &count, err)) == 0)
    fprintf(stderr, "measured report: wrote %d figure(s) (SVG and PNG) to %s\n", count, o->plot);
  struct html_request page = {.path = o->html,
                              .table = &table,
                              .figures = &figs,
                              .files = o->files,
                              .nfiles = o->nfiles,
                              .filters = &o->f,
                              .baseline = o->baseline};
  if (r == 0 && o->html && (r = report_html(&page, err)) == 0)
    fprintf(stderr, "measured report: wrote %s\n", o->html);
  dataset_clear(&fine);
  dataset_clear(&table);
  dataset_clear(&figs);
  group_by_clear(&by);
  group_by_clear(&fig_by);
  group_by_clear(&all);
  return r;
}
