#include "sampler.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "netjson.h"
#include "netns.h"
#include "state.h"
#include "xalloc.h"

#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* A link that keeps failing must not grow the record without bound. */
static void missed_line(struct sampler *s, const char *text)
{
  if (s->missed->n < STATE_NET_MAX_MISSED)
    json_append(s->missed, json_new_text(text));
}

void sampler_missed(struct sampler *s, const char *what, const merr *err)
{
  cleanup_free char *m = xasprintf("%s: %s", what, merr_msg(err));
  missed_line(s, m);
}

static void write_discovery_event(struct sampler *s, const char *phase)
{
  cleanup_json json *ev = state_event("net");
  json_set(ev, "phase", json_new_string(phase));
  json_set(ev, "discovery_us", json_new_int(s->w.discovery_us));
  json_set(ev, "topology", net_topology_json(&s->w.view, &s->w.topo));
  state_append_event(s->dirfd, ev, NULL);
}

static bool discover(struct sampler *s, const char *phase)
{
  cleanup_merr merr *err = NULL;
  if (net_discover(&s->w, &err) < 0) {
    cleanup_free char *what = xasprintf("discovery at %s", phase);
    sampler_missed(s, what, err);
    return false;
  }
  net_series_track(&s->series, &s->w.view, &s->w.topo);
  bool change = strcmp(phase, "change") == 0;
  if (change)
    s->changes++;
  /* A container that adds and removes links in a loop must not grow its state without bound:
   * the first changes are recorded whole, the others counted. */
  if (!change || s->changes <= SAMPLER_MAX_CHANGE_EVENTS)
    write_discovery_event(s, phase);
  return true;
}

/* The container's own links (the hops on its side of each path), where its packets are read. */
/* The links the packet view reads: on each path, the container's link nearest the host (the
 * veth; for Kata, the veth that the tc redirects join to the VM's tap, not the tap too, which
 * would show every packet twice). */
static size_t container_links(const struct sampler *s, int *ifindex, const char **names)
{
  size_t n = 0;
  for (size_t i = 0; i < s->w.topo.npaths && n < PKTCAP_MAX_LINKS; i++) {
    const struct net_path *p = &s->w.topo.paths[i];
    const struct net_hop *edge = NULL;
    for (size_t h = 0; h < p->nhops; h++)
      if (p->hops[h].ns == 0 && strcmp(p->hops[h].role, "container") == 0)
        edge = &p->hops[h];
    bool seen = false;
    for (size_t k = 0; edge && k < n; k++)
      seen = seen || ifindex[k] == edge->ifindex;
    if (edge && !seen) {
      ifindex[n] = edge->ifindex;
      names[n++] = edge->name;
    }
  }
  return n;
}

/* The packet view reads the container's links of the last discovery. */
static void follow_links(struct sampler *s)
{
  int links[PKTCAP_MAX_LINKS];
  const char *names[PKTCAP_MAX_LINKS];
  size_t n = container_links(s, links, names);
  flowview_set_links(&s->flows, links, names, n);
}

/* A changed path is discovered again at most every SAMPLER_CHANGE_MIN_MS (a container can
 * change its links far faster than that; the last state is what counts). */
static void follow_changes(struct sampler *s)
{
  if (net_links_changed(&s->w))
    s->change_pending = true;
  if (!s->change_pending || mono_us() < s->next_change_us)
    return;
  s->change_pending = false;
  s->next_change_us = mono_us() + SAMPLER_CHANGE_MIN_MS * 1000LL;
  if (discover(s, "change"))
    follow_links(s);
}

/* The summary so far (a checkpoint), or the last one (final: written at the container's end; a
 * summary that is not final was left by a monitor that ended first). */
static void write_summary(struct sampler *s, bool final)
{
  cleanup_json json *o = json_new(JSON_OBJECT);
  json_set(o, "final", json_new_bool(final));
  if (!s->enabled) {
    json_set(o, "counters", json_new(JSON_NULL));
    json_set(o, "why", json_clone(s->why_disabled));
  } else {
    json_set(o, "interval_ms", json_new_int(s->interval_us / 1000));
    json_set(o, "changes", json_new_uint(s->changes));
    if (s->changes > SAMPLER_MAX_CHANGE_EVENTS)
      json_set(o, "changes_not_recorded", json_new_uint(s->changes - SAMPLER_MAX_CHANGE_EVENTS));
    json_set(o, "counters", net_series_json(&s->series, &s->w.topo));
  }
  json *self = json_new(JSON_OBJECT);
  if (s->enabled) /* the interval stretched while nothing moved (pace()) */
    json_set(self, "longest_interval_ms", json_new_int(s->longest_interval_us / 1000));
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    int64_t cpu = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                  ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    json_set(self, "cpu_us", json_new_int(cpu));
    json_set(self, "max_rss_kb", json_new_int(ru.ru_maxrss));
  }
  json_set(o, "sampler", self);
  json_set(o, "flows", flowview_json(&s->flows));
  json_set(o, "missed", json_clone(s->missed));
  state_write_net_summary(s->dirfd, o, NULL);
}

