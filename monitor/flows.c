#include "flows.h"
#include "histogram.h"
#include "rtt_pool.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

enum { HASH_SLOTS = FLOWS_MAX * 2, TIMED_SEGMENTS = 4 };
enum direction { DIR_UNKNOWN, DIR_ACCEPTED, DIR_OPENED };

static const char *const direction_names[] = {"unknown", "accepted", "opened"};

/* A connection as the container sees it: local is its side. */
struct flow_key {
  uint8_t family;
  uint16_t lport, rport;
  uint8_t local[16], remote[16];
};

/* Data segments sent one way, timed until the other way acknowledges them: up to
 * TIMED_SEGMENTS at once (a slot frees when an ACK covers its segment). */
struct timed_segments {
  uint32_t end[TIMED_SEGMENTS]; /* the sequence number after the segment's last byte */
  int64_t ns[TIMED_SEGMENTS];   /* when it was seen; 0: the slot is free */
};

struct flow {
  struct flow_key key;
  bool used;
  uint8_t direction;
  /* SYNs and SYN/ACKs seen (one sent again makes the handshake's times ambiguous) */
  uint8_t syn_out, syn_in, synacks;
  bool established, fin_out, fin_in, rst, by_socket, by_packet, socket_gone, half_open_failed;
  uint8_t socket_state;  /* the last TCP state the socket view saw */
  uint8_t socket_family; /* and the socket's own family (an IPv6 socket may carry IPv4) */
  uint64_t cookie;       /* the kernel's id of the socket */
  int64_t first_ns, last_ns, closed_ns;
  int64_t syn_ns, synack_ns;
  int32_t hs_outside_us, hs_inside_us; /* -1: not measured */
  /* socket view */
  uint32_t rtt_us, rttvar_us, min_rtt_us, total_retrans, segs_out, segs_in;
  uint64_t bytes_acked, bytes_received, delivery_rate;
  /* packet view */
  uint64_t bytes_out, bytes_in;
  uint32_t pkts_out, pkts_in, retrans_out;
  uint32_t high_seq_out, high_seq_in;
  bool have_seq_out, have_seq_in;
  uint16_t mss_local, mss_remote; /* what each end's SYN announced */
  struct timed_segments timed_out, timed_in;
  struct p2_median rtt_out, rtt_in;
  uint32_t rtt_out_n, rtt_in_n;
  uint8_t rtt_slot; /* its slot of the round trips' pool (rtt_pool.h), 0: the P² medians only */
  bool probe;       /* to the probe's reflector: measured's own, not the workload's */
  struct p2_median srtt; /* the kernel's smoothed RTT at every read of the socket */
};

/* What is kept of a folded connection for the record's top list. */
struct flow_summary {
  struct flow_key key;
  uint8_t direction;
  bool by_socket, by_packet, failed, open_at_end;
  int64_t first_ns, duration_us;
  uint64_t bytes_sent, bytes_received;
  uint32_t segs_out, segs_in, retransmits;
  uint32_t rtt_us, rttvar_us, min_rtt_us;
  uint64_t delivery_rate;
  /* the packet view's own figures */
  uint64_t pkt_bytes_out, pkt_bytes_in;
  uint32_t pkts_out, pkts_in, pkt_retrans_out;
  float pkt_rtt_outside_us, pkt_rtt_inside_us;
  uint32_t pkt_rtt_outside_n, pkt_rtt_inside_n;
  bool pkt_rtt_from_histogram; /* the medians: the pool's histograms, or else P² */
  int32_t hs_outside_us, hs_inside_us;
};

struct peer {
  uint8_t family, direction;
  uint8_t addr[16];
  uint16_t port; /* the remote port (opened) or the local port (accepted) */
  uint64_t connections, bytes_sent, bytes_received, retransmits, failed;
  double rtt_sum_us;
  uint64_t rtt_n;
};

struct flows {
  uint64_t seed;     /* of the hash (key_hash) */
  struct flow *flow; /* FLOWS_MAX of them */
  uint32_t *slot;    /* hash index: flow index + 1, 0 when empty */
  uint32_t *free;    /* stack of free flow indexes */
  size_t nfree, live;
  /* listening ports: the current set and the one a dump is building */
  uint16_t listen[FLOWS_MAX_LISTEN], listen_next[FLOWS_MAX_LISTEN];
  size_t nlisten, nlisten_next;
  bool listen_overflow, wants_listeners;
  bool nlisten_known; /* the listening ports were read at least once */
  /* aggregates */
  uint64_t folded, accepted, opened, unknown, failed, open_at_end, untracked;
  uint64_t bytes_sent, bytes_received, retransmits, segments_out;
  struct histogram rtt, min_rtt, pkt_outside, pkt_inside, hs_outside, hs_inside, duration, goodput;
  struct rtt_pool *rtt_pool;  /* exact per-connection round trips, for a few at once */
  struct flow_key probe_peer; /* family 0: no probe (only family, remote and rport used) */
  uint64_t probe_connections;
  struct peer *peers; /* FLOWS_MAX_PEERS */
  size_t npeers;
  uint64_t other_peers_connections;
  struct flow_summary top[FLOWS_TOP]; /* a min-heap on bytes */
  size_t ntop;
  size_t used_below; /* no flow was ever kept at this index or above */
  size_t rtt_cursor; /* where flows_rtt_targets goes on */
};

/* The timestamps option with its padding: what it takes from every segment's payload. */
#define TCP_TS_OPTION_SPACE 12u

/* ---- keys ---- */

/* ::ffff:a.b.c.d from an IPv6 socket is the IPv4 a.b.c.d the packets carry. */
static void normalize(struct flow_key *k)
{
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (k->family == AF_INET6 && memcmp(k->local, mapped, 12) == 0 &&
      memcmp(k->remote, mapped, 12) == 0) {
    k->family = AF_INET;
    memmove(k->local, k->local + 12, 4);
    memmove(k->remote, k->remote + 12, 4);
  }
  if (k->family == AF_INET) {
    memset(k->local + 4, 0, 12);
    memset(k->remote + 4, 0, 12);
  }
}

