/* measured exporter: the records of the stores and the running containers as OpenMetrics on
 * /metrics (exporter/), for Prometheus; --once prints one exposition and ends. */
#include "exporter.h"
#include "cleanup.h"
#include "commands.h"
#include "fileio.h"
#include "landlock.h"
#include "privileges.h"
#include "server.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:19447"
#define CHECKPOINT_NAME "exporter-checkpoint.json"

struct exporter_options {
  const char *listen;
  const char *stores[EXPORTER_MAX_STORES];
  size_t nstores;
  const char *checkpoint; /* NULL: next to the first store */
  bool no_checkpoint, once;
  enum exposition_format format;
  long save_interval;
};

static void usage(FILE *out)
{
  fprintf(out,
          "usage: measured exporter [--listen ADDRESS:PORT] [--store FILE]...\n"
          "                         [--checkpoint FILE | --no-checkpoint] [--save-interval S]\n"
          "       measured exporter --once [--format openmetrics|prometheus] [--store FILE]...\n\n"
          "Serves /metrics (OpenMetrics, or Prometheus' text format 0.0.4 to a scraper that does\n"
          "not ask for OpenMetrics) on --listen (default " DEFAULT_LISTEN "): the lifecycles\n"
          "of the stores (default: the runtime table's store and each runtime's own), counted by\n"
          "runtime, driver, load and the table's export_labels, with histograms of their\n"
          "timings, and the running containers' link counters. The stores are read as they\n"
          "grow, rotation followed; the counts and the position reached are kept in the\n"
          "checkpoint (default: " CHECKPOINT_NAME " beside the first store) every --save-interval\n"
          "seconds (default 10) and at SIGTERM, and a restart resumes from it.\n"
          "--once prints the exposition of the stores as they are, and ends (no checkpoint).\n");
}

static bool parse(int argc, char **argv, struct exporter_options *o, int *status)
{
  static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                       {"store", required_argument, NULL, 's'},
                                       {"checkpoint", required_argument, NULL, 'c'},
                                       {"no-checkpoint", no_argument, NULL, 'n'},
                                       {"save-interval", required_argument, NULL, 'i'},
                                       {"once", no_argument, NULL, 'o'},
                                       {"format", required_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  *o = (struct exporter_options){.listen = DEFAULT_LISTEN, .save_interval = 10};
  bool format_given = false;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "+h", opts, NULL)) != -1;) {
    char *end = NULL;
    if (c == 'l')
      o->listen = optarg;
    else if (c == 's' && o->nstores < EXPORTER_MAX_STORES && optarg[0] != '\0')
      o->stores[o->nstores++] = optarg;
    else if (c == 'c')
      o->checkpoint = optarg;
    else if (c == 'n')
      o->no_checkpoint = true;
    else if (c == 'i' && (o->save_interval = strtol(optarg, &end, 10), *end == '\0') &&
             o->save_interval >= 1 && o->save_interval <= 3600)
      continue;
    else if (c == 'o')
      o->once = true;
    else if (c == 'f' &&
             (strcmp(optarg, "openmetrics") == 0 || strcmp(optarg, "prometheus") == 0)) {
      o->format = optarg[0] == 'o' ? FORMAT_OPENMETRICS : FORMAT_PROMETHEUS;
      format_given = true;
    } else {
      if (c == 's')
        fprintf(stderr, "measured exporter: --store: a path, at most %d stores\n",
                EXPORTER_MAX_STORES);
      usage(c == 'h' ? stdout : stderr);
      *status = c == 'h' ? 0 : 2;
      return false;
    }
  }
  const char *conflict = optind < argc                       ? argv[optind]
                         : o->checkpoint && o->no_checkpoint ? "--checkpoint with --no-checkpoint"
                         : format_given && !o->once          ? "--format without --once"
                         : o->once && (o->checkpoint || o->no_checkpoint)
                             ? "--once keeps no checkpoint"
                             : NULL;
  if (conflict) {
    fprintf(stderr, "measured exporter: %s\n", conflict);
    usage(stderr);
    *status = 2;
    return false;
  }
  return true;
}

/* The table's store and each runtime's own, once each. */
static void table_stores(const struct runtime_table *t, struct exporter_options *o)
{
  const char *all[1 + 256];
  size_t n = 0;
  all[n++] = t->store;
  for (size_t i = 0; i < t->n && n < sizeof all / sizeof all[0]; i++)
    all[n++] = runtime_entry_store(t, &t->entries[i]);
  for (size_t i = 0; i < n && o->nstores < EXPORTER_MAX_STORES; i++) {
    bool dup = false;
    for (size_t k = 0; k < o->nstores && !dup; k++)
      dup = strcmp(o->stores[k], all[i]) == 0;
    if (!dup)
      o->stores[o->nstores++] = all[i];
  }
}

/* The directory a path lies in, or its nearest ancestor that exists (a store not made yet). */
static int open_existing_parent(const char *path)
{
  cleanup_free char *dir = path_dirname(path);
  for (;;) {
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
      return fd;
    char *up = path_dirname(dir);
    free(dir);
    dir = up;
  }
}

