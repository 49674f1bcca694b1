#include "record.h"
#include "cleanup.h"
#include "clock.h"
#include "flows.h"
#include "state.h"
#include "xalloc.h"

#include <stdarg.h>
#include <string.h>

void record_inputs_clear(struct record_inputs *in)
{
  json_free(in->events);
  json_free(in->net);
  json_free(in->probe);
  memset(in, 0, sizeof *in);
}

json *record_call(int64_t dur_us, int64_t overhead_us, int rc)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "us", json_new_int(dur_us));
  json_set(o, "overhead_us", json_new_int(overhead_us));
  json_set(o, "rc", json_new_int(rc));
  return o;
}

static const char *event_name(const json *ev)
{
  return json_string(json_get(ev, "ev"));
}

static int64_t event_int(const json *ev, const char *key, int64_t fallback)
{
  int64_t v;
  return json_int64(json_get(ev, key), &v) ? v : fallback;
}

static json *call_from_event(const json *ev)
{
  json *c = record_call(event_int(ev, "dur_us", -1), event_int(ev, "ovh_us", -1),
                        (int)event_int(ev, "rc", -1));
  const json *sig = json_get(ev, "signal");
  if (sig && strcmp(event_name(ev), "kill") == 0)
    json_set(c, "signal", json_clone(sig));
  return c;
}

/* create's own time is known only once its monitor runs, after the create event is written: a
 * create_done event carries it then (a wrapper that died before it leaves the earlier figure). */
static json *create_call(const json *create, const json *done)
{
  json *c = call_from_event(create);
  int64_t ovh = done ? event_int(done, "ovh_us", -1) : -1;
  if (ovh >= 0)
    json_set(c, "overhead_us", json_new_int(ovh));
  return c;
}

static json *timestamp(int64_t ns)
{
  char buf[48];
  format_rfc3339(ns, buf, sizeof buf);
  return json_new_string(buf);
}

static void add_missed(json *missed, const char *what)
{
  json_append(missed, json_new_text(what));
}

/* Copies a member of the create event into the record, or null. */
static void copy_or_null(json *rec, const char *key, const json *from, const char *from_key)
{
  const json *v = json_get(from, from_key);
  json_set(rec, key, v ? json_clone(v) : json_new(JSON_NULL));
}

static json *exit_from_event(const json *ev, json *missed)
{
  if (ev == NULL) {
    add_missed(missed, "exit status: the monitor recorded no exit");
    return json_new(JSON_NULL);
  }
  const char *unknown = json_string(json_get(ev, "unknown"));
  if (unknown) {
    cleanup_free char *m = xasprintf("exit status: %s", unknown);
    add_missed(missed, m);
    return json_new(JSON_NULL);
  }
  json *o = json_new(JSON_OBJECT);
  int64_t v;
  if (json_int64(json_get(ev, "code"), &v)) {
    json_set(o, "code", json_new_int(v));
    json_set(o, "status", json_new_int(v));
  } else if (json_int64(json_get(ev, "signal"), &v)) {
    json_set(o, "signal", json_new_int(v));
    json_set(o, "status", json_new_int(128 + v)); /* as a shell and `docker wait` report it */
  }
  return o;
}

/* The runtime object of the create event, with the version from a later event if needed. */
static json *runtime_info(const json *create, const json *version_ev, json *missed)
{
  const json *rt = json_get(create, "runtime");
  json *o = json_is(rt, JSON_OBJECT) ? json_clone(rt) : json_new(JSON_OBJECT);
  if (json_get(o, "version"))
    return o;
  const json *v = json_get(version_ev, "version");
  if (json_string(v)) {
    json_set(o, "version", json_clone(v));
    return o;
  }
  json_set(o, "version", json_new(JSON_NULL));
  const char *why = json_string(json_get(version_ev, "error"));
  cleanup_free char *m =
      xasprintf("runtime version: %s", why ? why : "not known yet when the record was written");
  add_missed(missed, m);
  return o;
}

struct lifecycle_events {
  const json *create, *create_done, *start, *exit, *version;
  const json *net_create, *net_start, *net_last; /* discoveries */
  unsigned net_changes;
  json *execs, *kills;
};

static void sort_net_event(const json *ev, struct lifecycle_events *le)
{
  const char *phase = json_string(json_get(ev, "phase"));
  if (!json_is(json_get(ev, "topology"), JSON_OBJECT) || phase == NULL)
    return;
  if (strcmp(phase, "create") == 0 && !le->net_create)
    le->net_create = ev;
  else if (strcmp(phase, "start") == 0 && !le->net_start)
    le->net_start = ev;
  else if (strcmp(phase, "change") == 0)
    le->net_changes++;
  le->net_last = ev;
}