static uint64_t word(const uint8_t *p)
{
  uint64_t w;
  memcpy(&w, p, sizeof w);
  return w;
}

/* A multiply-xorshift mix of the key's words: a few instructions a packet, where a byte-wise
 * hash was a sixth of the monitor's time under load. The addresses and ports are the container's
 * to choose: a secret seed per table keeps it from choosing keys that collide (a long probe for
 * every packet), and the final avalanche (as in MurmurHash3's fmix64) spreads every bit. */
static uint32_t key_hash(const struct flows *f, const struct flow_key *k)
{
  uint64_t h = f->seed ^ ((uint64_t)k->family << 32 | (uint64_t)k->lport << 16 | k->rport);
  const uint64_t words[4] = {word(k->local), word(k->local + 8), word(k->remote),
                             word(k->remote + 8)};
  for (int i = 0; i < 4; i++)
    h = (h ^ words[i]) * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return (uint32_t)h;
}

static bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
  return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
         memcmp(a->local, b->local, 16) == 0 && memcmp(a->remote, b->remote, 16) == 0;
}

static struct flow_key socket_key(const struct tcp_sock *s)
{
  struct flow_key k = {.family = s->family, .lport = s->sport, .rport = s->dport};
  memcpy(k.local, s->src, 16);
  memcpy(k.remote, s->dst, 16);
  normalize(&k);
  return k;
}

static struct flow_key packet_key(const struct tcp_pkt *p)
{
  struct flow_key k = {.family = p->family};
  if (p->outgoing) {
    k.lport = p->sport;
    k.rport = p->dport;
    memcpy(k.local, p->src, 16);
    memcpy(k.remote, p->dst, 16);
  } else {
    k.lport = p->dport;
    k.rport = p->sport;
    memcpy(k.local, p->dst, 16);
    memcpy(k.remote, p->src, 16);
  }
  normalize(&k);
  return k;
}

/* ---- the table ---- */

struct flows *flows_new(void)
{
  struct flows *f = xzalloc(sizeof *f);
  if (getrandom(&f->seed, sizeof f->seed, GRND_NONBLOCK) != sizeof f->seed)
    f->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
  /* Memory follows the connections really followed. */
  f->flow = xmap_zeroed(FLOWS_MAX * sizeof *f->flow);
  f->slot = xzalloc(HASH_SLOTS * sizeof *f->slot);
  f->free = xzalloc(FLOWS_MAX * sizeof *f->free);
  f->peers = xzalloc(FLOWS_MAX_PEERS * sizeof *f->peers);
  f->rtt_pool = rtt_pool_new();
  for (size_t i = 0; i < FLOWS_MAX; i++)
    f->free[i] = (uint32_t)(FLOWS_MAX - 1 - i);
  f->nfree = FLOWS_MAX;
  return f;
}

void flows_free(struct flows *f)
{
  if (f == NULL)
    return;
  xunmap(f->flow, FLOWS_MAX * sizeof *f->flow);
  free(f->slot);
  free(f->free);
  free(f->peers);
  rtt_pool_free(f->rtt_pool);
  free(f);
}

static struct flow *lookup(struct flows *f, const struct flow_key *k)
{
  for (uint32_t i = key_hash(f, k) % HASH_SLOTS;; i = (i + 1) % HASH_SLOTS) {
    if (f->slot[i] == 0)
      return NULL;
    struct flow *fl = &f->flow[f->slot[i] - 1];
    if (key_eq(&fl->key, k))
      return fl;
  }
}

static bool is_probe(const struct flows *f, const struct flow_key *k)
{
  return f->probe_peer.family && k->family == f->probe_peer.family &&
         k->rport == f->probe_peer.rport && memcmp(k->remote, f->probe_peer.remote, 16) == 0;
}

void flows_set_probe_peer(struct flows *f, const struct sockaddr_storage *peer)
{
  struct flow_key k = {.family = (uint8_t)peer->ss_family};
  if (peer->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
    memcpy(k.remote, &in->sin_addr, 4);
    k.rport = ntohs(in->sin_port);
  } else if (peer->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
    memcpy(k.remote, &in6->sin6_addr, 16);
    k.rport = ntohs(in6->sin6_port);
  } else {
    return;
  }
  f->probe_peer = k;
}

/* A new connection, or NULL when FLOWS_MAX are followed already. */
static struct flow *insert(struct flows *f, const struct flow_key *k, int64_t now_ns)
{
  if (f->nfree == 0)
    return NULL;
  uint32_t idx = f->free[--f->nfree];
  struct flow *fl = &f->flow[idx];
  memset(fl, 0, sizeof *fl);
  fl->key = *k;
  fl->used = true;
  fl->probe = is_probe(f, k);
  fl->first_ns = fl->last_ns = now_ns;
  fl->hs_outside_us = fl->hs_inside_us = -1;
  uint32_t i = key_hash(f, k) % HASH_SLOTS;
  while (f->slot[i])
    i = (i + 1) % HASH_SLOTS;
  f->slot[i] = idx + 1;
  f->live++;
  if (idx >= f->used_below)
    f->used_below = idx + 1;
  return fl;
}

/* Removes from the index with a backward shift (linear probing keeps no tombstones). */
static void unindex(struct flows *f, struct flow *fl)
{
  uint32_t idx = (uint32_t)(fl - f->flow);
  uint32_t i = key_hash(f, &fl->key) % HASH_SLOTS;
  while (f->slot[i] != idx + 1)
    i = (i + 1) % HASH_SLOTS;
  for (uint32_t j = (i + 1) % HASH_SLOTS; f->slot[j]; j = (j + 1) % HASH_SLOTS) {
    uint32_t home = key_hash(f, &f->flow[f->slot[j] - 1].key) % HASH_SLOTS;
    /* Move j back to i when i lies on j's probe path (from home to j, cyclically). */
    bool on_path = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (on_path) {
      f->slot[i] = f->slot[j];
      i = j;
    }
  }
  f->slot[i] = 0;
  rtt_pool_give_back(f->rtt_pool, fl->rtt_slot);
  fl->rtt_slot = 0;
  fl->used = false;
  f->free[f->nfree++] = idx;
  f->live--;
}

