/* Hostile TCP for tests: writes N Ethernet frames straight onto a link (AF_PACKET), each a TCP
 * SYN to one port from its own source (address and port), as fast as it can: a SYN flood, with
 * every eighth frame's TCP options made not to add up and, of every eight, two frames whose
 * headers lie about their lengths (a parser must not read past them). Sources are addresses in
 * the given /24 with no host behind them: nothing answers, nothing leaves the machine.
 *
 *   tcpflood --dev IFACE --dst-mac MAC --dst IP --dport PORT --src-net A.B.C --count N
 *
 * Prints "sent N frames: S syns (O with bad options), M malformed". Frame i is, by i % 8:
 *   0-3  a SYN with MSS, SACK permitted, timestamps and window scale (40-byte TCP header)
 *   4    a SYN with an option of length 0 (a parser that trusts it loops forever)
 *   5    a SYN with an option longer than the header
 *   6    a TCP header whose data offset (60 bytes) runs past the frame (malformed)
 *   7    an IPv4 total length shorter than its own header (malformed) */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { VARIANTS = 8, TCP_HDR = 40 };

struct target {
  uint8_t dst_mac[6];
  struct in_addr dst;
  uint16_t dport;
  unsigned net[3];
};

static uint32_t sum16(uint32_t sum, const uint8_t *h, size_t n)
{
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  return sum;
}

static uint16_t fold(uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* TCP's checksum over its pseudo-header (addresses, protocol, length) and the segment. */
static uint16_t tcp_checksum(const uint8_t *ip, const uint8_t *tcp, size_t n)
{
  uint32_t sum = sum16(0, ip + 12, 8) + IPPROTO_TCP + (uint32_t)n;
  return fold(sum16(sum, tcp, n));
}

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

/* TCP options of the variant (20 bytes). */
static void options(uint8_t *o, unsigned variant, uint32_t i)
{
  static const uint8_t good[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                   0, 0, 0,    0,    0, 0, 1, 3,  3, 7};
  memcpy(o, good, sizeof good);
  put32(o + 8, i + 1); /* TSval */
  if (variant == 4)
    o[4] = 30, o[5] = 0; /* an unknown option of length 0 */
  if (variant == 5)
    o[17] = 3, o[18] = 40; /* window scale claiming 40 bytes */
}

/* Frame i of the flood; returns its length. */
static size_t build(uint8_t *f, const struct target *t, const uint8_t src_mac[6], uint32_t i)
{
  unsigned variant = i % VARIANTS;
  memcpy(f, t->dst_mac, 6);
  memcpy(f + 6, src_mac, 6);
  put16(f + 12, ETHERTYPE_IP);
  uint8_t *ip = f + 14, *tcp = ip + 20;
  memset(ip, 0, 20 + TCP_HDR);
  ip[0] = 0x45;
  put16(ip + 2, variant == 7 ? 12 : 20 + TCP_HDR);
  ip[8] = 64;
  ip[9] = IPPROTO_TCP;
  /* A source per frame: 250 addresses, then the next port. */
  ip[12] = (uint8_t)t->net[0], ip[13] = (uint8_t)t->net[1], ip[14] = (uint8_t)t->net[2];
  ip[15] = (uint8_t)(1 + i % 250);
  memcpy(ip + 16, &t->dst, 4);
  put16(ip + 10, fold(sum16(0, ip, 20)));
  put16(tcp, (uint16_t)(1024 + (i / 250) % 64000));
  put16(tcp + 2, t->dport);
  put32(tcp + 4, i * 2654435761u); /* sequence */
  tcp[12] = (uint8_t)((variant == 6 ? 15 : TCP_HDR / 4) << 4);
  tcp[13] = 0x02; /* SYN */
  put16(tcp + 14, 64240);
  options(tcp + 20, variant, i);
  put16(tcp + 16, tcp_checksum(ip, tcp, TCP_HDR)); /* the container's kernel answers the SYNs */
  return 14 + 20 + TCP_HDR;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                &mac[5]) == 6
             ? 0
             : -1;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {{"dev", required_argument, NULL, 'd'},
                                       {"dst-mac", required_argument, NULL, 'm'},
                                       {"dst", required_argument, NULL, 'a'},
                                       {"dport", required_argument, NULL, 'p'},
                                       {"src-net", required_argument, NULL, 's'},
                                       {"count", required_argument, NULL, 'n'},
                                       {NULL, 0, NULL, 0}};
  const char *dev = NULL;
  struct target t = {0};
  long count = 0;
  int ok = 0, c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'd':
      dev = optarg, ok |= 1;
      break;
    case 'm':
      ok |= parse_mac(optarg, t.dst_mac) == 0 ? 2 : 0;
      break;
    case 'a':
      ok |= inet_pton(AF_INET, optarg, &t.dst) == 1 ? 4 : 0;
      break;
    case 'p':
      t.dport = (uint16_t)atoi(optarg), ok |= 8;
      break;
    case 's':
      ok |= sscanf(optarg, "%u.%u.%u", &t.net[0], &t.net[1], &t.net[2]) == 3 ? 16 : 0;
      break;
    case 'n':
      count = atol(optarg), ok |= 32;
      break;
    default:
      return 2;
    }
  }
  if (ok != 63 || count <= 0) {
    fprintf(stderr, "usage: tcpflood --dev IFACE --dst-mac MAC --dst IP --dport PORT "
                    "--src-net A.B.C --count N\n");
    return 2;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  unsigned ifindex = if_nametoindex(dev);
  if (fd < 0 || ifindex == 0) {
    fprintf(stderr, "tcpflood: %s: %s\n", dev, strerror(errno));
    return 1;
  }
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = (int)ifindex, .sll_halen = 6};
  memcpy(to.sll_addr, t.dst_mac, 6);
  const uint8_t src_mac[6] = {0x02, 0x6d, 0x73, 0x64, 0x66, 0x6c}; /* locally administered */
  long syns = 0, bad = 0, malformed = 0;
  uint8_t frame[128];
  for (long i = 0; i < count; i++) {
    size_t n = build(frame, &t, src_mac, (uint32_t)i);
    while (sendto(fd, frame, n, 0, (struct sockaddr *)&to, sizeof to) < 0) {
      if (errno != ENOBUFS && errno != EAGAIN) {
        fprintf(stderr, "tcpflood: send: %s\n", strerror(errno));
        return 1;
      }
      usleep(100); /* the link's queue is full: wait, nothing is lost */
    }
    unsigned v = (unsigned)(i % VARIANTS);
    syns += v < 6;
    bad += v == 4 || v == 5;
    malformed += v >= 6;
  }
  printf("sent %ld frames: %ld syns (%ld with bad options), %ld malformed\n", count, syns, bad,
         malformed);
  close(fd);
  return 0;
}
