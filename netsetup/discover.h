/* Discovery and sampling against live namespaces: the netlink part of netsetup.
 *
 * A watch holds a netlink socket in the container's namespace and one in each namespace its
 * links lead to (the host's, an overlay network's), so that later samples need no setns. */
#ifndef MEASURED_DISCOVER_H
#define MEASURED_DISCOVER_H

#include "merr.h"
#include "series.h"
#include "topology.h"

struct net_watch {
  int homefd;                               /* the namespace this process lives in (the host's) */
  int nsfd[NET_MAX_NS];                     /* [0]: the container's */
  struct nl_sock *sk[NET_MAX_NS];           /* one per namespace of the view */
  struct nl_sock *events;                   /* the container's link notifications */
  char label[NET_MAX_NS][NET_NS_LABEL_MAX]; /* "host", "docker:1-<id>", ... */
  bool is_host[NET_MAX_NS];
  struct net_view view; /* the last discovery */
  struct net_topology topo;
  int64_t discovery_us; /* how long the last discovery took */
  char relay[16];       /* the process behind the container's TAP, once found (taprelay.h) */
  int relay_pid;
};

/* Takes ownership of ctrfd (the container's namespace); homefd is borrowed. */
int net_watch_open(struct net_watch *w, int ctrfd, int homefd, merr **err);

/* Reads the container's namespace whole (links, addresses, qdiscs, filters), follows every
 * peer and parent into its namespace, and classifies. */
int net_discover(struct net_watch *w, merr **err);

/* Reads the counters of everything the series tracks into `sample` (same namespace indexes as
 * the view), link by link and filter by filter: a sample costs the same however many links a
 * container makes. */
int net_sample(struct net_watch *w, const struct net_series *s, struct net_view *sample,
               merr **err);

/* True when the container's namespace reported a link added, removed or changed since the last
 * call: a network may have been connected or disconnected (a discovery tells). */
bool net_links_changed(struct net_watch *w);

/* The descriptor on which the container's link notifications arrive (to poll), or -1. */
int net_watch_events_fd(const struct net_watch *w);

void net_watch_close(struct net_watch *w);

#endif