/* Root's powers are not needed past the bind: the stores and the state are root's own files.
 * No capability, no new privileges, and Landlock (where the kernel has it): reading beneath the
 * stores' and the state's directories, writing beneath the checkpoint's. */
static void confine(const struct exporter_options *o, const char *state_dir, const char *checkpoint)
{
  struct landlock_beneath allowed[EXPORTER_MAX_STORES + 3];
  size_t n = 0;
  for (size_t i = 0; i < o->nstores; i++)
    allowed[n++] = (struct landlock_beneath){open_existing_parent(o->stores[i]), LANDLOCK_READ};
  cleanup_close int state = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  allowed[n++] = (struct landlock_beneath){state, LANDLOCK_READ};
  if (checkpoint)
    allowed[n++] =
        (struct landlock_beneath){open_existing_parent(checkpoint), LANDLOCK_READ | LANDLOCK_WRITE};
  /* Its own /proc directory: the C library and the sanitizers' leak check read there. */
  allowed[n++] = (struct landlock_beneath){open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC),
                                           LANDLOCK_READ};
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if (allowed[i].fd >= 0)
      allowed[kept++] = allowed[i];
  cleanup_merr merr *err = NULL;
  int abi;
  const struct privileges none = {0};
  if (privileges_confine(&none, &err) < 0)
    fprintf(stderr, "measured exporter: capabilities kept: %s\n", merr_msg(err));
  else if (landlock_confine(allowed, kept, &abi, &err) < 0)
    fprintf(stderr, "measured exporter: no Landlock: %s\n", merr_msg(err));
  for (size_t i = 0; i < kept; i++)
    if (allowed[i].fd != state)
      close(allowed[i].fd);
}

/* The signals that end the exporter, taken only by serve's sigtimedwait. */
static sigset_t stop_signals(void)
{
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  return stop;
}

static int serve(const struct exporter_options *o, struct exporter *x, struct server *s)
{
  sigset_t stop = stop_signals();
  cleanup_merr merr *err = NULL;
  if (server_start(s, x, &err) < 0) {
    fprintf(stderr, "measured exporter: %s\n", merr_msg(err));
    return 1;
  }
  for (long tick = 1;; tick++) {
    struct timespec second = {1, 0};
    int sig = sigtimedwait(&stop, NULL, &second);
    if (sig == SIGTERM || sig == SIGINT)
      break;
    exporter_catch_up(x);
    if (tick % o->save_interval == 0 && exporter_save(x, false, &err) < 0) {
      fprintf(stderr, "measured exporter: checkpoint: %s\n", merr_msg(err));
      merr_freep(&err);
    }
  }
  server_stop(s); /* no scrape runs past here: the checkpoint is the last word */
  if (exporter_save(x, true, &err) < 0) {
    fprintf(stderr, "measured exporter: checkpoint: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}

int cmd_exporter(int argc, char **argv)
{
  struct exporter_options o;
  int status;
  if (!parse(argc, argv, &o, &status))
    return status;
  struct runtime_table *t = NULL;
  cleanup_merr merr *err = NULL;
  if (runtime_table_load(runtime_table_path(), &t, &err) < 0) {
    fprintf(stderr, "measured exporter: %s\n", merr_msg(err));
    return 1;
  }
  if (o.nstores == 0)
    table_stores(t, &o);
  cleanup_free char *checkpoint = NULL;
  if (!o.once && !o.no_checkpoint) {
    cleanup_free char *dir = path_dirname(o.stores[0]);
    checkpoint = o.checkpoint ? xstrdup(o.checkpoint) : xasprintf("%s/%s", dir, CHECKPOINT_NAME);
  }
  struct server *s = NULL;
  int port = 0, ret = 1;
  sigset_t stop = stop_signals();
  sigprocmask(SIG_BLOCK, &stop, NULL); /* before any thread: only sigtimedwait takes them */
  if (!o.once) {
    if (server_bind(o.listen, &s, &port, &err) < 0) {
      fprintf(stderr, "measured exporter: %s\n", merr_msg(err));
      runtime_table_free(t);
      return 1;
    }
    confine(&o, t->state_dir, checkpoint);
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  struct exporter_config c = {.stores = o.stores,
                              .nstores = o.nstores,
                              .labels = (const char *const *)t->export_labels,
                              .nlabels = t->nexport_labels,
                              .state_dir = t->state_dir,
                              .checkpoint = checkpoint,
                              .threads = cpus > 0 ? (int)cpus : 1};
  struct exporter x;
  if (exporter_open(&x, &c, &err) < 0) {
    fprintf(stderr, "measured exporter: %s\n", merr_msg(err));
    server_stop(s);
  } else if (o.once) {
    size_t len;
    cleanup_free char *text = exporter_render(&x, o.format, &len);
    ret = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    exporter_close(&x);
  } else {
    fprintf(stderr, "measured exporter: serving http://%s/metrics (port %d), %zu store(s)%s%s\n",
            o.listen, port, o.nstores, checkpoint ? ", checkpoint " : "",
            checkpoint ? checkpoint : "");
    ret = serve(&o, &x, s);
    exporter_close(&x);
  }
  runtime_table_free(t);
  return ret;
}
