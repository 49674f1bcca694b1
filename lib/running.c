#include "running.h"
#include "cleanup.h"
#include "json.h"
#include "state.h"

#include <stdio.h>
#include <string.h>

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
static void counters(const json *net, struct running_container *r)
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

static void read_row(int scopefd, const char *id, struct running_container *r)
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

size_t running_read(const char *state_dir, struct running_container *rows, size_t max, size_t *seen)
{
  cleanup_close int topfd = state_root_open(state_dir, NULL);
  struct state_item *tops = NULL;
  size_t ntops = 0, n = 0, all = 0;
  if (seen)
    *seen = 0;
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
    for (size_t i = 0; i < nitems; i++)
      if (items[i].kind == STATE_LIVE) {
        if (n < max)
          read_row(scope.fd, items[i].name, &rows[n++]);
        all++;
      }
    state_items_free(items, nitems);
  }
  state_items_free(tops, ntops);
  if (seen)
    *seen = all;
  return n;
}
