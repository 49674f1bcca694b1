#include "monitor.h"
#include "cleanup.h"
#include "clock.h"
#include "procexit.h"
#include "state.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct watch {
  int pidfd;      /* the init, -1 when not watched */
  int nl;         /* process events socket, -1 when unavailable */
  int lockfd;     /* held until the exit is recorded */
  char *nl_error; /* why nl is unavailable */
};

static json *event_now(const char *name)
{
  json *ev = json_new(JSON_OBJECT);
  json_set(ev, "ev", json_new_string(name));
  json_set(ev, "mono_us", json_new_int(mono_us()));
  json_set(ev, "real_ns", json_new_int(real_ns()));
  return ev;
}

static void write_exit_event(int dirfd, bool known, int status, const char *unknown_reason)
{
  cleanup_json json *ev = event_now("exit");
  if (!known) {
    json_set(ev, "unknown", json_new_text(unknown_reason));
  } else if (WIFSIGNALED(status)) {
    json_set(ev, "signal", json_new_int(WTERMSIG(status)));
  } else {
    json_set(ev, "code", json_new_int(WEXITSTATUS(status)));
  }
  state_append_event(dirfd, ev, NULL);
}

static void version_helper(int rootfd, int dirfd, const char *name, const char *path)
{
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGCHLD, &dfl, NULL);
  cleanup_json json *ev = event_now("version");
  char *version = NULL;
  merr *err = NULL;
  if (version_query(rootfd, name, path, &version, &err) == 0)
    json_set(ev, "version", json_new_text(version));
  else
    json_set(ev, "error", json_new_text(merr_msg(err)));
  state_append_event(dirfd, ev, NULL);
  _exit(0);
}

/* Closes every descriptor but the ones listed (which must be ascending, -1 entries ignored). */
static void close_all_except(const int *keep, size_t n)
{
  int from = 3;
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < from)
      continue;
    if (keep[i] > from)
      close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
    from = keep[i] + 1;
  }
  close_range((unsigned)from, ~0U, 0);
}

static int cmp_int(const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

static void detach_process(const struct monitor_config *cfg, const struct watch *w)
{
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  int keep[] = {cfg->rootfd, cfg->dirfd, w->pidfd, w->nl, w->lockfd};
  qsort(keep, sizeof keep / sizeof keep[0], sizeof keep[0], cmp_int);
  close_all_except(keep, sizeof keep / sizeof keep[0]);
  struct sigaction ign = {.sa_handler = SIG_IGN};
  sigaction(SIGCHLD, &ign, NULL); /* helpers are reaped by the kernel: no zombies */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void watch_exit(const struct monitor_config *cfg, struct watch *w)
{
  int status = 0;
  bool known = false;
  struct pollfd p[2] = {{.fd = w->pidfd, .events = POLLIN}, {.fd = w->nl, .events = POLLIN}};
  for (;;) {
    int r = poll(p, w->nl >= 0 ? 2 : 1, -1);
    if (r < 0 && errno != EINTR)
      break;
    if (w->nl >= 0 && !known && procexit_poll(w->nl, cfg->init_pid, &status) == 1)
      known = true;
    if (p[0].revents)
      break;
  }
  /* The exit event is queued before the pidfd becomes readable: one last look. */
  if (w->nl >= 0 && !known && procexit_poll(w->nl, cfg->init_pid, &status) == 1)
    known = true;
  cleanup_free char *reason =
      known ? NULL
            : xasprintf("exit status not observed (%s)",
                        w->nl_error ? w->nl_error : "no process event received");
  write_exit_event(cfg->dirfd, known, status, reason);
}

static void monitor_main(const struct monitor_config *cfg, struct watch *w)
{
  detach_process(cfg, w);
  if (cfg->runtime_path) {
    pid_t helper = fork();
    if (helper == 0)
      version_helper(cfg->rootfd, cfg->dirfd, cfg->runtime_name, cfg->runtime_path);
  }
  if (w->pidfd >= 0) {
    watch_exit(cfg, w);
    flock(w->lockfd, LOCK_UN);
  }
  procexit_close(w->nl);
  _exit(0);
}

static void watch_setup(const struct monitor_config *cfg, struct watch *w)
{
  *w = (struct watch){.pidfd = -1, .nl = -1, .lockfd = -1};
  if (cfg->init_pid <= 0) {
    write_exit_event(cfg->dirfd, false, 0, "the container's init pid is unknown");
    return;
  }
  w->pidfd = (int)syscall(SYS_pidfd_open, cfg->init_pid, 0);
  if (w->pidfd < 0) {
    cleanup_free char *why =
        xasprintf("cannot watch init pid %d: %s", (int)cfg->init_pid, strerror(errno));
    write_exit_event(cfg->dirfd, false, 0, why);
    return;
  }
  merr *err = NULL;
  w->nl = procexit_open(cfg->init_pid, &err);
  if (w->nl < 0) {
    w->nl_error = xstrdup(merr_msg(err));
    merr_free(err);
  }
  w->lockfd = openat(cfg->dirfd, "monitor.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (w->lockfd >= 0)
    flock(w->lockfd, LOCK_EX | LOCK_NB);
}

static void watch_release(struct watch *w)
{
  if (w->pidfd >= 0)
    close(w->pidfd);
  if (w->nl >= 0)
    close(w->nl); /* the monitor keeps its copy subscribed */
  if (w->lockfd >= 0)
    close(w->lockfd);
  free(w->nl_error);
}

int monitor_start(const struct monitor_config *cfg, merr **err)
{
  struct watch w;
  watch_setup(cfg, &w);
  if (w.pidfd < 0 && cfg->runtime_path == NULL) {
    watch_release(&w);
    return 0;
  }
  pid_t child = fork();
  if (child < 0) {
    watch_release(&w);
    return merr_set(err, errno, "fork monitor");
  }
  if (child == 0) {
    pid_t grandchild = fork();
    if (grandchild == 0)
      monitor_main(cfg, &w);
    _exit(grandchild < 0 ? 1 : 0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  watch_release(&w);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return merr_set(err, 0, "the monitor process could not be started");
  return 0;
}

int monitor_wait_exit_recorded(int dirfd, int timeout_ms)
{
  cleanup_close int fd = openat(dirfd, "monitor.lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return 0;
  for (int waited = 0; waited <= timeout_ms; waited++) {
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
      return 0;
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  return -1;
}
