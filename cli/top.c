/* measured top: the running measured containers, live: their path, what their links send and
 * receive per second, and their connections, refreshed as `top` is. Read from the state each
 * container's monitor keeps (its summary, rewritten every couple of seconds). */
#include "cleanup.h"
#include "commands.h"
#include "state.h"
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

struct row {
  char id[13];
  char runtime[24];
  char driver[24];
  char path[96];
  int64_t at_us; /* the summary's last sample */
  uint64_t tx, rx;
  int64_t open, total;
  double rtt_p50;
  bool has_counters, has_flows;
};

static void usage(FILE *out)
{
  fprintf(out, "usage: measured top [--once] [--interval SECONDS]\n\n"
               "The running measured containers, refreshed every --interval (default 2 s): their\n"
               "runtime, network driver and path, what their link sends and receives per second,\n"
               "and their connections (open now / seen in all, the round-trip time's median).\n"
               "--once prints one table, without rates, and ends.\n");
}

static const char *str_at(const json *j, const char *const *path, const char *fallback)
{
  const char *s = json_string(json_get_path(j, path));
  return s ? s : fallback;
}

static int64_t int_at(const json *j, const char *const *path)
{
  int64_t v = -1;
  json_int64(json_get_path(j, path), &v);
  return v;
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The container side's counters (the first link of role "container"). */
static void counters(const json *net, struct row *r)
{
  const json *links = json_get_path(net, P("counters", "links"));
  for (size_t i = 0; json_is(links, JSON_ARRAY) && i < links->n; i++) {
    const char *role = json_string(json_get(links->items[i], "role"));
    if (role && strcmp(role, "container") == 0) {
      int64_t tx = int_at(links->items[i], P("end", "tx_bytes"));
      int64_t rx = int_at(links->items[i], P("end", "rx_bytes"));
      r->tx = tx > 0 ? (uint64_t)tx : 0;
      r->rx = rx > 0 ? (uint64_t)rx : 0;
      r->has_counters = true;
      return;
    }
  }
}

static void read_row(int scopefd, const char *id, struct row *r)
{
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  cleanup_close int dirfd = state_open(scopefd, id, NULL);
  cleanup_json json *events = NULL, *net = NULL;
  unsigned bad;
  if (dirfd < 0)
    return;
  if (state_read_events(dirfd, &events, &bad, NULL) == 0) {
    const json *create = state_first_event(events, "create");
    snprintf(r->runtime, sizeof r->runtime, "%s", str_at(create, P("runtime", "name"), "?"));
    const json *last_net = NULL;
    for (size_t i = 0; i < events->n; i++)
      if (strcmp(str_at(events->items[i], P("ev"), ""), "net") == 0)
        last_net = events->items[i];
    snprintf(r->driver, sizeof r->driver, "%s", str_at(last_net, P("topology", "driver"), "-"));
    const json *paths = json_get_path(last_net, P("topology", "paths"));
    snprintf(r->path, sizeof r->path, "%s",
             json_is(paths, JSON_ARRAY) && paths->n ? str_at(paths->items[0], P("text"), "") : "");
  }
  if (state_read_net_summary(dirfd, &net, NULL) < 0)
    return;
  counters(net, r);
  r->at_us = int_at(net, P("counters", "span_us"));
  const json *c = json_get_path(net, P("flows", "connections"));
  if (json_is(c, JSON_OBJECT)) {
    r->has_flows = true;
    r->open = int_at(c, P("open_now"));
    r->total = int_at(c, P("total")) + (r->open > 0 ? r->open : 0);
    json_double(json_get_path(net, P("flows", "rtt_us", "p50")), &r->rtt_p50);
  }
}

/* Every running lifecycle of every scope (those being recorded are left out). */
static size_t read_rows(const char *state_dir, struct row *rows, size_t max)
{
  cleanup_close int topfd = state_root_open(state_dir, NULL);
  struct state_item *tops = NULL;
  size_t ntops = 0, n = 0;
  if (topfd < 0 || state_list(topfd, &tops, &ntops, NULL) < 0)
    return 0;
  for (size_t t = 0; t < ntops; t++) {
    cleanup_scope struct state_scope scope = {.topfd = -1, .fd = -1};
    struct state_item *items = NULL;
    size_t nitems = 0;
    if (tops[t].kind != STATE_SCOPE ||
        state_scope_open_name(topfd, state_dir, tops[t].name, &scope, NULL) < 0 ||
        state_list(scope.fd, &items, &nitems, NULL) < 0)
      continue;
    for (size_t i = 0; i < nitems && n < max; i++)
      if (items[i].kind == STATE_LIVE)
        read_row(scope.fd, items[i].name, &rows[n++]);
    state_items_free(items, nitems);
  }
  state_items_free(tops, ntops);
  return n;
}

static const struct row *previous(const struct row *prev, size_t nprev, const char *id)
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

static void print(FILE *out, const struct row *rows, size_t n, const struct row *prev, size_t nprev)
{
  fprintf(out, "%-12s %-10s %-10s %8s %8s %11s %9s  %s\n", "CONTAINER", "RUNTIME", "DRIVER",
          "TX B/s", "RX B/s", "CONNS", "RTT p50", "PATH");
  for (size_t i = 0; i < n; i++) {
    const struct row *r = &rows[i], *p = previous(prev, nprev, r->id);
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
  cleanup_free struct row *rows = xzalloc(MAX_ROWS * sizeof *rows);
  cleanup_free struct row *prev = xzalloc(MAX_ROWS * sizeof *prev);
  size_t nprev = 0;
  bool tty = isatty(STDOUT_FILENO);
  for (;;) {
    size_t n = read_rows(t->state_dir, rows, MAX_ROWS);
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
