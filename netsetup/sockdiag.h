/* The TCP sockets of a network namespace, through NETLINK_SOCK_DIAG (inet_diag), as `ss` reads
 * them: a dump of the sockets there with their struct tcp_info, and the kernel's notifications of
 * sockets destroyed, each with its final tcp_info (what `ss -E` prints), so that a connection
 * that opens and closes between two dumps is still seen whole.
 *
 * Parsed with libnl's attribute helpers on a raw socket: libnl-idiag-3 cannot subscribe to the
 * destroy groups, and its tcp_info lacks the fields of newer kernels (delivery rate, min RTT). */
#ifndef MEASURED_SOCKDIAG_H
#define MEASURED_SOCKDIAG_H

#include "merr.h"

#include <stdbool.h>
#include <stdint.h>

struct tcp_sock {
  uint8_t family;           /* AF_INET, AF_INET6 */
  uint8_t state;            /* TCP_ESTABLISHED, TCP_LISTEN, ... (netinet/tcp.h) */
  uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
  uint16_t sport, dport;    /* host order */
  uint64_t cookie;          /* the kernel's id of the socket */
  bool has_info;
  /* From struct tcp_info (0 where the kernel has no such field). */
  uint32_t rtt_us, rttvar_us, min_rtt_us, snd_mss;
  uint32_t segs_out, segs_in, total_retrans;
  uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans, delivery_rate;
};

enum { SOCKDIAG_DESTROY_BUF = 8 << 20 };
/* A cookie that matches any socket (the kernel's INET_DIAG_NOCOOKIE in both halves). */
#define SOCKDIAG_ANY_COOKIE UINT64_MAX

/* A NETLINK_SOCK_DIAG socket made in namespace nsfd (see netns_socket); with destroy_events,
 * non-blocking and subscribed to the TCP destroy groups of IPv4 and IPv6. */
int sockdiag_open(int nsfd, int homefd, bool destroy_events, merr **err);

typedef void sockdiag_fn(const struct tcp_sock *s, void *arg);

/* Every TCP socket of the namespace in one of `states` (a bit per TCP state), IPv4 and IPv6. */
int sockdiag_dump(int fd, uint32_t states, sockdiag_fn *fn, void *arg, merr **err);

/* One socket, by its addresses, ports and cookie (as a dump gave them): 1 when it was found (and
 * given to fn), 0 when it is gone. A hash lookup in the kernel, where a dump walks every TCP
 * socket of the host. */
int sockdiag_query(int fd, const struct tcp_sock *id, sockdiag_fn *fn, void *arg, merr **err);
/* The pending destroy notifications; returns how many were read, -1 when some were lost to an
 * overrun (those read are still given to fn). */
int sockdiag_read_destroyed(int fd, sockdiag_fn *fn, void *arg);

/* Parses one inet_diag message (a dump's or a notification's); false when it is not one. */
bool sockdiag_parse(const void *nlmsg, size_t len, struct tcp_sock *out);

#endif
