#include "capture.h"
#include "cleanup.h"
#include "clock.h"
#include "proc.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int capture_run(char *const argv[], int timeout_ms, size_t max_out, char **out, merr **err);

struct capture_child {
  char *const *argv;
  int out_fd;
};

/* In a child that shares the caller's memory (spawn_shared): system calls only. */
static int child_exec(void *arg)
{
  const struct capture_child *cc = arg;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(cc->out_fd, STDOUT_FILENO) < 0 ||
      dup2(null, STDERR_FILENO) < 0)
    _exit(127);
  close_range(3, ~0U, 0);
  execv(cc->argv[0], cc->argv);
  _exit(127);
}

static int collect(int fd, pid_t pid, int timeout_ms, size_t max_out, char **out, merr **err)
{
  size_t n = 0;
  cleanup_free char *buf = xmalloc(max_out + 1);
  int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
  for (;;) {
    int64_t left_ms = (deadline - mono_us()) / 1000;
    if (left_ms <= 0) {
      kill(pid, SIGKILL);
      return merr_set(err, 0, "%s did not finish within %d ms", "command", timeout_ms);
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, (int)left_ms);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      continue;
    char tmp[4096];
    ssize_t got = read(fd, tmp, sizeof tmp);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    size_t take = (size_t)got < max_out - n ? (size_t)got : max_out - n;
    memcpy(buf + n, tmp, take);
    n += take;
  }
  buf[n] = '\0';
  *out = steal_pointer(&buf);
  return 0;
}

int capture_output(char *const argv[], int timeout_ms, size_t max_out, char **out, merr **err)
{
  /* A caller that ignores SIGCHLD (a detached helper) would have the kernel reap the child
   * before we can read its status. */
  struct sigaction dfl = {.sa_handler = SIG_DFL}, saved;
  sigaction(SIGCHLD, &dfl, &saved);
  int ret = capture_run(argv, timeout_ms, max_out, out, err);
  sigaction(SIGCHLD, &saved, NULL);
  return ret;
}

static int capture_run(char *const argv[], int timeout_ms, size_t max_out, char **out, merr **err)
{
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return merr_set(err, errno, "pipe");
  struct capture_child cc = {.argv = argv, .out_fd = pipefd[1]};
  pid_t pid = spawn_shared(child_exec, &cc, SPAWN_EXEC_STACK_BYTES, err);
  close(pipefd[1]);
  if (pid < 0) {
    close(pipefd[0]);
    return -1;
  }
  int ret = collect(pipefd[0], pid, timeout_ms, max_out, out, err);
  close(pipefd[0]);
  int status = 0;
  if (proc_wait(pid, &status) < 0 && ret == 0) {
    free(*out);
    *out = NULL;
    return merr_set(err, errno, "wait for %s", argv[0]);
  }
  if (ret < 0)
    return merr_wrap(err, "%s", argv[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    free(*out);
    *out = NULL;
    return merr_set(err, 0, "%s exited with %s %d", argv[0],
                    WIFEXITED(status) ? "status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
  return 0;
}
