#include "netns.h"
#include "cleanup.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where engines keep namespace files, scanned in this order (overlay networks' namespaces,
 * "1-<id>", sit in Docker's directory too). */
static const struct {
  const char *dir, *prefix;
} netns_dirs[] = {{"/var/run/docker/netns", "docker:"}, {"/run/netns", "netns:"}};

int netns_open_pid(pid_t pid, merr **err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return merr_set(err, errno, "open %s", path);
  return fd;
}

int netns_open_path(const char *path, merr **err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return merr_set(err, errno, "open network namespace %s", path);
  return fd;
}

bool netns_same(int a, int b)
{
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

int netns_home(int ctrfd, int ownfd)
{
  if (setns(ownfd, CLONE_NEWNET) == 0 || setns(ctrfd, CLONE_NEWNET) < 0)
    return ownfd; /* it can come back (or cannot go there either: every entry fails, and says so) */
  return fcntl(ctrfd, F_DUPFD_CLOEXEC, 0);
}

struct nl_sock *netns_route_socket(int nsfd, int homefd, merr **err)
{
  if (setns(nsfd, CLONE_NEWNET) < 0) {
    merr_set(err, errno, "enter network namespace");
    return NULL;
  }
  struct nl_sock *sk = nl_socket_alloc();
  int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
  /* Back home before anything else: a failure here would leave every later socket in the
   * container's namespace, so it is fatal to this (disposable) process. */
  if (setns(homefd, CLONE_NEWNET) < 0)
    abort();
  if (r < 0) {
    nl_socket_free(sk);
    merr_set(err, 0, "netlink socket: %s", nl_geterror(r));
    return NULL;
  }
  return sk;
}

int netns_socket(int nsfd, int homefd, int domain, int type, int protocol, merr **err)
{
  if (setns(nsfd, CLONE_NEWNET) < 0)
    return merr_set(err, errno, "enter network namespace");
  int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
  int saved = errno;
  if (setns(homefd, CLONE_NEWNET) < 0)
    abort(); /* as in netns_route_socket */
  if (fd < 0)
    return merr_set(err, saved, "socket");
  return fd;
}

struct nl_sock *netns_link_events_socket(int nsfd, int homefd, merr **err)
{
  if (setns(nsfd, CLONE_NEWNET) < 0) {
    merr_set(err, errno, "enter network namespace");
    return NULL;
  }
  struct nl_sock *sk = nl_socket_alloc();
  if (sk)
    nl_socket_disable_seq_check(sk); /* notifications carry no sequence of ours */
  int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
  if (setns(homefd, CLONE_NEWNET) < 0)
    abort(); /* as in netns_route_socket */
  if (r == 0)
    r = nl_socket_add_membership(sk, RTNLGRP_LINK);
  if (r == 0)
    r = nl_socket_set_nonblocking(sk);
  if (r < 0) {
    nl_socket_free(sk);
    merr_set(err, 0, "netlink link events: %s", nl_geterror(r));
    return NULL;
  }
  return sk;
}

bool netns_link_events_pending(struct nl_sock *events)
{
  char buf[8192];
  bool any = false;
  for (;;) {
    ssize_t n = recv(nl_socket_get_fd(events), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && errno == ENOBUFS))
      any = true; /* an overrun may have swallowed a change: take it as one */
    else if (n < 0 && errno == EINTR)
      continue;
    else
      return any;
  }
}

struct nsid_answer {
  int nsid;
};

static int on_nsid(struct nl_msg *msg, void *arg)
{
  struct nsid_answer *a = arg;
  struct nlattr *tb[NETNSA_MAX + 1];
  if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
      tb[NETNSA_NSID] && nla_len(tb[NETNSA_NSID]) >= 4)
    a->nsid = (int)nla_get_s32(tb[NETNSA_NSID]);
  return NL_OK;
}

int netns_id_of(struct nl_sock *sk, int nsfd)
{
  struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
  struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);
  if (msg == NULL)
    return -1;
  struct nsid_answer a = {.nsid = -1};
  if (nlmsg_append(msg, &g, sizeof g, NLMSG_ALIGNTO) < 0 || nla_put_u32(msg, NETNSA_FD, nsfd) < 0 ||
      nl_send_auto(sk, msg) < 0) {
    nlmsg_free(msg);
    return -1;
  }
  nlmsg_free(msg);
  struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
  if (cb == NULL)
    return -1;
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_nsid, &a);
  int r = nl_recvmsgs(sk, cb);
  nl_cb_put(cb);
  /* The socket asks for acknowledgements (libnl's default): take this one off the socket now,
   * or the next dump would read it as its first answer. */
  if (r >= 0)
    nl_wait_for_ack(sk);
  return a.nsid;
}

static bool try_candidate(struct nl_sock *sk, int nsid, int fd, const char *label, bool is_host,
                          struct netns_ref *out)
{
  if (netns_id_of(sk, fd) != nsid)
    return false;
  out->fd = fd;
  out->is_host = is_host;
  snprintf(out->label, sizeof out->label, "%s", label);
  return true;
}

static bool scan_dir(struct nl_sock *sk, int nsid, const char *dir, const char *prefix,
                     struct netns_ref *out)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return false;
  bool found = false;
  struct dirent *de;
  while (!found && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
      continue;
    char label[NET_NS_LABEL_MAX];
    snprintf(label, sizeof label, "%s%s", prefix, de->d_name);
    found = try_candidate(sk, nsid, fd, label, false, out);
    if (!found)
      close(fd);
  }
  closedir(d);
  return found;
}

int netns_find_by_id(struct nl_sock *sk, int nsid, int hostfd, struct netns_ref *out, merr **err)
{
  int host = fcntl(hostfd, F_DUPFD_CLOEXEC, 0);
  if (host >= 0 && try_candidate(sk, nsid, host, "host", true, out))
    return 0;
  if (host >= 0)
    close(host);
  for (size_t i = 0; i < sizeof netns_dirs / sizeof netns_dirs[0]; i++)
    if (scan_dir(sk, nsid, netns_dirs[i].dir, netns_dirs[i].prefix, out))
      return 0;
  return merr_set(err, ENOENT, "no known network namespace has id %d", nsid);
}