/* ---- folding ---- */

static int64_t flow_end(const struct flow *fl)
{
  return fl->closed_ns ? fl->closed_ns : fl->last_ns;
}

static bool flow_failed(const struct flow *fl)
{
  if (fl->half_open_failed)
    return true;
  bool handshake_only = !fl->established && (fl->syn_out || fl->syn_in || fl->synacks);
  bool socket_never_up = fl->by_socket && !fl->established &&
                         (fl->socket_state == TCP_SYN_SENT || fl->socket_state == TCP_SYN_RECV);
  return (handshake_only && (fl->rst || fl->closed_ns)) || socket_never_up;
}

/* A series' median: from the pool's histogram when the connection has a slot. */
static float rtt_median(struct rtt_pool *pool, const struct flow *fl, bool inside)
{
  if (fl->rtt_slot)
    return (float)hist_quantile(rtt_pool_series(pool, fl->rtt_slot, inside), 0.5);
  return p2_value(inside ? &fl->rtt_in : &fl->rtt_out);
}

static void summarize(struct rtt_pool *pool, const struct flow *fl, struct flow_summary *s)
{
  memset(s, 0, sizeof *s);
  s->key = fl->key;
  s->direction = fl->direction;
  s->by_socket = fl->by_socket;
  s->by_packet = fl->by_packet;
  s->failed = flow_failed(fl);
  s->first_ns = fl->syn_ns ? fl->syn_ns : fl->first_ns;
  int64_t end = flow_end(fl);
  s->duration_us = end > s->first_ns ? (end - s->first_ns) / 1000 : 0;
  /* The socket view counts what the kernel delivered; without it, the packets' payload. */
  s->bytes_sent = fl->by_socket && fl->bytes_acked ? fl->bytes_acked : fl->bytes_out;
  s->bytes_received = fl->by_socket && fl->bytes_received ? fl->bytes_received : fl->bytes_in;
  s->segs_out = fl->by_socket ? fl->segs_out : fl->pkts_out;
  s->segs_in = fl->by_socket ? fl->segs_in : fl->pkts_in;
  s->retransmits = fl->by_socket ? fl->total_retrans : fl->retrans_out;
  /* TCP's own RTT (a segment to its ACK): the median of what the dumps and the end saw, as the
   * last smoothed value alone depends on how the connection closed. */
  s->rtt_us = fl->srtt.n ? p2_value_u32(&fl->srtt) : fl->rtt_us;
  s->rttvar_us = fl->rttvar_us;
  s->min_rtt_us = fl->min_rtt_us;
  s->delivery_rate = fl->delivery_rate;
  s->pkt_bytes_out = fl->bytes_out;
  s->pkt_bytes_in = fl->bytes_in;
  s->pkts_out = fl->pkts_out;
  s->pkts_in = fl->pkts_in;
  s->pkt_retrans_out = fl->retrans_out;
  s->pkt_rtt_outside_us = rtt_median(pool, fl, false);
  s->pkt_rtt_inside_us = rtt_median(pool, fl, true);
  s->pkt_rtt_from_histogram = fl->rtt_slot != 0;
  s->pkt_rtt_outside_n = fl->rtt_out_n;
  s->pkt_rtt_inside_n = fl->rtt_in_n;
  s->hs_outside_us = fl->hs_outside_us;
  s->hs_inside_us = fl->hs_inside_us;
}

static uint64_t summary_bytes(const struct flow_summary *s)
{
  return s->bytes_sent + s->bytes_received;
}

/* The FLOWS_TOP connections with the most bytes: a min-heap, its least at [0]. */
static void heap_down(struct flow_summary *h, size_t n, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && summary_bytes(&h[l]) < summary_bytes(&h[m]))
      m = l;
    if (r < n && summary_bytes(&h[r]) < summary_bytes(&h[m]))
      m = r;
    if (m == i)
      return;
    struct flow_summary t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

static void keep_top(struct flows *f, const struct flow_summary *s)
{
  if (f->ntop < FLOWS_TOP) {
    size_t i = f->ntop++;
    f->top[i] = *s;
    while (i > 0 && summary_bytes(&f->top[(i - 1) / 2]) > summary_bytes(&f->top[i])) {
      struct flow_summary t = f->top[i];
      f->top[i] = f->top[(i - 1) / 2];
      f->top[(i - 1) / 2] = t;
      i = (i - 1) / 2;
    }
  } else if (summary_bytes(s) > summary_bytes(&f->top[0])) {
    f->top[0] = *s;
    heap_down(f->top, f->ntop, 0);
  }
}

/* Who the container talks to: the remote address and port of the connections it opens, the
 * remote address and its own port of those it accepts. */
static void add_to_peer(struct flows *f, const struct flow_summary *s)
{
  uint16_t port = s->direction == DIR_ACCEPTED ? s->key.lport : s->key.rport;
  struct peer *p = NULL;
  for (size_t i = 0; i < f->npeers && p == NULL; i++)
    if (f->peers[i].family == s->key.family && f->peers[i].port == port &&
        f->peers[i].direction == s->direction && memcmp(f->peers[i].addr, s->key.remote, 16) == 0)
      p = &f->peers[i];
  if (p == NULL && f->npeers == FLOWS_MAX_PEERS) {
    f->other_peers_connections++;
    return;
  }
  if (p == NULL) {
    p = &f->peers[f->npeers++];
    p->family = s->key.family;
    p->direction = s->direction;
    p->port = port;
    memcpy(p->addr, s->key.remote, 16);
  }
  p->connections++;
  p->failed += s->failed;
  p->bytes_sent += s->bytes_sent;
  p->bytes_received += s->bytes_received;
  p->retransmits += s->retransmits;
  if (s->rtt_us || s->pkt_rtt_outside_n) {
    p->rtt_sum_us += s->rtt_us ? s->rtt_us : s->pkt_rtt_outside_us;
    p->rtt_n++;
  }
}

static void decide_direction(const struct flows *f, struct flow *fl);

