/* The monitor's per-connection measurement (flows.h): the sockets and the packet ring it reads
 * in the container's namespace, made before the monitor confines itself, read from its poll loop.
 *
 * Cost is bounded by design: a socket dump at the sampling interval, but never more than
 * FLOWVIEW_DUMP_DUTY of the time (a container with a hundred thousand sockets makes dumps
 * rarer, not the monitor busier); packets arrive in blocks (one wake-up per block). */
#ifndef MEASURED_FLOWVIEW_H
#define MEASURED_FLOWVIEW_H

#include "flows.h"
#include "json.h"
#include "pktcap.h"

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

/* The sockets are read at every sample (the sampling interval), and no more than
 * FLOWVIEW_DUMP_DUTY_PCT of the time goes to reading them: the kernel walks every TCP socket of
 * the host to find a namespace's, so a read costs about a millisecond whatever the container
 * holds. With nothing open and no packet since the last read, a read is skipped: an idle
 * container costs nothing. */
enum { FLOWVIEW_DUMP_DUTY_PCT = 5, FLOWVIEW_MAX_POLLFDS = 2 };

/* Between dumps, the smoothed RTT of open connections is read one socket at a time (a hash
 * lookup in the kernel, some microseconds): FLOWVIEW_RTT_SOCKETS of them, in turn, every
 * FLOWVIEW_RTT_MS. */
enum { FLOWVIEW_RTT_MS = 100, FLOWVIEW_RTT_SOCKETS = 16 };

/* The sockets and the ring are read at most every FLOWVIEW_READ_MS: under a load of thousands
 * of connections a second, a wake-up per close would cost more than the reading (the closes wait
 * in the socket's buffer, the packets in the ring's blocks, which hold far more than that). */
enum { FLOWVIEW_READ_MS = 10 };

struct flowview {
  bool on; /* at all */
  char *why_off;
  struct flows *flows;
  /* socket view */
  bool socket_on, socket_failed; /* failed: it was to run and could not (not by design) */
  char *socket_why;
  int dump_fd, destroy_fd;
  uint64_t dumps, dumps_deferred, dumps_idle, destroyed_seen;
  uint64_t packets_at_dump, destroyed_at_dump;
  bool destroy_lost;
  int64_t next_dump_ns, dump_cost_ns;
  int64_t next_rtt_ns;
  uint64_t rtt_reads;
  int64_t next_read_ns; /* no reading before (FLOWVIEW_READ_MS) */
  /* packet view */
  bool packet_on, packet_failed;
  char *packet_why;
  struct pktcap cap;
  char link_names[PKTCAP_MAX_LINKS][16];
  int links[PKTCAP_MAX_LINKS];
  size_t nlinks;
  uint64_t packets, dropped, malformed;
};

struct flowview_options {
  bool on;
  const char *why_off; /* why not, when !on */
  bool socket_view;    /* false: the workload's sockets are not in this namespace's kernel */
  const char *socket_why;
  const int *links; /* the container's own links (ifindexes) the packet view reads */
  const char *const *link_names;
  size_t nlinks;
  const struct sockaddr_storage *probe_peer; /* the probe's reflector, NULL when not probed */
};

/* Opens what the options ask for in namespace nsfd; a view that cannot be opened is off, with
 * why (never an error: the container is not affected). */
void flowview_open(struct flowview *v, int nsfd, int homefd, const struct flowview_options *o);

/* The container's links changed: the packet view follows them. */
void flowview_set_links(struct flowview *v, const int *links, const char *const *names, size_t n);

/* The descriptors to poll (POLLIN); returns how many were put in p[0..]: none until the next
 * read is due (flowview_timeout_ms says when). */
size_t flowview_pollfds(const struct flowview *v, struct pollfd *p);

/* Reads what is pending on them (non-blocking), and folds what ended; nothing before the next
 * read is due. */
void flowview_read(struct flowview *v);

/* A socket dump (at a sample), when the duty budget allows and something may have changed;
 * force: now. */
void flowview_dump(struct flowview *v, bool force);

/* Milliseconds until the next read or fold is due, -1 when nothing is open or waits. */
int flowview_timeout_ms(const struct flowview *v);

/* The container ended: what is left is read, every connection folded. */
void flowview_finish(struct flowview *v);

/* {"views": {"socket": {...}, "packet": {...}}, ...the flows} or {"views": ..} when off. */
json *flowview_json(const struct flowview *v);

void flowview_close(struct flowview *v);

#endif
