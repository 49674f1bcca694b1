#include "flowview.h"
#include "cleanup.h"
#include "sockdiag.h"
#include "xalloc.h"

#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Every state but TIME_WAIT: a socket there is a closed connection, already seen at its end. */
#define DUMP_STATES (0xfffu & ~(1u << TCP_TIME_WAIT))
#define LISTEN_STATES (1u << TCP_LISTEN)

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void open_socket_view(struct flowview *v, int nsfd, int homefd)
{
  cleanup_merr merr *err = NULL;
  v->dump_fd = sockdiag_open(nsfd, homefd, false, &err);
  if (v->dump_fd >= 0)
    v->destroy_fd = sockdiag_open(nsfd, homefd, true, &err);
  if (v->destroy_fd < 0) {
    if (v->dump_fd >= 0)
      close(v->dump_fd);
    v->dump_fd = -1;
    v->socket_why = xasprintf("socket view: %s", merr_msg(err));
    v->socket_failed = true;
    return;
  }
  v->socket_on = true;
}

static void open_packet_view(struct flowview *v, int nsfd, int homefd)
{
  cleanup_merr merr *err = NULL;
  if (pktcap_open(nsfd, homefd, v->links, v->nlinks, &v->cap, &err) < 0) {
    v->packet_why = xasprintf("packet view: %s", merr_msg(err));
    v->packet_failed = true;
    return;
  }
  v->packet_on = true;
}

static void keep_links(struct flowview *v, const int *links, const char *const *names, size_t n)
{
  v->nlinks = n < PKTCAP_MAX_LINKS ? n : PKTCAP_MAX_LINKS;
  for (size_t i = 0; i < v->nlinks; i++) {
    v->links[i] = links[i];
    snprintf(v->link_names[i], sizeof v->link_names[i], "%s", names[i]);
  }
}

void flowview_open(struct flowview *v, int nsfd, int homefd, const struct flowview_options *o)
{
  memset(v, 0, sizeof *v);
  v->dump_fd = v->destroy_fd = v->cap.fd = -1;
  if (!o->on) {
    v->why_off = xstrdup(o->why_off ? o->why_off : "off");
    return;
  }
  v->on = true;
  v->flows = flows_new();
  if (o->probe_peer)
    flows_set_probe_peer(v->flows, o->probe_peer);
  keep_links(v, o->links, o->link_names, o->nlinks);
  if (o->socket_view)
    open_socket_view(v, nsfd, homefd);
  else
    v->socket_why = xstrdup(o->socket_why ? o->socket_why : "off");
  if (v->nlinks)
    open_packet_view(v, nsfd, homefd);
  else
    v->packet_why = xstrdup("packet view: the container has no link of its own to read");
}

void flowview_set_links(struct flowview *v, const int *links, const char *const *names, size_t n)
{
  if (!v->packet_on)
    return;
  keep_links(v, links, names, n);
  pktcap_set_links(&v->cap, v->links, v->nlinks, NULL);
}

size_t flowview_pollfds(const struct flowview *v, struct pollfd *p)
{
  size_t n = 0;
  if (now_ns() < v->next_read_ns)
    return 0;
  if (v->socket_on)
    p[n++] = (struct pollfd){.fd = v->destroy_fd, .events = POLLIN};
  if (v->packet_on)
    p[n++] = (struct pollfd){.fd = v->cap.fd, .events = POLLIN};
  return n;
}

static void on_socket(const struct tcp_sock *s, void *arg)
{
  flows_socket(arg, s, now_ns());
}

static void on_destroyed(const struct tcp_sock *s, void *arg)
{
  struct flowview *v = arg;
  v->destroyed_seen++;
  flows_destroyed(v->flows, s, now_ns());
}

static void on_packet(const struct tcp_pkt *p, void *arg)
{
  flows_packet(arg, p);
}

/* Connections that ended between two dumps leave their direction to the listening ports. */
static void read_listeners(struct flowview *v)
{
  flows_listeners_begin(v->flows);
  /* Failed or not, done: the connections are folded with what is known. */
  sockdiag_dump(v->dump_fd, LISTEN_STATES, on_socket, v->flows, NULL);
  flows_listeners_done(v->flows);
}

/* The smoothed RTT of up to FLOWVIEW_RTT_SOCKETS open connections, in turn, every
 * FLOWVIEW_RTT_MS: a dump's few values would make a poor median. */
static void read_rtts(struct flowview *v)
{
  int64_t now = now_ns();
  if (now < v->next_rtt_ns)
    return;
  v->next_rtt_ns = now + (int64_t)FLOWVIEW_RTT_MS * 1000000;
  struct tcp_sock ids[FLOWVIEW_RTT_SOCKETS];
  size_t n = flows_rtt_targets(v->flows, ids, FLOWVIEW_RTT_SOCKETS);
  for (size_t i = 0; i < n; i++)
    if (sockdiag_query(v->dump_fd, &ids[i], on_socket, v->flows, NULL) > 0)
      v->rtt_reads++;
}

