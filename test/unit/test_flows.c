/* The flow table on made-up sockets and packets: directions, the handshake split in two, round
 * trips from sequence and acknowledgement numbers each way, retransmissions, the two views joined,
 * the cap, a SYN flood, and the parsing of frames a container controls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "flows.h"
#include "pktcap.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#define US 1000LL /* ns */
#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

static const uint8_t ctr[4] = {172, 17, 0, 2}, peer[4] = {172, 17, 0, 1};

/* A packet of the container's connection 172.17.0.2:40000 <-> 172.17.0.1:80. */
static struct tcp_pkt pkt(bool out, uint8_t flags, uint32_t seq, uint32_t payload, int64_t at_us)
{
  struct tcp_pkt p = {.ts_ns = (1000 + at_us) * US,
                      .outgoing = out,
                      .family = AF_INET,
                      .flags = flags,
                      .seq = seq,
                      .payload = payload};
  memcpy(out ? p.src : p.dst, ctr, 4);
  memcpy(out ? p.dst : p.src, peer, 4);
  p.sport = out ? 40000 : 80;
  p.dport = out ? 80 : 40000;
  return p;
}

/* The packet acknowledging up to ack (its ACK flag is the caller's). */
static struct tcp_pkt acking(struct tcp_pkt p, uint32_t ack)
{
  p.ack = ack;
  return p;
}

/* The packet with the timestamps option (12 bytes less room in each segment). */
static struct tcp_pkt with_ts(struct tcp_pkt p)
{
  p.has_ts = true;
  return p;
}

static int64_t get(const json *j, const char *const *path)
{
  int64_t v = -1;
  json_int64(json_get_path(j, path), &v);
  return v;
}

static double getd(const json *j, const char *const *path)
{
  double v = -1;
  json_double(json_get_path(j, path), &v);
  return v;
}

static void an_opened_connection_from_its_packets(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  struct tcp_pkt seq[] = {
      pkt(true, TCP_SYN, 100, 0, 0),                           /* SYN out */
      acking(pkt(false, TCP_SYN | TCP_ACK, 900, 0, 100), 101), /* SYN/ACK in: 100 us */
      acking(pkt(true, TCP_ACK, 101, 0, 110), 901),            /* ACK out: 10 us inside */
      acking(pkt(true, TCP_ACK, 101, 500, 200), 901),          /* request */
      acking(pkt(false, TCP_ACK, 901, 300, 250), 601),         /* reply: 50 us outside */
      acking(pkt(true, TCP_ACK, 601, 0, 270), 1201),           /* its ACK: 20 us inside */
      acking(pkt(true, TCP_ACK, 101, 500, 300), 1201),         /* the request again */
      acking(pkt(true, TCP_FIN | TCP_ACK, 601, 0, 400), 1201),
      acking(pkt(false, TCP_FIN | TCP_ACK, 1201, 0, 450), 602),
  };
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
    flows_packet(f, &seq[i]);
  flows_tick(f, (1000 + 450) * US + FLOWS_GRACE_MS * 1000000LL / 2);
  assert_int_equal(flows_live(f), 1); /* within the grace: packets may still come */
  flows_tick(f, (1000 + 450) * US + FLOWS_GRACE_MS * 1000000LL + 1);
  assert_int_equal(flows_live(f), 0);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("connections", "opened")), 1);
  assert_int_equal(get(j, PATH("connections", "failed")), 0);
  assert_int_equal(get(j, PATH("bytes_sent")), 500); /* each byte of the stream once */
  assert_int_equal(get(j, PATH("bytes_received")), 300);
  assert_int_equal(get(j, PATH("retransmits")), 1);
  assert_int_equal(get(j, PATH("handshake_us", "outside", "n")), 1);
  assert_true(fabs(getd(j, PATH("handshake_us", "outside", "p50")) - 100) < 100 * 0.03);
  assert_true(fabs(getd(j, PATH("handshake_us", "inside", "p50")) - 10) < 10 * 0.03);
  assert_true(fabs(getd(j, PATH("packet_rtt_us", "outside", "p50")) - 50) < 50 * 0.03);
  /* Inside: the reply to its ACK (20 us); the handshake is timed apart. */
  assert_int_equal(get(j, PATH("packet_rtt_us", "inside", "n")), 1);
  assert_true(fabs(getd(j, PATH("packet_rtt_us", "inside", "p50")) - 20) < 20 * 0.03);
  const json *top = json_get(j, "top")->items[0];
  assert_string_equal(json_string(json_get(top, "local")), "172.17.0.2:40000");
  assert_string_equal(json_string(json_get(top, "remote")), "172.17.0.1:80");
  assert_string_equal(json_string(json_get(top, "direction")), "opened");
  assert_int_equal(get(top, PATH("duration_us")), 450);
  assert_int_equal(get(top, PATH("packet", "bytes_sent")), 500);
  assert_int_equal(get(top, PATH("packet", "bytes_received")), 300);
  assert_int_equal(get(top, PATH("packet", "segments_out")), 6);
  assert_int_equal(get(top, PATH("packet", "segments_in")), 3);
  assert_int_equal(get(top, PATH("packet", "retransmits")), 1);
  assert_true(fabs(getd(top, PATH("packet", "rtt_outside_p50_us")) - 50) < 50 * 0.03);
  assert_int_equal(get(top, PATH("packet", "rtt_inside_n")), 1);
  flows_free(f);
}

