#include "measure.h"
#include "protocol.h"
#include "stats.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum {
  READY_RETRY_MS = 20,
  CONNECT_SLICE_MS = 300,
  UDP_WAIT_MS = 100,
  READ_SLICE_MS = 100, /* a blocking read's longest wait before the deadline is checked */
  BULK_CHUNK = 128 * 1024
};

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t probe_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void probe_config_defaults(struct probe_config *c)
{
  memset(c, 0, sizeof *c);
  c->latency = c->bandwidth = true;
  c->budget_ms = 2000;
  c->msg_size = 64;
  c->latency_ms = 250;
  c->latency_max = 20000;
  c->warmup = 50;
  c->bandwidth_ms = 1000;
}

int probe_parse_peer(const char *text, struct probe_config *c, char *err, size_t errsize)
{
  if (probe_peer_parse(text, &c->peer, &c->peer_len, c->peer_text, sizeof c->peer_text) == 0)
    return 0;
  snprintf(err, errsize, "peer \"%s\" is not IP[:PORT] or [IPv6]:PORT (names are not resolved)",
           text);
  return -1;
}

/* ---- plumbing ---- */

struct run {
  const struct probe_config *c;
  int64_t start_us, deadline_us;
  json *result;
  json *errors;
  bool budget_exceeded;
};

__attribute__((format(printf, 2, 3))) static void fail(struct run *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  if (r->errors->n < 16)
    json_append(r->errors, json_new_text(msg));
  free(msg);
}

static int ms_left(const struct run *r)
{
  int64_t left = (r->deadline_us - probe_now_us()) / 1000;
  return left < 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

static bool out_of_time(struct run *r)
{
  if (probe_now_us() < r->deadline_us)
    return false;
  r->budget_exceeded = true;
  return true;
}

/* read() until len bytes or the deadline; 0 ok, -1 with errno (ETIMEDOUT, 0 for EOF). The read
 * blocks (for at most READ_SLICE_MS, the socket's SO_RCVTIMEO): a round trip is one write and one
 * read, as sockperf's, not a poll and a read (one more system call and wake-up in every round
 * trip). */
static int read_full(int fd, void *buf, size_t len, int64_t deadline_us)
{
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n > 0) {
      got += (size_t)n;
      continue;
    }
    if (n == 0) {
      errno = 0;
      return -1;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return -1;
    if (probe_now_us() >= deadline_us) {
      errno = ETIMEDOUT;
      return -1;
    }
  }
  return 0;
}

/* write() it all. EAGAIN waits for room: gVisor's netstack can answer it on a socket that was
 * switched back to blocking mode. */
static int write_full(int fd, const void *buf, size_t len)
{
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, (const char *)buf + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 5000) > 0)
        continue;
      errno = ETIMEDOUT;
      return -1;
    }
    if (n <= 0)
      return -1;
    done += (size_t)n;
  }
  return 0;
}

static const char *err_text(int e)
{
  if (e == 0)
    return "connection closed by the peer";
  if (e == ETIMEDOUT)
    return "no answer within the time budget";
  return strerror(e);
}

/* A connected TCP socket, or -1 with *why set (the failing call and its error). nodelay: as the
 * reference tools do, on for ping-pong (sockperf) and off for bulk transfer (iperf3, where
 * turning Nagle off changes the result by half on a veth). */
