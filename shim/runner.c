#include "runner.h"
#include "clock.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static sigset_t caller_mask;
static struct sigaction caller_sigchld;
static bool signals_blocked;

void runner_block_signals(void)
{
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &caller_mask);
  /* A caller that ignores SIGCHLD would make the kernel reap our child for us; waitpid needs it
   * at its default. The child gets the caller's disposition back before exec. */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGCHLD, &dfl, &caller_sigchld);
  signals_blocked = true;
}

static void restore_caller_signals(void)
{
  if (!signals_blocked)
    return;
  sigaction(SIGCHLD, &caller_sigchld, NULL);
  sigprocmask(SIG_SETMASK, &caller_mask, NULL);
}

int runner_exec(const char *path, char *const argv[], merr **err)
{
  restore_caller_signals();
  execv(path, argv);
  return merr_set(err, errno, "exec %s", path);
}

/* Waits for pid while forwarding every other signal to it. */
static int wait_forwarding(pid_t pid, int *status, merr **err)
{
  sigset_t all;
  sigfillset(&all);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) {
      if (errno == EINTR)
        continue;
      return merr_set(err, errno, "sigwaitinfo");
    }
    if (sig != SIGCHLD) {
      kill(pid, sig);
      continue;
    }
    pid_t r;
    do
      r = waitpid(pid, status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid)
      return 0;
    if (r < 0)
      return merr_set(err, errno, "waitpid");
  }
}

struct runtime_child {
  const char *path;
  char *const *argv;
  pid_t parent;
};

/* In a child that shares the wrapper's memory (spawn_shared): system calls only. */
static int exec_runtime(void *arg)
{
  const struct runtime_child *rc = arg;
  /* Plain runc dies when the engine kills it; so does the real runtime when the engine kills
   * the wrapper standing in for it (a hung call, a timeout). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != rc->parent)
    _exit(128 + SIGKILL);
  restore_caller_signals();
  execv(rc->path, rc->argv);
  spawn_report_exec_failure(rc->path, errno);
  _exit(127);
}

int runner_run(const char *path, char *const argv[], struct run_result *res, merr **err)
{
  res->start_us = mono_us();
  struct runtime_child rc = {.path = path, .argv = argv, .parent = getpid()};
  pid_t pid = spawn_shared(exec_runtime, &rc, SPAWN_EXEC_STACK_BYTES, err);
  if (pid < 0)
    return -1;
  /* The child may already be gone: a SIGCHLD pending from before sigwaitinfo is still seen. */
  int ret = wait_forwarding(pid, &res->wait_status, err);
  res->end_us = mono_us();
  return ret;
}

void runner_mirror_exit(int wait_status)
{
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(sig, &dfl, NULL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    raise(sig);
    sigprocmask(SIG_UNBLOCK, &only, NULL);
    /* Not reached for a fatal signal; a signal whose default is to ignore ends up here. */
    _exit(128 + sig);
  }
  _exit(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1);
}