/* Round trips from sequence and acknowledgement numbers: every exchange is timed (a ping-pong
 * of many exchanges in one millisecond too), an ACK of two segments times the later one, and a
 * segment sent again leaves its ACK untimed (Karn's rule). An accepted connection: the peer
 * sends requests in, the container replies. */
static void every_exchange_is_timed_from_its_ack(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  uint32_t in = 901, out = 101; /* the next byte each way */
  struct tcp_pkt hs[] = {
      pkt(false, TCP_SYN, 900, 0, 0),
      acking(pkt(true, TCP_SYN | TCP_ACK, 100, 0, 10), 901),
      acking(pkt(false, TCP_ACK, 901, 0, 20), 101),
  };
  for (size_t i = 0; i < 3; i++)
    flows_packet(f, &hs[i]);
  int64_t at = 100;
  for (int i = 0; i < 10; i++) { /* request in, reply out 30 us later, next request 100 us later */
    struct tcp_pkt req = acking(pkt(false, TCP_ACK, in, 64, at), out);
    in += 64;
    struct tcp_pkt reply = acking(pkt(true, TCP_ACK, out, 64, at + 30), in);
    out += 64;
    flows_packet(f, &req);
    flows_packet(f, &reply);
    at += 130;
  }
  struct tcp_pkt tail[] = {
      acking(pkt(false, TCP_ACK, in, 0, at), out),         /* the last reply's ACK: 100 us */
      acking(pkt(false, TCP_ACK, in, 1000, at + 10), out), /* two segments in */
      acking(pkt(false, TCP_ACK, in + 1000, 1000, at + 20), out),
      acking(pkt(true, TCP_ACK, out, 0, at + 25), in + 2000), /* one ACK: 5 us after the 2nd */
      acking(pkt(false, TCP_ACK, in + 2000, 500, at + 40), out),
      acking(pkt(false, TCP_ACK, in + 2000, 500, at + 90), out), /* sent again */
      acking(pkt(true, TCP_ACK, out, 0, at + 95), in + 2500),    /* which one? untimed */
  };
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
    flows_packet(f, &tail[i]);
  flows_finish(f, (at + 200) * US);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("packet_rtt_us", "outside", "n")), 10);
  assert_true(fabs(getd(j, PATH("packet_rtt_us", "outside", "p50")) - 100) < 100 * 0.03);
  assert_int_equal(get(j, PATH("packet_rtt_us", "inside", "n")), 11);
  assert_true(fabs(getd(j, PATH("packet_rtt_us", "inside", "p50")) - 30) < 30 * 0.03);
  assert_true(fabs(getd(j, PATH("packet_rtt_us", "inside", "max")) - 30) < 30 * 0.03);
  const json *top = json_get(j, "top")->items[0];
  assert_string_equal(json_string(json_get(top, "direction")), "accepted");
  assert_int_equal(get(top, PATH("packet", "rtt_inside_n")), 11);
  flows_free(f);
}

/* pkt() on the container's port lport (each connection its own). */
static struct tcp_pkt pkt_on(uint16_t lport, bool out, uint8_t flags, uint32_t seq, uint32_t ack,
                             uint32_t payload, int64_t at_us)
{
  struct tcp_pkt p = acking(pkt(out, flags, seq, payload, at_us), ack);
  *(out ? &p.sport : &p.dport) = lport;
  return p;
}

