#include "series.h"

#include <stdio.h>
#include <string.h>

static struct net_tracked_link *find_link(struct net_series *s, int ns, int ifindex)
{
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].ns == ns && s->links[i].ifindex == ifindex)
      return &s->links[i];
  return NULL;
}

static void track_hop(struct net_series *s, const struct net_view *v, const struct net_hop *h)
{
  if (find_link(s, h->ns, h->ifindex) || s->nlinks == NET_MAX_TRACKED)
    return;
  struct net_tracked_link *l = &s->links[s->nlinks++];
  memset(l, 0, sizeof *l);
  l->ns = h->ns;
  l->ifindex = h->ifindex;
  snprintf(l->ns_label, sizeof l->ns_label, "%s", v->ns[h->ns].label);
  snprintf(l->name, sizeof l->name, "%s", h->name);
  snprintf(l->role, sizeof l->role, "%s", h->role);
}

static struct net_tracked_action *find_action(struct net_series *s, int ifindex, uint32_t parent,
                                              uint32_t index)
{
  for (size_t i = 0; i < s->nactions; i++)
    if (s->actions[i].ifindex == ifindex && s->actions[i].parent == parent &&
        s->actions[i].index == index)
      return &s->actions[i];
  return NULL;
}

void net_series_track(struct net_series *s, const struct net_view *v, const struct net_topology *t)
{
  for (size_t p = 0; p < t->npaths; p++)
    for (size_t h = 0; h < t->paths[p].nhops; h++)
      track_hop(s, v, &t->paths[p].hops[h]);
  for (size_t i = 0; i < t->nmirred && s->nactions < NET_MAX_MIRRED; i++) {
    const struct net_mirred *m = &t->mirred[i];
    if (find_action(s, m->ifindex, m->parent, m->index))
      continue;
    struct net_tracked_action *a = &s->actions[s->nactions++];
    memset(a, 0, sizeof *a);
    a->ifindex = m->ifindex;
    a->parent = m->parent;
    a->index = m->index;
    a->eaction = m->eaction;
    snprintf(a->dev, sizeof a->dev, "%s", m->dev);
    snprintf(a->target, sizeof a->target, "%s", m->target);
  }
}

/* Rate of a counter between two samples; 0 when it went backwards (a reset) or no time passed. */
static double rate(uint64_t now, uint64_t before, int64_t dt_us)
{
  if (dt_us <= 0 || now < before)
    return 0;
  return (double)(now - before) * 1e6 / (double)dt_us;
}

static void keep_peak(double *peak, double r)
{
  if (r > *peak)
    *peak = r;
}

static void update_link(struct net_series *s, struct net_tracked_link *l,
                        const struct net_link *now, int64_t at_us)
{
  if (now == NULL) {
    if (l->seen && !l->gone) {
      l->gone = true;
      l->gone_at_sample = s->samples + 1;
    }
    return;
  }
  if (strcmp(now->name, l->name) != 0)
    snprintf(l->renamed_to, sizeof l->renamed_to, "%s", now->name);
  if (!l->seen || l->gone) {
    /* First sight (or back after a gap): a baseline, not a rate. */
    if (!l->seen)
      l->first = now->c;
    l->seen = true;
    l->gone = false;
  } else {
    int64_t dt = at_us - l->last_us;
    keep_peak(&l->peak.rx_bytes, rate(now->c.rx_bytes, l->last.rx_bytes, dt));
    keep_peak(&l->peak.tx_bytes, rate(now->c.tx_bytes, l->last.tx_bytes, dt));
    keep_peak(&l->peak.rx_packets, rate(now->c.rx_packets, l->last.rx_packets, dt));
    keep_peak(&l->peak.tx_packets, rate(now->c.tx_packets, l->last.tx_packets, dt));
  }
  l->last = now->c;
  l->last_us = at_us;
}

static const struct net_action *action_in(const struct net_snapshot *snap,
                                          const struct net_tracked_action *a)
{
  for (size_t i = 0; i < snap->nfilters; i++) {
    const struct net_filter *f = &snap->filters[i];
    if (f->ifindex != a->ifindex || f->parent != a->parent)
      continue;
    for (size_t k = 0; k < f->nactions; k++)
      if (f->actions[k].mirred_eaction && f->actions[k].index == a->index &&
          f->actions[k].has_stats)
        return &f->actions[k];
  }
  return NULL;
}

static void update_action(struct net_tracked_action *a, const struct net_action *now, int64_t at_us)
{
  if (now == NULL) {
    a->gone = a->seen;
    return;
  }
  if (!a->seen) {
    a->first_bytes = now->bytes;
    a->first_packets = now->packets;
    a->first_drops = now->drops;
    a->seen = true;
  } else {
    keep_peak(&a->peak_bytes, rate(now->bytes, a->last_bytes, at_us - a->last_us));
    keep_peak(&a->peak_packets, rate(now->packets, a->last_packets, at_us - a->last_us));
  }
  a->gone = false;
  a->last_bytes = now->bytes;
  a->last_packets = now->packets;
  a->last_drops = now->drops;
  a->last_us = at_us;
}