static void fold(struct flows *f, struct flow *fl, bool open_at_end)
{
  if (fl->probe) {
    f->probe_connections++;
    unindex(f, fl);
    return;
  }
  decide_direction(f, fl);
  struct flow_summary s;
  summarize(f->rtt_pool, fl, &s);
  s.open_at_end = open_at_end;
  f->folded++;
  /* Accepted and opened connections completed their handshake; attempts that did not are
   * failed, whichever way they went. */
  f->accepted += !s.failed && s.direction == DIR_ACCEPTED;
  f->opened += !s.failed && s.direction == DIR_OPENED;
  f->unknown += !s.failed && s.direction == DIR_UNKNOWN;
  f->failed += s.failed;
  f->open_at_end += open_at_end;
  f->bytes_sent += s.bytes_sent;
  f->bytes_received += s.bytes_received;
  f->retransmits += s.retransmits;
  f->segments_out += s.segs_out;
  if (!s.failed) {
    if (s.rtt_us)
      hist_add(&f->rtt, s.rtt_us);
    if (s.min_rtt_us)
      hist_add(&f->min_rtt, s.min_rtt_us);
    hist_add(&f->duration, (double)s.duration_us);
    uint64_t bytes = s.bytes_sent > s.bytes_received ? s.bytes_sent : s.bytes_received;
    if (bytes && s.duration_us > 0)
      hist_add(&f->goodput, (double)bytes * 8e6 / (double)s.duration_us);
  }
  if (s.hs_outside_us >= 0)
    hist_add(&f->hs_outside, s.hs_outside_us);
  if (s.hs_inside_us >= 0)
    hist_add(&f->hs_inside, s.hs_inside_us);
  add_to_peer(f, &s);
  keep_top(f, &s);
  unindex(f, fl);
}

/* ---- the socket view ---- */

static bool listening(const struct flows *f, uint16_t port)
{
  for (size_t i = 0; i < f->nlisten; i++)
    if (f->listen[i] == port)
      return true;
  return false;
}

static void take_info(struct flow *fl, const struct tcp_sock *s, int64_t now_ns)
{
  fl->by_socket = true;
  fl->last_ns = now_ns;
  fl->socket_state = s->state;
  fl->socket_family = s->family;
  fl->cookie = s->cookie;
  if (s->state == TCP_ESTABLISHED || s->state == TCP_FIN_WAIT1 || s->state == TCP_FIN_WAIT2 ||
      s->state == TCP_CLOSE_WAIT || s->state == TCP_LAST_ACK || s->state == TCP_CLOSING ||
      s->state == TCP_TIME_WAIT)
    fl->established = true;
  if (!s->has_info)
    return;
  /* A socket is destroyed in state CLOSE whatever it went through: the peer acknowledged its
   * SYN (or SYN/ACK) if it acknowledged anything. */
  if (s->bytes_acked > 0)
    fl->established = true;
  /* A connection that sent nothing since the last read has no new RTT sample: the same value
   * again (a pause of the workload) would weigh as many times as it was read. */
  bool acked_more = s->bytes_acked != fl->bytes_acked || fl->srtt.n == 0;
  if (s->rtt_us && acked_more)
    p2_add(&fl->srtt, (float)s->rtt_us);
  fl->rtt_us = s->rtt_us;
  fl->rttvar_us = s->rttvar_us;
  fl->min_rtt_us = s->min_rtt_us;
  fl->total_retrans = s->total_retrans;
  fl->segs_out = s->segs_out;
  fl->segs_in = s->segs_in;
  fl->bytes_acked = s->bytes_acked;
  fl->bytes_received = s->bytes_received;
  fl->delivery_rate = s->delivery_rate;
}

/* The socket's own id (an IPv6 socket's IPv4 addresses mapped back). */
static void socket_id(const struct flow *fl, struct tcp_sock *id)
{
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  memset(id, 0, sizeof *id);
  id->family = fl->socket_family;
  id->sport = fl->key.lport;
  id->dport = fl->key.rport;
  id->cookie = fl->cookie;
  if (fl->socket_family == AF_INET6 && fl->key.family == AF_INET) {
    memcpy(id->src, mapped, 12);
    memcpy(id->src + 12, fl->key.local, 4);
    memcpy(id->dst, mapped, 12);
    memcpy(id->dst + 12, fl->key.remote, 4);
  } else {
    memcpy(id->src, fl->key.local, 16);
    memcpy(id->dst, fl->key.remote, 16);
  }
}

void flows_each_open(struct flows *f, sockdiag_fn *fn, void *arg)
{
  for (size_t i = 0; i < f->used_below; i++) {
    const struct flow *fl = &f->flow[i];
    if (!fl->used || fl->socket_gone || fl->closed_ns)
      continue;
    struct tcp_sock id;
    if (fl->by_socket) {
      socket_id(fl, &id);
    } else { /* seen by its packets only: asked for by their addresses, whatever its cookie */
      memset(&id, 0, sizeof id);
      id.family = fl->key.family;
      id.sport = fl->key.lport;
      id.dport = fl->key.rport;
      memcpy(id.src, fl->key.local, 16);
      memcpy(id.dst, fl->key.remote, 16);
      id.cookie = SOCKDIAG_ANY_COOKIE;
    }
    fn(&id, arg);
  }
}

size_t flows_rtt_targets(struct flows *f, struct tcp_sock *ids, size_t max)
{
  size_t n = 0;
  for (size_t seen = 0; seen < f->used_below && n < max && f->live; seen++) {
    if (f->rtt_cursor >= f->used_below)
      f->rtt_cursor = 0;
    const struct flow *fl = &f->flow[f->rtt_cursor++];
    if (fl->used && fl->by_socket && !fl->socket_gone && fl->socket_state == TCP_ESTABLISHED)
      socket_id(fl, &ids[n++]);
  }
  return n;
}

/* A connection to a port the container listens on was accepted; another one the socket view
 * saw, it opened (unless there were too many listeners to know). */
static void decide_direction(const struct flows *f, struct flow *fl)
{
  if (fl->direction != DIR_UNKNOWN)
    return;
  if (listening(f, fl->key.lport))
    fl->direction = DIR_ACCEPTED;
  else if (fl->by_socket && f->nlisten_known && !f->listen_overflow)
    fl->direction = DIR_OPENED;
}