/* A connection to the container's lport: the handshake at at_us, then n requests of 64 bytes,
 * each answered inside_us(i) later, 1 ms apart. */
static int64_t serve(struct flows *f, uint16_t lport, int64_t at_us, int n,
                     int64_t (*inside_us)(int))
{
  struct tcp_pkt hs[] = {pkt_on(lport, false, TCP_SYN, 900, 0, 0, at_us),
                         pkt_on(lport, true, TCP_SYN | TCP_ACK, 100, 901, 0, at_us + 10),
                         pkt_on(lport, false, TCP_ACK, 901, 101, 0, at_us + 20)};
  for (size_t i = 0; i < 3; i++)
    flows_packet(f, &hs[i]);
  uint32_t in = 901, out = 101;
  for (int i = 0; i < n; i++) {
    at_us += 1000;
    struct tcp_pkt req = pkt_on(lport, false, TCP_ACK, in, out, 64, at_us);
    in += 64;
    struct tcp_pkt reply = pkt_on(lport, true, TCP_ACK, out, in, 64, at_us + inside_us(i));
    out += 64;
    flows_packet(f, &req);
    flows_packet(f, &reply);
  }
  return at_us + 1000;
}

static const json *top_of(const json *j, uint16_t lport)
{
  char want[32];
  snprintf(want, sizeof want, "172.17.0.2:%u", lport);
  const json *top = json_get(j, "top");
  for (size_t i = 0; i < top->n; i++)
    if (strcmp(json_string(json_get(top->items[i], "local")), want) == 0)
      return top->items[i];
  return NULL;
}

/* Spells: 200 round trips at 300 us, 500 from 50 to 59 us, 201 at 100 us. The exact median (the
 * 451st) is 59 us; P² markers fed these in this order end near 100 us. */
static int64_t in_spells(int i)
{
  return i < 200 ? 300 : i < 700 ? 50 + i % 10 : 100;
}

static int64_t fast(int i)
{
  (void)i;
  return 30;
}

/* A connection's own median comes from a histogram of its own while one of the pool's slots is
 * free (the first RTT_POOL_SLOTS at once), exact to its buckets whatever the order of its round
 * trips; beyond, from its P² markers, and the record says which. A slot given back serves the
 * next connection. */
static void a_connection_median_is_exact_while_the_pool_has_room(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  int64_t end = serve(f, 30000, 0, 901, in_spells);
  for (uint16_t k = 1; k < 16; k++) /* 15 more open at once: the pool is full */
    serve(f, (uint16_t)(30000 + k), 10, 2, fast);
  serve(f, 30016, 20, 40, fast); /* the 17th: the largest after the first */
  flows_finish(f, (end + 1000) * US);
  cleanup_json json *j = flows_json(f);
  const json *first = top_of(j, 30000), *last = top_of(j, 30016);
  assert_non_null(first);
  assert_non_null(last);
  assert_string_equal(json_string(json_get_path(first, PATH("packet", "rtt_p50_from"))),
                      "histogram");
  assert_int_equal(get(first, PATH("packet", "rtt_inside_n")), 901);
  assert_true(fabs(getd(first, PATH("packet", "rtt_inside_p50_us")) - 59) <= 59 * 0.022);
  assert_string_equal(json_string(json_get_path(last, PATH("packet", "rtt_p50_from"))), "p_square");
  assert_true(fabs(getd(last, PATH("packet", "rtt_inside_p50_us")) - 30) < 30 * 0.03);
  flows_free(f);
  /* Folded connections give their slots back. */
  f = flows_new();
  for (uint16_t k = 0; k < 16; k++)
    serve(f, (uint16_t)(31000 + k), 0, 2, fast);
  flows_finish(f, 1000000 * US);
  for (uint16_t k = 0; k < 16; k++) /* gone from the table: new ones */
    serve(f, (uint16_t)(32000 + k), 2000000, 2, fast);
  flows_finish(f, 4000000 * US);
  cleanup_json json *again = flows_json(f);
  const json *top = json_get(again, "top");
  for (size_t i = 0; i < top->n; i++)
    assert_string_equal(json_string(json_get_path(top->items[i], PATH("packet", "rtt_p50_from"))),
                        "histogram");
  flows_free(f);
}

