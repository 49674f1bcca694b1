/* measured report: see report/report.h. */
#include "report.h"
#include "cleanup.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(int status)
{
  fprintf(
      status ? stderr : stdout,
      "usage: measured report [STORE...] [--since TIME] [--runtime NAME]... [--driver NAME]...\n"
      "                       [--label KEY=VALUE]... [--by FIELDS] [--baseline RUNTIME]\n"
      "                       [--format table|csv|json] [--plot DIR] [--html FILE]\n"
      "                       [--threads N]\n\n"
      "Statistics of the records in STORE files (default: the runtime table's store; several\n"
      "merge): for every group and metric n, mean, standard deviation, median, p5, p95 and the\n"
      "95%% confidence interval of the mean (Student t). Groups: --by runtime,driver,load by\n"
      "default; fields runtime, driver, load (label \"load\"), pair (label \"pair\"), outcome,\n"
      "label:NAME. --baseline: every runtime's ratio to that one, with its interval and a verdict\n"
      "where the intervals do not overlap. --plot DIR: one SVG and one PNG per metric and load,\n"
      "bars per driver pair and runtime. --html FILE: the whole report as one self-contained\n"
      "page (tables, comparison, every figure inline as SVG). --since: 2026-11-23,\n"
      "2026-11-23T10:00, or 90m, 6h, 7d.\n");
  return status;
}

static int add(const char **list, size_t *n, const char *v, const char *what)
{
  if (*n == REPORT_MAX_LIST) {
    fprintf(stderr, "measured report: at most %d %s\n", REPORT_MAX_LIST, what);
    return -1;
  }
  list[(*n)++] = v;
  return 0;
}

/* 0 to run; -1 to end now with *status. */
static int parse(int argc, char **argv, struct report_request *o, int *status)
{
  static const struct option longopts[] = {
      {"since", required_argument, NULL, 's'},  {"runtime", required_argument, NULL, 'r'},
      {"driver", required_argument, NULL, 'd'}, {"label", required_argument, NULL, 'l'},
      {"by", required_argument, NULL, 'b'},     {"baseline", required_argument, NULL, 'B'},
      {"format", required_argument, NULL, 'f'}, {"plot", required_argument, NULL, 'p'},
      {"html", required_argument, NULL, 'H'},   {"threads", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->by = "runtime,driver,load";
  o->format = "table";
  o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  optind = 1;
  opterr = 0;
  int c;
  /* Options may follow the store files (GNU getopt permutes). */
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    cleanup_merr merr *err = NULL;
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
        *status = 2;
        return -1;
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
    case 'H':
      o->html = optarg;
      break;
    case 't': {
      char *end;
      errno = 0;
      long t = strtol(optarg, &end, 10);
      if (errno || end == optarg || *end || t < 1 || t > 64) {
        fprintf(stderr, "measured report: --threads %s: a number from 1 to 64\n", optarg);
        *status = 2;
        return -1;
      }
      o->threads = (int)t;
      break;
    }
    case 'h':
      *status = usage(0);
      return -1;
    default:
      *status = usage(2);
      return -1;
    }
    if (r < 0) {
      if (err)
        fprintf(stderr, "measured report: %s\n", merr_msg(err));
      *status = 2;
      return -1;
    }
  }
  if (strcmp(o->format, "table") != 0 && strcmp(o->format, "csv") != 0 &&
      strcmp(o->format, "json") != 0) {
    fprintf(stderr, "measured report: --format %s: table, csv or json\n", o->format);
    *status = 2;
    return -1;
  }
  for (; optind < argc; optind++) {
    if (add(o->files, &o->nfiles, argv[optind], "stores") < 0) {
      *status = 2;
      return -1;
    }
  }
  o->f.runtimes = o->runtimes;
  o->f.drivers = o->drivers;
  o->f.labels = o->labels;
  return 0;
}

int cmd_report(int argc, char **argv)
{
  struct report_request r;
  int status;
  if (parse(argc, argv, &r, &status) < 0)
    return status;
  cleanup_merr merr *err = NULL;
  if (report_run(&r, &err) < 0) {
    fprintf(stderr, "measured report: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
