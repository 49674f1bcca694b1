/* measured top: the running measured containers, live: their path, what their links send and
 * receive per second, and their connections, refreshed as `top` is. Read from the state each
 * container's monitor keeps (its summary, rewritten every couple of seconds). */
#include "cleanup.h"
#include "commands.h"
#include "running.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_ROWS = 512 };

static void usage(FILE *out)
{
  fprintf(out, "usage: measured top [--once] [--interval SECONDS]\n\n"
               "The running measured containers, refreshed every --interval (default 2 s): their\n"
               "runtime, network driver and path, what their link sends and receives per second,\n"
               "and their connections (open now / seen in all, the round-trip time's median).\n"
               "--once prints one table, without rates, and ends.\n");
}

static const struct running_container *previous(const struct running_container *prev, size_t nprev,
                                                const char *id)
{
  for (size_t i = 0; i < nprev; i++)
    if (strcmp(prev[i].id, id) == 0)
      return &prev[i];
  return NULL;
}

static void rate(char *buf, size_t size, uint64_t now, uint64_t before, double seconds, bool known)
{
  if (!known || seconds <= 0 || now < before) {
    snprintf(buf, size, "-");
    return;
  }
  double bps = (double)(now - before) / seconds;
  snprintf(buf, size,
           bps >= 1e6   ? "%.1fM"
           : bps >= 1e3 ? "%.1fk"
                        : "%.0f",
           bps >= 1e6   ? bps / 1e6
           : bps >= 1e3 ? bps / 1e3
                        : bps);
}

static void print(FILE *out, const struct running_container *rows, size_t n,
                  const struct running_container *prev, size_t nprev)
{
  fprintf(out, "%-12s %-10s %-10s %8s %8s %11s %9s  %s\n", "CONTAINER", "RUNTIME", "DRIVER",
          "TX B/s", "RX B/s", "CONNS", "RTT p50", "PATH");
  for (size_t i = 0; i < n; i++) {
    const struct running_container *r = &rows[i], *p = previous(prev, nprev, r->id);
    double dt = p ? (double)(r->at_us - p->at_us) / 1e6 : 0;
    char tx[16], rx[16], conns[24], rtt[16];
    rate(tx, sizeof tx, r->tx, p ? p->tx : 0, dt, r->has_counters && p);
    rate(rx, sizeof rx, r->rx, p ? p->rx : 0, dt, r->has_counters && p);
    if (r->has_flows)
      snprintf(conns, sizeof conns, "%lld/%lld", (long long)r->open, (long long)r->total);
    else
      snprintf(conns, sizeof conns, "-");
    if (r->rtt_p50 > 0)
      snprintf(rtt, sizeof rtt, "%.0fus", r->rtt_p50);
    else
      snprintf(rtt, sizeof rtt, "-");
    fprintf(out, "%-12s %-10s %-10s %8s %8s %11s %9s  %s\n", r->id, r->runtime, r->driver, tx, rx,
            conns, rtt, r->path);
  }
  if (n == 0)
    fprintf(out, "(no measured container is running)\n");
}

int cmd_top(int argc, char **argv)
{
  static const struct option opts[] = {{"once", no_argument, NULL, 'o'},
                                       {"interval", required_argument, NULL, 'i'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool once = false;
  long interval = 2;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "+h", opts, NULL)) != -1;) {
    char *end = NULL;
    if (c == 'o')
      once = true;
    else if (c == 'i' && (interval = strtol(optarg, &end, 10), *end == '\0') && interval >= 1 &&
             interval <= 3600)
      continue;
    else {
      usage(c == 'h' ? stdout : stderr);
      return c == 'h' ? 0 : 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return 2;
  }
  struct runtime_table *t = NULL;
  cleanup_merr merr *err = NULL;
  if (runtime_table_load(runtime_table_path(), &t, &err) < 0) {
    fprintf(stderr, "measured top: %s\n", merr_msg(err));
    return 1;
  }
  cleanup_free struct running_container *rows = xzalloc(MAX_ROWS * sizeof *rows);
  cleanup_free struct running_container *prev = xzalloc(MAX_ROWS * sizeof *prev);
  size_t nprev = 0;
  bool tty = isatty(STDOUT_FILENO);
  for (;;) {
    size_t n = running_read(t->state_dir, rows, MAX_ROWS, NULL);
    if (tty && !once)
      fputs("\033[H\033[2J", stdout); /* home, clear */
    print(stdout, rows, n, prev, nprev);
    fflush(stdout);
    if (once)
      break;
    memcpy(prev, rows, n * sizeof *rows);
    nprev = n;
    nanosleep(&(struct timespec){interval, 0}, NULL);
  }
  runtime_table_free(t);
  return 0;
}
