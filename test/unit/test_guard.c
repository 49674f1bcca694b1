/* The guard that keeps measurement from changing a call's outcome, and the runner that runs the
 * real runtime and mirrors its exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "fileio.h"
#include "guard.h"
#include "proc.h"
#include "runner.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int returns(void *arg)
{
  return *(int *)arg;
}

/* cmocka catches these signals to report a test's crash; a crash in the guard's child must be
 * the child's own, as it is in the wrapper. */
static void default_signals(void)
{
  signal(SIGSEGV, SIG_DFL);
  signal(SIGABRT, SIG_DFL);
}

static int crashes(void *arg)
{
  (void)arg;
  default_signals();
  raise(SIGSEGV);
  return 0;
}

static int hangs(void *arg)
{
  (void)arg;
  for (;;)
    pause();
  return 0;
}

static int exhausts_memory(void *arg)
{
  (void)arg;
  default_signals();
  abort(); /* what xalloc does when memory runs out */
}

static void guard_outcomes(void **state)
{
  (void)state;
  merr *err = NULL;
  int zero = 0, one = 1;
  assert_int_equal(guard_run(returns, &zero, 1000, &err), 0);
  assert_null(err);
  /* fn reports its own failure: the guard has nothing to add. */
  assert_int_equal(guard_run(returns, &one, 1000, &err), 0);
  assert_null(err);
  assert_int_equal(guard_run(crashes, NULL, 1000, &err), -1);
  assert_non_null(strstr(merr_msg(err), "crashed (signal 11"));
  merr_freep(&err);
  assert_int_equal(guard_run(exhausts_memory, NULL, 1000, &err), -1);
  assert_non_null(strstr(merr_msg(err), "crashed (signal 6"));
  merr_freep(&err);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(guard_run(hangs, NULL, 200, &err), -1);
  clock_gettime(CLOCK_MONOTONIC, &b);
  assert_non_null(strstr(merr_msg(err), "did not finish within 200 ms"));
  merr_freep(&err);
  double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  assert_true(took >= 0.2 && took < 5);
  int status;
  assert_int_equal(waitpid(-1, &status, WNOHANG), -1); /* the hung child was reaped */
}

static int faults(void *arg)
{
  (void)arg;
  /* A page that may not be written: a real fault, and not undefined behaviour that UBSan would
   * report first (a NULL store is). */
  volatile char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    return 0;
  *page = 1;
  return 0;
}

static int aborts(void *arg)
{
  (void)arg;
  abort(); /* what xalloc does when memory runs out */
}

static int overflow_depth(volatile int n)
{
  volatile char pad[1024];
  pad[0] = (char)n;
  /* Unbounded in practice; the condition keeps the compiler from calling it infinite. */
  return n < 0 ? 0 : overflow_depth(n + 1) + pad[0];
}

static int overflows_stack(void *arg)
{
  (void)arg;
  return overflow_depth(0);
}

/* guard_inline in a child of its own (it installs handlers, and the runtime's exit comes after
 * it): its return, then the exit status the wrapper would mirror (3). Returns the child's wait
 * status; the warning it wrote, if any, is in log_path. */
static int inline_outcome(int (*fn)(void *), void *arg, int timeout_ms, const char *log_path,
                          int *returned)
{
  int pipefd[2];
  assert_int_equal(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    runner_block_signals();
    struct ocilog log = {.path = log_path, .json = true};
    sigset_t before, after;
    struct sigaction segv_before, segv_after;
    sigprocmask(SIG_SETMASK, NULL, &before);
    sigaction(SIGSEGV, NULL, &segv_before);
    int r = guard_inline(fn, arg, timeout_ms, &log, "start of container c1");
    sigprocmask(SIG_SETMASK, NULL, &after);
    sigaction(SIGSEGV, NULL, &segv_after);
    /* The caller's mask and handlers are back, whatever happened (it may exec next). */
    bool same = segv_after.sa_handler == segv_before.sa_handler;
    for (int sig = 1; sig < NSIG; sig++)
      same = same && sigismember(&before, sig) == sigismember(&after, sig);
    char c = !same ? 'M' : r == 0 ? '0' : 'F';
    if (write(pipefd[1], &c, 1) != 1)
      _exit(97);
    runner_mirror_exit(3 << 8); /* as if the runtime had exited with 3 */
  }
  close(pipefd[1]);
  char c = '?';
  if (read(pipefd[0], &c, 1) != 1)
    c = '?';
  close(pipefd[0]);
  *returned = c == '0' ? 0 : c == 'F' ? -1 : c == 'M' ? 98 : 99;
  int status;
  waitpid(pid, &status, 0);
  return status;
}

