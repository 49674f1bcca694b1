/* The packet view's source: TCP headers of a container's own links, read passively through an
 * AF_PACKET socket made in its network namespace (a TPACKET_V3 ring, so that a burst costs one
 * wake-up per block, not per packet), with a classic BPF filter that keeps TCP over IPv4 and
 * IPv6 on the links asked for and cuts every packet to its headers. What the frames hold is the
 * container's to choose: every header is checked against the frame's length before it is read. */
#ifndef MEASURED_PKTCAP_H
#define MEASURED_PKTCAP_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  PKTCAP_SNAPLEN = 136, /* Ethernet (14), IPv4 with options (60; IPv6: 40), TCP with options (60) */
  PKTCAP_MAX_LINKS = 8,
  TCP_FIN = 0x01,
  TCP_SYN = 0x02,
  TCP_RST = 0x04,
  TCP_ACK = 0x10,
};

struct tcp_pkt {
  int64_t ts_ns; /* when the kernel saw it */
  bool outgoing; /* sent by the container (else received) */
  int ifindex;
  uint8_t family; /* AF_INET, AF_INET6 */
  uint8_t src[16], dst[16];
  uint16_t sport, dport;
  uint8_t flags;
  uint32_t seq, ack;
  uint32_t payload; /* TCP payload bytes (from the IP header: the frame is cut) */
  uint16_t mss;     /* the maximum segment size option (a SYN's), 0 when absent */
  bool has_ts;      /* the timestamps option */
  bool bad_options; /* options that do not add up (ignored, the packet still counts) */
};

struct pktcap {
  int fd;
  uint8_t *ring;
  size_t ring_size, block_size;
  unsigned nblocks, next;
};

/* Opens the capture in namespace nsfd for the links ifindex[0..n) (their traffic only). */
int pktcap_open(int nsfd, int homefd, const int *ifindex, size_t n, struct pktcap *p, merr **err);

/* Changes the links captured (after a change of the container's path). */
int pktcap_set_links(struct pktcap *p, const int *ifindex, size_t n, merr **err);

typedef void pktcap_fn(const struct tcp_pkt *pkt, void *arg);

/* Hands every captured TCP packet of the ready blocks to fn, and gives the blocks back; returns
 * how many packets, malformed frames aside (counted in *malformed). Never blocks. */
size_t pktcap_read(struct pktcap *p, pktcap_fn *fn, void *arg, uint64_t *malformed);

/* Packets the kernel dropped since the last call because the ring was full. */
uint64_t pktcap_drops(struct pktcap *p);

void pktcap_close(struct pktcap *p);

/* Parses one Ethernet frame (caplen bytes of it, wirelen on the wire); false when it is not TCP
 * over IPv4 or IPv6, or its headers do not fit. Exposed for the tests and the fuzzer. */
bool pktcap_parse(const uint8_t *frame, size_t caplen, size_t wirelen, struct tcp_pkt *out);

#endif
