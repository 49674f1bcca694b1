#include "topology.h"
#include "xalloc.h"

#include <linux/tc_act/tc_mirred.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_view_ns_by_id(const struct net_view *v, int nsid)
{
  for (size_t i = 1; i < v->nns; i++)
    if (v->ns[i].nsid == nsid)
      return (int)i;
  return -1;
}

void net_view_clear(struct net_view *v)
{
  for (size_t i = 0; i < v->nns; i++)
    net_snapshot_clear(&v->ns[i].snap);
  v->nns = 0;
}

const char *net_mirred_direction(int eaction)
{
  return eaction == TCA_INGRESS_REDIR || eaction == TCA_INGRESS_MIRROR ? "ingress" : "egress";
}

const char *net_mirred_mode(int eaction)
{
  return eaction == TCA_EGRESS_MIRROR || eaction == TCA_INGRESS_MIRROR ? "mirror" : "redirect";
}

static void add_hop(struct net_path *p, int ns, const struct net_link *l, const char *role)
{
  if (p->nhops == NET_MAX_HOPS)
    return;
  struct net_hop *h = &p->hops[p->nhops++];
  h->ns = ns;
  h->ifindex = l->ifindex;
  snprintf(h->name, sizeof h->name, "%s", l->name);
  snprintf(h->kind, sizeof h->kind, "%s", l->kind);
  snprintf(h->role, sizeof h->role, "%s", role);
}

__attribute__((format(printf, 2, 3))) static void note(struct net_topology *t, const char *fmt, ...)
{
  size_t used = strlen(t->note);
  if (used + 3 >= sizeof t->note)
    return;
  if (used) {
    t->note[used++] = ';';
    t->note[used++] = ' ';
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->note + used, sizeof t->note - used, fmt, ap);
  va_end(ap);
}

/* ---- Kata's tc mirroring ---- */

static void collect_mirred(const struct net_snapshot *s, struct net_topology *t)
{
  for (size_t i = 0; i < s->nfilters; i++) {
    const struct net_filter *f = &s->filters[i];
    for (size_t k = 0; k < f->nactions && t->nmirred < NET_MAX_MIRRED; k++) {
      const struct net_action *a = &f->actions[k];
      if (a->mirred_eaction == 0)
        continue;
      struct net_mirred *m = &t->mirred[t->nmirred++];
      const struct net_link *dev = net_snapshot_link(s, f->ifindex);
      const struct net_link *target = net_snapshot_link(s, a->mirred_ifindex);
      m->ifindex = f->ifindex;
      m->parent = f->parent;
      m->index = a->index;
      m->eaction = a->mirred_eaction;
      m->target_ifindex = a->mirred_ifindex;
      snprintf(m->dev, sizeof m->dev, "%s", dev ? dev->name : "?");
      snprintf(m->target, sizeof m->target, "%s", target ? target->name : "?");
    }
  }
}

static bool redirects(const struct net_topology *t, int from, int to)
{
  for (size_t i = 0; i < t->nmirred; i++)
    if (t->mirred[i].ifindex == from && t->mirred[i].target_ifindex == to &&
        t->mirred[i].eaction == TCA_EGRESS_REDIR)
      return true;
  return false;
}

/* Whether any mirred action reads from or writes to link `ifindex`. */
static bool mirred_touches(const struct net_topology *t, int ifindex)
{
  for (size_t i = 0; i < t->nmirred; i++)
    if (t->mirred[i].ifindex == ifindex || t->mirred[i].target_ifindex == ifindex)
      return true;
  return false;
}

/* The tap that Kata joined to link l (redirects both ways), or NULL. */
static const struct net_link *kata_tap_of(const struct net_snapshot *s,
                                          const struct net_topology *t, const struct net_link *l)
{
  for (size_t i = 0; i < s->nlinks; i++) {
    const struct net_link *tap = &s->links[i];
    if (tap->tap && tap != l && redirects(t, l->ifindex, tap->ifindex) &&
        redirects(t, tap->ifindex, l->ifindex))
      return tap;
  }
  return NULL;
}

static bool is_kata_tap(const struct net_snapshot *s, const struct net_topology *t,
                        const struct net_link *tap)
{
  for (size_t i = 0; tap->tap && i < s->nlinks; i++)
    if (kata_tap_of(s, t, &s->links[i]) == tap)
      return true;
  return false;
}

/* ---- one path per container link ---- */

/* Follows a veth peer or a macvlan parent into the namespace that holds it. */
static const struct net_link *far_end(const struct net_view *v, const struct net_link *l, int *ns,
                                      struct net_topology *t)
{
  *ns = l->link_netnsid < 0 ? 0 : net_view_ns_by_id(v, l->link_netnsid);
  if (*ns < 0) {
    note(t, "%s: the namespace of its peer (id %d) was not found", l->name, l->link_netnsid);
    return NULL;
  }
  const struct net_link *peer = net_snapshot_link(&v->ns[*ns].snap, l->link);
  if (peer == NULL)
    note(t, "%s: its peer (ifindex %d) was not found", l->name, l->link);
  return peer;
}

/* A vxlan device enslaved to bridge `br` in the same namespace. */
static const struct net_link *vxlan_on(const struct net_snapshot *s, const struct net_link *br)
{
  for (size_t i = 0; i < s->nlinks; i++)
    if (strcmp(s->links[i].kind, "vxlan") == 0 && s->links[i].master == br->ifindex)
      return &s->links[i];
  return NULL;
}