static void guard_inline_outcomes(void **state)
{
  (void)state;
  char log_path[] = "/tmp/measured-guard-log-XXXXXX";
  close(mkstemp(log_path));
  struct {
    int (*fn)(void *);
    int timeout_ms;
    const char *says; /* NULL: nothing written */
  } cases[] = {
      {returns, 1000, NULL},
      {faults, 1000, "measurement crashed (signal 11, SEGV) (start of container c1)"},
      {overflows_stack, 5000, "measurement crashed (signal 11, SEGV)"},
      {aborts, 1000, "measurement crashed (signal 6, ABRT)"},
      {hangs, 200,
       "measurement did not finish within 200 ms and was stopped (start of container "
       "c1); the container is not affected"},
  };
  int one = 1;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    truncate(log_path, 0);
    int returned;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int st = inline_outcome(cases[i].fn, &one, cases[i].timeout_ms, log_path, &returned);
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* Whatever fn did, the process ends as the runtime did. */
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
      fail_msg("case %zu: wait status %#x, guard_inline returned %d", i, st, returned);
    cleanup_free char *logged = NULL;
    assert_int_equal(read_file_at(AT_FDCWD, log_path, 8192, &logged, NULL, NULL), 0);
    if (cases[i].says == NULL) {
      assert_int_equal(returned, 0);
      assert_string_equal(logged, "");
      continue;
    }
    assert_int_equal(returned, -1);
    if (strstr(logged, cases[i].says) == NULL)
      fail_msg("case %zu: \"%s\" not in the log: %s", i, cases[i].says, logged);
    assert_non_null(strchr(logged, '\n'));
    assert_null(strchr(strchr(logged, '\n') + 1, '\n')); /* one line */
    double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_true(took < 5);
  }
  unlink(log_path);
}

/* The runner in a child of its own (it blocks signals for the rest of the process's life):
 * the real call's exit status, and death by a signal, come out as the wrapper's own. */
static int run_and_mirror(char *const argv[])
{
  pid_t pid = fork();
  if (pid == 0) {
    runner_block_signals();
    struct run_result res;
    if (runner_run(argv[0], argv, &res, NULL) < 0)
      _exit(99);
    if (res.end_us < res.start_us)
      _exit(98);
    runner_mirror_exit(res.wait_status);
  }
  int status;
  waitpid(pid, &status, 0);
  return status;
}

static void runner_mirrors_exit(void **state)
{
  (void)state;
  int st = run_and_mirror((char *[]){"/bin/sh", "-c", "exit 3", NULL});
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 3);
  st = run_and_mirror((char *[]){"/bin/sh", "-c", "kill -TERM $$", NULL});
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGTERM);
  st = run_and_mirror((char *[]){"/no/such/program", NULL});
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 127);
}

/* A signal the wrapper receives while it waits goes to the real runtime. */
static void runner_forwards_signals(void **state)
{
  (void)state;
  pid_t pid = fork();
  if (pid == 0) {
    runner_block_signals();
    struct run_result res;
    char *argv[] = {"/bin/sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.01; done", NULL};
    if (runner_run(argv[0], argv, &res, NULL) < 0)
      _exit(99);
    runner_mirror_exit(res.wait_status);
  }
  usleep(300 * 1000);
  kill(pid, SIGUSR1);
  int st;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 42);
}

/* The real runtime dies with the wrapper, as it would have died in its place. */
static void runner_child_dies_with_the_wrapper(void **state)
{
  (void)state;
  char pidfile[] = "/tmp/measured-runner-XXXXXX";
  int fd = mkstemp(pidfile);
  close(fd);
  pid_t wrapper = fork();
  if (wrapper == 0) {
    runner_block_signals();
    struct run_result res;
    char script[128];
    snprintf(script, sizeof script, "echo $$ > %s; exec sleep 30", pidfile);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    runner_run(argv[0], argv, &res, NULL);
    _exit(0);
  }
  pid_t runtime = 0;
  for (int i = 0; i < 200 && runtime <= 0; i++) {
    usleep(10 * 1000);
    FILE *f = fopen(pidfile, "r");
    if (f && fscanf(f, "%d", &runtime) != 1)
      runtime = 0;
    if (f)
      fclose(f);
  }
  unlink(pidfile);
  assert_true(runtime > 0);
  kill(wrapper, SIGKILL);
  waitpid(wrapper, NULL, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; i++) {
    gone = !proc_alive(runtime); /* killed (a zombie until its new parent reaps it) */
    usleep(10 * 1000);
  }
  assert_true(gone);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(guard_outcomes),
      cmocka_unit_test(guard_inline_outcomes),
      cmocka_unit_test(runner_mirrors_exit),
      cmocka_unit_test(runner_forwards_signals),
      cmocka_unit_test(runner_child_dies_with_the_wrapper),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