void flows_dump_begin(struct flows *f)
{
  f->nlisten_next = 0;
  f->listen_overflow = false;
}

/* The connection of a socket, made when new (NULL beyond the cap). The same addresses and ports
 * as one whose socket already ended, within its grace, are a new connection (the kernel reuses a
 * loopback connection's ports while the old one is in TIME_WAIT): another socket, by its cookie. */
static struct flow *socket_flow(struct flows *f, const struct tcp_sock *s, int64_t now_ns)
{
  struct flow_key k = socket_key(s);
  struct flow *fl = lookup(f, &k);
  if (fl && fl->by_socket && fl->socket_gone && fl->cookie != s->cookie) {
    fold(f, fl, false);
    fl = NULL;
  }
  return fl ? fl : insert(f, &k, now_ns);
}

void flows_socket(struct flows *f, const struct tcp_sock *s, int64_t now_ns)
{
  if (s->state == TCP_LISTEN) {
    if (f->nlisten_next < FLOWS_MAX_LISTEN)
      f->listen_next[f->nlisten_next++] = s->sport;
    else
      f->listen_overflow = true;
    return;
  }
  if (s->dport == 0)
    return; /* a socket made or bound but never connected: not a connection */
  /* Without tcp_info, a dump's socket is the kernel's small stand-in for a connection that
   * closed (TIME_WAIT, or FIN_WAIT2 after its close): its end was already seen. (A connection
   * half-open in SYN_RECV has none either, and is one.) */
  if (!s->has_info && s->state != TCP_SYN_RECV)
    return;
  struct flow *fl = socket_flow(f, s, now_ns);
  if (fl == NULL)
    return; /* beyond the cap: counted when it ends */
  take_info(fl, s, now_ns);
  if (fl->direction == DIR_UNKNOWN && s->state == TCP_SYN_SENT)
    fl->direction = DIR_OPENED;
}

void flows_dump_end(struct flows *f, int64_t now_ns)
{
  (void)now_ns;
  memcpy(f->listen, f->listen_next, f->nlisten_next * sizeof *f->listen);
  f->nlisten = f->nlisten_next;
  f->nlisten_known = true;
  for (size_t i = 0; i < f->used_below && f->live; i++)
    if (f->flow[i].used)
      decide_direction(f, &f->flow[i]);
}

void flows_listeners_begin(struct flows *f)
{
  flows_dump_begin(f);
}

void flows_listeners_done(struct flows *f)
{
  memcpy(f->listen, f->listen_next, f->nlisten_next * sizeof *f->listen);
  f->nlisten = f->nlisten_next;
  f->nlisten_known = true;
  f->wants_listeners = false;
}

bool flows_wants_listeners(const struct flows *f)
{
  return f->wants_listeners;
}

void flows_destroyed(struct flows *f, const struct tcp_sock *s, int64_t now_ns)
{
  if (s->state == TCP_LISTEN || s->dport == 0)
    return; /* a listener or a socket never connected: no connection ended */
  struct flow *fl = socket_flow(f, s, now_ns);
  if (fl == NULL) {
    f->untracked++;
    return;
  }
  take_info(fl, s, now_ns);
  fl->socket_gone = true;
  if (!fl->closed_ns)
    fl->closed_ns = now_ns;
  /* A port the last dump saw listening: accepted. Otherwise the listeners are read again
   * before it is folded (a server may have started since; a listener dump is cheap). */
  if (fl->direction == DIR_UNKNOWN && listening(f, fl->key.lport))
    fl->direction = DIR_ACCEPTED;
  if (fl->direction == DIR_UNKNOWN)
    f->wants_listeners = true;
}

/* ---- the packet view ---- */

/* A data segment that starts at or beyond everything sent before in its direction is timed
 * (when a slot is free); one that does not is sent again, and makes the times of that direction
 * ambiguous (Karn's rule): they are dropped. */
static void time_segment(struct timed_segments *t, const struct tcp_pkt *p, uint32_t high,
                         bool have)
{
  if (have && (int32_t)(p->seq - high) < 0) {
    memset(t->ns, 0, sizeof t->ns);
    return;
  }
  for (int i = 0; i < TIMED_SEGMENTS; i++) {
    if (!t->ns[i]) {
      t->end[i] = p->seq + p->payload;
      t->ns[i] = p->ts_ns;
      return;
    }
  }
}

/* When the latest of the segments an ACK covers was seen (the one that drew it), or -1; the
 * segments it covers are done with. */
static int64_t acknowledged(struct timed_segments *t, uint32_t ack)
{
  int64_t latest = -1;
  for (int i = 0; i < TIMED_SEGMENTS; i++) {
    if (t->ns[i] && (int32_t)(ack - t->end[i]) >= 0) {
      latest = t->ns[i] > latest ? t->ns[i] : latest;
      t->ns[i] = 0;
    }
  }
  return latest;
}

/* One round trip of a connection, inside or outside: into the container's distribution, the
 * connection's P² median and, when it has a slot of the pool (taken with its first round trip, if
 * one is free), its own histogram. */
static void rtt_sample(struct flows *f, struct flow *fl, bool inside, int64_t ns)
{
  if (fl->probe)
    return; /* measured's own connection: none of its figures are the workload's */
  if (ns < 0 || ns > 60 * 1000000000LL)
    return; /* a clock step, or an ACK long after: not a round trip */
  double us = (double)ns / 1000.0;
  if (fl->rtt_slot == 0 && fl->rtt_out_n == 0 && fl->rtt_in_n == 0)
    fl->rtt_slot = rtt_pool_take(f->rtt_pool);
  if (fl->rtt_slot)
    hist_add(rtt_pool_series(f->rtt_pool, fl->rtt_slot, inside), us);
  hist_add(inside ? &f->pkt_inside : &f->pkt_outside, us);
  p2_add(inside ? &fl->rtt_in : &fl->rtt_out, (float)us);
  (*(inside ? &fl->rtt_in_n : &fl->rtt_out_n))++;
}

