/* Exit statuses of processes we did not start, from the process events connector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "procexit.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kernel's datagram: the event sits at offset 36, not 8-byte aligned for struct proc_event,
 * so it is built aside and copied in (as the parser copies it out). */
static void put_event(char *buf, const struct proc_event *ev)
{
  struct nlmsghdr *nh = (struct nlmsghdr *)buf;
  struct cn_msg cn = {.id = {.idx = CN_IDX_PROC, .val = CN_VAL_PROC}, .len = sizeof *ev};
  memcpy(NLMSG_DATA(nh), &cn, sizeof cn);
  memcpy((char *)NLMSG_DATA(nh) + sizeof cn, ev, sizeof *ev);
}

static void parses_only_the_watched_exit(void **state)
{
  (void)state;
  _Alignas(
      struct nlmsghdr) char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct proc_event))] = {
      0};
  struct nlmsghdr *nh = (struct nlmsghdr *)buf;
  nh->nlmsg_len = sizeof buf;
  struct proc_event ev = {.what = PROC_EVENT_EXIT};
  ev.event_data.exit.process_pid = 1234;
  ev.event_data.exit.exit_code = 3 << 8;
  put_event(buf, &ev);
  int status = -1;
  assert_true(procexit_parse(buf, sizeof buf, 1234, &status));
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 3);
  assert_false(procexit_parse(buf, sizeof buf, 999, &status));
  ev.what = PROC_EVENT_FORK;
  put_event(buf, &ev);
  assert_false(procexit_parse(buf, sizeof buf, 1234, &status));
  /* Truncated datagrams are ignored, not read past their end. */
  ev.what = PROC_EVENT_EXIT;
  put_event(buf, &ev);
  assert_false(procexit_parse(buf, NLMSG_HDRLEN + 4, 1234, &status));
  nh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct cn_msg) + 8;
  assert_false(procexit_parse(buf, sizeof buf, 1234, &status));
}

/* A real process, watched by a process that is not its parent's waiter. */
static int watch(pid_t pid, int *status)
{
  merr *err = NULL;
  int fd = procexit_open(pid, &err);
  if (fd < 0) {
    int e = err->errnum;
    merr_free(err);
    return -e;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  kill(pid, SIGUSR1); /* let it exit now that we listen */
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  poll(&p, 1, 5000);
  int got = procexit_wait(fd, pid, status, 1000); /* pidfd wakes before the event is sent */
  procexit_close(fd);
  close(pidfd);
  return got;
}

static void child_wait_then_exit(int code, int sig)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int s;
  sigwait(&set, &s);
  if (sig)
    raise(sig);
  _exit(code);
}

static void real_exits(void **state)
{
  (void)state;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t pid = fork();
  if (pid == 0)
    child_wait_then_exit(7, 0);
  int status = -1;
  int got = watch(pid, &status);
  waitpid(pid, NULL, 0);
  if (got == -EPERM || got == -EPROTONOSUPPORT || got == -EACCES) {
    skip(); /* needs CAP_NET_ADMIN; the integration suite runs it as root */
  }
  assert_int_equal(got, 1);
  assert_int_equal(WEXITSTATUS(status), 7);
  pid = fork();
  if (pid == 0)
    child_wait_then_exit(0, SIGTERM);
  assert_int_equal(watch(pid, &status), 1);
  waitpid(pid, NULL, 0);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGTERM);
}

/* An exit forged by a process (not the kernel) and sent straight to the monitor's socket is not
 * believed, even though it passes the socket's filter. */
static void forged_exits_are_ignored(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip(); /* the process events connector needs CAP_NET_ADMIN */
  pid_t pid = getpid();
  int fd = procexit_open(pid, NULL);
  assert_true(fd >= 0);
  struct sockaddr_nl me;
  socklen_t len = sizeof me;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
  int forger = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  assert_true(forger >= 0);
  struct sockaddr_nl from = {.nl_family = AF_NETLINK};
  assert_int_equal(bind(forger, (struct sockaddr *)&from, sizeof from), 0);
  _Alignas(
      struct nlmsghdr) char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct proc_event))] = {
      0};
  struct nlmsghdr *nh = (struct nlmsghdr *)buf;
  nh->nlmsg_len = sizeof buf;
  nh->nlmsg_type = NLMSG_DONE;
  struct proc_event ev = {.what = PROC_EVENT_EXIT};
  ev.event_data.exit.process_pid = pid;
  ev.event_data.exit.exit_code = 42 << 8;
  put_event(buf, &ev);
  struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = me.nl_pid};
  ssize_t sent = sendto(forger, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to);
  if (sent < 0) { /* the kernel refused the forgery outright: just as good */
    close(forger);
    procexit_close(fd);
    return;
  }
  usleep(50 * 1000);
  int status = 0;
  assert_int_equal(procexit_poll(fd, pid, &status), 0);
  close(forger);
  procexit_close(fd);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_only_the_watched_exit),
      cmocka_unit_test(real_exits),
      cmocka_unit_test(forged_exits_are_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