static int connect_tcp(const struct run *r, int slice_ms, bool nodelay, char *why, size_t size)
{
  const struct probe_config *c = r->c;
  int fd = socket(c->peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    snprintf(why, size, "socket (tcp): %s", strerror(errno));
    return -1;
  }
  if (connect(fd, (const struct sockaddr *)&c->peer, c->peer_len) < 0 && errno != EINPROGRESS) {
    snprintf(why, size, "connect: %s", strerror(errno));
    close(fd);
    return -1;
  }
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int left = ms_left(r);
  int pr = poll(&p, 1, left < slice_ms ? left : slice_ms);
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (pr <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
    snprintf(why, size, "connect: %s", pr == 0 ? "no answer" : strerror(soerr ? soerr : errno));
    close(fd);
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  struct timeval slice = {.tv_usec = READ_SLICE_MS * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice);
  int one = 1;
  if (nodelay)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int send_hello(int fd, uint8_t mode, uint32_t msg_size, uint32_t duration_ms)
{
  struct probe_hello h = {.mode = mode, .msg_size = msg_size, .duration_ms = duration_ms};
  unsigned char buf[PROBE_HELLO_SIZE];
  probe_hello_encode(&h, buf);
  return write_full(fd, buf, sizeof buf);
}

/* One round trip on an echo session; 0 ok, -1 with *why. */
static int echo_once(struct run *r, int fd, unsigned char *out, unsigned char *in, char *why,
                     size_t size)
{
  size_t n = (size_t)r->c->msg_size;
  if (write_full(fd, out, n) < 0) {
    snprintf(why, size, "write (tcp): %s", strerror(errno));
    return -1;
  }
  if (read_full(fd, in, n, r->deadline_us) < 0) {
    if (errno == ETIMEDOUT)
      r->budget_exceeded = true;
    snprintf(why, size, "read (tcp): %s", err_text(errno));
    return -1;
  }
  if (memcmp(out, in, n) != 0) {
    snprintf(why, size, "the peer's echo differs from what was sent");
    return -1;
  }
  return 0;
}

/* ---- the tests ---- */

/* Connects and completes one echo: the network is ready. Returns the echo session. */
static int wait_ready(struct run *r, unsigned char *out, unsigned char *in)
{
  char why[160] = "no attempt made";
  int attempts = 0;
  while (!out_of_time(r)) {
    attempts++;
    int fd = connect_tcp(r, CONNECT_SLICE_MS, true, why, sizeof why);
    if (fd >= 0 && send_hello(fd, PROBE_MODE_ECHO, (uint32_t)r->c->msg_size, 0) < 0) {
      snprintf(why, sizeof why, "write (tcp): %s", strerror(errno));
    } else if (fd >= 0 && echo_once(r, fd, out, in, why, sizeof why) == 0) {
      json_set(r->result, "ready_us", json_new_int(probe_now_us() - r->start_us));
      json_set(r->result, "ready_attempts", json_new_int(attempts));
      return fd;
    }
    if (fd >= 0)
      close(fd);
    if (strstr(why, "differs"))
      break; /* a peer that answers garbage will not get better */
    nanosleep(&(struct timespec){0, READY_RETRY_MS * 1000000L}, NULL);
  }
  fail(r, "network not ready after %d attempt(s): %s", attempts, why);
  json_set(r->result, "ready_us", json_new(JSON_NULL));
  return -1;
}

static bool latency_done(struct run *r, size_t count, int64_t until_us)
{
  return (int)count >= r->c->latency_max || probe_now_us() >= until_us || out_of_time(r);
}

/* One round trip of a ping-pong test: 1 answered, 0 lost, -1 failed (with *why). */
typedef int (*round_trip_fn)(struct run *r, void *ctx, uint32_t seq, char *why, size_t size);

struct echo_ctx {
  int fd;
  unsigned char *out, *in;
};

/* Warm-up, then round trips until the test's time or count is reached: the statistics, as
 * sockperf ping-pong reports them. NULL when the warm-up failed. */
static json *ping_pong(struct run *r, const char *name, round_trip_fn once, void *ctx)
{
  char why[160];
  uint32_t seq = 0;
  for (int i = 0; i < r->c->warmup && !out_of_time(r); i++)
    if (once(r, ctx, ++seq, why, sizeof why) < 0) {
      fail(r, "%s latency warm-up: %s", name, why);
      return NULL;
    }
  double *rtt = xreallocarray(NULL, (size_t)r->c->latency_max, sizeof *rtt);
  size_t n = 0, lost = 0;
  int64_t until = probe_now_us() + (int64_t)r->c->latency_ms * 1000;
  while (!latency_done(r, n, until)) {
    int64_t t0 = now_ns();
    int got = once(r, ctx, ++seq, why, sizeof why);
    if (got < 0) {
      fail(r, "%s latency: %s", name, why);
      break;
    }
    if (got == 0)
      lost++;
    else
      rtt[n++] = (double)(now_ns() - t0) / 1000.0;
  }
  struct latency_stats st;
  latency_stats_compute(rtt, n, &st);
  free(rtt);
  json *o = latency_stats_json(&st);
  json_set(o, "msg_size", json_new_int(r->c->msg_size));
  if (strcmp(name, "udp") == 0)
    json_set(o, "lost", json_new_uint(lost));
  return o;
}

static int tcp_round_trip(struct run *r, void *ctx, uint32_t seq, char *why, size_t size)
{
  (void)seq;
  struct echo_ctx *e = ctx;
  return echo_once(r, e->fd, e->out, e->in, why, size) == 0 ? 1 : -1;
}

static void tcp_latency(struct run *r, int fd, unsigned char *out, unsigned char *in, json *lat)
{
  struct echo_ctx e = {fd, out, in};
  json *o = ping_pong(r, "tcp", tcp_round_trip, &e);
  if (o)
    json_set(lat, "tcp", o);
}

/* One UDP round trip; 1 done, 0 lost (no answer in time), -1 error with *why. */
static int udp_once(struct run *r, int fd, uint32_t seq, unsigned char *out, unsigned char *in,
                    char *why, size_t size)
{
  size_t n = (size_t)r->c->msg_size;
  probe_udp_fill(out, n, seq);
  if (write(fd, out, n) != (ssize_t)n) {
    snprintf(why, size, "write (udp): %s", strerror(errno));
    return -1;
  }
  for (;;) {
    int left = ms_left(r);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int pr = poll(&p, 1, left < UDP_WAIT_MS ? left : UDP_WAIT_MS);
    if (pr == 0)
      return 0;
    if (pr < 0) {
      snprintf(why, size, "poll (udp): %s", strerror(errno));
      return -1;
    }
    ssize_t got = read(fd, in, n + 1);
    if (got < 0) {
      snprintf(why, size, "read (udp): %s", strerror(errno));
      return -1;
    }
    if (got == (ssize_t)n && probe_udp_valid(in, n) && probe_udp_seq(in) == seq &&
        memcmp(in, out, n) == 0)
      return 1;
    if (got == (ssize_t)n && probe_udp_valid(in, n) && probe_udp_seq(in) < seq)
      continue; /* a late answer to an earlier message */
    snprintf(why, size, "the peer's echo differs from what was sent");
    return -1;
  }
}

static int open_udp(struct run *r)
{
  int fd = socket(r->c->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail(r, "udp latency: socket (udp): %s", strerror(errno));
    return -1;
  }
  if (connect(fd, (const struct sockaddr *)&r->c->peer, r->c->peer_len) < 0) {
    fail(r, "udp latency: connect (udp): %s", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static int udp_round_trip(struct run *r, void *ctx, uint32_t seq, char *why, size_t size)
{
  struct echo_ctx *e = ctx;
  return udp_once(r, e->fd, seq, e->out, e->in, why, size);
}

static void udp_latency(struct run *r, unsigned char *out, unsigned char *in, json *lat)
{
  struct echo_ctx e = {open_udp(r), out, in};
  if (e.fd < 0)
    return;
  json *o = ping_pong(r, "udp", udp_round_trip, &e);
  close(e.fd);
  if (o)
    json_set(lat, "udp", o);
}

static json *retransmits(int fd)
{
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || len < sizeof ti)
    return json_new(JSON_NULL);
  return json_new_uint(ti.tcpi_total_retrans);
}

static void bandwidth_result(struct run *r, const char *direction, uint64_t bytes, int64_t us,
                             json *retrans)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "direction", json_new_string(direction));
  json_set(o, "bytes", json_new_uint(bytes));
  json_set(o, "seconds", json_new_double((double)us / 1e6));
  json_set(o, "bits_per_s", json_new_double(us > 0 ? (double)bytes * 8e6 / (double)us : 0));
  json_set(o, "retransmits", retrans);
  json_set(r->result, "bandwidth", o);
}

/* Client -> peer: send for the duration, then the peer says how much it received. */
static void bandwidth_send(struct run *r, int fd, unsigned char *chunk)
{
  int64_t t0 = probe_now_us(), until = t0 + (int64_t)r->c->bandwidth_ms * 1000;
  while (probe_now_us() < until && !out_of_time(r))
    if (write_full(fd, chunk, BULK_CHUNK) < 0) {
      fail(r, "bandwidth: write (tcp): %s", strerror(errno));
      return;
    }
  json *retrans = retransmits(fd);
  shutdown(fd, SHUT_WR);
  unsigned char count[8];
  if (read_full(fd, count, sizeof count, r->deadline_us + 500000) < 0) {
    json_free(retrans);
    fail(r, "bandwidth: read (tcp) of the peer's count: %s", err_text(errno));
    return;
  }
  uint64_t received = 0;
  for (int i = 0; i < 8; i++)
    received = received << 8 | count[i];
  bandwidth_result(r, "send", received, probe_now_us() - t0, retrans);
}

/* Peer -> client: the peer sends for the duration, then closes. */
static void bandwidth_receive(struct run *r, int fd, unsigned char *chunk)
{
  int64_t t0 = probe_now_us();
  uint64_t bytes = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms_left(r) + 500) <= 0) {
      fail(r, "bandwidth (reverse): read (tcp): %s", strerror(ETIMEDOUT));
      r->budget_exceeded = true;
      return;
    }
    ssize_t n = read(fd, chunk, BULK_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fail(r, "bandwidth (reverse): read (tcp): %s", strerror(errno));
      return;
    }
    if (n == 0)
      break;
    bytes += (uint64_t)n;
  }
  /* The sender's retransmissions are not visible from the receiving end. */
  bandwidth_result(r, "receive", bytes, probe_now_us() - t0, json_new(JSON_NULL));
}