/* A sum of counters that only grow, so that it changes whenever one of them does: what the
 * container did (bytes on its links, changes of its path, its connections' packets and closes)
 * and the lines of "missed". */
static uint64_t movement(const struct sampler *s)
{
  const struct flowview *f = &s->flows;
  return net_series_bytes(&s->series) + s->changes + s->missed->n + f->packets + f->dropped +
         f->malformed + f->destroyed_seen;
}

/* Movement, and what the summary shows besides: dumps of the connections that found some open
 * (their figures may have moved). */
static uint64_t activity(const struct sampler *s)
{
  return movement(s) + s->flows.dumps;
}

/* The summary so far, when something changed since the last one: an idle container's is written
 * once, not every SAMPLER_CHECKPOINT_MS. Each write replaces a file; where /run is not a tmpfs
 * (this project's VM) that is a rename and its writeback, a quarter of an idle monitor's CPU. */
static void checkpoint(struct sampler *s)
{
  uint64_t a = activity(s);
  if (s->checkpointed && a == s->checkpoint_activity)
    return;
  write_summary(s, false);
  s->checkpoint_activity = a;
  s->checkpointed = true;
}

/* Takes a sample (following a changed path); false when none could be taken. */
static bool sample(struct sampler *s)
{
  if (!s->exited)
    follow_changes(s); /* a network connected or disconnected: its links are followed too */
  struct net_view now;
  cleanup_merr merr *err = NULL;
  if (net_sample(&s->w, &s->series, &now, &err) < 0) {
    sampler_missed(s, "sample", err); /* the namespace may be gone; what was collected stays */
    net_view_clear(&now);
    return false;
  }
  net_series_add(&s->series, &now);
  net_view_clear(&now);
  if (mono_us() >= s->next_checkpoint_us) {
    s->next_checkpoint_us = mono_us() + SAMPLER_CHECKPOINT_MS * 1000LL;
    checkpoint(s);
  }
  return true;
}

static void open_flows(struct sampler *s, const struct sampler_flows *want)
{
  int links[PKTCAP_MAX_LINKS];
  const char *names[PKTCAP_MAX_LINKS];
  size_t n = container_links(s, links, names);
  /* Behind Kata's tc redirects the workload's sockets live in the VM's kernel: there are none of
   * its own here to read, only its packets. */
  bool vm = strcmp(s->w.topo.driver, "kata-tcfilter") == 0;
  struct flowview_options o = {
      .on = want->on,
      .why_off = want->why_off,
      .socket_view = !vm,
      .socket_why = "socket view: the workload's sockets live in the sandbox's own kernel (a VM "
                    "behind a tap); the packet view measures its connections",
      .links = links,
      .link_names = names,
      .nlinks = n,
      .probe_peer = want->probe_peer};
  flowview_open(&s->flows, s->w.nsfd[0], s->w.homefd, &o);
}

static bool stretched(const struct sampler *s)
{
  return s->sampling && s->current_interval_us > s->interval_us;
}

size_t sampler_pollfds(const struct sampler *s, struct pollfd *p)
{
  size_t n = flowview_pollfds(&s->flows, p);
  if (stretched(s) && net_watch_events_fd(&s->w) >= 0)
    p[n++] = (struct pollfd){.fd = net_watch_events_fd(&s->w), .events = POLLIN};
  return n;
}

/* The interval for the next sample: the container's own while anything moves, doubling (up
 * to SAMPLER_IDLE_INTERVAL_MS) once nothing has for SAMPLER_IDLE_AFTER_MS. */
static void pace(struct sampler *s)
{
  uint64_t a = movement(s);
  int64_t now = mono_us();
  if (a != s->paced_activity) {
    s->paced_activity = a;
    s->still_since_us = now;
    s->current_interval_us = s->interval_us;
    return;
  }
  int64_t longest = SAMPLER_IDLE_INTERVAL_MS * 1000LL;
  if (now - s->still_since_us < SAMPLER_IDLE_AFTER_MS * 1000LL || s->current_interval_us >= longest)
    return;
  s->current_interval_us =
      s->current_interval_us * 2 < longest ? s->current_interval_us * 2 : longest;
  if (s->current_interval_us > s->longest_interval_us)
    s->longest_interval_us = s->current_interval_us;
}

void sampler_read(struct sampler *s)
{
  flowview_read(&s->flows);
  if (!stretched(s))
    return;
  /* A connection's packet or close, or a change of the links, while the interval is stretched:
   * sample now (from here the interval is the container's own again). */
  if (net_links_changed(&s->w))
    s->change_pending = true;
  if (s->change_pending || movement(s) != s->paced_activity) {
    s->current_interval_us = s->interval_us;
    s->still_since_us = s->next_us = mono_us();
  }
}

/* No namespace of its own to read: no counters, no connections. */
static void disable(struct sampler *s, const char *why)
{
  s->why_disabled = json_new_text(why);
  struct flowview_options off = {.why_off = why};
  flowview_open(&s->flows, -1, -1, &off);
}

