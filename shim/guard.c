#include "guard.h"
#include "proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* 0 when pid ended within timeout_ms (and was reaped), 1 on timeout, -1 on error. */
static int wait_bounded(pid_t pid, int timeout_ms, int *status)
{
  int pfd = proc_pidfd_open(pid);
  if (pfd >= 0) {
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    int r;
    do
      r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    close(pfd);
    if (r == 0)
      return 1;
  }
  /* Without pidfd (old kernel) this wait is unbounded; the kernels we support have it. */
  return proc_wait(pid, status);
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
    proc_wait(pid, &status);
    return merr_set(err, 0, "measurement did not finish within %d ms and was stopped", timeout_ms);
  }
  if (r < 0)
    return merr_set(err, errno, "waiting for measurement");
  if (WIFSIGNALED(status))
    return merr_set(err, 0, "measurement crashed (signal %d, %s)", WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
  return 0;
}
