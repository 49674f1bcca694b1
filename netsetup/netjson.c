#include "netjson.h"
#include "cleanup.h"
#include "xalloc.h"

#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <stdio.h>
#include <string.h>

void net_tc_handle_str(uint32_t h, char *buf, size_t size)
{
  if (h == TC_H_ROOT)
    snprintf(buf, size, "root");
  else if (h == TC_H_UNSPEC)
    snprintf(buf, size, "none");
  else if (TC_H_MIN(h) == 0)
    snprintf(buf, size, "%x:", TC_H_MAJ(h) >> 16);
  else
    snprintf(buf, size, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
}

static json *hop_json(const struct net_view *v, const struct net_hop *h)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "ns", json_new_text(h->ns == 0 ? "container" : v->ns[h->ns].label));
  json_set(o, "name", json_new_text(h->name));
  json_set(o, "kind", json_new_text(h->kind));
  json_set(o, "role", json_new_string(h->role));
  json_set(o, "ifindex", json_new_int(h->ifindex));
  return o;
}

static json *path_json(const struct net_view *v, const struct net_path *p)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "driver", json_new_string(p->driver));
  cleanup_free char *text = net_path_text(v, p);
  json_set(o, "text", json_new_text(text));
  json *hops = json_new(JSON_ARRAY);
  for (size_t i = 0; i < p->nhops; i++)
    json_append(hops, hop_json(v, &p->hops[i]));
  json_set(o, "hops", hops);
  return o;
}

static json *link_json(const struct net_view *v, int ns, const struct net_link *l)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "name", json_new_text(l->name));
  json_set(o, "ifindex", json_new_int(l->ifindex));
  json_set(o, "kind", json_new_text(l->loopback ? "loopback" : l->tap ? "tap" : l->kind));
  json_set(o, "mtu", json_new_uint(l->mtu));
  json_set(o, "mac", l->mac[0] ? json_new_text(l->mac) : json_new(JSON_NULL));
  json_set(o, "operstate", json_new_text(l->operstate));
  if (l->mode[0])
    json_set(o, "mode", json_new_text(l->mode));
  if (l->has_vxlan_id)
    json_set(o, "vxlan_id", json_new_uint(l->vxlan_id));
  json *addrs = json_new(JSON_ARRAY);
  for (size_t i = 0; i < l->naddrs; i++)
    json_append(addrs, json_new_text(l->addrs[i]));
  json_set(o, "addrs", addrs);
  if (l->master) {
    const struct net_link *m = net_snapshot_link(&v->ns[ns].snap, l->master);
    json_set(o, "master", json_new_text(m ? m->name : "?"));
  }
  if (l->link && !l->loopback) {
    json *peer = json_new(JSON_OBJECT);
    int pns = l->link_netnsid < 0 ? ns : net_view_ns_by_id(v, l->link_netnsid);
    const struct net_link *pl = pns >= 0 ? net_snapshot_link(&v->ns[pns].snap, l->link) : NULL;
    json_set(peer, "ifindex", json_new_int(l->link));
    json_set(peer, "netnsid", json_new_int(l->link_netnsid));
    json_set(peer, "ns",
             pns >= 0 ? json_new_text(pns == 0 ? "container" : v->ns[pns].label)
                      : json_new(JSON_NULL));
    json_set(peer, "name", pl ? json_new_text(pl->name) : json_new(JSON_NULL));
    if (pl && pl->master) {
      const struct net_link *m = net_snapshot_link(&v->ns[pns].snap, pl->master);
      json_set(peer, "master", json_new_text(m ? m->name : "?"));
    }
    json_set(o, strcmp(l->kind, "veth") == 0 ? "peer" : "parent", peer);
  }
  return o;
}

static const char *protocol_name(uint16_t p)
{
  switch (p) {
  case ETH_P_ALL:
    return "all";
  case ETH_P_IP:
    return "ip";
  case ETH_P_IPV6:
    return "ipv6";
  case ETH_P_ARP:
    return "arp";
  default:
    return NULL;
  }
}