/* Round trips from sequence and acknowledgement numbers (as tcptrace and Wireshark time them):
 * a data segment the container sends, to the peer's ACK of it, is the path outside the
 * container; one it receives, to its own ACK (or reply), is its stack and its workload's
 * response inside. Every exchange is timed; the timestamps option would time only the first of
 * each millisecond (its clock's tick), and those are not a fair sample: where a sandbox's
 * timer runs with that tick, they are the slow ones (docs/flows.md). Called before count(),
 * which moves the highest sequence numbers past this segment. */
static void round_trips(struct flows *f, struct flow *fl, const struct tcp_pkt *p)
{
  bool data = p->payload > 0 && !(p->flags & (TCP_SYN | TCP_RST));
  if (p->outgoing) {
    if (data)
      time_segment(&fl->timed_out, p, fl->high_seq_out, fl->have_seq_out);
    if (p->flags & TCP_ACK) {
      int64_t t = acknowledged(&fl->timed_in, p->ack);
      if (t > 0)
        rtt_sample(f, fl, true, p->ts_ns - t);
    }
  } else {
    if (data)
      time_segment(&fl->timed_in, p, fl->high_seq_in, fl->have_seq_in);
    if (p->flags & TCP_ACK) {
      int64_t t = acknowledged(&fl->timed_out, p->ack);
      if (t > 0)
        rtt_sample(f, fl, false, p->ts_ns - t);
    }
  }
}

/* SYN, SYN/ACK, ACK: the part of the handshake on each side of the container's link. For a
 * connection it accepts, inside is SYN in to SYN/ACK out (its own stack; for a VM, the VM and
 * its tap), outside SYN/ACK out to the ACK in; for one it opens, outside is SYN out to SYN/ACK
 * in, inside SYN/ACK in to its ACK out. A retransmitted SYN makes the times ambiguous: none. */
static void handshake(struct flow *fl, const struct tcp_pkt *p)
{
  bool syn = p->flags & TCP_SYN, ack = p->flags & TCP_ACK;
  if (syn && !ack) {
    if (p->outgoing)
      fl->syn_out++;
    else
      fl->syn_in++;
    if (fl->direction == DIR_UNKNOWN)
      fl->direction = p->outgoing ? DIR_OPENED : DIR_ACCEPTED;
    if (!fl->syn_ns)
      fl->syn_ns = p->ts_ns;
    return;
  }
  bool timed = fl->syn_ns && fl->syn_out + fl->syn_in == 1;
  if (syn && ack) {
    if (fl->synacks < UINT8_MAX)
      fl->synacks++;
    /* (its SYN unseen: one older than the capture, or beyond the cap when it came) */
    if (fl->direction == DIR_UNKNOWN)
      fl->direction = p->outgoing ? DIR_ACCEPTED : DIR_OPENED;
    if (fl->synack_ns)
      return;
    fl->synack_ns = p->ts_ns;
    int32_t us = (int32_t)((p->ts_ns - fl->syn_ns) / 1000);
    if (timed && p->outgoing && fl->direction == DIR_ACCEPTED)
      fl->hs_inside_us = us;
    else if (timed && !p->outgoing && fl->direction == DIR_OPENED)
      fl->hs_outside_us = us;
    return;
  }
  if (ack && fl->synack_ns && !fl->established) {
    fl->established = true; /* however many SYNs it took */
    int32_t us = (int32_t)((p->ts_ns - fl->synack_ns) / 1000);
    timed = timed && fl->synacks == 1;
    if (timed && !p->outgoing && fl->direction == DIR_ACCEPTED)
      fl->hs_outside_us = us;
    else if (timed && p->outgoing && fl->direction == DIR_OPENED)
      fl->hs_inside_us = us;
  }
}

/* The payload of a segment that goes beyond what was sent before, in sequence space (a segment
 * sent again adds nothing); high follows the highest end. */
static uint32_t new_payload(const struct tcp_pkt *p, uint32_t len, uint32_t *high, bool *have)
{
  uint32_t end = p->seq + len;
  if (!*have) {
    *have = len > 0;
    *high = end;
    return p->payload;
  }
  int32_t beyond = (int32_t)(end - *high);
  if (beyond <= 0)
    return 0;
  *high = end;
  return (uint32_t)beyond < p->payload ? (uint32_t)beyond : p->payload;
}

/* How many TCP segments a packet on the link is: segmentation offload hands the link packets of
 * up to 64 KiB, which the wire (and tcp_info) count as segments of the smaller MSS of the two
 * ends, less the timestamps option. One when the handshake was not seen. */
static uint32_t segments(const struct flow *fl, const struct tcp_pkt *p)
{
  uint32_t mss = fl->mss_local && fl->mss_remote
                     ? (fl->mss_local < fl->mss_remote ? fl->mss_local : fl->mss_remote)
                     : 0;
  if (p->has_ts && mss > TCP_TS_OPTION_SPACE)
    mss -= TCP_TS_OPTION_SPACE;
  if (mss == 0 || p->payload <= mss)
    return 1;
  return (p->payload + mss - 1) / mss;
}

/* Bytes (each byte of the stream once), segments and the container's retransmissions (data
 * segments that do not go beyond what it had sent). */
