#include "spawn.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

pid_t spawn_shared(int (*child)(void *), void *arg, size_t stack_bytes, merr **err)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *stack = mmap(NULL, stack_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED)
    return merr_set(err, errno, "mmap a child's stack");
  if (mprotect(stack, page, PROT_NONE) < 0) { /* an overflow faults instead of writing below */
    int saved = errno;
    munmap(stack, stack_bytes);
    return merr_set(err, saved, "mprotect a child's guard page");
  }
  /* With CLONE_VFORK clone returns once the child has exec'd or ended: the stack is free. */
  pid_t pid = clone(child, stack + stack_bytes, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  int saved = errno;
  munmap(stack, stack_bytes);
  if (pid < 0)
    return merr_set(err, saved, "clone");
  return pid;
}

void spawn_report_exec_failure(const char *path, int errnum)
{
  const char *why = strerrordesc_np(errnum);
  struct iovec v[] = {{(void *)"measured: exec ", 15},
                      {(void *)path, strlen(path)},
                      {(void *)": ", 2},
                      {(void *)(why ? why : "error"), strlen(why ? why : "error")},
                      {(void *)"\n", 1}};
  ssize_t ignored = writev(STDERR_FILENO, v, sizeof v / sizeof v[0]);
  (void)ignored;
}
