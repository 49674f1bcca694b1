#include "detach.h"
#include "proc.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static bool kept(int fd, const int *keep, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

/* Closes every descriptor from 3 up but the kept ones. */
static void close_others(const int *keep, size_t n)
{
  int highest = 2;
  for (size_t i = 0; i < n; i++)
    if (keep[i] > highest)
      highest = keep[i];
  for (int fd = 3; fd <= highest; fd++)
    if (!kept(fd, keep, n))
      close(fd);
  close_range((unsigned)highest + 1, ~0U, 0);
}

static void become_detached(const int *keep, size_t n)
{
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  close_others(keep, n);
  /* Every signal at its default, as after an exec: the caller's handlers (the wrapper's fault
   * handlers, shim/guard.c) mean nothing here. */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction(sig, &dfl, NULL);
  struct sigaction ign = {.sa_handler = SIG_IGN};
  sigaction(SIGCHLD, &ign, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

struct detach_job {
  void (*fn)(void *);
  void *arg;
  const int *keep;
  size_t nkeep;
};

/* The intermediate child shares the caller's memory (spawn_shared): it only forks the one that
 * runs fn (with a copy of the memory, free to do anything) and ends, so that the grandchild is
 * nobody's child here. */
static int fork_detached(void *arg)
{
  const struct detach_job *job = arg;
  pid_t grandchild = fork();
  if (grandchild == 0) {
    become_detached(job->keep, job->nkeep);
    job->fn(job->arg);
    _exit(0);
  }
  _exit(grandchild < 0 ? 1 : 0);
}

/* The intermediate child's end: 0 when it said its grandchild exists. */
static int detached_status(int status, merr **err)
{
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return merr_set(err, 0, "the detached process could not be started");
  return 0;
}

int spawn_detached(void (*fn)(void *), void *arg, const int *keep, size_t nkeep, merr **err)
{
  struct detach_job job = {fn, arg, keep, nkeep};
  pid_t child = spawn_shared(fork_detached, &job, SPAWN_FORK_STACK_BYTES, err);
  if (child < 0)
    return -1;
  int status = 0;
  proc_wait(child, &status);
  return detached_status(status, err);
}

struct detach_exec_job {
  const char *path;
  char *const *argv;
  const int *keep;
  size_t nkeep;
  int exec_errno; /* written by the child when its exec fails (memory shared until then) */
};

/* The child: it shares the caller's memory until its exec, so system calls only. */
static int exec_detached(void *arg)
{
  struct detach_exec_job *job = arg;
  become_detached(job->keep, job->nkeep);
  for (size_t i = 0; i < job->nkeep; i++) /* (the descriptor table is the child's own) */
    if (job->keep[i] >= 0)
      fcntl(job->keep[i], F_SETFD, 0);
  char *const no_env[] = {NULL};
  execve(job->path, job->argv, no_env);
  job->exec_errno = errno;
  _exit(127);
}

int spawn_detached_exec(const char *path, char *const argv[], const int *keep, size_t nkeep,
                        merr **err)
{
  struct detach_exec_job job = {path, argv, keep, nkeep, 0};
  pid_t child = spawn_shared(exec_detached, &job, SPAWN_EXEC_STACK_BYTES, err);
  if (child < 0)
    return -1;
  if (job.exec_errno != 0) {
    proc_wait(child, NULL);
    return merr_set(err, job.exec_errno, "exec %s", path);
  }
  return 0;
}