static void count(struct flow *fl, const struct tcp_pkt *p)
{
  if ((p->flags & TCP_SYN) && p->mss)
    *(p->outgoing ? &fl->mss_local : &fl->mss_remote) = p->mss;
  uint32_t segs = segments(fl, p);
  if (p->outgoing)
    fl->pkts_out += segs;
  else
    fl->pkts_in += segs;
  uint32_t len = p->payload + ((p->flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
  if (len == 0)
    return;
  if (p->outgoing) {
    bool again = fl->have_seq_out && (int32_t)(p->seq + len - fl->high_seq_out) <= 0;
    if (again && !(p->flags & TCP_SYN))
      fl->retrans_out += segs;
    fl->bytes_out += new_payload(p, len, &fl->high_seq_out, &fl->have_seq_out);
  } else {
    fl->bytes_in += new_payload(p, len, &fl->high_seq_in, &fl->have_seq_in);
  }
}

void flows_packet(struct flows *f, const struct tcp_pkt *p)
{
  struct flow_key k = packet_key(p);
  struct flow *fl = lookup(f, &k);
  bool new_syn = (p->flags & TCP_SYN) && !(p->flags & TCP_ACK);
  /* The same ports again after the packets showed an end: a new connection (the old one is
   * folded first). An end only the socket view has seen is not enough: a short connection's
   * close is often read before its packets (the ring hands them over by the block). */
  if (fl && new_syn && fl->by_packet && (fl->rst || (fl->fin_in && fl->fin_out))) {
    fold(f, fl, false);
    fl = NULL;
  }
  if (fl == NULL) {
    /* (Without a SYN: a connection older than the capture, followed from here on.) */
    if ((fl = insert(f, &k, p->ts_ns)) == NULL) {
      if (new_syn)
        f->untracked++; /* counted once, at its first SYN */
      return;
    }
  }
  fl->by_packet = true;
  fl->last_ns = p->ts_ns;
  handshake(fl, p);
  round_trips(f, fl, p);
  count(fl, p);
  if (p->flags & TCP_RST) {
    fl->rst = true;
    fl->closed_ns = fl->closed_ns ? fl->closed_ns : p->ts_ns;
  }
  if (p->flags & TCP_FIN) {
    if (p->outgoing)
      fl->fin_out = true;
    else
      fl->fin_in = true;
    if (fl->fin_out && fl->fin_in && !fl->closed_ns)
      fl->closed_ns = p->ts_ns;
  }
}

/* ---- ticks ---- */

static bool ended(const struct flow *fl, int64_t now_ns)
{
  int64_t grace = (int64_t)FLOWS_GRACE_MS * 1000000;
  /* Socket and packets agree it ended, or the only view there is says so. */
  bool socket_done = !fl->by_socket || fl->socket_gone;
  bool packets_done = !fl->by_packet || fl->rst || (fl->fin_in && fl->fin_out) || fl->socket_gone;
  return fl->closed_ns && socket_done && packets_done && now_ns - fl->closed_ns > grace;
}

void flows_tick(struct flows *f, int64_t now_ns)
{
  if (f->wants_listeners)
    return; /* the listeners are read first: they say which ended connections were accepted */
  int64_t half_open = (int64_t)FLOWS_HALF_OPEN_MS * 1000000;
  for (size_t i = 0; i < f->used_below && f->live; i++) {
    struct flow *fl = &f->flow[i];
    if (!fl->used)
      continue;
    if (!fl->established && (fl->syn_in || fl->syn_out || fl->synacks) && !fl->by_socket &&
        now_ns - fl->first_ns > half_open) {
      fl->half_open_failed = true; /* a SYN flood, an unanswered connect */
      fl->closed_ns = fl->closed_ns ? fl->closed_ns : now_ns;
      fold(f, fl, false);
      continue;
    }
    if (ended(fl, now_ns))
      fold(f, fl, false);
  }
}

void flows_finish(struct flows *f, int64_t now_ns)
{
  f->wants_listeners = false;
  for (size_t i = 0; i < f->used_below && f->live; i++) {
    struct flow *fl = &f->flow[i];
    if (!fl->used)
      continue;
    /* A handshake the container's end cut short never completed: an attempt that failed. */
    if (!fl->established && (fl->syn_in || fl->syn_out || fl->synacks)) {
      fl->half_open_failed = true;
      fold(f, fl, false);
      continue;
    }
    fold(f, fl, !fl->closed_ns && !fl->socket_gone);
  }
  (void)now_ns;
}

size_t flows_live(const struct flows *f)
{
  return f->live;
}

uint64_t flows_folded(const struct flows *f)
{
  return f->folded;
}

/* ---- JSON ---- */

static char *address(uint8_t family, const uint8_t *addr)
{
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family, addr, text, sizeof text) == NULL)
    snprintf(text, sizeof text, "?");
  return xstrdup(text);
}

static json *endpoint(uint8_t family, const uint8_t *addr, uint16_t port)
{
  char *a = address(family, addr);
  char *text = family == AF_INET6 ? xasprintf("[%s]:%u", a, port) : xasprintf("%s:%u", a, port);
  json *j = json_new_text(text);
  free(a);
  free(text);
  return j;
}

static json *maybe_us(int32_t v)
{
  return v >= 0 ? json_new_int(v) : json_new(JSON_NULL);
}

/* What the packet view saw of a connection on its own (to set against the socket view's). */
static json *packet_summary_json(const struct flow_summary *s)
{
  json *pkt = json_new(JSON_OBJECT);
  json_set(pkt, "bytes_sent", json_new_uint(s->pkt_bytes_out));
  json_set(pkt, "bytes_received", json_new_uint(s->pkt_bytes_in));
  json_set(pkt, "segments_out", json_new_uint(s->pkts_out));
  json_set(pkt, "segments_in", json_new_uint(s->pkts_in));
  json_set(pkt, "retransmits", json_new_uint(s->pkt_retrans_out));
  json_set(pkt, "rtt_outside_p50_us",
           s->pkt_rtt_outside_n ? json_new_rounded(s->pkt_rtt_outside_us) : json_new(JSON_NULL));
  json_set(pkt, "rtt_outside_n", json_new_uint(s->pkt_rtt_outside_n));
  json_set(pkt, "rtt_inside_p50_us",
           s->pkt_rtt_inside_n ? json_new_rounded(s->pkt_rtt_inside_us) : json_new(JSON_NULL));
  json_set(pkt, "rtt_inside_n", json_new_uint(s->pkt_rtt_inside_n));
  json_set(pkt, "rtt_p50_from",
           json_new_string(s->pkt_rtt_from_histogram ? "histogram" : "p_square"));
  return pkt;
}