/* The probe's connections (to its reflector) are measured's own: counted apart, in no other
 * figure; the workload's connection to the same host on another port is its own. */
/* One connection from 172.17.0.1:80 (pkt_on's peer) to the container, 50 round trips, with the
 * probe's reflector at 172.17.0.1:reflector_port: the record's flows. */
static json *with_reflector_on(uint16_t reflector_port)
{
  struct flows *f = flows_new();
  struct sockaddr_storage reflector = {0};
  struct sockaddr_in *in = (struct sockaddr_in *)&reflector;
  in->sin_family = AF_INET;
  in->sin_port = htons(reflector_port);
  memcpy(&in->sin_addr, peer, 4);
  flows_set_probe_peer(f, &reflector);
  serve(f, 30000, 0, 50, fast);
  flows_finish(f, 1000000 * US);
  json *j = flows_json(f);
  flows_free(f);
  return j;
}

/* The probe's connections (to its reflector) are measured's own: counted apart, in no other
 * figure; the workload's connection to the same host on another port is its own. */
static void the_probe_connections_are_left_out(void **state)
{
  (void)state;
  cleanup_json json *j = with_reflector_on(80);
  assert_int_equal(get(j, PATH("connections", "probe")), 1);
  assert_int_equal(get(j, PATH("connections", "total")), 0);
  assert_int_equal(get(j, PATH("bytes_received")), 0);
  assert_int_equal(get(j, PATH("packet_rtt_us", "inside", "n")), 0);
  assert_int_equal(json_get(j, "top")->n, 0);
  cleanup_json json *w = with_reflector_on(81);
  assert_int_equal(get(w, PATH("connections", "probe")), 0);
  assert_int_equal(get(w, PATH("connections", "total")), 1);
  assert_int_equal(get(w, PATH("packet_rtt_us", "inside", "n")), 50);
}

static struct tcp_sock sock(uint8_t state, uint16_t lport, uint16_t rport)
{
  struct tcp_sock s = {.family = AF_INET, .state = state, .sport = lport, .dport = rport};
  memcpy(s.src, ctr, 4);
  memcpy(s.dst, peer, 4);
  return s;
}

static void accepted_connections_from_the_socket_view(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  /* A connection shorter than a dump: seen only at its end, before the listener was known. */
  struct tcp_sock s = sock(TCP_CLOSE, 8080, 51000);
  s.has_info = true;
  s.rtt_us = 120;
  s.bytes_acked = 4000;
  s.bytes_received = 90;
  flows_destroyed(f, &s, 1000 * US);
  assert_true(flows_wants_listeners(f));
  flows_tick(f, 10000000 * US);
  assert_int_equal(flows_live(f), 1); /* not folded before the listeners are read */
  flows_listeners_begin(f);
  struct tcp_sock l = sock(TCP_LISTEN, 8080, 0);
  flows_socket(f, &l, 1001 * US);
  flows_listeners_done(f);
  flows_tick(f, 10000000 * US);
  assert_int_equal(flows_live(f), 0);
  /* One seen in a dump, established, to a port no one listens on: opened. */
  flows_dump_begin(f);
  struct tcp_sock o = sock(TCP_ESTABLISHED, 41000, 443);
  o.has_info = true;
  o.rtt_us = 300;
  flows_socket(f, &o, 2000 * US);
  flows_socket(f, &l, 2000 * US);
  struct tcp_sock unconnected = sock(TCP_CLOSE, 0, 0); /* made, never connected */
  flows_socket(f, &unconnected, 2000 * US);
  /* The kernel's stand-in for the accepted connection that closed (FIN_WAIT2 after its close,
   * no tcp_info): not a connection again. */
  struct tcp_sock timewait = sock(TCP_FIN_WAIT2, 8080, 51000);
  flows_socket(f, &timewait, 2000 * US);
  flows_dump_end(f, 2000 * US);
  flows_finish(f, 3000 * US);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("connections", "accepted")), 1);
  assert_int_equal(get(j, PATH("connections", "opened")), 1);
  assert_int_equal(get(j, PATH("connections", "open_at_end")), 1);
  assert_int_equal(get(j, PATH("connections", "total")), 2);
  assert_int_equal(get(j, PATH("rtt_us", "n")), 2);
  assert_int_equal(get(j, PATH("bytes_sent")), 4000);
  flows_free(f);
}

