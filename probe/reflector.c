#include "reflector.h"
#include "protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* 128 KiB reads and writes, as iperf3 does by default: the receiver's cost per byte is part of
 * what a bandwidth test measures, so it should be the same as the reference tool's. */
enum { UDP_PEERS = 256, UDP_IDLE_MS = 2000, IO_CHUNK = 128 * 1024 };

static const struct reflector_opts reflector_defaults = {
    .port = PROBE_DEFAULT_PORT, .max_sessions = 256, .idle_ms = 10000};
/* What reflector_serve was given: read by every session thread, never changed. */
static struct reflector_opts opts;
static atomic_int sessions;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void addr_text(const struct sockaddr_storage *sa, char *buf, size_t size)
{
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
    port = ntohs(s->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
    port = ntohs(s->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) { /* an IPv4 client of the dual-stack socket */
      inet_ntop(AF_INET, &s->sin6_addr.s6_addr[12], host, sizeof host);
      snprintf(buf, size, "%s:%d", host, port);
      return;
    }
    inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
  }
  snprintf(buf, size, sa->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

__attribute__((format(printf, 1, 2))) static void logline(const char *fmt, ...)
{
  char ts[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&log_lock);
  printf("%s ", ts);
  vprintf(fmt, ap);
  putchar('\n');
  fflush(stdout);
  pthread_mutex_unlock(&log_lock);
  va_end(ap);
}

/* ---- TCP sessions ---- */

struct session {
  int fd;
  struct sockaddr_storage peer;
  char peer_text[64];
  int64_t start_us;
  uint64_t msgs, bytes_in, bytes_out;
  const char *end; /* why it ended */
};

/* A session's reads block, at most the idle timeout (SO_RCVTIMEO, set at accept): an echo is one
 * read and one write, as sockperf's server does it, without a poll before each read. */
static bool idle_timeout(struct session *s, ssize_t n)
{
  if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
    return false;
  s->end = "idle timeout";
  return true;
}

/* Reads exactly len bytes; 1 done, 0 EOF before any byte, -1 error or truncated. */
static int read_full(struct session *s, unsigned char *buf, size_t len)
{
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(s->fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (idle_timeout(s, n))
      return -1;
    if (n <= 0) {
      if (n == 0 && got == 0)
        return 0;
      s->end = n == 0 ? "message cut short" : "read error";
      return -1;
    }
    got += (size_t)n;
    s->bytes_in += (uint64_t)n;
  }
  return 1;
}

static int write_full(struct session *s, const unsigned char *buf, size_t len)
{
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(s->fd, buf + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      s->end = "write error";
      return -1;
    }
    done += (size_t)n;
    s->bytes_out += (uint64_t)n;
  }
  return 0;
}

static void serve_echo(struct session *s, size_t size)
{
  int one = 1; /* ping-pong: answer at once, as sockperf's server does */
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  unsigned char *buf = malloc(size);
  if (buf == NULL) {
    s->end = "out of memory";
    return;
  }
  for (;;) {
    int r = read_full(s, buf, size);
    if (r <= 0) {
      if (r == 0)
        s->end = "ok";
      break;
    }
    if (opts.delay_ms)
      nanosleep(&(struct timespec){opts.delay_ms / 1000, (opts.delay_ms % 1000) * 1000000L}, NULL);
    if (opts.garbage)
      for (size_t i = 0; i < size; i++)
        buf[i] ^= 0xff;
    if (write_full(s, buf, size) < 0)
      break;
    s->msgs++;
  }
  free(buf);
}

static void serve_sink(struct session *s)
{
  unsigned char *buf = malloc(IO_CHUNK);
  if (buf == NULL) {
    s->end = "out of memory";
    return;
  }
  for (;;) {
    ssize_t n = read(s->fd, buf, IO_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (idle_timeout(s, n))
      break;
    if (n < 0) {
      s->end = "read error";
      break;
    }
    if (n == 0) {
      unsigned char count[8];
      uint64_t v = s->bytes_in;
      for (int i = 7; i >= 0; i--, v >>= 8)
        count[i] = (unsigned char)v;
      if (write_full(s, count, sizeof count) == 0)
        s->end = "ok";
      break;
    }
    s->bytes_in += (uint64_t)n;
  }
  free(buf);
}

static void serve_source(struct session *s, uint32_t duration_ms)
{
  unsigned char *buf = malloc(IO_CHUNK);
  if (buf == NULL) {
    s->end = "out of memory";
    return;
  }
  probe_fill_bulk(buf, IO_CHUNK);
  int64_t end = now_us() + (int64_t)duration_ms * 1000;
  s->end = "ok";
  while (now_us() < end)
    if (write_full(s, buf, IO_CHUNK) < 0)
      break;
  free(buf);
}

static void *session_main(void *arg)
{
  struct session *s = arg;
  unsigned char hello[PROBE_HELLO_SIZE];
  struct probe_hello h = {0};
  const char *bad = NULL;
  int r = read_full(s, hello, sizeof hello);
  if (r == 1)
    bad = probe_hello_decode(hello, &h);
  if (r != 1 || bad) {
    logline("tcp %s rejected: %s", s->peer_text,
            r == 0 ? "closed before its hello"
            : bad  ? bad
                   : s->end);
  } else {
    if (h.mode == PROBE_MODE_ECHO)
      serve_echo(s, h.msg_size);
    else if (h.mode == PROBE_MODE_SINK)
      serve_sink(s);
    else
      serve_source(s, h.duration_ms);
    double secs = (double)(now_us() - s->start_us) / 1e6;
    logline("tcp %s %s msgs=%llu in=%llu out=%llu seconds=%.3f end=%s", s->peer_text,
            probe_mode_name(h.mode), (unsigned long long)s->msgs, (unsigned long long)s->bytes_in,
            (unsigned long long)s->bytes_out, secs, s->end);
  }
  close(s->fd);
  free(s);
  atomic_fetch_sub(&sessions, 1);
  return NULL;
}

static void accept_one(int lfd)
{
  struct session *s = calloc(1, sizeof *s);
  if (s == NULL)
    return;
  socklen_t len = sizeof s->peer;
  s->fd = accept4(lfd, (struct sockaddr *)&s->peer, &len, SOCK_CLOEXEC);
  if (s->fd < 0) {
    free(s);
    return;
  }
  addr_text(&s->peer, s->peer_text, sizeof s->peer_text);
  s->start_us = now_us();
  struct timeval idle = {.tv_sec = opts.idle_ms / 1000, .tv_usec = opts.idle_ms % 1000 * 1000};
  setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
  if (atomic_fetch_add(&sessions, 1) >= opts.max_sessions) {
    atomic_fetch_sub(&sessions, 1);
    logline("tcp %s refused: %d sessions already", s->peer_text, opts.max_sessions);
    close(s->fd);
    free(s);
    return;
  }
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &attr, session_main, s) != 0) {
    atomic_fetch_sub(&sessions, 1);
    close(s->fd);
    free(s);
  }
  pthread_attr_destroy(&attr);
}

