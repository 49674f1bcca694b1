/* Which Docker network driver a container uses, and the whole path its traffic takes, from
 * snapshots of its namespace and of the namespaces its links lead to. Pure: no netlink here.
 *
 *   bridge         container eth0 -> host vethXXX -> bridge docker0 (or br-<id>)
 *   overlay        container eth0 -> docker:1-<id> veth1 -> bridge br0 -> vxlan vxlan0 (vni N)
 *   macvlan        container eth0 (macvlan bridge) -> host parent
 *   ipvlan         container eth0 (ipvlan l2) -> host parent
 *   kata-tcfilter  container tap0_kata =mirred=> container eth0 -> host vethXXX -> bridge docker0
 *                  (a veth and a tap*_kata joined by ingress mirred redirects both ways)
 *   none           loopback only
 *   host           no namespace of its own (decided by the caller, from the spec)
 *   unknown        anything else; the links seen are still listed */
#ifndef MEASURED_TOPOLOGY_H
#define MEASURED_TOPOLOGY_H

#include "netns.h"
#include "netsnap.h"

enum { NET_MAX_NS = 8, NET_MAX_HOPS = 6, NET_MAX_PATHS = 8, NET_MAX_MIRRED = 16 };

/* A namespace of the view: [0] is the container's, the others hold peers and parents. */
struct net_nsview {
  char label[NET_NS_LABEL_MAX]; /* "container", "host", "docker:1-s0ka9piv0j" */
  bool is_host;
  int nsid; /* the id the container's namespace gives it; -1 for the container's own */
  struct net_snapshot snap;
};

struct net_view {
  struct net_nsview ns[NET_MAX_NS];
  size_t nns;
};

struct net_hop {
  int ns; /* index into the view */
  int ifindex;
  char name[IF_NAMESIZE];
  char kind[32];
  char role[12]; /* "tap", "container", "peer", "bridge", "vxlan", "parent", "loopback" */
};

struct net_path {
  char driver[24];
  struct net_hop hops[NET_MAX_HOPS];
  size_t nhops;
  bool mirred_first; /* hops[0] -> hops[1] is a tc mirred redirect pair, not a wire */
};

/* A mirred action on a container link. */
struct net_mirred {
  int ifindex; /* the link whose filter holds it */
  char dev[IF_NAMESIZE];
  uint32_t parent, index;
  int eaction;
  int target_ifindex;
  char target[IF_NAMESIZE];
};

struct net_topology {
  char driver[24];
  char underlay[24]; /* for kata-tcfilter: the driver of the veth side */
  char relay[16];    /* for a user-space TAP: the process that reads it, "" when unknown */
  int relay_pid;
  struct net_path paths[NET_MAX_PATHS];
  size_t npaths;
  struct net_mirred mirred[NET_MAX_MIRRED];
  size_t nmirred;
  char note[192]; /* what could not be followed, in words */
};

void net_classify(const struct net_view *v, struct net_topology *out);

/* "container eth0 -> host veth1 -> bridge docker0" */
char *net_path_text(const struct net_view *v, const struct net_path *p);

/* "egress redirect", "ingress mirror", ... */
const char *net_mirred_direction(int eaction);
const char *net_mirred_mode(int eaction);

/* The namespace of the view the container calls nsid, -1 when not in the view. */
int net_view_ns_by_id(const struct net_view *v, int nsid);

void net_view_clear(struct net_view *v);

#endif
