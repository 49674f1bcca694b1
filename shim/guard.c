#include "guard.h"
#include "proc.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
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

/* ---- in-process ---- */

enum { INLINE_NSIGNALS = 7 };
static const int inline_signals[INLINE_NSIGNALS] = {SIGSEGV, SIGBUS,  SIGILL, SIGFPE,
                                                    SIGSYS,  SIGABRT, SIGALRM};
/* What the caller had, put back afterwards (a caller may exec next: shim/shimv2.c). Static:
 * the way back from a fault is a siglongjmp. */
static struct {
  sigjmp_buf jump;
  volatile sig_atomic_t caught;
  struct sigaction actions[INLINE_NSIGNALS];
  stack_t altstack;
  sigset_t mask;
} inline_state;

static void inline_fault(int sig)
{
  inline_state.caught = sig;
  siglongjmp(inline_state.jump, 1);
}

static void inline_timer(int timeout_ms)
{
  struct itimerval t = {
      .it_value = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &t, NULL);
}

static void inline_arm(int timeout_ms)
{
  /* Big enough for the handler, which only jumps back; a stack overflow needs it. */
  static char altstack[64 << 10];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, &inline_state.altstack);
  struct sigaction sa = {.sa_handler = inline_fault, .sa_flags = SA_ONSTACK};
  sigfillset(&sa.sa_mask);
  sigset_t caught;
  sigemptyset(&caught);
  for (size_t i = 0; i < INLINE_NSIGNALS; i++) {
    sigaction(inline_signals[i], &sa, &inline_state.actions[i]);
    sigaddset(&caught, inline_signals[i]);
  }
  inline_timer(timeout_ms);
  /* The wrapper blocks every signal around the real call; a fault must reach the handler. */
  sigprocmask(SIG_UNBLOCK, &caught, &inline_state.mask);
}

static void inline_disarm(void)
{
  inline_timer(0);
  sigprocmask(SIG_SETMASK, &inline_state.mask, NULL);
  for (size_t i = 0; i < INLINE_NSIGNALS; i++)
    sigaction(inline_signals[i], &inline_state.actions[i], NULL);
  sigaltstack(&inline_state.altstack, NULL);
}

int guard_inline(int (*fn)(void *), void *arg, int timeout_ms, const struct ocilog *log,
                 const char *what)
{
  inline_state.caught = 0;
  if (sigsetjmp(inline_state.jump, 0) == 0) {
    inline_arm(timeout_ms);
    fn(arg);
    inline_disarm();
    return 0;
  }
  inline_disarm();
  int sig = inline_state.caught;
  if (sig == SIGALRM)
    ocilog_write(log, "warning",
                 "measurement did not finish within %d ms and was stopped (%s); the container "
                 "is not affected",
                 timeout_ms, what);
  else
    ocilog_write(log, "warning",
                 "measurement crashed (signal %d, %s) (%s); the container is not "
                 "affected",
                 sig, sigabbrev_np(sig), what);
  return -1;
}
