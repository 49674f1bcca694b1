/* bare-<runtime>: the least any OCI runtime wrapper can do, for the benchmarks to compare
 * measured with: run the runtime named after "bare-" in argv[0] (found in PATH) with the same
 * arguments, wait, end as it ended. posix_spawn (a shared-memory clone and an exec, as measured's
 * lib/spawn.c), no table, no state, no record. What it adds to a call over the runtime itself is
 * the floor of the wrapper design on the machine at hand: the kernel's exec of one more process,
 * its start-up and its exit. Built static-pie like measured's wrapper. */
#include <errno.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
  (void)argc;
  const char *self = basename(argv[0]);
  if (strncmp(self, "bare-", 5) != 0 || self[5] == '\0') {
    fprintf(stderr, "run me as bare-<runtime> (a link), not as %s\n", self);
    return 2;
  }
  argv[0] = (char *)self + 5;
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc != 0) {
    fprintf(stderr, "bare wrapper: %s: %s\n", argv[0], strerror(rc));
    return 127;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
