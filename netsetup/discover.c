#include "discover.h"
#include "cleanup.h"
#include "clock.h"
#include "netns.h"
#include "taprelay.h"

#include <errno.h>
#include <netlink/socket.h>
#include <string.h>
#include <unistd.h>

int net_watch_open(struct net_watch *w, int ctrfd, int homefd, merr **err)
{
  memset(w, 0, sizeof *w);
  for (size_t i = 0; i < NET_MAX_NS; i++)
    w->nsfd[i] = -1;
  w->homefd = homefd;
  w->nsfd[0] = ctrfd;
  w->sk[0] = netns_route_socket(ctrfd, homefd, err);
  if (w->sk[0] == NULL || (w->events = netns_link_events_socket(ctrfd, homefd, err)) == NULL) {
    net_watch_close(w);
    return -1;
  }
  return 0;
}

void net_watch_close(struct net_watch *w)
{
  if (w->events)
    nl_socket_free(w->events);
  w->events = NULL;
  for (size_t i = 0; i < NET_MAX_NS; i++) {
    if (w->sk[i])
      nl_socket_free(w->sk[i]);
    if (w->nsfd[i] >= 0)
      close(w->nsfd[i]);
    w->sk[i] = NULL;
    w->nsfd[i] = -1;
  }
  net_view_clear(&w->view);
}

/* Puts an open namespace into the view at its slot. */
static int use_slot(struct net_watch *w, int k, int nsid)
{
  struct net_nsview *nv = &w->view.ns[k];
  nv->nsid = nsid;
  nv->is_host = w->is_host[k];
  memcpy(nv->label, w->label[k], sizeof nv->label);
  if ((size_t)k >= w->view.nns)
    w->view.nns = (size_t)k + 1;
  return k;
}

/* The view slot for the namespace the container numbers nsid; opened on first use, kept open
 * for the samples and later discoveries. */
static int ns_slot(struct net_watch *w, int nsid, merr **err)
{
  int k = net_view_ns_by_id(&w->view, nsid);
  if (k >= 0)
    return k;
  int free_slot = -1;
  for (k = 1; k < NET_MAX_NS; k++) {
    if (w->sk[k] == NULL && free_slot < 0)
      free_slot = k;
    if (w->sk[k] && netns_id_of(w->sk[0], w->nsfd[k]) == nsid)
      return use_slot(w, k, nsid);
  }
  if (free_slot < 0)
    return merr_set(err, 0, "more than %d namespaces on the path", NET_MAX_NS - 1);
  struct netns_ref ref;
  if (netns_find_by_id(w->sk[0], nsid, w->homefd, &ref, err) < 0)
    return -1;
  w->sk[free_slot] = netns_route_socket(ref.fd, w->homefd, err);
  if (w->sk[free_slot] == NULL) {
    close(ref.fd);
    return -1;
  }
  w->nsfd[free_slot] = ref.fd;
  w->is_host[free_slot] = ref.is_host;
  snprintf(w->label[free_slot], sizeof w->label[free_slot], "%s", ref.label);
  return use_slot(w, free_slot, nsid);
}

/* Adds link ifindex of namespace slot ns to the view (once). */
static int add_link(struct net_watch *w, int ns, int ifindex, merr **err)
{
  if (ifindex <= 0 || net_snapshot_link(&w->view.ns[ns].snap, ifindex))
    return 0;
  struct net_link l;
  if (net_link_read(w->sk[ns], ifindex, &l, err) < 0)
    return -1;
  net_snapshot_add_link(&w->view.ns[ns].snap, &l);
  return 0;
}

/* Brings what the far end of a container link needs into the view: in the host's namespace
 * (thousands of links on a busy host) only the peer and its bridge, one by one; in any other
 * namespace (an overlay network's, a few links) all of it, to find the vxlan device. */
static int follow(struct net_watch *w, const struct net_link *l, merr **err)
{
  int ns = ns_slot(w, l->link_netnsid, err);
  if (ns < 0)
    return -1;
  struct net_nsview *nv = &w->view.ns[ns];
  if (!nv->is_host) {
    if (nv->snap.nlinks == 0 && net_snapshot_take(w->sk[ns], 0, &nv->snap, err) < 0)
      return -1;
    return 0;
  }
  if (add_link(w, ns, l->link, err) < 0)
    return -1;
  const struct net_link *peer = net_snapshot_link(&nv->snap, l->link);
  return peer && peer->master ? add_link(w, ns, peer->master, err) : 0;
}