static void read_now(struct flowview *v)
{
  uint64_t packets = v->packets, destroyed = v->destroyed_seen;
  if (v->socket_on && sockdiag_read_destroyed(v->destroy_fd, on_destroyed, v) < 0)
    v->destroy_lost = true;
  if (v->packet_on) {
    v->packets += pktcap_read(&v->cap, on_packet, v->flows, &v->malformed);
    v->dropped += pktcap_drops(&v->cap);
  }
  if (v->socket_on && flows_wants_listeners(v->flows))
    read_listeners(v);
  if (v->socket_on)
    read_rtts(v);
  flows_tick(v->flows, now_ns());
  /* Under load the next read waits (reads are batched); when this one found nothing, the
   * descriptors are polled again at once: an idle monitor sleeps until something comes, not
   * waking every FLOWVIEW_READ_MS for nothing (a hundred wake-ups a second per container). */
  bool found = v->packets != packets || v->destroyed_seen != destroyed;
  v->next_read_ns = found ? now_ns() + (int64_t)FLOWVIEW_READ_MS * 1000000 : 0;
}

void flowview_read(struct flowview *v)
{
  if (v->on && now_ns() >= v->next_read_ns)
    read_now(v);
}

void flowview_dump(struct flowview *v, bool force)
{
  if (!v->socket_on)
    return;
  int64_t now = now_ns();
  /* Nothing open, nothing seen on the link or closed since the last read: nothing to learn. */
  bool idle = v->packet_on && flows_live(v->flows) == 0 && v->packets == v->packets_at_dump &&
              v->destroyed_seen == v->destroyed_at_dump && v->dumps > 0;
  if (!force && idle) {
    v->dumps_idle++;
    return;
  }
  if (!force && now < v->next_dump_ns) {
    v->dumps_deferred++;
    return;
  }
  int64_t c0 = cpu_ns();
  flows_dump_begin(v->flows);
  if (sockdiag_dump(v->dump_fd, DUMP_STATES, on_socket, v->flows, NULL) == 0) {
    flows_dump_end(v->flows, now);
    v->dumps++;
  }
  v->dump_cost_ns = cpu_ns() - c0;
  /* The next dump waits until this one's cost is FLOWVIEW_DUMP_DUTY_PCT of the time between. */
  v->next_dump_ns = now + v->dump_cost_ns * (100 / FLOWVIEW_DUMP_DUTY_PCT);
  v->packets_at_dump = v->packets;
  v->destroyed_at_dump = v->destroyed_seen;
}

int flowview_timeout_ms(const struct flowview *v)
{
  if (!v->on)
    return -1;
  int64_t wait = v->next_read_ns - now_ns();
  if (wait > 0) /* the descriptors are not polled meanwhile */
    return (int)((wait + 999999) / 1000000);
  return flows_live(v->flows) ? FLOWS_GRACE_MS : -1;
}

static void read_open(const struct tcp_sock *id, void *arg)
{
  struct flowview *v = arg;
  sockdiag_query(v->dump_fd, id, on_socket, v->flows, NULL);
}

void flowview_finish(struct flowview *v)
{
  if (!v->on)
    return;
  read_now(v);
  /* What is still open at the end, each socket read by itself: a dump would cost the exit a
   * walk over every TCP socket of the host. */
  if (v->socket_on)
    flows_each_open(v->flows, read_open, v);
  flows_finish(v->flows, now_ns());
}

static json *view_json(bool on, bool failed, const char *why)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "ran", json_new_bool(on));
  if (!on) {
    json_set(o, "why", json_new_text(why ? why : "off"));
    json_set(o, "failed", json_new_bool(failed));
  }
  return o;
}

json *flowview_json(const struct flowview *v)
{
  json *o = v->on ? flows_json(v->flows) : json_new(JSON_OBJECT);
  json *views = json_new(JSON_OBJECT);
  json *sv = view_json(v->socket_on, v->socket_failed, v->on ? v->socket_why : v->why_off);
  if (v->socket_on) {
    json_set(sv, "dumps", json_new_uint(v->dumps));
    json_set(sv, "dumps_deferred", json_new_uint(v->dumps_deferred));
    json_set(sv, "dumps_idle", json_new_uint(v->dumps_idle));
    json_set(sv, "dump_cpu_us", json_new_int(v->dump_cost_ns / 1000));
    json_set(sv, "rtt_reads", json_new_uint(v->rtt_reads));
    json_set(sv, "closes_seen", json_new_uint(v->destroyed_seen));
    json_set(sv, "closes_lost", json_new_bool(v->destroy_lost));
  }
  json_set(views, "socket", sv);
  json *pv = view_json(v->packet_on, v->packet_failed, v->on ? v->packet_why : v->why_off);
  if (v->packet_on) {
    json *links = json_new(JSON_ARRAY);
    for (size_t i = 0; i < v->nlinks; i++)
      json_append(links, json_new_text(v->link_names[i]));
    json_set(pv, "links", links);
    json_set(pv, "packets", json_new_uint(v->packets));
    json_set(pv, "dropped", json_new_uint(v->dropped));
    json_set(pv, "malformed", json_new_uint(v->malformed));
  }
  json_set(views, "packet", pv);
  json_set(o, "views", views);
  return o;
}

void flowview_close(struct flowview *v)
{
  if (v->dump_fd >= 0)
    close(v->dump_fd);
  if (v->destroy_fd >= 0)
    close(v->destroy_fd);
  if (v->packet_on)
    pktcap_close(&v->cap);
  flows_free(v->flows);
  free(v->why_off);
  free(v->socket_why);
  free(v->packet_why);
  memset(v, 0, sizeof *v);
  v->dump_fd = v->destroy_fd = v->cap.fd = -1;
}
