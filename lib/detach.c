#include "detach.h"
#include "proc.h"

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
  struct sigaction ign = {.sa_handler = SIG_IGN};
  sigaction(SIGCHLD, &ign, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int spawn_detached(void (*fn)(void *), void *arg, const int *keep, size_t nkeep, merr **err)
{
  pid_t child = fork();
  if (child < 0)
    return merr_set(err, errno, "fork");
  if (child == 0) {
    pid_t grandchild = fork();
    if (grandchild == 0) {
      become_detached(keep, nkeep);
      fn(arg);
      _exit(0);
    }
    _exit(grandchild < 0 ? 1 : 0);
  }
  int status = 0;
  proc_wait(child, &status);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return merr_set(err, 0, "the detached process could not be started");
  return 0;
}