/* The RTT of a connection is the median of what TCP measured while it sent: reads while it
 * was idle (the same value again) do not count again; the RTT reads go round the open ones. */
static void rtt_reads_count_only_progress(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  struct tcp_sock s = sock(TCP_ESTABLISHED, 41000, 443);
  s.has_info = true;
  s.rtt_us = 155; /* the handshake's, then a pause */
  s.bytes_acked = 1;
  for (int i = 0; i < 20; i++)
    flows_socket(f, &s, (1000 + i) * US);
  for (int i = 0; i < 9; i++) {
    s.rtt_us = 30 + (uint32_t)i % 3;
    s.bytes_acked += 14;
    flows_socket(f, &s, (2000 + i) * US);
  }
  struct tcp_sock ids[4];
  assert_int_equal(flows_rtt_targets(f, ids, 4), 1);
  assert_int_equal(ids[0].sport, 41000);
  assert_int_equal(ids[0].dport, 443);
  assert_memory_equal(ids[0].dst, peer, 4);
  flows_finish(f, 3000 * US);
  cleanup_json json *j = flows_json(f);
  const json *top = json_get(j, "top")->items[0];
  assert_int_equal(get(top, PATH("rtt_us")), 31);
  flows_free(f);
}

/* A short connection's close is often read before its packets (the ring hands them over by the
 * block): its SYN, read late, is still the same connection. */
static void a_close_read_before_its_packets_is_one_connection(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  flows_listeners_begin(f);
  struct tcp_sock l = sock(TCP_LISTEN, 40000, 0);
  flows_socket(f, &l, 1 * US);
  flows_listeners_done(f);
  struct tcp_sock s = sock(TCP_TIME_WAIT, 40000, 80);
  s.has_info = true;
  s.bytes_received = 51;
  flows_destroyed(f, &s, 100 * US);
  struct tcp_pkt seq[] = {
      pkt(false, TCP_SYN, 900, 0, 10),
      pkt(true, TCP_SYN | TCP_ACK, 100, 0, 20),
      pkt(false, TCP_ACK, 901, 0, 30),
      pkt(false, TCP_ACK, 901, 51, 40),
      pkt(true, TCP_FIN | TCP_ACK, 101, 200, 50),
      pkt(false, TCP_FIN | TCP_ACK, 952, 0, 60),
      pkt(true, TCP_ACK, 302, 0, 70),
  };
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
    flows_packet(f, &seq[i]);
  flows_tick(f, 1000 * US + FLOWS_GRACE_MS * 1000000LL * 2);
  assert_int_equal(flows_live(f), 0);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("connections", "total")), 1);
  assert_int_equal(get(j, PATH("connections", "accepted")), 1);
  assert_int_equal(get(j, PATH("connections", "failed")), 0);
  flows_free(f);
}

/* The kernel reuses a loopback connection's ports while the last one is in TIME_WAIT: two
 * sockets, two connections, however close their ends. */
static void ports_reused_are_another_connection(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  struct tcp_sock s = sock(TCP_CLOSE, 41000, 443);
  s.has_info = true;
  s.bytes_acked = 10;
  s.cookie = 1;
  flows_destroyed(f, &s, 100 * US);
  s.cookie = 2;
  flows_destroyed(f, &s, 150 * US);
  flows_finish(f, 1000 * US);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("connections", "total")), 2);
  flows_free(f);
}

/* A SYN sent again (a full accept queue dropped the first) still makes a connection: only the
 * handshake's times are ambiguous. */
static void a_syn_sent_again_still_connects(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  struct tcp_pkt seq[] = {
      pkt(false, TCP_SYN, 900, 0, 0),
      pkt(false, TCP_SYN, 900, 0, 1000000),
      pkt(true, TCP_SYN | TCP_ACK, 100, 0, 1000010),
      pkt(false, TCP_ACK, 901, 51, 1000030),
      pkt(true, TCP_FIN | TCP_ACK, 101, 200, 1000050),
      pkt(false, TCP_FIN | TCP_ACK, 952, 0, 1000060),
  };
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
    flows_packet(f, &seq[i]);
  flows_finish(f, 2000000 * US);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("connections", "accepted")), 1);
  assert_int_equal(get(j, PATH("connections", "failed")), 0);
  assert_int_equal(get(j, PATH("handshake_us", "inside", "n")), 0);
  flows_free(f);
}