void sampler_init(struct sampler *s, int dirfd, int ctrfd, int hostfd, const char *why,
                  int64_t interval_us, const struct sampler_flows *flows)
{
  memset(s, 0, sizeof *s);
  s->dirfd = dirfd;
  s->interval_us = s->current_interval_us = s->longest_interval_us = interval_us;
  s->missed = json_new(JSON_ARRAY);
  if (ctrfd < 0) {
    disable(s, why ? why : "no network namespace to watch");
    return;
  }
  if (netns_same(ctrfd, hostfd)) {
    close(ctrfd);
    disable(s, "the container shares the host's network namespace: there are no per-container "
               "links to count, and its sockets are the host's");
    return;
  }
  cleanup_merr merr *err = NULL;
  if (net_watch_open(&s->w, ctrfd, netns_home(ctrfd, hostfd), &err) < 0) {
    disable(s, merr_msg(err));
    return;
  }
  s->enabled = true;
  bool found = discover(s, "create");
  open_flows(s, flows);
  /* The baseline's checkpoint waits for sampler_checkpoint(): it replaces a file durably (an
   * fsync), which the container's start need not wait for. */
  s->next_checkpoint_us = INT64_MAX;
  if (found)
    s->baseline = sample(s);
  s->next_checkpoint_us = 0;
}

void sampler_checkpoint(struct sampler *s)
{
  if (!s->baseline)
    return; /* as before: a summary comes with samples */
  s->next_checkpoint_us = mono_us() + SAMPLER_CHECKPOINT_MS * 1000LL;
  checkpoint(s);
}

void sampler_start(struct sampler *s)
{
  if (!s->enabled || s->sampling)
    return;
  /* Engines from Docker 28 on may wire the network between create and start: links found now
   * count from now. */
  if (discover(s, "start"))
    follow_links(s);
  s->sampling = true;
  s->baseline = sample(s) || s->baseline;
  s->paced_activity = movement(s);
  s->still_since_us = mono_us();
  s->next_us = mono_us() + s->interval_us;
}

int sampler_timeout_ms(const struct sampler *s)
{
  int flows = flowview_timeout_ms(&s->flows);
  if (!s->sampling)
    return flows;
  int64_t left = s->next_us - mono_us();
  int ms = left <= 0 ? 0 : (int)((left + 999) / 1000);
  return flows >= 0 && flows < ms ? flows : ms;
}

void sampler_tick(struct sampler *s)
{
  if (!s->sampling || mono_us() < s->next_us)
    return;
  /* The sockets are read at the sampling interval (within their duty budget); not in the
   * samples of the exit and the drain, which must be quick. */
  if (sample(s))
    flowview_dump(&s->flows, false);
  pace(s);
  /* Keep the cadence; after a long stall (a stopped process) start again from now. */
  s->next_us += s->current_interval_us;
  if (s->next_us < mono_us())
    s->next_us = mono_us() + s->current_interval_us;
}

/* Links that went away mid-life keep the counters of their last sample; say so in words. */
static void note_gone_links(struct sampler *s)
{
  for (size_t i = 0; i < s->series.nlinks; i++) {
    const struct net_tracked_link *l = &s->series.links[i];
    if (!l->gone || (s->exited && l->gone_at_sample > s->exit_sample))
      continue; /* taken down after the container ended: its whole life was counted */
    cleanup_free char *m =
        xasprintf("%s %s (%s) disappeared at sample %u of %u: its counters stop "
                  "at the sample before",
                  l->ns_label, l->name, l->role, l->gone_at_sample, s->series.samples);
    missed_line(s, m);
  }
}

/* Until the counters of every tracked link stand still (the kernel has sent what the
 * container's sockets held when it exited), or SAMPLER_DRAIN_MS have passed. */
static void drain(struct sampler *s)
{
  int64_t deadline = mono_us() + SAMPLER_DRAIN_MS * 1000LL;
  uint64_t before = net_series_bytes(&s->series);
  for (unsigned quiet = 0; quiet < SAMPLER_DRAIN_QUIET && mono_us() < deadline;) {
    nanosleep(&(struct timespec){0, SAMPLER_DRAIN_STEP_MS * 1000000L}, NULL);
    if (!sample(s))
      return; /* the namespace is gone: what was collected stays */
    uint64_t now = net_series_bytes(&s->series);
    quiet = now == before ? quiet + 1 : 0;
    before = now;
  }
}

void sampler_exited(struct sampler *s)
{
  if (s->baseline)
    sample(s);
  s->exited = true;
  s->exit_sample = s->series.samples;
}

void sampler_finish(struct sampler *s)
{
  /* Counted from create, the counters are whole even when the container ended before its
   * start's wake-up was read (it lived a few milliseconds). */
  if (s->enabled && !s->baseline)
    missed_line(s, "counters: no baseline could be taken at create or start");
  if (s->baseline && sample(s))
    drain(s);
  flowview_finish(&s->flows);
  note_gone_links(s);
  write_summary(s, true);
}

void sampler_close(struct sampler *s)
{
  flowview_close(&s->flows);
  if (s->enabled)
    net_watch_close(&s->w);
  json_free(s->why_disabled);
  json_free(s->missed);
  s->why_disabled = s->missed = NULL;
}
