#include "report.h"
#include "cleanup.h"
#include "dataset.h"
#include "output.h"
#include "plot.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_LIST = 32 };

struct report_opts {
  const char *files[MAX_LIST];
  size_t nfiles;
  const char *runtimes[MAX_LIST], *drivers[MAX_LIST], *labels[MAX_LIST];
  struct filters f;
  char since[32];
  const char *by, *baseline, *format, *plot;
  int threads;
};

static int usage(int status)
{
  fprintf(
      status ? stderr : stdout,
      "usage: measured report [STORE...] [--since TIME] [--runtime NAME]... [--driver NAME]...\n"
      "                       [--label KEY=VALUE]... [--by FIELDS] [--baseline RUNTIME]\n"
      "                       [--format table|csv|json] [--plot DIR] [--threads N]\n\n"
      "Statistics of the records in STORE files (default: the runtime table's store; several\n"
      "merge): for every group and metric n, mean, standard deviation, median, p5, p95 and the\n"
      "95%% confidence interval of the mean (Student t). Groups: --by runtime,driver,load by\n"
      "default; fields runtime, driver, load (label \"load\"), pair (label \"pair\"), outcome,\n"
      "label:NAME. --baseline: every runtime's ratio to that one, with its interval and a verdict\n"
      "where the intervals do not overlap. --plot DIR: one SVG and one PNG per metric and load,\n"
      "bars per driver pair and runtime. --since: 2026-11-23, 2026-11-23T10:00, or 90m, 6h, 7d.\n");
  return status;
}

static int add(const char **list, size_t *n, const char *v, const char *what)
{
  if (*n == MAX_LIST) {
    fprintf(stderr, "measured report: at most %d %s\n", MAX_LIST, what);
    return -1;
  }
  list[(*n)++] = v;
  return 0;
}

static int parse(int argc, char **argv, struct report_opts *o)
{
  static const struct option longopts[] = {{"since", required_argument, NULL, 's'},
                                           {"runtime", required_argument, NULL, 'r'},
                                           {"driver", required_argument, NULL, 'd'},
                                           {"label", required_argument, NULL, 'l'},
                                           {"by", required_argument, NULL, 'b'},
                                           {"baseline", required_argument, NULL, 'B'},
                                           {"format", required_argument, NULL, 'f'},
                                           {"plot", required_argument, NULL, 'p'},
                                           {"threads", required_argument, NULL, 't'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->by = "runtime,driver,load";
  o->format = "table";
  o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  optind = 1;
  opterr = 0;
  int c;
  /* Options may follow the store files (GNU getopt permutes). */
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    merr *err = NULL;
    int r = 0;
    switch (c) {
    case 's':
      r = since_parse(optarg, o->since, sizeof o->since, &err);
      o->f.since = o->since;
      break;
    case 'r':
      r = add(o->runtimes, &o->f.nruntimes, optarg, "--runtime");
      break;
    case 'd':
      r = add(o->drivers, &o->f.ndrivers, optarg, "--driver");
      break;
    case 'l':
      if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
        fprintf(stderr, "measured report: --label %s: KEY=VALUE\n", optarg);
        return 2;
      }
      r = add(o->labels, &o->f.nlabels, optarg, "--label");
      break;
    case 'b':
      o->by = optarg;
      break;
    case 'B':
      o->baseline = optarg;
      break;
    case 'f':
      o->format = optarg;
      break;
    case 'p':
      o->plot = optarg;
      break;
    case 't': {
      char *end;
      errno = 0;
      long t = strtol(optarg, &end, 10);
      if (errno || end == optarg || *end || t < 1 || t > 64) {
        fprintf(stderr, "measured report: --threads %s: a number from 1 to 64\n", optarg);
        return 2;
      }
      o->threads = (int)t;
      break;
    }
    case 'h':
      usage(0);
      return 0;
    default:
      return usage(2);
    }
    if (r < 0) {
      if (err)
        fprintf(stderr, "measured report: %s\n", merr_msg(err));
      merr_free(err);
      return 2;
    }
  }
  if (strcmp(o->format, "table") != 0 && strcmp(o->format, "csv") != 0 &&
      strcmp(o->format, "json") != 0) {
    fprintf(stderr, "measured report: --format %s: table, csv or json\n", o->format);
    return 2;
  }
  for (; optind < argc; optind++)
    if (add(o->files, &o->nfiles, argv[optind], "stores") < 0)
      return 2;
  o->f.runtimes = o->runtimes;
  o->f.drivers = o->drivers;
  o->f.labels = o->labels;
  return -1;
}

static int default_store(struct report_opts *o, char **owned, merr **err)
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

static void print(const struct report_opts *o, const struct dataset *d, merr **err)
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
static int run(struct report_opts *o, merr **err)
{
  cleanup_free char *store = NULL;
  if (o->nfiles == 0 && default_store(o, &store, err) < 0)
    return -1;
  struct group_by by = {0}, fig_by = {0}, all = {0};
  int r = group_by_parse(o->by, &by, err);
  if (r == 0 && o->plot)
    r = group_by_parse("runtime,pair,load", &fig_by, err);
  if (r == 0)
    r = o->plot ? group_by_union(&by, &fig_by, &all, err) : group_by_parse(o->by, &all, err);
  struct dataset fine = {0}, table = {0}, figs = {0};
  if (r == 0)
    r = dataset_load(o->files, o->nfiles, &all, &o->f, o->threads, &fine, err);
  if (r == 0)
    r = dataset_regroup(&fine, &by, &table, err);
  if (r == 0)
    print(o, &table, err);
  int count = 0;
  if (r == 0 && o->plot)
    r = dataset_regroup(&fine, &fig_by, &figs, err);
  if (r == 0 && o->plot && (r = plot_all(&figs, o->plot, &count, err)) == 0)
    fprintf(stderr, "measured report: wrote %d figure(s) (SVG and PNG) to %s\n", count, o->plot);
  dataset_clear(&fine);
  dataset_clear(&table);
  dataset_clear(&figs);
  group_by_clear(&by);
  group_by_clear(&fig_by);
  group_by_clear(&all);
  return r;
}

int cmd_report(int argc, char **argv)
{
  struct report_opts o;
  int u = parse(argc, argv, &o);
  if (u >= 0)
    return u;
  cleanup_merr merr *err = NULL;
  if (run(&o, &err) < 0) {
    fprintf(stderr, "measured report: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
