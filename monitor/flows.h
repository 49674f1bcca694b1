/* The workload's own TCP connections, from two views joined by their addresses and ports:
 *
 *   socket view  the kernel's sockets of the container's namespace (sockdiag.h): struct
 *                tcp_info of every connection, at every dump and at its end
 *   packet view  the TCP headers on the container's own links (pktcap.h): the handshake split
 *                into its part outside the container and its part inside, round-trip times from
 *                TCP timestamps each way (a TSval and the TSecr that echoes it, as pping does),
 *                bytes, retransmitted segments, open and close
 *
 * Bounded by design: at most FLOWS_MAX connections are followed at once (a closed one is folded
 * into the aggregates and its slot reused; beyond the cap a connection is counted as untracked),
 * the distributions are fixed-size histograms, peers are kept up to FLOWS_MAX_PEERS and the top
 * FLOWS_TOP connections by bytes. Everything a container sends or makes is untrusted; nothing it
 * does grows this beyond its bounds.
 *
 * Times are CLOCK_REALTIME nanoseconds (the packet ring's clock). */
#ifndef MEASURED_FLOWS_H
#define MEASURED_FLOWS_H

#include "json.h"
#include "pktcap.h"
#include "sockdiag.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
  FLOWS_MAX = 4096,
  FLOWS_TOP = 16,
  FLOWS_PEERS_SHOWN = 16,
  FLOWS_MAX_PEERS = 256,
  FLOWS_MAX_LISTEN = 64,
  /* A closed connection is folded this long after its end: packets of it may still wait in the
   * ring. A handshake that has not completed by FLOWS_HALF_OPEN_MS failed. */
  FLOWS_GRACE_MS = 100,
  FLOWS_HALF_OPEN_MS = 3000,
};

struct flows;

struct flows *flows_new(void);
void flows_free(struct flows *f);

/* The probe's reflector (probe.md), when the container is probed: the connections to it are the
 * probe's, not the workload's. They are counted as "probe" and left out of every other figure. */
void flows_set_probe_peer(struct flows *f, const struct sockaddr_storage *peer);

/* The socket view: a dump is a begin, its sockets, an end; a destroy notification is a socket
 * on its own. Listening sockets give the ports the container serves. */
void flows_dump_begin(struct flows *f);
void flows_socket(struct flows *f, const struct tcp_sock *s, int64_t now_ns);
void flows_dump_end(struct flows *f, int64_t now_ns);
void flows_destroyed(struct flows *f, const struct tcp_sock *s, int64_t now_ns);

/* Whether the listening ports should be read again before connections are folded (one was
 * seen closing whose direction they would tell); flows_listeners_done after they were. */
bool flows_wants_listeners(const struct flows *f);
void flows_listeners_begin(struct flows *f);
void flows_listeners_done(struct flows *f);

/* Up to max established connections of the socket view whose RTT should be read again, in
 * turn (ids for sockdiag_query); their answers go to flows_socket. */
size_t flows_rtt_targets(struct flows *f, struct tcp_sock *ids, size_t max);

/* Every connection still open, by the id of its socket (for sockdiag_query; one seen only by
 * its packets has SOCKDIAG_ANY_COOKIE); fn may read them into the table (flows_socket). */
void flows_each_open(struct flows *f, sockdiag_fn *fn, void *arg);

/* The packet view. */
void flows_packet(struct flows *f, const struct tcp_pkt *p);

/* Folds the connections that ended (and failed handshakes) into the aggregates. */
void flows_tick(struct flows *f, int64_t now_ns);

/* The end: every connection folded, those still open counted as such. */
void flows_finish(struct flows *f, int64_t now_ns);

/* The record's "flows" (without "views", which the caller knows). */
json *flows_json(const struct flows *f);

/* How many connections are followed now, and were folded so far (for a live view). */
size_t flows_live(const struct flows *f);
uint64_t flows_folded(const struct flows *f);

#endif