static void bandwidth(struct run *r)
{
  char why[160];
  int fd = connect_tcp(r, ms_left(r), false, why, sizeof why);
  if (fd < 0) {
    fail(r, "bandwidth: %s", why);
    return;
  }
  uint8_t mode = r->c->reverse ? PROBE_MODE_SOURCE : PROBE_MODE_SINK;
  if (send_hello(fd, mode, 0, (uint32_t)r->c->bandwidth_ms) < 0) {
    fail(r, "bandwidth: write (tcp): %s", strerror(errno));
    close(fd);
    return;
  }
  unsigned char *chunk = xmalloc(BULK_CHUNK);
  probe_fill_bulk(chunk, BULK_CHUNK);
  if (r->c->reverse)
    bandwidth_receive(r, fd, chunk);
  else
    bandwidth_send(r, fd, chunk);
  free(chunk);
  close(fd);
}

json *probe_measure(const struct probe_config *c, int64_t start_us)
{
  struct run r = {.c = c,
                  .start_us = start_us,
                  .deadline_us = start_us + (int64_t)c->budget_ms * 1000,
                  .result = json_new(JSON_OBJECT),
                  .errors = json_new(JSON_ARRAY)};
  unsigned char *out = xmalloc((size_t)c->msg_size), *in = xmalloc((size_t)c->msg_size + 1);
  for (int i = 0; i < c->msg_size; i++)
    out[i] = (unsigned char)('a' + i % 26);
  int echo = wait_ready(&r, out, in);
  if (echo >= 0 && c->latency) {
    json *lat = json_new(JSON_OBJECT);
    tcp_latency(&r, echo, out, in, lat);
    if (!out_of_time(&r))
      udp_latency(&r, out, in, lat);
    json_set(r.result, "latency", lat);
  }
  if (echo >= 0)
    close(echo);
  if (echo >= 0 && c->bandwidth && !out_of_time(&r))
    bandwidth(&r);
  if (r.budget_exceeded)
    fail(&r, "time budget of %d ms exceeded: the tests not finished are missing", c->budget_ms);
  json_set(r.result, "budget_exceeded", json_new_bool(r.budget_exceeded));
  json_set(r.result, "errors", r.errors);
  free(out);
  free(in);
  return r.result;
}