/* ---- UDP ---- */

struct udp_peer {
  struct sockaddr_storage addr;
  socklen_t len;
  int64_t first_us, last_us;
  uint64_t msgs, dropped;
};

static struct udp_peer *udp_peer_of(struct udp_peer *peers, const struct sockaddr_storage *a,
                                    socklen_t len)
{
  struct udp_peer *free_slot = NULL;
  for (int i = 0; i < UDP_PEERS; i++) {
    if (peers[i].len == len && memcmp(&peers[i].addr, a, len) == 0)
      return &peers[i];
    if (peers[i].len == 0 && free_slot == NULL)
      free_slot = &peers[i];
  }
  if (free_slot) {
    memcpy(&free_slot->addr, a, len);
    free_slot->len = len;
    free_slot->first_us = now_us();
  }
  return free_slot;
}

/* A UDP "session" is a peer address, ended by UDP_IDLE_MS of silence. */
static void udp_flush_idle(struct udp_peer *peers, bool all)
{
  int64_t now = now_us();
  for (int i = 0; i < UDP_PEERS; i++) {
    struct udp_peer *p = &peers[i];
    if (p->len == 0 || (!all && now - p->last_us < UDP_IDLE_MS * 1000))
      continue;
    char text[64];
    addr_text(&p->addr, text, sizeof text);
    logline("udp %s echo msgs=%llu dropped=%llu seconds=%.3f end=idle", text,
            (unsigned long long)p->msgs, (unsigned long long)p->dropped,
            (double)(p->last_us - p->first_us) / 1e6);
    memset(p, 0, sizeof *p);
  }
}

static void *udp_main(void *arg)
{
  int fd = *(int *)arg;
  static struct udp_peer peers[UDP_PEERS];
  unsigned char buf[PROBE_MAX_MSG + 1];
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 500) <= 0) {
      udp_flush_idle(peers, false);
      continue;
    }
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    if (n < 0)
      continue;
    struct udp_peer *peer = udp_peer_of(peers, &from, len);
    if (peer)
      peer->last_us = now_us();
    if (!probe_udp_valid(buf, (size_t)n)) {
      if (peer)
        peer->dropped++;
      continue;
    }
    if (opts.garbage)
      for (ssize_t i = 0; i < n; i++)
        buf[i] ^= 0xff;
    if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len) == n && peer)
      peer->msgs++;
  }
  return NULL;
}

