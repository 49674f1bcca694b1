/* The monitor on its own, without a container: it records the exit status of a process it is
 * not the parent of, holds its lock until then, is woken through its FIFO, and leaves a network
 * summary that says why there are no counters when there is no namespace to watch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "confine.h"
#include "detach.h"
#include "fileio.h"
#include "monitor.h"
#include "monitor_argv.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64];

static int setup(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/measured-monitor-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  return remove_tree_at(AT_FDCWD, tmpdir, NULL);
}

static void without_a_monitor(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(tmpdir, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "none", "o", &stale, NULL);
  merr *err = NULL;
  assert_true(monitor_wake(dirfd, &err) < 0); /* nobody to wake */
  merr_free(err);
  assert_int_equal(monitor_wait_exit_recorded(dirfd, 0), 0); /* nobody to wait for */
  /* A lock someone holds makes delete wait, bounded. */
  close(openat(dirfd, STATE_MONITOR_LOCK, O_RDWR | O_CREAT, 0600));
  pid_t holder = fork();
  if (holder == 0) { /* a lock of its own open file, as the monitor has */
    int fd = openat(dirfd, STATE_MONITOR_LOCK, O_RDWR);
    flock(fd, LOCK_EX);
    pause();
    _exit(0);
  }
  usleep(100 * 1000);
  assert_int_equal(monitor_wait_exit_recorded(dirfd, 50), -1);
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  assert_int_equal(monitor_wait_exit_recorded(dirfd, 1000), 0);
}

static const json *wait_for_event(int dirfd, const char *name, json **events)
{
  for (int i = 0; i < 300; i++) {
    unsigned bad;
    json_freep(events);
    if (state_read_events(dirfd, events, &bad, NULL) == 0 && state_first_event(*events, name))
      return state_first_event(*events, name);
    usleep(10 * 1000);
  }
  return NULL;
}

/* A process the test is not the parent of in the monitor's eyes: it exits with `code` once a
 * byte comes on the returned pipe's write end (*release). */
static pid_t start_stranger(int code, int *release)
{
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(go[1]);
    _exit(read(go[0], &c, 1) == 1 ? code : 1);
  }
  close(go[0]);
  *release = go[1];
  return child;
}

/* Lets the stranger exit and checks that the monitor recorded its status. */
static void release_and_check_exit(int dirfd, pid_t child, int release, int64_t want)
{
  assert_int_equal(write(release, "x", 1), 1);
  int status;
  waitpid(child, &status, 0);
  assert_int_equal(monitor_wait_exit_recorded(dirfd, 2000), 0);
  cleanup_json json *events = NULL;
  const json *ex = wait_for_event(dirfd, "exit", &events);
  assert_non_null(ex);
  int64_t code;
  assert_true(json_int64(json_get(ex, "code"), &code));
  assert_int_equal(code, want);
  close(release);
}

static void records_the_exit_of_a_stranger(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip(); /* the process events connector needs CAP_NET_ADMIN */
  cleanup_close int rootfd = state_root_open(tmpdir, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "stranger", "o", &stale, NULL);
  int release;
  pid_t child = start_stranger(7, &release);
  struct monitor_config mc = {.dirfd = dirfd,
                              .init_pid = child,
                              .netns_fd = -1,
                              .netns_why = "no namespace in this test",
                              .interval_us = 100000};
  assert_int_equal(monitor_start(&mc, NULL), 0);
  assert_int_equal(monitor_wait_exit_recorded(dirfd, 0), -1); /* it holds its lock */
  /* create did not wait for its baseline: start does, and it comes. */
  assert_int_equal(monitor_wait_ready(dirfd, 2000), 0);
  assert_int_equal(faccessat(dirfd, STATE_MONITOR_READY, F_OK, 0), 0);
  assert_int_equal(monitor_wake(dirfd, NULL), 0);
  release_and_check_exit(dirfd, child, release, 7);
  cleanup_json json *net = NULL;
  for (int i = 0; i < 100 && state_read_net_summary(dirfd, &net, NULL) < 0; i++)
    usleep(10 * 1000);
  assert_non_null(net);
  assert_int_equal(json_get(net, "counters")->type, JSON_NULL);
  assert_string_equal(json_string(json_get(net, "why")), "no namespace in this test");
}

/* Without a monitor (none started, or one that died before it was ready) there is nothing to
 * wait for: the start goes on at once. */
