#include "monitor.h"
#include "cleanup.h"
#include "clock.h"
#include "confine.h"
#include "detach.h"
#include "monitor_argv.h"
#include "probe_contract.h"
#include "proc.h"
#include "procexit.h"
#include "sampler.h"
#include "state.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_EVENT_WAIT_MS = 200, READY_RECHECK_MS = 50 };
#define MONITOR_PROGRAM "/proc/self/exe"
#define MONITOR_COMM "measured-mon" /* what `ps` and `pgrep` see (at most 15 characters) */
#define WAKE_START 's'

struct watch {
  int pidfd;      /* the init, -1 when not watched */
  int nl;         /* process events socket, -1 when unavailable */
  int lockfd;     /* held until the exit is recorded */
  int wakefd;     /* the FIFO start writes to */
  char *nl_error; /* why nl is unavailable */
};

static void write_exit_event(int dirfd, bool known, int status, const char *unknown_reason)
{
  cleanup_json json *ev = state_event("exit");
  if (!known) {
    json_set(ev, "unknown", json_new_text(unknown_reason));
  } else if (WIFSIGNALED(status)) {
    json_set(ev, "signal", json_new_int(WTERMSIG(status)));
  } else {
    json_set(ev, "code", json_new_int(WEXITSTATUS(status)));
  }
  state_append_event(dirfd, ev, NULL);
}

/* Reads what start wrote; true when it said the container started. */
static bool drain_wake(int fd)
{
  char buf[64];
  bool started = false;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    started = started || memchr(buf, WAKE_START, (size_t)n) != NULL;
  return started;
}

/* Runs until the init exits: samples, wakes, and the exit status. */
static void watch_exit(const struct monitor_config *cfg, struct watch *w, struct sampler *s)
{
  int status = 0;
  bool known = false;
  enum { P_PID, P_WAKE, P_NL, P_FLOWS };
  struct pollfd p[P_FLOWS + SAMPLER_MAX_POLLFDS] = {{.fd = w->pidfd, .events = POLLIN},
                                                    {.fd = w->wakefd, .events = POLLIN},
                                                    {.fd = w->nl, .events = POLLIN}};
  for (;;) {
    size_t nflows = sampler_pollfds(s, p + P_FLOWS); /* (none while their reading waits) */
    int r = poll(p, P_FLOWS + nflows, sampler_timeout_ms(s));
    if (r < 0 && errno != EINTR)
      break;
    sampler_read(s); /* the connections' sockets and packets: cheap when nothing is pending */
    /* POLLERR too: reading clears a pending error, which would otherwise wake every poll. */
    if (r > 0 && (p[P_NL].revents & (POLLIN | POLLERR)) && !known &&
        procexit_poll(w->nl, cfg->init_pid, &status) == 1)
      known = true;
    if (r > 0 && (p[P_NL].revents & (POLLHUP | POLLNVAL)))
      p[P_NL].fd = -1; /* a socket that can tell nothing more is not polled again */
    if (r > 0 && (p[P_WAKE].revents & (POLLHUP | POLLNVAL | POLLERR)))
      p[P_WAKE].fd = -1;
    if (r > 0 && (p[P_WAKE].revents & POLLIN) && drain_wake(w->wakefd))
      sampler_start(s);
    if (r > 0 && p[P_PID].revents)
      break;
    sampler_tick(s);
  }
  /* At once: the engine deletes the container's links soon after its exit, and what they
   * counted since the last sample would be lost with them. */
  sampler_exited(s);
  /* The kernel wakes pidfd waiters before it sends the connector's exit event: give it a
   * moment (bounded) to arrive. */
  if (w->nl >= 0 && !known && procexit_wait(w->nl, cfg->init_pid, &status, EXIT_EVENT_WAIT_MS) == 1)
    known = true;
  /* A container that lives a few milliseconds may be gone before its start's wake was read:
   * its namespace is still ours to read (we hold it), so it still gets its counters. */
  if (drain_wake(w->wakefd))
    sampler_start(s);
  sampler_finish(s);
  cleanup_free char *reason =
      known ? NULL
            : xasprintf("exit status not observed (%s)",
                        w->nl_error ? w->nl_error : "no process event received");
  write_exit_event(cfg->dirfd, known, status, reason);
}

