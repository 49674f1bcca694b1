/* What one network namespace looks like at one moment, read through libnl-route: its links
 * (kind, addresses, peer or parent, bridge, counters), its qdiscs, and its filters with their
 * actions and action counters. Plain data, so that classification and counting (topology.c,
 * series.c) are pure functions that tests can feed directly. */
#ifndef MEASURED_NETSNAP_H
#define MEASURED_NETSNAP_H

#include "merr.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock;

struct net_counters {
  uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
  uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
};

struct net_link {
  int ifindex;
  char name[IF_NAMESIZE];
  char kind[32]; /* IFLA_INFO_KIND ("veth", "bridge", "macvlan", "vxlan", "tun", ...), "" */
  char operstate[16];
  char mac[24];
  unsigned mtu;
  unsigned flags;   /* IFF_* */
  int master;       /* bridge (same namespace), 0 when none */
  int link;         /* IFLA_LINK: veth peer, macvlan/ipvlan parent; 0 when none */
  int link_netnsid; /* where `link` lives, as this namespace numbers it; -1: here */
  bool loopback;
  bool tap; /* a tun device in TAP mode (Ethernet frames) */
  bool has_vxlan_id;
  uint32_t vxlan_id;
  char mode[16]; /* macvlan / ipvlan mode */
  char **addrs;  /* "10.0.0.2/24" */
  size_t naddrs;
  struct net_counters c;
};

struct net_action {
  char kind[16]; /* "mirred", "gact", ... */
  uint32_t index;
  int mirred_eaction; /* TCA_EGRESS_REDIR, TCA_EGRESS_MIRROR, TCA_INGRESS_*; 0: not mirred */
  int mirred_ifindex; /* target device */
  bool has_stats;
  uint64_t bytes, packets, drops;
};

struct net_filter {
  int ifindex;
  uint32_t parent, handle;
  uint16_t protocol; /* host order, ETH_P_ALL = 3 */
  uint16_t prio;
  char kind[16]; /* "u32", "matchall", "flower", ... */
  struct net_action *actions;
  size_t nactions;
};

struct net_qdisc {
  int ifindex;
  uint32_t handle, parent;
  char kind[16];
};

struct net_snapshot {
  int64_t mono_us;
  struct net_link *links;
  size_t nlinks;
  struct net_qdisc *qdiscs;
  size_t nqdiscs;
  struct net_filter *filters;
  size_t nfilters;
};

enum {
  NET_SNAP_ADDRS = 1 << 0, /* addresses of each link */
  NET_SNAP_TC = 1 << 1,    /* qdiscs, and filters with actions (on links that have qdiscs) */
};

/* Dumps the namespace the socket lives in. */
int net_snapshot_take(struct nl_sock *sk, unsigned what, struct net_snapshot *out, merr **err);

/* Reads one link by ifindex (RTM_GETLINK without a dump: cheap in a namespace with thousands of
 * links). Fails with ENODEV when it does not exist. */
int net_link_read(struct nl_sock *sk, int ifindex, struct net_link *out, merr **err);

/* Dumps the filters (with action counters) attached to one qdisc or class of one link. */
int net_filters_read(struct nl_sock *sk, int ifindex, uint32_t parent, struct net_snapshot *into,
                     merr **err);

const struct net_link *net_snapshot_link(const struct net_snapshot *s, int ifindex);
void net_link_clear(struct net_link *l);
void net_snapshot_clear(struct net_snapshot *s);

/* Appends a copy of a link (addresses included). */
void net_snapshot_add_link(struct net_snapshot *s, const struct net_link *l);

#endif
