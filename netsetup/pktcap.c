#include "pktcap.h"
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  BLOCK_SIZE = 256 << 10, /* a ring of 1 MiB: bounded memory, a wake-up per block */
  NBLOCKS = 4,
  FRAME_SIZE = 2048,
  BLOCK_TIMEOUT_MS = 20, /* a block with packets is handed over at least this often */
  MAX_PROG = PKTCAP_MAX_LINKS + 12,
};

/* TCP over IPv4 or IPv6 on the links asked for, cut to PKTCAP_SNAPLEN bytes; nothing else. */
static int attach_filter(int fd, const int *ifindex, size_t n, merr **err)
{
  struct sock_filter code[MAX_PROG];
  size_t k = 0;
  if (n == 0 || n > PKTCAP_MAX_LINKS) {
    code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  } else {
    code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX);
    for (size_t i = 1; i <= n; i++)
      code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ifindex[i - 1],
                                               (uint8_t)(n + 1 - i), 0);
    code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0); /* another link */
    code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
    code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 2);
    code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23);
    code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 3, 4);
    code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 3);
    code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20);
    code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 1);
    code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, PKTCAP_SNAPLEN);
    code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  }
  struct sock_fprog prog = {.len = (unsigned short)k, .filter = code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return merr_set(err, errno, "packet filter");
  return 0;
}

int pktcap_set_links(struct pktcap *p, const int *ifindex, size_t n, merr **err)
{
  return attach_filter(p->fd, ifindex, n, err);
}

static int setup_ring(struct pktcap *p, merr **err)
{
  int version = TPACKET_V3;
  if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0)
    return merr_set(err, errno, "TPACKET_V3");
  struct tpacket_req3 req = {.tp_block_size = BLOCK_SIZE,
                             .tp_block_nr = NBLOCKS,
                             .tp_frame_size = FRAME_SIZE,
                             .tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * NBLOCKS,
                             .tp_retire_blk_tov = BLOCK_TIMEOUT_MS};
  if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
    return merr_set(err, errno, "packet ring");
  p->block_size = BLOCK_SIZE;
  p->nblocks = NBLOCKS;
  p->ring_size = (size_t)BLOCK_SIZE * NBLOCKS;
  p->ring = mmap(NULL, p->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, p->fd, 0);
  if (p->ring == MAP_FAILED) /* without MAP_LOCKED, where RLIMIT_MEMLOCK is small */
    p->ring = mmap(NULL, p->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
  if (p->ring == MAP_FAILED) {
    p->ring = NULL;
    return merr_set(err, errno, "map the packet ring");
  }
  return 0;
}

int pktcap_open(int nsfd, int homefd, const int *ifindex, size_t n, struct pktcap *p, merr **err)
{
  memset(p, 0, sizeof *p);
  /* Protocol 0 until the filter is in place: nothing unfiltered is ever queued. */
  p->fd = netns_socket(nsfd, homefd, AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0, err);
  if (p->fd < 0)
    return -1;
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
  if (attach_filter(p->fd, ifindex, n, err) < 0 || setup_ring(p, err) < 0 ||
      (bind(p->fd, (struct sockaddr *)&sll, sizeof sll) < 0 &&
       merr_set(err, errno, "bind the packet socket") < 0)) {
    pktcap_close(p);
    return -1;
  }
  return 0;
}

void pktcap_close(struct pktcap *p)
{
  if (p->ring)
    munmap(p->ring, p->ring_size);
  if (p->fd > 0)
    close(p->fd);
  memset(p, 0, sizeof *p);
  p->fd = -1;
}

uint64_t pktcap_drops(struct pktcap *p)
{
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
    return 0;
  return st.tp_drops; /* the kernel resets the counts on every read */
}

static uint16_t get16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The maximum segment size (kind 2, length 4) and timestamps (kind 8, length 10) options;
 * false when the options do not add up. */