static json *filter_json(const struct net_snapshot *s, const struct net_filter *f)
{
  json *o = json_new(JSON_OBJECT);
  const struct net_link *dev = net_snapshot_link(s, f->ifindex);
  char h[24];
  json_set(o, "dev", json_new_text(dev ? dev->name : "?"));
  net_tc_handle_str(f->parent, h, sizeof h);
  json_set(o, "parent", json_new_string(h));
  json_set(o, "kind", json_new_text(f->kind));
  const char *proto = protocol_name(f->protocol);
  json_set(o, "protocol", proto ? json_new_string(proto) : json_new_uint(f->protocol));
  json_set(o, "prio", json_new_uint(f->prio));
  json *acts = json_new(JSON_ARRAY);
  for (size_t i = 0; i < f->nactions; i++) {
    const struct net_action *a = &f->actions[i];
    json *ao = json_new(JSON_OBJECT);
    json_set(ao, "kind", json_new_text(a->kind));
    if (a->mirred_eaction) {
      const struct net_link *t = net_snapshot_link(s, a->mirred_ifindex);
      json_set(ao, "index", json_new_uint(a->index));
      json_set(ao, "direction", json_new_string(net_mirred_direction(a->mirred_eaction)));
      json_set(ao, "mode", json_new_string(net_mirred_mode(a->mirred_eaction)));
      json_set(ao, "target", json_new_text(t ? t->name : "?"));
    }
    json_append(acts, ao);
  }
  json_set(o, "actions", acts);
  return o;
}

static json *tc_json(const struct net_snapshot *s)
{
  json *o = json_new(JSON_OBJECT);
  json *qs = json_new(JSON_ARRAY);
  for (size_t i = 0; i < s->nqdiscs; i++) {
    const struct net_qdisc *q = &s->qdiscs[i];
    const struct net_link *dev = net_snapshot_link(s, q->ifindex);
    json *qo = json_new(JSON_OBJECT);
    char h[24];
    json_set(qo, "dev", json_new_text(dev ? dev->name : "?"));
    json_set(qo, "kind", json_new_text(q->kind));
    net_tc_handle_str(q->handle, h, sizeof h);
    json_set(qo, "handle", json_new_string(h));
    net_tc_handle_str(q->parent, h, sizeof h);
    json_set(qo, "parent", json_new_string(h));
    json_append(qs, qo);
  }
  json_set(o, "qdiscs", qs);
  json *fs = json_new(JSON_ARRAY);
  for (size_t i = 0; i < s->nfilters; i++)
    if (s->filters[i].nactions) /* u32 hash-table entries carry nothing to show */
      json_append(fs, filter_json(s, &s->filters[i]));
  json_set(o, "filters", fs);
  return o;
}

json *net_topology_json(const struct net_view *v, const struct net_topology *t)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "driver", json_new_string(t->driver));
  if (t->underlay[0])
    json_set(o, "underlay", json_new_string(t->underlay));
  if (t->relay[0]) {
    json *relay = json_new(JSON_OBJECT);
    json_set(relay, "process", json_new_string(t->relay));
    json_set(relay, "pid", json_new_int(t->relay_pid));
    json_set(o, "relay", relay);
  }
  json *paths = json_new(JSON_ARRAY);
  for (size_t i = 0; i < t->npaths; i++)
    json_append(paths, path_json(v, &t->paths[i]));
  json_set(o, "paths", paths);
  json *nss = json_new(JSON_OBJECT);
  for (size_t n = 0; n < v->nns; n++) {
    json *links = json_new(JSON_ARRAY);
    for (size_t i = 0; i < v->ns[n].snap.nlinks; i++)
      json_append(links, link_json(v, (int)n, &v->ns[n].snap.links[i]));
    json_set(nss, n == 0 ? "container" : v->ns[n].label, links);
  }
  json_set(o, "links", nss);
  if (v->nns)
    json_set(o, "tc", tc_json(&v->ns[0].snap));
  if (t->note[0])
    json_set(o, "note", json_new_text(t->note));
  return o;
}
