#include "proc.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

bool proc_pid_valid(int64_t pid)
{
  return pid > 0 && pid <= PROC_PID_MAX;
}

pid_t proc_parse_pid(const char *text)
{
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (end == text)
    return 0;
  while (*end == '\n' || *end == ' ')
    end++;
  return errno || *end || !proc_pid_valid(v) ? 0 : (pid_t)v;
}

bool proc_alive(pid_t pid)
{
  if (!proc_pid_valid(pid))
    return false;
  cleanup_free char *path = xasprintf("/proc/%d/stat", (int)pid);
  cleanup_free char *stat = NULL;
  if (read_file_at(AT_FDCWD, path, 4096, &stat, NULL, NULL) < 0)
    return false;
  const char *paren = strrchr(stat, ')'); /* the command name may hold anything but ends there */
  return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

char *proc_comm(pid_t pid)
{
  if (!proc_pid_valid(pid))
    return NULL;
  cleanup_free char *path = xasprintf("/proc/%d/comm", (int)pid);
  char *comm = NULL;
  if (read_file_at(AT_FDCWD, path, 64, &comm, NULL, NULL) < 0)
    return NULL;
  comm[strcspn(comm, "\n")] = '\0';
  return comm;
}

int proc_wait(pid_t pid, int *status)
{
  pid_t r;
  while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
    ;
  return r < 0 ? -1 : 0;
}

int proc_pidfd_open(pid_t pid)
{
  return (int)syscall(SYS_pidfd_open, pid, 0);
}
