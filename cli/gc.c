/* measured gc: see lifecycle/gc.h. */
#include "gc.h"
#include "cleanup.h"
#include "commands.h"
#include "table.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
  fprintf(out,
          "usage: measured gc [--dry-run] [--min-age SECONDS]\n\n"
          "Reclaims state no delete will come for, under the runtime table's state directory:\n"
          "lifecycles whose container is gone (at least --min-age old, default 600 s),\n"
          "deletes that were killed, lifecycles replaced by a new one of the same id, and\n"
          "records that could not be stored. Each lifecycle's record is written (saying its\n"
          "delete was not observed), probe channels are released, the directories removed.\n"
          "Anything still running is left alone. The wrapper also runs a small gc after a\n"
          "delete, at most every %d s.\n",
          GC_OPPORTUNISTIC_S);
}

int cmd_gc(int argc, char **argv)
{
  static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
                                           {"min-age", required_argument, NULL, 'a'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  struct gc_options o = {.min_age_s = 600, .say = stdout};
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1;) {
    char *end;
    switch (c) {
    case 'n':
      o.dry_run = true;
      break;
    case 'a':
      errno = 0;
      o.min_age_s = strtoll(optarg, &end, 10);
      if (errno || end == optarg || *end || o.min_age_s < 0) {
        fprintf(stderr, "measured gc: --min-age %s: a number of seconds\n", optarg);
        return 2;
      }
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return 2;
  }
  struct runtime_table *t = NULL;
  cleanup_merr merr *err = NULL;
  if (runtime_table_load(runtime_table_path(), &t, &err) < 0) {
    fprintf(stderr, "measured gc: %s\n", merr_msg(err));
    return 1;
  }
  struct gc_result r;
  int ret = gc_run(t, &o, &r, &err);
  if (ret < 0)
    fprintf(stderr, "measured gc: %s\n", merr_msg(err));
  else
    printf("%s%u lifecycle(s) recorded, %u waiting record(s) stored, %u directorie(s) removed, "
           "%u left (running or young), %u failed\n",
           o.dry_run ? "would have: " : "", r.recorded, r.stored, r.removed, r.kept, r.failed);
  runtime_table_free(t);
  return ret < 0 || r.failed ? 1 : 0;
}