static void ready_without_a_monitor(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(tmpdir, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "nomonitor", "o", &stale, NULL);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(monitor_wait_ready(dirfd, 2000), 0);
  /* A lock nobody holds: a monitor that ended. */
  cleanup_close int lock = openat(dirfd, STATE_MONITOR_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true(lock >= 0);
  assert_int_equal(monitor_wait_ready(dirfd, 2000), 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 500);
  /* A monitor that holds its lock and is not ready: the wait is bounded. */
  assert_int_equal(flock(lock, LOCK_EX | LOCK_NB), 0);
  pid_t holder = fork();
  if (holder == 0) {
    pause();
    _exit(0);
  }
  close(lock); /* the lock stays with the holder's copy */
  lock = -1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(monitor_wait_ready(dirfd, 200), -1);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long took = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  assert_true(took >= 190 && took < 2000);
  /* ... and ends as soon as it is ready. */
  close(openat(dirfd, STATE_MONITOR_READY, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  assert_int_equal(monitor_wait_ready(dirfd, 2000), 0);
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
}

/* The process that has the state directory `name` open, this one and `but` aside: the detached
 * monitor. */
static pid_t monitor_pid_of(const char *name, pid_t but)
{
  char want[128];
  snprintf(want, sizeof want, "%s/%s", tmpdir, name);
  DIR *proc = opendir("/proc");
  struct dirent *d;
  pid_t found = 0;
  while (proc && found == 0 && (d = readdir(proc)) != NULL) {
    pid_t pid = (pid_t)atoi(d->d_name);
    if (pid <= 0 || pid == getpid() || pid == but)
      continue;
    for (int fd = 0; fd < 16 && found == 0; fd++) {
      char link[64], target[256];
      snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
      ssize_t n = readlink(link, target, sizeof target - 1);
      if (n > 0 && (target[n] = '\0', strcmp(target, want) == 0))
        found = pid;
    }
  }
  if (proc)
    closedir(proc);
  return found;
}

/* A monitor stopped and continued (SIGSTOP, a debugger, a frozen cgroup) goes on watching: the
 * poll it was in comes back through restart_syscall, which its seccomp filter must allow. */
static void survives_stop_and_continue(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip();
  cleanup_close int rootfd = state_root_open(tmpdir, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "stopped", "o", &stale, NULL);
  int release;
  pid_t child = start_stranger(9, &release);
  struct monitor_config mc = {.container = "stopped",
                              .dirfd = dirfd,
                              .init_pid = child,
                              .netns_fd = -1,
                              .netns_why = "no namespace in this test",
                              .interval_us = 100000};
  assert_int_equal(monitor_start(&mc, NULL), 0);
  assert_int_equal(monitor_wait_ready(dirfd, 2000), 0); /* as start does */
  assert_int_equal(monitor_wake(dirfd, NULL), 0);
  pid_t mon = monitor_pid_of("stopped", child);
  assert_true(mon > 0);
  /* What an operator sees: its name, and the container it watches. */
  char path[64];
  cleanup_free char *comm = NULL, *cmdline = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "/proc/%d/comm", (int)mon);
  assert_int_equal(read_file_at(AT_FDCWD, path, 64, &comm, NULL, NULL), 0);
  assert_string_equal(comm, "measured-mon\n");
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)mon);
  assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &cmdline, &len, NULL), 0);
  assert_true(len > strlen(MONITOR_ARGV0) + 1);
  assert_string_equal(cmdline, MONITOR_ARGV0);
  assert_string_equal(cmdline + strlen(MONITOR_ARGV0) + 1, "container=stopped");
  usleep(300 * 1000); /* confined by now, waiting in poll */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(kill(mon, SIGSTOP), 0);
    usleep(50 * 1000);
    assert_int_equal(kill(mon, SIGCONT), 0);
    usleep(150 * 1000);
  }
  /* Still watching: it holds its lock and has recorded no exit. */
  assert_int_equal(monitor_wait_exit_recorded(dirfd, 0), -1);
  release_and_check_exit(dirfd, child, release, 9);
}

/* Once confined, the monitor writes only in its own state directory: not next to it, not in /tmp,
 * not a root-owned file; it still reads /proc and writes its state. */