static json *summary_json(const struct flow_summary *s)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "local", endpoint(s->key.family, s->key.local, s->key.lport));
  json_set(o, "remote", endpoint(s->key.family, s->key.remote, s->key.rport));
  json_set(o, "direction", json_new_string(direction_names[s->direction]));
  json *views = json_new(JSON_ARRAY);
  if (s->by_socket)
    json_append(views, json_new_string("socket"));
  if (s->by_packet)
    json_append(views, json_new_string("packet"));
  json_set(o, "views", views);
  json_set(o, "failed", json_new_bool(s->failed));
  json_set(o, "open_at_end", json_new_bool(s->open_at_end));
  json_set(o, "duration_us", json_new_int(s->duration_us));
  json_set(o, "bytes_sent", json_new_uint(s->bytes_sent));
  json_set(o, "bytes_received", json_new_uint(s->bytes_received));
  json_set(o, "segments_out", json_new_uint(s->segs_out));
  json_set(o, "segments_in", json_new_uint(s->segs_in));
  json_set(o, "retransmits", json_new_uint(s->retransmits));
  json_set(o, "rtt_us", s->by_socket ? json_new_uint(s->rtt_us) : json_new(JSON_NULL));
  json_set(o, "rttvar_us", s->by_socket ? json_new_uint(s->rttvar_us) : json_new(JSON_NULL));
  json_set(o, "min_rtt_us", s->by_socket ? json_new_uint(s->min_rtt_us) : json_new(JSON_NULL));
  json_set(o, "delivery_rate_bps",
           s->by_socket ? json_new_uint(s->delivery_rate * 8) : json_new(JSON_NULL));
  json_set(o, "packet", s->by_packet ? packet_summary_json(s) : json_new(JSON_NULL));
  json *hs = json_new(JSON_OBJECT);
  json_set(hs, "outside_us", maybe_us(s->hs_outside_us));
  json_set(hs, "inside_us", maybe_us(s->hs_inside_us));
  json_set(o, "handshake", hs);
  return o;
}

static int cmp_top(const void *a, const void *b)
{
  uint64_t x = summary_bytes(a), y = summary_bytes(b);
  return (x < y) - (x > y); /* most bytes first */
}

static int cmp_peer(const void *a, const void *b)
{
  const struct peer *x = a, *y = b;
  return (x->connections < y->connections) - (x->connections > y->connections);
}

static json *peers_json(const struct flows *f)
{
  struct peer *sorted = xmalloc((f->npeers ? f->npeers : 1) * sizeof *sorted);
  memcpy(sorted, f->peers, f->npeers * sizeof *sorted);
  qsort(sorted, f->npeers, sizeof *sorted, cmp_peer);
  json *arr = json_new(JSON_ARRAY);
  for (size_t i = 0; i < f->npeers && i < FLOWS_PEERS_SHOWN; i++) {
    const struct peer *p = &sorted[i];
    json *o = json_new(JSON_OBJECT);
    char *a = address(p->family, p->addr);
    json_set(o, "remote", json_new_text(a));
    free(a);
    json_set(o, p->direction == DIR_ACCEPTED ? "local_port" : "port", json_new_uint(p->port));
    json_set(o, "direction", json_new_string(direction_names[p->direction]));
    json_set(o, "connections", json_new_uint(p->connections));
    json_set(o, "failed", json_new_uint(p->failed));
    json_set(o, "bytes_sent", json_new_uint(p->bytes_sent));
    json_set(o, "bytes_received", json_new_uint(p->bytes_received));
    json_set(o, "retransmits", json_new_uint(p->retransmits));
    json_set(o, "rtt_mean_us",
             p->rtt_n ? json_new_rounded(p->rtt_sum_us / (double)p->rtt_n) : json_new(JSON_NULL));
    json_append(arr, o);
  }
  free(sorted);
  return arr;
}

json *flows_json(const struct flows *f)
{
  json *o = json_new(JSON_OBJECT);
  json *c = json_new(JSON_OBJECT);
  json_set(c, "total", json_new_uint(f->folded + f->untracked));
  json_set(c, "accepted", json_new_uint(f->accepted));
  json_set(c, "opened", json_new_uint(f->opened));
  json_set(c, "direction_unknown", json_new_uint(f->unknown));
  json_set(c, "failed", json_new_uint(f->failed));
  json_set(c, "open_at_end", json_new_uint(f->open_at_end));
  json_set(c, "untracked", json_new_uint(f->untracked));
  json_set(c, "probe", json_new_uint(f->probe_connections)); /* in none of the above */
  json_set(c, "open_now", json_new_uint(f->live)); /* 0 in a record: all are folded by then */
  json_set(o, "connections", c);
  json_set(o, "bytes_sent", json_new_uint(f->bytes_sent));
  json_set(o, "bytes_received", json_new_uint(f->bytes_received));
  json_set(o, "segments_out", json_new_uint(f->segments_out));
  json_set(o, "retransmits", json_new_uint(f->retransmits));
  json_set(o, "retransmit_rate",
           f->segments_out ? json_new_double((double)f->retransmits / (double)f->segments_out)
                           : json_new(JSON_NULL));
  json_set(o, "rtt_us", hist_json(&f->rtt));
  json_set(o, "min_rtt_us", hist_json(&f->min_rtt));
  json *pr = json_new(JSON_OBJECT);
  json_set(pr, "outside", hist_json(&f->pkt_outside));
  json_set(pr, "inside", hist_json(&f->pkt_inside));
  json_set(o, "packet_rtt_us", pr);
  json *hs = json_new(JSON_OBJECT);
  json_set(hs, "outside", hist_json(&f->hs_outside));
  json_set(hs, "inside", hist_json(&f->hs_inside));
  json_set(o, "handshake_us", hs);
  json_set(o, "duration_us", hist_json(&f->duration));
  json_set(o, "goodput_bps", hist_json(&f->goodput));
  json_set(o, "peers", peers_json(f));
  struct flow_summary top[FLOWS_TOP];
  memcpy(top, f->top, f->ntop * sizeof *top);
  qsort(top, f->ntop, sizeof *top, cmp_top);
  json *t = json_new(JSON_ARRAY);
  for (size_t i = 0; i < f->ntop; i++)
    json_append(t, summary_json(&top[i]));
  json_set(o, "top", t);
  json *capped = json_new(JSON_OBJECT);
  json_set(capped, "untracked_connections", json_new_uint(f->untracked));
  json_set(capped, "peers_not_kept_connections", json_new_uint(f->other_peers_connections));
  json_set(o, "capped", capped);
  return o;
}