void net_series_add(struct net_series *s, const struct net_view *v)
{
  for (size_t i = 0; i < s->nlinks; i++) {
    struct net_tracked_link *l = &s->links[i];
    if ((size_t)l->ns >= v->nns)
      continue;
    const struct net_snapshot *snap = &v->ns[l->ns].snap;
    update_link(s, l, net_snapshot_link(snap, l->ifindex), snap->mono_us);
  }
  for (size_t i = 0; v->nns > 0 && i < s->nactions; i++)
    update_action(&s->actions[i], action_in(&v->ns[0].snap, &s->actions[i]), v->ns[0].snap.mono_us);
  int64_t at = v->nns ? v->ns[0].snap.mono_us : 0;
  if (s->samples == 0)
    s->first_us = at;
  s->last_us = at;
  s->samples++;
}

uint64_t net_series_bytes(const struct net_series *s)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].seen)
      sum += s->links[i].last.rx_bytes + s->links[i].last.tx_bytes;
  return sum;
}

/* ---- JSON ---- */

static json *counters_json(const struct net_counters *c)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "rx_bytes", json_new_uint(c->rx_bytes));
  json_set(o, "tx_bytes", json_new_uint(c->tx_bytes));
  json_set(o, "rx_packets", json_new_uint(c->rx_packets));
  json_set(o, "tx_packets", json_new_uint(c->tx_packets));
  json_set(o, "rx_errors", json_new_uint(c->rx_errors));
  json_set(o, "tx_errors", json_new_uint(c->tx_errors));
  json_set(o, "rx_dropped", json_new_uint(c->rx_dropped));
  json_set(o, "tx_dropped", json_new_uint(c->tx_dropped));
  return o;
}

static uint64_t diff(uint64_t a, uint64_t b)
{
  return a >= b ? a - b : 0;
}

static struct net_counters delta(const struct net_counters *end, const struct net_counters *start)
{
  struct net_counters d = {
      diff(end->rx_bytes, start->rx_bytes),     diff(end->tx_bytes, start->tx_bytes),
      diff(end->rx_packets, start->rx_packets), diff(end->tx_packets, start->tx_packets),
      diff(end->rx_errors, start->rx_errors),   diff(end->tx_errors, start->tx_errors),
      diff(end->rx_dropped, start->rx_dropped), diff(end->tx_dropped, start->tx_dropped)};
  return d;
}

static json *link_json(const struct net_tracked_link *l)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "ns", json_new_text(l->ns_label));
  json_set(o, "name", json_new_text(l->name));
  json_set(o, "role", json_new_string(l->role));
  json_set(o, "ifindex", json_new_int(l->ifindex));
  if (!l->seen) {
    json_set(o, "start", json_new(JSON_NULL));
    json_set(o, "missed", json_new_string("never sampled"));
    return o;
  }
  struct net_counters d = delta(&l->last, &l->first);
  json_set(o, "start", counters_json(&l->first));
  json_set(o, "end", counters_json(&l->last));
  json_set(o, "delta", counters_json(&d));
  json *peak = json_new(JSON_OBJECT);
  json_set(peak, "rx_bytes_per_s", json_new_double(l->peak.rx_bytes));
  json_set(peak, "tx_bytes_per_s", json_new_double(l->peak.tx_bytes));
  json_set(peak, "rx_packets_per_s", json_new_double(l->peak.rx_packets));
  json_set(peak, "tx_packets_per_s", json_new_double(l->peak.tx_packets));
  json_set(o, "peak", peak);
  if (l->gone)
    json_set(o, "gone_at_sample", json_new_int(l->gone_at_sample));
  if (l->renamed_to[0])
    json_set(o, "renamed_to", json_new_text(l->renamed_to));
  return o;
}

