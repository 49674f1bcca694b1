/* Counters of a container's network path over its life: the links on every path (container side
 * and the far side) and the mirred actions, sampled at an interval. Keeps the first and the last
 * sample, the peak per-interval rates, and what disappeared; checks that the two ends of each
 * veth pair agree. Pure: samples come in as snapshots. */
#ifndef MEASURED_SERIES_H
#define MEASURED_SERIES_H

#include "json.h"
#include "topology.h"

enum { NET_MAX_TRACKED = 24 };

struct net_rates {
  double rx_bytes, tx_bytes, rx_packets, tx_packets; /* per second */
};

struct net_tracked_link {
  int ns;
  int ifindex;
  char ns_label[NET_NS_LABEL_MAX];
  char name[IF_NAMESIZE];
  char role[12];
  bool seen;
  bool gone;
  unsigned gone_at_sample; /* first sample that did not find it */
  char renamed_to[IF_NAMESIZE];
  struct net_counters first, last;
  int64_t last_us;
  struct net_rates peak;
};

struct net_tracked_action {
  int ifindex;
  uint32_t parent, index;
  char dev[IF_NAMESIZE], target[IF_NAMESIZE];
  int eaction;
  bool seen, gone;
  uint64_t first_bytes, first_packets, first_drops;
  uint64_t last_bytes, last_packets, last_drops;
  int64_t last_us;
  double peak_packets, peak_bytes; /* per second */
};

struct net_series {
  struct net_tracked_link links[NET_MAX_TRACKED];
  size_t nlinks;
  struct net_tracked_action actions[NET_MAX_MIRRED];
  size_t nactions;
  unsigned samples;
  int64_t first_us, last_us;
};

/* Tracks every hop of every path and every mirred action of the topology (those already tracked
 * stay: a re-discovery adds, it does not forget). */
void net_series_track(struct net_series *s, const struct net_view *v, const struct net_topology *t);

/* Adds one sample: v->ns[i].snap holds the current counters of namespace i. */
void net_series_add(struct net_series *s, const struct net_view *v);

/* Bytes received and sent by every tracked link in its last sample: a sum that stands still when
 * nothing moves on the path. */
uint64_t net_series_bytes(const struct net_series *s);

/* {"samples":..,"links":[...],"actions":[...],"consistent":..,"veth_pairs":[...]} */
json *net_series_json(const struct net_series *s, const struct net_topology *t);

#endif
