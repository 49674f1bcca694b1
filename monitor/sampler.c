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
  write_discovery_event(s, phase);
  return true;
}

void sampler_init(struct sampler *s, int dirfd, int ctrfd, int hostfd, const char *why,
                  int64_t interval_us)
{
  memset(s, 0, sizeof *s);
  s->dirfd = dirfd;
  s->interval_us = interval_us;
  s->missed = json_new(JSON_ARRAY);
  if (ctrfd < 0) {
    s->why_disabled = json_new_text(why ? why : "no network namespace to watch");
    return;
  }
  if (netns_same(ctrfd, hostfd)) {
    close(ctrfd);
    s->why_disabled = json_new_string("the container shares the host's network namespace: "
                                      "there are no per-container links to count");
    return;
  }
  cleanup_merr merr *err = NULL;
  if (net_watch_open(&s->w, ctrfd, hostfd, &err) < 0) {
    s->why_disabled = json_new_text(merr_msg(err));
    return;
  }
  s->enabled = true;
  if (discover(s, "create"))
    s->have_at_create = net_sample(&s->w, &s->series, &s->at_create, NULL) == 0;
}

static void write_summary(struct sampler *s)
{
  cleanup_json json *o = json_new(JSON_OBJECT);
  if (!s->enabled) {
    json_set(o, "counters", json_new(JSON_NULL));
    json_set(o, "why", json_clone(s->why_disabled));
  } else {
    json_set(o, "interval_ms", json_new_int(s->interval_us / 1000));
    json_set(o, "counters", net_series_json(&s->series, &s->w.topo));
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    json *cost = json_new(JSON_OBJECT);
    int64_t cpu = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                  ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    json_set(cost, "cpu_us", json_new_int(cpu));
    json_set(cost, "max_rss_kb", json_new_int(ru.ru_maxrss));
    json_set(o, "sampler", cost);
  }
  json_set(o, "missed", json_clone(s->missed));
  state_write_net_summary(s->dirfd, o, NULL);
}

static void sample(struct sampler *s)
{
  struct net_view now;
  cleanup_merr merr *err = NULL;
  if (net_sample(&s->w, &s->series, &now, &err) < 0) {
    sampler_missed(s, "sample", err); /* the namespace may be gone; what was collected stays */
    net_view_clear(&now);
    return;
  }
  if (net_links_changed(&s->w, &now.ns[0].snap)) {
    /* A network was connected or disconnected: follow the new path too. */
    if (discover(s, "change")) {
      net_view_clear(&now);
      if (net_sample(&s->w, &s->series, &now, NULL) < 0) {
        net_view_clear(&now);
        return;
      }
    }
  }
  net_series_add(&s->series, &now);
  net_view_clear(&now);
  if (++s->since_checkpoint >= SAMPLER_CHECKPOINT) {
    s->since_checkpoint = 0;
    write_summary(s);
  }
}

void sampler_start(struct sampler *s)
{
  if (!s->enabled || s->sampling)
    return;
  /* Engines from Docker 26 on may wire the network between create and start. */
  discover(s, "start");
  s->sampling = true;
  sample(s);
  s->next_us = mono_us() + s->interval_us;
}

int sampler_timeout_ms(const struct sampler *s)
{
  if (!s->sampling)
    return -1;
  int64_t left = s->next_us - mono_us();
  return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

void sampler_tick(struct sampler *s)
{
  if (!s->sampling || mono_us() < s->next_us)
    return;
  sample(s);
  /* Keep the cadence; after a long stall (a stopped process) start again from now. */
  s->next_us += s->interval_us;
  if (s->next_us < mono_us())
    s->next_us = mono_us() + s->interval_us;
}

/* Links that went away mid-life keep the counters of their last sample; say so in words. */
static void note_gone_links(struct sampler *s)
{
  for (size_t i = 0; i < s->series.nlinks; i++) {
    const struct net_tracked_link *l = &s->series.links[i];
    if (!l->gone)
      continue;
    cleanup_free char *m =
        xasprintf("%s %s (%s) disappeared at sample %u of %u: its counters stop "
                  "at the sample before",
                  l->ns_label, l->name, l->role, l->gone_at_sample, s->series.samples);
    missed_line(s, m);
  }
}

void sampler_finish(struct sampler *s)
{
  if (!s->sampling && s->have_at_create) {
    /* The container ended before its start's wake was read (it lived a few milliseconds):
     * count from create instead, where nothing of its own had been sent yet. */
    net_series_add(&s->series, &s->at_create);
    s->sampling = true;
    missed_line(s, "counters start at create: the container ended before its start was "
                   "signalled");
  }
  if (s->sampling)
    sample(s);
  else if (s->enabled)
    missed_line(s, "counters: the container never started");
  note_gone_links(s);
  write_summary(s);
}

void sampler_close(struct sampler *s)
{
  if (s->have_at_create)
    net_view_clear(&s->at_create);
  if (s->enabled)
    net_watch_close(&s->w);
  json_free(s->why_disabled);
  json_free(s->missed);
  s->why_disabled = s->missed = NULL;
}