static json *action_json(const struct net_tracked_action *a)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "dev", json_new_text(a->dev));
  json_set(o, "index", json_new_uint(a->index));
  json_set(o, "direction", json_new_string(net_mirred_direction(a->eaction)));
  json_set(o, "mode", json_new_string(net_mirred_mode(a->eaction)));
  json_set(o, "target", json_new_text(a->target));
  if (!a->seen) {
    json_set(o, "missed", json_new_string("never sampled"));
    return o;
  }
  json *start = json_new(JSON_OBJECT), *end = json_new(JSON_OBJECT), *d = json_new(JSON_OBJECT);
  json_set(start, "packets", json_new_uint(a->first_packets));
  json_set(start, "bytes", json_new_uint(a->first_bytes));
  json_set(start, "drops", json_new_uint(a->first_drops));
  json_set(end, "packets", json_new_uint(a->last_packets));
  json_set(end, "bytes", json_new_uint(a->last_bytes));
  json_set(end, "drops", json_new_uint(a->last_drops));
  json_set(d, "packets", json_new_uint(diff(a->last_packets, a->first_packets)));
  json_set(d, "bytes", json_new_uint(diff(a->last_bytes, a->first_bytes)));
  json_set(d, "drops", json_new_uint(diff(a->last_drops, a->first_drops)));
  json_set(o, "start", start);
  json_set(o, "end", end);
  json_set(o, "delta", d);
  json *peak = json_new(JSON_OBJECT);
  json_set(peak, "bytes_per_s", json_new_double(a->peak_bytes));
  json_set(peak, "packets_per_s", json_new_double(a->peak_packets));
  json_set(o, "peak", peak);
  if (a->gone)
    json_set(o, "gone", json_new_bool(true));
  return o;
}

/* What one end of a veth pair sends, the other receives: deltas over the same life must match.
 * Both ends are sampled back to back, so traffic in flight at a sample can show as a small
 * difference; the end sample is taken once the container stopped sending. */
static json *veth_pair_json(const struct net_tracked_link *c, const struct net_tracked_link *p,
                            bool *all_ok)
{
  json *o = json_new(JSON_OBJECT);
  char pair[2 * IF_NAMESIZE + 8];
  snprintf(pair, sizeof pair, "%s<->%s", c->name, p->name);
  json_set(o, "pair", json_new_text(pair));
  if (!c->seen || !p->seen) {
    json_set(o, "consistent", json_new(JSON_NULL));
    json_set(o, "why", json_new_string("one end was never sampled"));
    return o;
  }
  struct net_counters dc = delta(&c->last, &c->first), dp = delta(&p->last, &p->first);
  bool ok = dc.tx_bytes == dp.rx_bytes && dc.rx_bytes == dp.tx_bytes &&
            dc.tx_packets == dp.rx_packets && dc.rx_packets == dp.tx_packets;
  json_set(o, "consistent", json_new_bool(ok));
  if (!ok) {
    json *why = json_new(JSON_OBJECT);
    json_set(why, "container_tx_bytes", json_new_uint(dc.tx_bytes));
    json_set(why, "peer_rx_bytes", json_new_uint(dp.rx_bytes));
    json_set(why, "container_rx_bytes", json_new_uint(dc.rx_bytes));
    json_set(why, "peer_tx_bytes", json_new_uint(dp.tx_bytes));
    json_set(why, "container_tx_packets", json_new_uint(dc.tx_packets));
    json_set(why, "peer_rx_packets", json_new_uint(dp.rx_packets));
    json_set(o, "why", why);
    *all_ok = false;
  }
  return o;
}

static json *consistency_json(const struct net_series *s, const struct net_topology *t,
                              bool *all_ok)
{
  json *pairs = json_new(JSON_ARRAY);
  for (size_t i = 0; i < t->npaths; i++) {
    const struct net_path *p = &t->paths[i];
    for (size_t h = 0; h + 1 < p->nhops; h++) {
      const struct net_hop *a = &p->hops[h], *b = &p->hops[h + 1];
      if (strcmp(a->role, "container") != 0 || strcmp(b->role, "peer") != 0 ||
          strcmp(a->kind, "veth") != 0)
        continue;
      const struct net_tracked_link *c = NULL, *peer = NULL;
      for (size_t k = 0; k < s->nlinks; k++) {
        if (s->links[k].ns == a->ns && s->links[k].ifindex == a->ifindex)
          c = &s->links[k];
        if (s->links[k].ns == b->ns && s->links[k].ifindex == b->ifindex)
          peer = &s->links[k];
      }
      if (c && peer)
        json_append(pairs, veth_pair_json(c, peer, all_ok));
    }
  }
  return pairs;
}

json *net_series_json(const struct net_series *s, const struct net_topology *t)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "samples", json_new_uint(s->samples));
  json_set(o, "span_us", json_new_int(s->samples ? s->last_us - s->first_us : 0));
  json *links = json_new(JSON_ARRAY);
  for (size_t i = 0; i < s->nlinks; i++)
    json_append(links, link_json(&s->links[i]));
  json_set(o, "links", links);
  json *actions = json_new(JSON_ARRAY);
  for (size_t i = 0; i < s->nactions; i++)
    json_append(actions, action_json(&s->actions[i]));
  json_set(o, "actions", actions);
  bool all_ok = true;
  json *pairs = consistency_json(s, t, &all_ok);
  json_set(o, "consistent", pairs->n ? json_new_bool(all_ok) : json_new(JSON_NULL));
  json_set(o, "veth_pairs", pairs);
  return o;
}