static void sort_events(const json *events, struct lifecycle_events *le)
{
  memset(le, 0, sizeof *le);
  le->create = state_first_event(events, "create");
  le->create_done = state_first_event(events, "create_done");
  le->start = state_first_event(events, "start");
  le->exit = state_first_event(events, "exit");
  le->version = state_first_event(events, "version");
  le->execs = json_new(JSON_ARRAY);
  le->kills = json_new(JSON_ARRAY);
  for (size_t i = 0; i < events->n; i++) {
    const json *ev = events->items[i];
    const char *name = event_name(ev);
    if (name == NULL)
      continue;
    if (strcmp(name, "net") == 0)
      sort_net_event(ev, le);
    else if (strcmp(name, "exec") == 0)
      json_append(le->execs, call_from_event(ev));
    else if (strcmp(name, "kill") == 0)
      json_append(le->kills, call_from_event(ev));
  }
}

/* {"driver":..,"paths":[texts],"us":..} of one discovery event. */
static json *discovery_brief(const json *ev)
{
  if (ev == NULL)
    return json_new(JSON_NULL);
  const json *topo = json_get(ev, "topology");
  json *o = json_new(JSON_OBJECT);
  const json *driver = json_get(topo, "driver");
  json_set(o, "driver", driver ? json_clone(driver) : json_new(JSON_NULL));
  json *paths = json_new(JSON_ARRAY);
  const json *ps = json_get(topo, "paths");
  for (size_t i = 0; json_is(ps, JSON_ARRAY) && i < ps->n; i++) {
    const json *text = json_get(ps->items[i], "text");
    if (json_string(text))
      json_append(paths, json_clone(text));
  }
  json_set(o, "paths", paths);
  int64_t us = event_int(ev, "discovery_us", -1);
  json_set(o, "us", us >= 0 ? json_new_int(us) : json_new(JSON_NULL));
  return o;
}

static void merge_net_missed(const json *net, json *missed)
{
  const json *m = json_get(net, "missed");
  for (size_t i = 0; json_is(m, JSON_ARRAY) && i < m->n && i < STATE_NET_MAX_MISSED; i++) {
    const char *s = json_string(m->items[i]);
    if (s) {
      cleanup_free char *text = xasprintf("network: %s", s);
      add_missed(missed, text);
    }
  }
}

static json *network_section(const struct lifecycle_events *le, const json *net, bool host_mode,
                             json *missed)
{
  json *o = json_new(JSON_OBJECT);
  const json *topo = json_get(le->net_last, "topology");
  const json *driver = json_get(topo, "driver");
  json_set(o, "driver",
           host_mode ? json_new_string("host")
           : driver  ? json_clone(driver)
                     : json_new(JSON_NULL));
  json *brief = discovery_brief(le->net_last);
  const json *paths = json_get(brief, "paths");
  json_set(o, "paths", paths ? json_clone(paths) : json_new(JSON_ARRAY)); /* [] when none */
  json_free(brief);
  json *disc = json_new(JSON_OBJECT);
  json_set(disc, "create", discovery_brief(le->net_create));
  json_set(disc, "start", discovery_brief(le->net_start));
  /* The monitor counts every change; events hold the first few (SAMPLER_MAX_CHANGE_EVENTS). */
  int64_t changes = le->net_changes, not_recorded = 0;
  json_int64(json_get(net, "changes"), &changes);
  json_set(disc, "changes", json_new_int(changes));
  if (json_int64(json_get(net, "changes_not_recorded"), &not_recorded) && not_recorded > 0) {
    json_set(disc, "changes_not_recorded", json_new_int(not_recorded));
    cleanup_free char *m = xasprintf("network: %lld later path change(s) counted, their "
                                     "topologies not kept",
                                     (long long)not_recorded);
    add_missed(missed, m);
  }
  json_set(o, "discovery", disc);
  json_set(o, "topology", topo ? json_clone(topo) : json_new(JSON_NULL));
  if (net == NULL) {
    json_set(o, "counters", json_new(JSON_NULL));
    add_missed(missed, "network counters: the monitor left no summary");
    return o;
  }
  if (json_is(json_get(net, "final"), JSON_FALSE))
    add_missed(missed, "network counters: the monitor stopped before the container ended; "
                       "counters and connections stop at its last checkpoint");
  const json *counters = json_get(net, "counters");
  json_set(o, "counters",
           json_is(counters, JSON_OBJECT) ? json_clone(counters) : json_new(JSON_NULL));
  const json *why = json_get(net, "why");
  if (json_string(why))
    json_set(o, "why", json_clone(why));
  json *sampler = json_is(json_get(net, "sampler"), JSON_OBJECT)
                      ? json_clone(json_get(net, "sampler"))
                      : json_new(JSON_OBJECT);
  const json *interval = json_get(net, "interval_ms");
  if (interval)
    json_set(sampler, "interval_ms", json_clone(interval));
  json_set(o, "sampler", sampler);
  merge_net_missed(net, missed);
  return o;
}

