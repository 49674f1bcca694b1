#include "procexit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Offsets of fields in a datagram: netlink header, connector header, then the event. */
#define EV_OFF (NLMSG_HDRLEN + sizeof(struct cn_msg))
#define WHAT_OFF (EV_OFF + offsetof(struct proc_event, what))
#define PID_OFF (EV_OFF + offsetof(struct proc_event, event_data.exit.process_pid))

static int attach_filter(int fd, pid_t pid)
{
  /* Classic BPF loads are big-endian: compare with the byte-swapped host values. */
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, WHAT_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXIT), 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PID_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl((uint32_t)pid), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

static int send_op(int fd, enum proc_cn_mcast_op op)
{
  /* The netlink header, the connector header, the operation: one after the other, unpadded. */
  char buf[sizeof(struct nlmsghdr) + sizeof(struct cn_msg) + sizeof op] __attribute__((aligned(8)));
  memset(buf, 0, sizeof buf);
  struct nlmsghdr *nl = (struct nlmsghdr *)buf;
  nl->nlmsg_len = sizeof buf;
  nl->nlmsg_type = NLMSG_DONE;
  struct cn_msg *cn = (struct cn_msg *)(buf + sizeof *nl);
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof op;
  memcpy(buf + sizeof *nl + sizeof *cn, &op, sizeof op);
  return send(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf ? 0 : -1;
}

int procexit_open(pid_t pid, merr **err)
{
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0)
    return merr_set(err, errno, "process events socket");
  /* Filter before bind, so that no unfiltered event is ever queued. An overrun (a host forking
   * faster than we read) must not leave an error pending that wakes every poll at once: only
   * our pid's exit passes the filter, so nothing of ours is lost without the report. */
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  if (attach_filter(fd, pid) < 0) {
    merr_set(err, errno, "process events filter");
    close(fd);
    return -1;
  }
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || send_op(fd, PROC_CN_MCAST_LISTEN) < 0) {
    merr_set(err, errno, "process events subscription");
    close(fd);
    return -1;
  }
  return fd;
}

bool procexit_parse(const void *buf, size_t len, pid_t pid, int *wait_status)
{
  size_t left = len;
  for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
    if (nh->nlmsg_len < EV_OFF + offsetof(struct proc_event, event_data) +
                            sizeof(((struct proc_event *)0)->event_data.exit))
      continue;
    const struct cn_msg *cn = NLMSG_DATA(nh);
    if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
      continue;
    struct proc_event ev = {0};
    memcpy(&ev, cn->data, sizeof ev < nh->nlmsg_len - EV_OFF ? sizeof ev : nh->nlmsg_len - EV_OFF);
    if (ev.what == PROC_EVENT_EXIT && ev.event_data.exit.process_pid == pid) {
      *wait_status = (int)ev.event_data.exit.exit_code;
      return true;
    }
  }
  return false;
}

int procexit_poll(int fd, pid_t pid, int *wait_status)
{
  char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
    if (n < 0 && (errno == EINTR || errno == ENOBUFS))
      continue; /* ENOBUFS: an overrun reported (and cleared); what follows is still ours */
    if (n <= 0)
      return 0; /* EAGAIN: nothing more */
    /* Only the kernel (port 0) reports a process's exit; anything else is not believed. */
    if (fromlen < sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0)
      continue;
    if (procexit_parse(buf, (size_t)n, pid, wait_status))
      return 1;
  }
}

int procexit_wait(int fd, pid_t pid, int *wait_status, int timeout_ms)
{
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (procexit_poll(fd, pid, wait_status) == 1)
      return 1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (waited >= timeout_ms)
      return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, (int)(timeout_ms - waited));
  }
}

void procexit_close(int fd)
{
  if (fd < 0)
    return;
  send_op(fd, PROC_CN_MCAST_IGNORE);
  close(fd);
}