static void confined_to_its_state(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip(); /* keeping CAP_SYS_ADMIN needs root */
  cleanup_close int rootfd = state_root_open(tmpdir, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "confined", "o", &stale, NULL);
  char outside[128];
  snprintf(outside, sizeof outside, "%s/outside", tmpdir);
  pid_t pid = fork();
  if (pid == 0) {
    merr *err = NULL;
    if (monitor_confine(dirfd, &err) < 0) {
      fprintf(stderr, "confine: %s\n", merr_msg(err));
      _exit(10);
    }
    if (open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0 || errno != EACCES)
      _exit(11); /* next to its state directory */
    if (open("/tmp/measured-confined-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0)
      _exit(12);
    if (open("/etc/hostname", O_WRONLY | O_CLOEXEC) >= 0)
      _exit(13); /* a root-owned file */
    if (rootfd >= 0 && openat(rootfd, "x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0)
      _exit(14); /* the state root: other lifecycles live there */
    int rd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (rd < 0)
      _exit(15);
    close(rd);
    cleanup_json json *ev = state_event("confined");
    if (state_append_event(dirfd, ev, NULL) < 0)
      _exit(16);
    cleanup_json json *summary = json_new(JSON_OBJECT);
    if (state_write_net_summary(dirfd, summary, NULL) < 0)
      _exit(17); /* a new file, renamed over: what the sampler does */
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(access(outside, F_OK), -1);
}

/* The configuration goes to the monitor as its command line and comes back the same. */
static void the_command_line_round_trips(void **state)
{
  (void)state;
  struct monitor_config in = {.container = "c1",
                              .dirfd = 5,
                              .init_pid = 4242,
                              .netns_fd = -1,
                              .netns_why = "no namespace: host network",
                              .interval_us = 250000,
                              .flows = true,
                              .probe_peer = "172.17.0.2:7447"};
  struct monitor_argv a;
  monitor_argv_build(&in, 7, &a);
  assert_string_equal(a.argv[0], MONITOR_ARGV0);
  assert_string_equal(a.argv[1], "container=c1");
  assert_null(a.argv[MONITOR_ARGC]);
  struct monitor_config out;
  int lockfd = 0;
  merr *err = NULL;
  assert_int_equal(monitor_argv_parse(MONITOR_ARGC, a.argv, &out, &lockfd, &err), 0);
  assert_string_equal(out.container, "c1");
  assert_int_equal(out.dirfd, 5);
  assert_int_equal(out.init_pid, 4242);
  assert_int_equal(out.netns_fd, -1);
  assert_string_equal(out.netns_why, "no namespace: host network");
  assert_int_equal(out.interval_us, 250000);
  assert_true(out.flows);
  assert_null(out.flows_why); /* none given: none read */
  assert_string_equal(out.probe_peer, "172.17.0.2:7447");
  assert_int_equal(lockfd, 7);
  monitor_argv_clear(&a);
}

/* Anything else is refused with the argument named, never half read. */
static void a_bad_command_line_is_refused(void **state)
{
  (void)state;
  struct monitor_config in = {.container = "c", .dirfd = 3, .netns_fd = 4, .interval_us = 1};
  static const struct {
    int index;
    const char *value;
    const char *says;
  } bad[] = {
      {2, "dir=-1", "dir=<integer 0..2147483647>"},
      {2, "dir=3x", "dir="},
      {2, "dir=", "dir="},
      {3, "netns=-2", "netns="},
      {5, "pid=99999999999", "pid="},
      {6, "interval_us=0", "interval_us="},
      {7, "flows=2", "flows="},
      {4, "pid=1", "lock="}, /* out of order */
      {8, "why=x", "netns_why="},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct monitor_argv a;
    monitor_argv_build(&in, -1, &a);
    char *kept = a.argv[bad[i].index];
    a.argv[bad[i].index] = (char *)bad[i].value;
    struct monitor_config out;
    int lockfd;
    merr *err = NULL;
    assert_int_equal(monitor_argv_parse(MONITOR_ARGC, a.argv, &out, &lockfd, &err), -1);
    assert_non_null(strstr(merr_msg(err), bad[i].says));
    merr_free(err);
    a.argv[bad[i].index] = kept;
    err = NULL;
    assert_int_equal(monitor_argv_parse(MONITOR_ARGC - 1, a.argv, &out, &lockfd, &err), -1);
    merr_free(err);
    monitor_argv_clear(&a);
  }
}

/* A program that cannot be run is the caller's error, with the exec's reason. */
static void an_exec_that_fails_is_reported(void **state)
{
  (void)state;
  char *argv[] = {"nothing", NULL};
  merr *err = NULL;
  assert_int_equal(spawn_detached_exec("/nonexistent/program", argv, NULL, 0, &err), -1);
  assert_non_null(strstr(merr_msg(err), "exec /nonexistent/program"));
  assert_non_null(strstr(merr_msg(err), strerror(ENOENT)));
  merr_free(err);
}

int main(int argc, char **argv)
{
  /* The monitors this test starts are this program run again (monitor_start execs itself). */
  if (argc > 0 && strcmp(argv[0], MONITOR_ARGV0) == 0)
    return monitor_exec_main(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_command_line_round_trips),
      cmocka_unit_test(a_bad_command_line_is_refused),
      cmocka_unit_test(an_exec_that_fails_is_reported),
      cmocka_unit_test(without_a_monitor),
      cmocka_unit_test(records_the_exit_of_a_stranger),
      cmocka_unit_test(survives_stop_and_continue),
      cmocka_unit_test(ready_without_a_monitor),
      cmocka_unit_test(confined_to_its_state),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