static void flows_missed(json *missed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void flows_missed(json *missed, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *m = xvasprintf(fmt, ap);
  va_end(ap);
  cleanup_free char *line = xasprintf("flows: %s", m);
  add_missed(missed, line);
}

/* The workload's connections as the monitor measured them; what it could not measure (a view
 * that failed, packets the ring dropped, connections beyond the cap) also goes to `missed`. */
static json *flows_section(const json *net, json *missed)
{
  const json *flows = json_get(net, "flows");
  if (!json_is(flows, JSON_OBJECT)) {
    json *o = json_new(JSON_OBJECT);
    json *views = json_new(JSON_OBJECT);
    const char *why = net ? "the monitor measured no connections" : "the monitor left no summary";
    for (int i = 0; i < 2; i++) {
      json *v = json_new(JSON_OBJECT);
      json_set(v, "ran", json_new_bool(false));
      json_set(v, "why", json_new_string(why));
      json_set(v, "failed", json_new_bool(true));
      json_set(views, i ? "packet" : "socket", v);
    }
    json_set(o, "views", views);
    return o;
  }
  static const char *const names[] = {"socket", "packet"};
  for (int i = 0; i < 2; i++) {
    const json *v = json_get_path(flows, (const char *const[]){"views", names[i], NULL});
    if (json_is(json_get(v, "failed"), JSON_TRUE) && json_string(json_get(v, "why")))
      flows_missed(missed, "%s", json_string(json_get(v, "why")));
  }
  int64_t n;
  if (json_int64(json_get_path(flows, (const char *const[]){"views", "packet", "dropped", NULL}),
                 &n) &&
      n > 0)
    flows_missed(missed, "%lld packets dropped by the ring before they were read", (long long)n);
  if (json_int64(json_get_path(flows, (const char *const[]){"connections", "untracked", NULL}),
                 &n) &&
      n > 0)
    flows_missed(missed, "%lld connections beyond the cap of %d followed at once, counted only",
                 (long long)n, FLOWS_MAX);
  if (json_is(json_get_path(flows, (const char *const[]){"views", "socket", "closes_lost", NULL}),
              JSON_TRUE))
    flows_missed(missed, "some closes were lost to an overrun of the notifications");
  return json_clone(flows);
}

static bool container_in_host_netns(const json *create)
{
  const char *mode =
      json_string(json_get_path(create, (const char *const[]){"container", "netns", "mode", NULL}));
  return mode && strcmp(mode, "host") == 0;
}

static void add_identity(json *rec, const char *id, const json *create, const char *outcome)
{
  json_set(rec, "schema", json_new_int(RECORD_SCHEMA));
  json_set(rec, "id", json_new_text(id));
  json_set(rec, "outcome", json_new_string(outcome));
  int64_t created = event_int(create, "real_ns", -1);
  json_set(rec, "created_at", created >= 0 ? timestamp(created) : json_new(JSON_NULL));
}

static void add_create_details(json *rec, const json *create, json *missed)
{
  copy_or_null(rec, "host", create, "host");
  copy_or_null(rec, "container", create, "container");
  const json *labels = json_get(create, "labels");
  json_set(rec, "labels", labels ? json_clone(labels) : json_new(JSON_OBJECT));
  const json *cm = json_get(create, "missed");
  for (size_t i = 0; json_is(cm, JSON_ARRAY) && i < cm->n; i++)
    json_append(missed, json_clone(cm->items[i]));
}

/* The probe's plan and result; what went wrong also goes to `missed`. */
static json *probe_section(const json *probe, const json *events, json *missed)
{
  if (probe == NULL)
    return json_new(JSON_NULL);
  json *o = json_clone(probe);
  const char *why = json_string(json_get(probe, "why"));
  const char *why_not = json_string(json_get(probe, "why_not"));
  if (why || why_not) {
    cleanup_free char *m = xasprintf("probe: %s", why ? why : why_not);
    add_missed(missed, m);
  }
  for (size_t i = 0; i < events->n; i++) {
    const json *ev = events->items[i];
    const char *name = event_name(ev);
    const char *err = json_string(json_get(ev, "error"));
    if (name && strcmp(name, "probe_exec") == 0 && err) {
      json_set(o, "exec_error", json_new_text(err));
      cleanup_free char *m = xasprintf("probe: the runtime's exec failed: %s", err);
      add_missed(missed, m);
    }
  }
  return o;
}

/* The init blocks until the start; an exit with a code (not a signal) means it ran, so a start
 * happened that no wrapper call saw finish (the wrapper was killed during it). */
static void add_unobserved_start(const struct lifecycle_events *le, json *missed)
{
  if (le->create && le->start == NULL && json_get(le->exit, "code"))
    add_missed(missed, "start: not observed (the container ran, but the start call that began "
                       "it did not finish under measured)");
}

json *record_build(const char *id, const struct record_inputs *in, const struct delete_info *del,
                   const json *missed_in)
{
  const json *events = in->events, *net = in->net;
  unsigned bad_event_lines = in->bad_event_lines;
  struct lifecycle_events le;
  sort_events(events, &le);
  json *missed = missed_in ? json_clone(missed_in) : json_new(JSON_ARRAY);
  json *rec = json_new(JSON_OBJECT);
  add_identity(rec, id, le.create, "completed");
  json_set(rec, "deleted_at", timestamp(del->real_ns));
  if (le.create == NULL)
    add_missed(missed, "create was not observed");
  json_set(rec, "runtime", runtime_info(le.create, le.version, missed));
  add_create_details(rec, le.create, missed);

  json *calls = json_new(JSON_OBJECT);
  json_set(calls, "create",
           le.create ? create_call(le.create, le.create_done) : json_new(JSON_NULL));
  json_set(calls, "start", le.start ? call_from_event(le.start) : json_new(JSON_NULL));
  json_set(calls, "exec", le.execs);
  json_set(calls, "kill", le.kills);
  json_set(calls, "delete",
           del->unobserved ? json_new(JSON_NULL)
                           : record_call(del->dur_us, del->overhead_us, del->rc));
  json_set(rec, "calls", calls);

  int64_t started = event_int(le.start, "mono_us", -1);
  int64_t ended = del->unobserved ? event_int(le.exit, "mono_us", -1) : del->begin_mono_us;
  json_set(rec, "lifetime_us",
           started >= 0 && ended >= started && event_int(le.start, "rc", -1) == 0
               ? json_new_int(ended - started)
               : json_new(JSON_NULL));
  json_set(rec, "exit",
           le.start || le.exit ? exit_from_event(le.exit, missed) : json_new(JSON_NULL));
  add_unobserved_start(&le, missed);

  json_set(rec, "network", network_section(&le, net, container_in_host_netns(le.create), missed));
  json_set(rec, "flows", flows_section(net, missed));
  json_set(rec, "probe", probe_section(in->probe, events, missed));
  const json *start_missed = json_get(le.start, "missed");
  for (size_t i = 0; json_is(start_missed, JSON_ARRAY) && i < start_missed->n; i++)
    if (json_string(start_missed->items[i]))
      add_missed(missed, json_string(start_missed->items[i]));

  json *ctx = json_new(JSON_OBJECT);
  const json *start_ctx = json_get(le.start, "context");
  json_set(ctx, "start", start_ctx ? json_clone(start_ctx) : json_new(JSON_NULL));
  json_set(ctx, "delete", del->context ? json_clone(del->context) : json_new(JSON_NULL));
  json_set(rec, "context", ctx);

  if (bad_event_lines) {
    cleanup_free char *m = xasprintf("%u unreadable state event line(s)", bad_event_lines);
    add_missed(missed, m);
  }
  json_set(rec, "missed", missed);
  return rec;
}

json *record_build_create_failed(const char *id, const json *create)
{
  json *missed = json_new(JSON_ARRAY);
  json *rec = json_new(JSON_OBJECT);
  add_identity(rec, id, create, "create_failed");
  json_set(rec, "deleted_at", json_new(JSON_NULL));
  json_set(rec, "runtime", runtime_info(create, NULL, missed));
  add_create_details(rec, create, missed);
  json *calls = json_new(JSON_OBJECT);
  json_set(calls, "create", call_from_event(create));
  json_set(rec, "calls", calls);
  json_set(rec, "lifetime_us", json_new(JSON_NULL));
  json_set(rec, "exit", json_new(JSON_NULL));
  json_set(rec, "missed", missed);
  return rec;
}
