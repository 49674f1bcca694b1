#include "sockdiag.h"
#include "netns.h"
#include "tcpinfo.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { RECV_BUF = 64 << 10 };

int sockdiag_open(int nsfd, int homefd, bool destroy_events, merr **err)
{
  int fd = netns_socket(nsfd, homefd, AF_NETLINK, SOCK_RAW | (destroy_events ? SOCK_NONBLOCK : 0),
                        NETLINK_SOCK_DIAG, err);
  if (fd < 0 || !destroy_events)
    return fd;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
                           .nl_groups = (1u << (SKNLGRP_INET_TCP_DESTROY - 1)) |
                                        (1u << (SKNLGRP_INET6_TCP_DESTROY - 1))};
  /* A burst of closes (a server under load, while the monitor waits for a core) must fit: about
   * 1.3 KiB a close in the kernel's accounting, so some 6,000. Beyond rmem_max with the
   * capability the monitor still holds here; within it otherwise. */
  int buf = SOCKDIAG_DESTROY_BUF;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    merr_set(err, errno, "subscribe to TCP socket destroy notifications");
    close(fd);
    return -1;
  }
  return fd;
}

bool sockdiag_parse(const void *buf, size_t len, struct tcp_sock *out)
{
  const struct nlmsghdr *nh = buf;
  if (len < sizeof *nh || nh->nlmsg_len > len ||
      nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
    return false;
  const struct inet_diag_msg *m = NLMSG_DATA(nh);
  if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
    return false;
  memset(out, 0, sizeof *out);
  out->family = m->idiag_family;
  out->state = m->idiag_state;
  size_t alen = m->idiag_family == AF_INET ? 4 : 16;
  memcpy(out->src, m->id.idiag_src, alen);
  memcpy(out->dst, m->id.idiag_dst, alen);
  out->sport = ntohs(m->id.idiag_sport);
  out->dport = ntohs(m->id.idiag_dport);
  out->cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
  struct nlattr *tb[INET_DIAG_MAX + 1];
  if (nlmsg_parse((struct nlmsghdr *)nh, sizeof *m, tb, INET_DIAG_MAX, NULL) < 0)
    return true; /* the socket without its details */
  if (tb[INET_DIAG_INFO]) {
    tcpinfo_copy(nla_data(tb[INET_DIAG_INFO]), (size_t)nla_len(tb[INET_DIAG_INFO]), out);
  }
  return true;
}

/* Hands every inet_diag message of buf[0..n) to fn; 1 at the end of a dump, -1 on its error. */
static int each_message(const char *buf, size_t n, sockdiag_fn *fn, void *arg, merr **err)
{
  int left = (int)n;
  for (const struct nlmsghdr *nh = (const void *)buf; nlmsg_ok(nh, left);
       nh = nlmsg_next((struct nlmsghdr *)nh, &left)) {
    if (nh->nlmsg_type == NLMSG_DONE)
      return 1;
    if (nh->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr *e = NLMSG_DATA(nh);
      return merr_set(err, nh->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? -e->error : EIO,
                      "socket dump");
    }
    struct tcp_sock s;
    if (sockdiag_parse(nh, nh->nlmsg_len, &s))
      fn(&s, arg);
  }
  return 0;
}

static int dump_family(int fd, uint8_t family, uint32_t states, sockdiag_fn *fn, void *arg,
                       merr **err)
{
  struct {
    struct nlmsghdr nh;
    struct inet_diag_req_v2 r;
  } req = {.nh = {.nlmsg_len = sizeof req,
                  .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
           .r = {.sdiag_family = family,
                 .sdiag_protocol = IPPROTO_TCP,
                 .idiag_ext = 1 << (INET_DIAG_INFO - 1),
                 .idiag_states = states}};
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    return merr_set(err, errno, "socket dump");
  char buf[RECV_BUF] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return merr_set(err, n < 0 ? errno : EIO, "socket dump");
    int r = each_message(buf, (size_t)n, fn, arg, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
}

/* The request for one socket by its addresses, ports and cookie (the kernel's exact lookup, a
 * hash probe: no walk over the host's sockets). */
static void exact_request(const struct tcp_sock *id, struct inet_diag_req_v2 *r)
{
  *r = (struct inet_diag_req_v2){.sdiag_family = id->family,
                                 .sdiag_protocol = IPPROTO_TCP,
                                 .idiag_ext = 1 << (INET_DIAG_INFO - 1),
                                 .idiag_states = ~0u};
  r->id.idiag_sport = htons(id->sport);
  r->id.idiag_dport = htons(id->dport);
  memcpy(r->id.idiag_src, id->src, id->family == AF_INET ? 4 : 16);
  memcpy(r->id.idiag_dst, id->dst, id->family == AF_INET ? 4 : 16);
  r->id.idiag_cookie[0] = (uint32_t)id->cookie;
  r->id.idiag_cookie[1] = (uint32_t)(id->cookie >> 32);
}

int sockdiag_query(int fd, const struct tcp_sock *id, sockdiag_fn *fn, void *arg, merr **err)
{
  struct {
    struct nlmsghdr nh;
    struct inet_diag_req_v2 r;
  } req = {.nh = {.nlmsg_len = sizeof req,
                  .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                  .nlmsg_flags = NLM_F_REQUEST}};
  exact_request(id, &req.r);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    return merr_set(err, errno, "socket query");
  char buf[RECV_BUF] __attribute__((aligned(8)));
  ssize_t n;
  do
    n = recv(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return merr_set(err, n < 0 ? errno : EIO, "socket query");
  const struct nlmsghdr *nh = (const void *)buf;
  if (!nlmsg_ok(nh, (int)n))
    return merr_set(err, EIO, "socket query: a short reply");
  if (nh->nlmsg_type == NLMSG_ERROR) {
    const struct nlmsgerr *e = NLMSG_DATA(nh);
    int code = nh->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? -e->error : EIO;
    return code == ENOENT ? 0 : merr_set(err, code, "socket query");
  }
  struct tcp_sock s;
  if (!sockdiag_parse(nh, nh->nlmsg_len, &s))
    return 0;
  fn(&s, arg);
  return 1;
}

int sockdiag_dump(int fd, uint32_t states, sockdiag_fn *fn, void *arg, merr **err)
{
  if (dump_family(fd, AF_INET, states, fn, arg, err) < 0)
    return -1;
  return dump_family(fd, AF_INET6, states, fn, arg, err);
}

/* The notifications of one datagram; returns how many sockets were given to fn. */
static int each_destroyed(const char *buf, size_t n, sockdiag_fn *fn, void *arg)
{
  int count = 0, left = (int)n;
  for (const struct nlmsghdr *nh = (const void *)buf; nlmsg_ok(nh, left);
       nh = nlmsg_next((struct nlmsghdr *)nh, &left)) {
    struct tcp_sock s;
    if (sockdiag_parse(nh, nh->nlmsg_len, &s)) {
      fn(&s, arg);
      count++;
    }
  }
  return count;
}

int sockdiag_read_destroyed(int fd, sockdiag_fn *fn, void *arg)
{
  /* A notification a datagram: read in batches (one system call for many closes), into a
   * buffer of its own (the monitor reads from one thread). */
  enum { BATCH = 32, DATAGRAM = 2048 };
  static char bufs[BATCH][DATAGRAM] __attribute__((aligned(8)));
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  struct sockaddr_nl from[BATCH];
  int count = 0;
  bool lost = false;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = DATAGRAM};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
                                             .msg_namelen = sizeof from[i],
                                             .msg_iov = &iov[i],
                                             .msg_iovlen = 1}};
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == ENOBUFS) {
      lost = true; /* an overrun: some closes were not seen; the next dump sees what lives */
      continue;
    }
    if (n <= 0)
      return lost ? -1 : count;
    for (int i = 0; i < n; i++)
      if (from[i].nl_pid == 0) /* only the kernel reports a socket's end */
        count += each_destroyed(bufs[i], msgs[i].msg_len, fn, arg);
  }
}