static int open_wake_fifo(int dirfd)
{
  if (mkfifoat(dirfd, STATE_WAKE_FIFO, 0600) < 0 && errno != EEXIST)
    return -1;
  /* O_RDWR: the monitor's end never sees end-of-file when a writer goes away. */
  return openat(dirfd, STATE_WAKE_FIFO, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
}

/* In the monitor, before it is ready (the container cannot run before): the init's pidfd, its
 * exit's notification and the FIFO start writes to. lockfd comes from monitor_start, which took
 * the lock before create returned: whoever starts the container then knows to wait. */
static void watch_open(const struct monitor_config *cfg, int lockfd, struct watch *w)
{
  *w = (struct watch){.pidfd = -1, .nl = -1, .lockfd = lockfd, .wakefd = -1};
  w->wakefd = open_wake_fifo(cfg->dirfd);
  if (cfg->init_pid <= 0) {
    write_exit_event(cfg->dirfd, false, 0, "the container's init pid is unknown");
    return;
  }
  w->pidfd = proc_pidfd_open(cfg->init_pid);
  if (w->pidfd < 0) {
    cleanup_free char *why =
        xasprintf("cannot watch init pid %d: %s", (int)cfg->init_pid, strerror(errno));
    write_exit_event(cfg->dirfd, false, 0, why);
    return;
  }
  cleanup_merr merr *err = NULL;
  w->nl = procexit_open(cfg->init_pid, &err);
  if (w->nl < 0)
    w->nl_error = xstrdup(merr_msg(err));
}

/* The monitor's process: the watch, the baseline, ready, confined, then until the init's end. */
__attribute__((noreturn)) static void monitor_run(const struct monitor_config *cfg, int lockfd)
{
  struct watch w;
  watch_open(cfg, lockfd, &w);
  int hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  struct sampler s;
  struct sampler_flows flows = {.on = cfg->flows, .why_off = cfg->flows_why};
  struct sockaddr_storage probe_peer;
  socklen_t probe_peer_len;
  char canon[64];
  if (cfg->probe_peer &&
      probe_peer_parse(cfg->probe_peer, &probe_peer, &probe_peer_len, canon, sizeof canon) == 0)
    flows.probe_peer = &probe_peer;
  /* Every socket it reads is made before the monitor confines itself (the packet socket needs
   * CAP_NET_RAW, the destroy notifications CAP_NET_ADMIN, neither kept). */
  sampler_init(&s, cfg->dirfd, cfg->netns_fd, hostfd, cfg->netns_why, cfg->interval_us, &flows);
  /* The counters' baseline is taken: the container may start. Confining comes after, so that
   * start does not wait for it; nothing the container sends is read before it. */
  int ready = openat(cfg->dirfd, STATE_MONITOR_READY,
                     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (ready >= 0)
    close(ready);
  sampler_checkpoint(&s);
  cleanup_merr merr *err = NULL;
  int confined = monitor_confine(cfg->dirfd, &err);
  if (confined < 0)
    sampler_missed(&s, "monitor: not confined", err);
  if (w.pidfd >= 0) {
    watch_exit(cfg, &w, &s);
    flock(w.lockfd, LOCK_UN);
  } else {
    sampler_finish(&s); /* without the init's pid, there is no telling when it ends */
  }
  sampler_close(&s);
  procexit_close(w.nl);
  _exit(0);
}

int monitor_exec_main(int argc, char **argv)
{
  struct monitor_config cfg;
  int lockfd;
  cleanup_merr merr *err = NULL;
  if (monitor_argv_parse(argc, argv, &cfg, &lockfd, &err) < 0) {
    fprintf(stderr, "measured: %s\n", merr_msg(err));
    return 2;
  }
  struct stat st;
  if (fstat(cfg.dirfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "measured: monitor: descriptor %d is not a state directory\n", cfg.dirfd);
    return 2;
  }
  prctl(PR_SET_NAME, MONITOR_COMM);
  monitor_run(&cfg, lockfd);
}

int monitor_start(const struct monitor_config *cfg, merr **err)
{
  /* Taken before create returns: start, which waits for a running monitor, then sees one. */
  int lockfd =
      openat(cfg->dirfd, STATE_MONITOR_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lockfd >= 0)
    flock(lockfd, LOCK_EX | LOCK_NB);
  struct monitor_argv a;
  monitor_argv_build(cfg, lockfd, &a);
  int keep[] = {cfg->dirfd, cfg->netns_fd, lockfd};
  /* This very program again, even if an upgrade replaced its file since (/proc/self/exe is the
   * file this process runs): the monitor always speaks the wrapper's own state format. An exec
   * rather than a fork: the wrapper's memory is never copied, which was most of create's own
   * time (docs/performance.md). */
  int r = spawn_detached_exec(MONITOR_PROGRAM, a.argv, keep, sizeof keep / sizeof keep[0], err);
  monitor_argv_clear(&a);
  if (lockfd >= 0)
    close(lockfd); /* the monitor keeps its own copy */
  if (r < 0)
    return merr_wrap(err, "monitor");
  if (cfg->wait_ready)
    monitor_wait_ready(cfg->dirfd, MONITOR_READY_MS);
  return 0;
}

/* Whether a monitor runs for dirfd: it holds the lock until it has recorded the exit. */
static bool monitor_running(int dirfd)
{
  cleanup_close int fd = openat(dirfd, STATE_MONITOR_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  return fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0; /* a lock we got goes with the close */
}

static bool is_ready(int dirfd)
{
  return faccessat(dirfd, STATE_MONITOR_READY, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Notice of files made in dirfd (inotify), -1 when there is none: then the wait polls. */
static int watch_creations(int dirfd)
{
  int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", dirfd);
  if (in >= 0 && inotify_add_watch(in, path, IN_CREATE | IN_ONLYDIR) < 0) {
    close(in);
    in = -1;
  }
  return in;
}

int monitor_wait_ready(int dirfd, int timeout_ms)
{
  if (is_ready(dirfd)) /* the common case: the engine took longer from create to start */
    return 0;
  cleanup_close int in = watch_creations(dirfd);
  int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
  for (;;) {
    if (is_ready(dirfd) || !monitor_running(dirfd))
      return 0;
    int64_t left_ms = (deadline - mono_us()) / 1000;
    if (left_ms <= 0)
      return -1;
    /* The lock is looked at again at least every READY_RECHECK_MS: a monitor that died before it
     * was ready leaves nothing to wait for. */
    int slice = left_ms < READY_RECHECK_MS ? (int)left_ms : READY_RECHECK_MS;
    if (in >= 0) {
      struct pollfd p = {.fd = in, .events = POLLIN};
      if (poll(&p, 1, slice) > 0) {
        char buf[4096];
        while (read(in, buf, sizeof buf) > 0) {
        }
      }
    } else {
      nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
  }
}

int monitor_wake(int dirfd, merr **err)
{
  cleanup_close int fd =
      openat(dirfd, STATE_WAKE_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return merr_set(err, errno == ENXIO ? ESRCH : errno, "wake the monitor");
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
    return merr_set(err, EINVAL, "wake the monitor: not a FIFO");
  char c = WAKE_START;
  if (write(fd, &c, 1) != 1)
    return merr_set(err, errno, "wake the monitor");
  return 0;
}

int monitor_wait_exit_recorded(int dirfd, int timeout_ms)
{
  cleanup_close int fd = openat(dirfd, STATE_MONITOR_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return 0;
  for (int waited = 0; waited <= timeout_ms; waited++) {
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
      return 0;
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  return -1;
}