/* ---- setup ---- */

static int listen_on(int type, const char *bind_addr, int port)
{
  struct sockaddr_storage ss = {0};
  socklen_t len;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  int family = AF_INET6;
  if (bind_addr && inet_pton(AF_INET, bind_addr, &s4->sin_addr) == 1) {
    family = AF_INET;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    len = sizeof *s4;
  } else {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    if (bind_addr && inet_pton(AF_INET6, bind_addr, &s6->sin6_addr) != 1)
      return -2;
    if (!bind_addr)
      s6->sin6_addr = in6addr_any;
    len = sizeof *s6;
  }
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0 && family == AF_INET6 && !bind_addr) {
    /* No IPv6 in this namespace: IPv4 only. */
    family = AF_INET;
    memset(&ss, 0, sizeof ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    s4->sin_addr.s_addr = htonl(INADDR_ANY);
    len = sizeof *s4;
    fd = socket(family, type | SOCK_CLOEXEC, 0);
  }
  if (fd < 0)
    return -1;
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (type == SOCK_STREAM && listen(fd, 128) < 0)) {
    close(fd);
    return -1;
  }
  return fd;
}

void reflector_usage(FILE *out)
{
  fprintf(out,
          "usage: reflector [--port P] [--bind ADDR] [--max-sessions N] [--idle-ms MS]\n"
          "                 [--delay-ms MS] [--garbage]\n\n"
          "Serves measured-probe: TCP echo, sink and source and UDP echo on port P (default "
          "%d).\n--delay-ms and --garbage make a slow or a broken peer, for tests.\n",
          PROBE_DEFAULT_PORT);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

int reflector_parse_args(int argc, char **argv, struct reflector_opts *o, int *status)
{
  static const struct option longopts[] = {{"port", required_argument, NULL, 'p'},
                                           {"bind", required_argument, NULL, 'b'},
                                           {"max-sessions", required_argument, NULL, 'm'},
                                           {"idle-ms", required_argument, NULL, 'i'},
                                           {"delay-ms", required_argument, NULL, 'd'},
                                           {"garbage", no_argument, NULL, 'g'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  *o = reflector_defaults;
  optind = 1;
  int c, bad = 0;
  while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (c) {
    case 'p':
      bad |= parse_int(optarg, 1, 65535, &o->port);
      break;
    case 'b':
      o->bind = optarg;
      break;
    case 'm':
      bad |= parse_int(optarg, 1, 100000, &o->max_sessions);
      break;
    case 'i':
      bad |= parse_int(optarg, 10, 3600000, &o->idle_ms);
      break;
    case 'd':
      bad |= parse_int(optarg, 0, 60000, &o->delay_ms);
      break;
    case 'g':
      o->garbage = 1;
      break;
    case 'h':
      reflector_usage(stdout);
      *status = 0;
      return -1;
    default:
      bad = 1;
    }
  }
  if (bad || optind < argc) {
    reflector_usage(stderr);
    *status = 2;
    return -1;
  }
  return 0;
}

int reflector_serve(const struct reflector_opts *o)
{
  opts = *o;
  signal(SIGPIPE, SIG_IGN);
  int tfd = listen_on(SOCK_STREAM, opts.bind, opts.port);
  int ufd = listen_on(SOCK_DGRAM, opts.bind, opts.port);
  if (tfd < 0 || ufd < 0) {
    fprintf(stderr, "reflector: cannot listen on %s port %d: %s\n", opts.bind ? opts.bind : "*",
            opts.port, tfd == -2 || ufd == -2 ? "bad address" : strerror(errno));
    return 1;
  }
  pthread_t udp;
  if (pthread_create(&udp, NULL, udp_main, &ufd) != 0) {
    fprintf(stderr, "reflector: cannot start the UDP thread\n");
    return 1;
  }
  logline("listening on %s port %d (tcp echo/sink/source, udp echo)%s%s",
          opts.bind ? opts.bind : "*", opts.port, opts.delay_ms ? ", slow" : "",
          opts.garbage ? ", garbage" : "");
  for (;;) {
    struct pollfd p = {.fd = tfd, .events = POLLIN};
    if (poll(&p, 1, -1) > 0)
      accept_one(tfd);
  }
}