/* Segmentation offload gives the link packets of many segments: the packet view counts them
 * as the wire (and tcp_info) would, from the MSS both ends announced, less the timestamps. */
static void offloaded_packets_count_as_segments(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  struct tcp_pkt syn = with_ts(pkt(true, TCP_SYN, 100, 0, 0));
  syn.mss = 1460;
  struct tcp_pkt synack = with_ts(pkt(false, TCP_SYN | TCP_ACK, 900, 0, 10));
  synack.mss = 8960; /* the smaller of the two is what both send */
  struct tcp_pkt seq[] = {
      syn,
      synack,
      with_ts(pkt(true, TCP_ACK, 101, 0, 20)),
      with_ts(pkt(true, TCP_ACK, 101, 1448 * 10, 30)),   /* ten segments in one packet */
      with_ts(pkt(true, TCP_ACK, 101, 1448 * 10, 40)),   /* all of them again */
      with_ts(pkt(true, TCP_ACK, 101 + 14480, 100, 50)), /* a short one */
  };
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
    flows_packet(f, &seq[i]);
  flows_finish(f, 100 * US);
  cleanup_json json *j = flows_json(f);
  const json *top = json_get(j, "top")->items[0];
  assert_int_equal(get(top, PATH("packet", "segments_out")), 1 + 1 + 10 + 10 + 1);
  assert_int_equal(get(top, PATH("packet", "retransmits")), 10);
  assert_int_equal(get(top, PATH("packet", "bytes_sent")), 14480 + 100);
  flows_free(f);
}

/* An IPv4 connection of an IPv6 socket (::ffff:a.b.c.d) and its packets are one connection. */
static void the_two_views_join(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  struct tcp_pkt syn = pkt(true, TCP_SYN, 1, 0, 0);
  flows_packet(f, &syn);
  struct tcp_sock s = {
      .family = AF_INET6, .state = TCP_ESTABLISHED, .sport = 40000, .dport = 80, .has_info = true};
  s.src[10] = s.src[11] = s.dst[10] = s.dst[11] = 0xff;
  memcpy(s.src + 12, ctr, 4);
  memcpy(s.dst + 12, peer, 4);
  flows_dump_begin(f);
  flows_socket(f, &s, 10 * US);
  flows_dump_end(f, 10 * US);
  assert_int_equal(flows_live(f), 1);
  /* Read again, the socket is asked for by its own (IPv6) addresses. */
  struct tcp_sock id;
  assert_int_equal(flows_rtt_targets(f, &id, 1), 1);
  assert_int_equal(id.family, AF_INET6);
  assert_memory_equal(id.src, s.src, 16);
  assert_memory_equal(id.dst, s.dst, 16);
  flows_finish(f, 20 * US);
  cleanup_json json *j = flows_json(f);
  const json *views = json_get(json_get(j, "top")->items[0], "views");
  assert_int_equal(views->n, 2);
  flows_free(f);
}

static struct tcp_pkt syn_from(uint32_t i, int64_t at_us)
{
  struct tcp_pkt p = pkt(false, TCP_SYN, i, 0, at_us);
  p.sport = (uint16_t)(1024 + i % 60000);
  p.src[2] = (uint8_t)(i >> 16);
  p.src[3] = (uint8_t)(i >> 8);
  return p;
}

/* A SYN flood: the table holds FLOWS_MAX at once, the rest is counted; unanswered handshakes fail
 * after FLOWS_HALF_OPEN_MS and give their slots back. */
