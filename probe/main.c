/* measured-probe: a small static program that runs inside a container.
 *
 *   measured-probe prelude [options] -- ARGS...
 *       As the container's first process: measures in a sandboxed child for at most the time
 *       budget, writes the result, then execs ARGS: the workload keeps pid, args, environment,
 *       working directory, user and file descriptors.
 *   measured-probe exec [options]
 *       Run by the runtime's `exec` beside the workload: measures and writes the result.
 *   measured-probe reflector [--port P] ...
 *       The peer the probe measures against (the same as `measured reflector`).
 *
 * options: --peer IP[:PORT] (required) --tests latency,bandwidth --budget-ms 2000
 *          --msg-size 64 --latency-ms 250 --warmup 50 --latency-max 20000
 *          --bandwidth-ms 1000 --reverse --out /dev/.measured-out */
#include "reflector.h"
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Signals that ask a container to stop. Held while the prelude measures: it stops measuring
 * and starts the workload at once (the signal itself is consumed: see docs/probe.md). */
static const int held_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static int hold_signals(sigset_t *saved)
{
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof held_signals / sizeof held_signals[0]; i++)
    sigaddset(&set, held_signals[i]);
  sigprocmask(SIG_BLOCK, &set, saved);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void release_signals(int sfd, const sigset_t *saved)
{
  if (sfd >= 0) {
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
      ; /* consume: delivered now, they would hit the probe, not the workload */
    close(sfd);
  }
  sigprocmask(SIG_SETMASK, saved, NULL);
}

static int prelude(int argc, char **argv)
{
  int64_t start = probe_now_us();
  int i = 2;
  struct probe_options o;
  probe_options_parse(argc, argv, &i, &o);
  if (i >= argc) {
    fprintf(stderr, "measured-probe: prelude needs the workload after --\n");
    return 127;
  }
  sigset_t saved;
  int sfd = hold_signals(&saved);
  probe_run(&o, "prelude", start, sfd);
  release_signals(sfd, &saved);
  execvp(argv[i], argv + i);
  int e = errno;
  fprintf(stderr, "measured-probe: exec %s: %s\n", argv[i], strerror(e));
  return e == ENOENT ? 127 : 126;
}

static int exec_mode(int argc, char **argv)
{
  int64_t start = probe_now_us();
  int i = 2;
  struct probe_options o;
  probe_options_parse(argc, argv, &i, &o);
  probe_run(&o, "exec", start, -1);
  return 0;
}

int main(int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "prelude") == 0)
    return prelude(argc, argv);
  if (strcmp(cmd, "exec") == 0)
    return exec_mode(argc, argv);
  if (strcmp(cmd, "reflector") == 0) {
    struct reflector_opts o;
    int status;
    if (reflector_parse_args(argc - 1, argv + 1, &o, &status) < 0)
      return status;
    return reflector_serve(&o);
  }
  fprintf(stderr, "usage: measured-probe prelude [options] -- ARGS... | exec [options] | "
                  "reflector [options]\n");
  return 2;
}