static bool parse_options(const uint8_t *o, size_t len, struct tcp_pkt *out)
{
  for (size_t i = 0; i < len;) {
    uint8_t kind = o[i];
    if (kind == 0) /* end of options */
      return true;
    if (kind == 1) { /* no-op */
      i++;
      continue;
    }
    if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
      return false;
    if (kind == 2 && o[i + 1] == 4)
      out->mss = get16(o + i + 2);
    if (kind == 8 && o[i + 1] == 10)
      out->has_ts = true; /* 12 bytes of every segment's room (segments()) */
    i += o[i + 1];
  }
  return true;
}

/* The IP header at ip (avail bytes of it): the addresses, and where TCP starts. */
static bool parse_ip(const uint8_t *ip, size_t avail, size_t wire, struct tcp_pkt *out,
                     size_t *tcp_off, size_t *tcp_total)
{
  if (out->family == AF_INET) {
    if (avail < 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
      return false;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = get16(ip + 2);
    if (ihl < 20 || ihl > avail)
      return false;
    if (total == 0) /* a large GSO packet: the length is the frame's */
      total = wire;
    if (total < ihl)
      return false;
    if ((get16(ip + 6) & 0x1fff) != 0)
      return false; /* a later fragment: no TCP header */
    memcpy(out->src, ip + 12, 4);
    memcpy(out->dst, ip + 16, 4);
    *tcp_off = ihl;
    *tcp_total = total - ihl;
    return true;
  }
  if (avail < 40 || (ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP)
    return false; /* extension headers are not followed */
  size_t total = get16(ip + 4);
  if (total == 0)
    total = wire >= 40 ? wire - 40 : 0;
  memcpy(out->src, ip + 8, 16);
  memcpy(out->dst, ip + 24, 16);
  *tcp_off = 40;
  *tcp_total = total;
  return true;
}

bool pktcap_parse(const uint8_t *frame, size_t caplen, size_t wirelen, struct tcp_pkt *out)
{
  memset(out, 0, sizeof *out);
  if (caplen < 14 || wirelen < caplen)
    return false;
  uint16_t type = get16(frame + 12);
  out->family = type == ETH_P_IP ? AF_INET : type == ETH_P_IPV6 ? AF_INET6 : 0;
  if (out->family == 0)
    return false;
  const uint8_t *ip = frame + 14;
  size_t off, tcp_total;
  if (!parse_ip(ip, caplen - 14, wirelen - 14, out, &off, &tcp_total))
    return false;
  if (off + 20 > caplen - 14)
    return false;
  const uint8_t *tcp = ip + off;
  size_t doff = (size_t)(tcp[12] >> 4) * 4;
  if (doff < 20 || doff > tcp_total)
    return false;
  out->sport = get16(tcp);
  out->dport = get16(tcp + 2);
  out->seq = get32(tcp + 4);
  out->ack = get32(tcp + 8);
  out->flags = tcp[13];
  out->payload = (uint32_t)(tcp_total - doff);
  size_t have = caplen - 14 - off; /* of the TCP header, what was captured */
  size_t opts = (doff < have ? doff : have) - 20;
  out->bad_options = !parse_options(tcp + 20, opts, out);
  return true;
}

size_t pktcap_read(struct pktcap *p, pktcap_fn *fn, void *arg, uint64_t *malformed)
{
  size_t count = 0;
  for (unsigned seen = 0; seen < p->nblocks; seen++) {
    struct tpacket_block_desc *bd = (void *)(p->ring + (size_t)p->next * p->block_size);
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
      break;
    uint8_t *at = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < bd->hdr.bh1.num_pkts; i++) {
      const struct tpacket3_hdr *h = (const void *)at;
      const struct sockaddr_ll *sll =
          (const void *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
      struct tcp_pkt pkt;
      if (pktcap_parse((const uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len, &pkt)) {
        pkt.ts_ns = (int64_t)h->tp_sec * 1000000000 + h->tp_nsec;
        pkt.outgoing = sll->sll_pkttype == PACKET_OUTGOING;
        pkt.ifindex = sll->sll_ifindex;
        fn(&pkt, arg);
        count++;
      } else if (malformed) {
        (*malformed)++;
      }
      at += h->tp_next_offset;
    }
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    p->next = (p->next + 1) % p->nblocks;
  }
  return count;
}