/* A TAP that a user-space process reads is that process's driver (slirp4netns, pasta), once it
 * is found; it stays "tap" while it is not. */
static void name_the_relay(struct net_watch *w)
{
  struct net_topology *t = &w->topo;
  if (strcmp(t->driver, "tap") != 0)
    return;
  if (w->relay_pid == 0)
    w->relay_pid = net_tap_relay(w->nsfd[0], w->relay);
  if (w->relay_pid == 0)
    return;
  snprintf(t->relay, sizeof t->relay, "%s", w->relay);
  t->relay_pid = w->relay_pid;
  snprintf(t->driver, sizeof t->driver, "%s", w->relay);
  for (size_t i = 0; i < t->npaths; i++)
    if (strcmp(t->paths[i].driver, "tap") == 0)
      snprintf(t->paths[i].driver, sizeof t->paths[i].driver, "%s", w->relay);
}

int net_discover(struct net_watch *w, merr **err)
{
  int64_t t0 = mono_us();
  net_view_clear(&w->view);
  for (size_t i = 0; i < NET_MAX_NS; i++)
    w->view.ns[i].nsid = -2; /* unused slot: no id matches */
  w->view.nns = 1;
  struct net_nsview *c = &w->view.ns[0];
  snprintf(c->label, sizeof c->label, "container");
  c->nsid = -1;
  if (net_snapshot_take(w->sk[0], NET_SNAP_ADDRS | NET_SNAP_TC, &c->snap, err) < 0)
    return merr_wrap(err, "container namespace");
  char why[160] = "";
  for (size_t i = 0; i < w->view.ns[0].snap.nlinks; i++) {
    const struct net_link *l = &w->view.ns[0].snap.links[i];
    if (l->loopback || l->link <= 0 || l->link_netnsid < 0)
      continue;
    cleanup_merr merr *e = NULL;
    if (follow(w, l, &e) < 0) {
      snprintf(why, sizeof why, "%s: %s", l->name, merr_msg(e)); /* the classifier notes it */
    }
  }
  net_classify(&w->view, &w->topo);
  name_the_relay(w);
  if (why[0] && strlen(w->topo.note) + strlen(why) + 3 < sizeof w->topo.note)
    snprintf(w->topo.note + strlen(w->topo.note), sizeof w->topo.note - strlen(w->topo.note),
             "%s%s", w->topo.note[0] ? "; " : "", why);
  w->discovery_us = mono_us() - t0;
  return 0;
}

/* The filters that hold the tracked mirred actions, one (link, parent) at a time. */
static int sample_actions(struct net_watch *w, const struct net_series *s,
                          struct net_snapshot *snap, merr **err)
{
  for (size_t i = 0; i < s->nactions; i++) {
    const struct net_tracked_action *a = &s->actions[i];
    bool done = false;
    for (size_t k = 0; k < i && !done; k++)
      done = s->actions[k].ifindex == a->ifindex && s->actions[k].parent == a->parent;
    if (!done && net_filters_read(w->sk[0], a->ifindex, a->parent, snap, err) < 0)
      return -1;
  }
  return 0;
}

int net_sample(struct net_watch *w, const struct net_series *s, struct net_view *sample, merr **err)
{
  memset(sample, 0, sizeof *sample);
  sample->nns = w->view.nns;
  for (size_t i = 0; i < sample->nns; i++) {
    sample->ns[i].nsid = w->view.ns[i].nsid;
    sample->ns[i].is_host = w->view.ns[i].is_host;
    sample->ns[i].snap.mono_us = mono_us();
  }
  for (size_t k = 0; k < s->nlinks; k++) {
    const struct net_tracked_link *t = &s->links[k];
    if ((size_t)t->ns >= sample->nns || w->sk[t->ns] == NULL)
      continue;
    struct net_link l;
    cleanup_merr merr *e = NULL;
    if (net_link_read(w->sk[t->ns], t->ifindex, &l, &e) == 0)
      net_snapshot_add_link(&sample->ns[t->ns].snap, &l);
    else if (!merr_is(e, ENODEV)) /* a link that is gone is simply not in the sample */
      return merr_pass(err, &e);
  }
  if (s->nactions && sample_actions(w, s, &sample->ns[0].snap, err) < 0)
    return merr_wrap(err, "container namespace");
  return 0;
}

bool net_links_changed(struct net_watch *w)
{
  return w->events && netns_link_events_pending(w->events);
}

int net_watch_events_fd(const struct net_watch *w)
{
  return w->events ? nl_socket_get_fd(w->events) : -1;
}
