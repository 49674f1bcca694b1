/* Other processes: pids from untrusted text, whether one still runs, and waiting for a child
 * without tripping over signals. */
#ifndef MEASURED_PROC_H
#define MEASURED_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Above any pid the kernel hands out (FUTEX_TID_MASK, which bounds pid_max): a larger number in
 * a pid file or a runtime's state is not a pid. */
#define PROC_PID_MAX 0x3fffffff

bool proc_pid_valid(int64_t pid);

/* A pid as a pid file holds it (digits, then optional spaces or newlines); 0 when not one. */
pid_t proc_parse_pid(const char *text);

/* Whether pid runs (a zombie has ended: only its parent has not reaped it yet). */
bool proc_alive(pid_t pid);

/* The process's name (/proc/<pid>/comm, without its newline), NULL when it is gone. */
char *proc_comm(pid_t pid);

/* waitpid(pid, status, 0), retried on EINTR. */
int proc_wait(pid_t pid, int *status);

/* A pidfd for pid (pidfd_open), -1 with errno. */
int proc_pidfd_open(pid_t pid);

#endif
