/* Network namespaces: opening them, a netlink route socket inside one (a netlink socket stays
 * bound to the namespace it was created in), and naming the namespace a link's peer lives in. */
#ifndef MEASURED_NETNS_H
#define MEASURED_NETNS_H

#include "merr.h"

#include <stdbool.h>
#include <sys/types.h>

struct nl_sock;

/* "docker:" and a directory entry name (at most 255 bytes). */
#define NET_NS_LABEL_MAX 272

/* Opens /proc/<pid>/ns/net, or a namespace file (a bind mount such as /var/run/docker/netns/x). */
int netns_open_pid(pid_t pid, merr **err);
int netns_open_path(const char *path, merr **err);

/* True when both fds are the same namespace. */
bool netns_same(int a, int b);

/* The namespace a process that reads container ctrfd calls home (an fd): its own (ownfd), when
 * it may enter it again after leaving it. A rootless caller (capabilities in podman's user
 * namespace only) may enter the container's namespace but never come back to the host's, owned
 * by the initial user namespace: it moves into the container's for good, and that is home. */
int netns_home(int ctrfd, int ownfd);

/* A connected NETLINK_ROUTE socket in namespace nsfd. The calling thread enters nsfd for the
 * socket's creation and returns to homefd before this returns (the caller must be
 * single-threaded). */
struct nl_sock *netns_route_socket(int nsfd, int homefd, merr **err);

/* socket(domain, type | SOCK_CLOEXEC, protocol) made inside namespace nsfd (a socket stays bound
 * to the namespace it was made in); back in homefd before it returns. -1 with err. */
int netns_socket(int nsfd, int homefd, int domain, int type, int protocol, merr **err);

/* A non-blocking socket in namespace nsfd subscribed to its link notifications (a link added,
 * removed or changed), as netns_route_socket. */
struct nl_sock *netns_link_events_socket(int nsfd, int homefd, merr **err);

/* Reads every pending notification of an events socket: true when any arrived (or some were
 * lost to an overrun, which may hide one). */
bool netns_link_events_pending(struct nl_sock *events);

/* The id that the namespace of `sk` gives to namespace `nsfd` (RTM_GETNSID), -1 when none. */
int netns_id_of(struct nl_sock *sk, int nsfd);

/* A namespace other than the container's that holds a peer or parent of one of its links. */
struct netns_ref {
  int fd;
  char label[NET_NS_LABEL_MAX]; /* "host", "docker:1-s0ka9piv0j", "netns:name" */
  bool is_host;
};

/* Finds the namespace that `sk` (in the container's namespace) numbers `nsid`: the host first,
 * then Docker's and iproute2's named namespaces. 0 and *out filled when found. */
int netns_find_by_id(struct nl_sock *sk, int nsid, int hostfd, struct netns_ref *out, merr **err);

#endif