static void a_syn_flood_is_bounded(void **state)
{
  (void)state;
  struct flows *f = flows_new();
  for (uint32_t i = 0; i < FLOWS_MAX + 100; i++) {
    struct tcp_pkt p = syn_from(i, 0);
    flows_packet(f, &p);
  }
  assert_int_equal(flows_live(f), FLOWS_MAX);
  flows_tick(f, (FLOWS_HALF_OPEN_MS + 10) * 1000000LL);
  assert_int_equal(flows_live(f), 0);
  /* Slots reused: the index still finds what it holds after all those removals. */
  for (uint32_t i = 0; i < 1000; i++) {
    struct tcp_pkt p = syn_from(i + 7, 5000000);
    flows_packet(f, &p);
    flows_packet(f, &p);
  }
  assert_int_equal(flows_live(f), 1000);
  flows_finish(f, 6000000 * US);
  cleanup_json json *j = flows_json(f);
  assert_int_equal(get(j, PATH("connections", "untracked")), 100);
  /* Those cut short by the end never completed either. */
  assert_int_equal(get(j, PATH("connections", "failed")), FLOWS_MAX + 1000);
  assert_int_equal(get(j, PATH("connections", "open_at_end")), 0);
  assert_int_equal(get(j, PATH("connections", "total")), FLOWS_MAX + 100 + 1000);
  assert_true(json_get(j, "peers")->n <= FLOWS_PEERS_SHOWN);
  assert_true(json_get(j, "top")->n <= FLOWS_TOP);
  flows_free(f);
}

/* Frames: what a container sends is parsed within its bounds, whatever it claims. */
static size_t frame(uint8_t *buf, const uint8_t *opts, size_t optlen, uint16_t ip_total)
{
  memset(buf, 0, 200);
  buf[12] = 0x08; /* IPv4 */
  uint8_t *ip = buf + 14;
  ip[0] = 0x45;
  ip[2] = (uint8_t)(ip_total >> 8);
  ip[3] = (uint8_t)ip_total;
  ip[9] = 6;
  memcpy(ip + 12, ctr, 4);
  memcpy(ip + 16, peer, 4);
  uint8_t *tcp = ip + 20;
  tcp[0] = 0x9c; /* 40000 */
  tcp[1] = 0x40;
  tcp[3] = 80;
  tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
  tcp[13] = TCP_ACK;
  memcpy(tcp + 20, opts, optlen);
  return 14 + 20 + 20 + optlen;
}

static void frames_are_parsed_within_bounds(void **state)
{
  (void)state;
  uint8_t buf[200];
  struct tcp_pkt p;
  const uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
  size_t n = frame(buf, ts, sizeof ts, 20 + 32 + 1000);
  assert_true(pktcap_parse(buf, n, n + 1000, &p));
  assert_true(p.has_ts);
  assert_int_equal(p.payload, 1000);
  assert_int_equal(p.sport, 40000);
  assert_false(p.bad_options);
  assert_int_equal(p.mss, 0);
  const uint8_t mss[] = {2, 4, 0x05, 0xb4}; /* 1460 */
  n = frame(buf, mss, sizeof mss, 20 + 24);
  assert_true(pktcap_parse(buf, n, n, &p));
  assert_int_equal(p.mss, 1460);
  const uint8_t zero_len[] = {2, 0, 0, 0}; /* an option of length 0 would loop forever */
  n = frame(buf, zero_len, sizeof zero_len, 20 + 24);
  assert_true(pktcap_parse(buf, n, n, &p));
  assert_true(p.bad_options);
  assert_false(p.has_ts);
  const uint8_t overlong[] = {8, 40, 0, 0}; /* longer than the options */
  n = frame(buf, overlong, sizeof overlong, 20 + 24);
  assert_true(pktcap_parse(buf, n, n, &p));
  assert_true(p.bad_options);
  n = frame(buf, ts, sizeof ts, 20 + 32);
  for (size_t cut = 0; cut < 14 + 40; cut++)
    assert_false(pktcap_parse(buf, cut, n, &p)); /* headers cut short */
  buf[14 + 20 + 12] = 0xf0; /* a data offset of 60 bytes, beyond the IP length */
  assert_false(pktcap_parse(buf, n, n, &p));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_opened_connection_from_its_packets),
      cmocka_unit_test(every_exchange_is_timed_from_its_ack),
      cmocka_unit_test(a_connection_median_is_exact_while_the_pool_has_room),
      cmocka_unit_test(the_probe_connections_are_left_out),
      cmocka_unit_test(accepted_connections_from_the_socket_view),
      cmocka_unit_test(the_two_views_join),
      cmocka_unit_test(rtt_reads_count_only_progress),
      cmocka_unit_test(a_syn_sent_again_still_connects),
      cmocka_unit_test(ports_reused_are_another_connection),
      cmocka_unit_test(a_close_read_before_its_packets_is_one_connection),
      cmocka_unit_test(offloaded_packets_count_as_segments),
      cmocka_unit_test(a_syn_flood_is_bounded),
      cmocka_unit_test(frames_are_parsed_within_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
