#include "guard.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int pidfd_open_compat(pid_t pid)
{
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int wait_bounded(pid_t pid, int timeout_ms, int *status)
{
  int pfd = pidfd_open_compat(pid);
  if (pfd >= 0) {
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    int r;
    do
      r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    close(pfd);
    if (r == 0)
      return 1; /* timed out */
  }
  /* Without pidfd (old kernel) this wait is unbounded; the kernels we support have it. */
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

int guard_run(int (*fn)(void *), void *arg, int timeout_ms, merr **err)
{
  pid_t pid = fork();
  if (pid < 0)
    return merr_set(err, errno, "fork for measurement");
  if (pid == 0)
    _exit(fn(arg) == 0 ? 0 : 1);
  int status = 0;
  int r = wait_bounded(pid, timeout_ms, &status);
  if (r == 1) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    return merr_set(err, 0, "measurement did not finish within %d ms and was stopped", timeout_ms);
  }
  if (r < 0)
    return merr_set(err, errno, "waiting for measurement");
  if (WIFSIGNALED(status))
    return merr_set(err, 0, "measurement crashed (signal %d, %s)", WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
  return WEXITSTATUS(status) == 0 ? 0 : 1;
}