static void follow_veth(const struct net_view *v, const struct net_link *l, struct net_path *p,
                        struct net_topology *t)
{
  int ns;
  const struct net_link *peer = far_end(v, l, &ns, t);
  snprintf(p->driver, sizeof p->driver, "veth");
  if (peer == NULL)
    return;
  add_hop(p, ns, peer, "peer");
  const struct net_link *br =
      peer->master ? net_snapshot_link(&v->ns[ns].snap, peer->master) : NULL;
  if (br == NULL)
    return;
  add_hop(p, ns, br, "bridge");
  const struct net_link *vx = v->ns[ns].is_host ? NULL : vxlan_on(&v->ns[ns].snap, br);
  if (vx) {
    add_hop(p, ns, vx, "vxlan");
    snprintf(p->driver, sizeof p->driver, "overlay");
  } else {
    snprintf(p->driver, sizeof p->driver, "bridge");
  }
}

static void follow_parent(const struct net_view *v, const struct net_link *l, struct net_path *p,
                          struct net_topology *t)
{
  int ns;
  snprintf(p->driver, sizeof p->driver, "%s",
           strcmp(l->kind, "ipvlan") == 0 ? "ipvlan" : "macvlan");
  const struct net_link *parent = far_end(v, l, &ns, t);
  if (parent)
    add_hop(p, ns, parent, "parent");
}

static void path_for(const struct net_view *v, const struct net_link *l, const struct net_link *tap,
                     struct net_path *p, struct net_topology *t)
{
  memset(p, 0, sizeof *p);
  if (tap) {
    add_hop(p, 0, tap, "tap");
    p->mirred_first = true;
  }
  add_hop(p, 0, l, "container");
  if (strcmp(l->kind, "veth") == 0 && l->link_netnsid >= 0)
    follow_veth(v, l, p, t);
  else if (strcmp(l->kind, "macvlan") == 0 || strcmp(l->kind, "macvtap") == 0 ||
           strcmp(l->kind, "ipvlan") == 0)
    follow_parent(v, l, p, t);
  else if (l->tap && tap == NULL && !mirred_touches(t, l->ifindex))
    /* A TAP of its own that no Kata redirect joins: a user-space network stack reads its frames
     * (rootless podman's slirp4netns or pasta); the path ends there. */
    snprintf(p->driver, sizeof p->driver, "tap");
  else {
    snprintf(p->driver, sizeof p->driver, "unknown");
    note(t, "%s: a link of kind \"%s\" is not a known network driver", l->name,
         l->kind[0] ? l->kind : "none");
  }
}

/* Most specific first: a container on an overlay network also has a bridge link (the gateway
 * bridge), and it is an overlay container. */
static int driver_rank(const char *d)
{
  static const char *const order[] = {"kata-tcfilter", "overlay", "macvlan", "ipvlan",
                                      "bridge",        "veth",    "tap",     "unknown"};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (strcmp(d, order[i]) == 0)
      return (int)i;
  return 99;
}

void net_classify(const struct net_view *v, struct net_topology *t)
{
  memset(t, 0, sizeof *t);
  snprintf(t->driver, sizeof t->driver, "none");
  if (v->nns == 0)
    return;
  const struct net_snapshot *s = &v->ns[0].snap;
  collect_mirred(s, t);
  int best = 99;
  for (size_t i = 0; i < s->nlinks && t->npaths < NET_MAX_PATHS; i++) {
    const struct net_link *l = &s->links[i];
    if (l->loopback || is_kata_tap(s, t, l))
      continue;
    const struct net_link *tap = kata_tap_of(s, t, l);
    struct net_path *p = &t->paths[t->npaths++];
    path_for(v, l, tap, p, t);
    const char *d = p->driver;
    if (tap) {
      snprintf(t->underlay, sizeof t->underlay, "%s", p->driver);
      d = "kata-tcfilter";
    }
    if (driver_rank(d) < best) {
      best = driver_rank(d);
      snprintf(t->driver, sizeof t->driver, "%s", d);
    }
  }
  if (t->npaths == 0) {
    const struct net_link *lo = NULL;
    for (size_t i = 0; i < s->nlinks && !lo; i++)
      lo = s->links[i].loopback ? &s->links[i] : NULL;
    if (lo) {
      t->npaths = 1;
      add_hop(&t->paths[0], 0, lo, "loopback");
      snprintf(t->paths[0].driver, sizeof t->paths[0].driver, "none");
    }
  }
}

char *net_path_text(const struct net_view *v, const struct net_path *p)
{
  char *out = xstrdup("");
  for (size_t i = 0; i < p->nhops; i++) {
    const struct net_hop *h = &p->hops[i];
    const char *where = h->ns == 0 ? "container" : v->ns[h->ns].label;
    const char *sep = i == 0 ? "" : (i == 1 && p->mirred_first) ? " =mirred=> " : " -> ";
    char *next;
    if (strcmp(h->role, "bridge") == 0 || strcmp(h->role, "vxlan") == 0) {
      const struct net_link *l = net_snapshot_link(&v->ns[h->ns].snap, h->ifindex);
      if (strcmp(h->role, "vxlan") == 0 && l && l->has_vxlan_id)
        next = xasprintf("%s%svxlan %s (vni %u)", out, sep, h->name, l->vxlan_id);
      else
        next = xasprintf("%s%s%s %s", out, sep, h->role, h->name);
    } else if (strcmp(h->role, "parent") == 0) {
      next = xasprintf("%s%s%s parent %s", out, sep, where, h->name);
    } else {
      next = xasprintf("%s%s%s %s", out, sep, where, h->name);
    }
    free(out);
    out = next;
  }
  return out;
}
