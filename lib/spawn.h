/* Children that share the caller's memory until they exec, as posix_spawn makes them: clone with
 * CLONE_VM | CLONE_VFORK instead of fork. A fork copies the page tables and makes every page
 * copy-on-write, so that the parent's next writes fault too: about 1 ms a fork on this
 * project's 2-core VM with the other core busy, 30 times a shared clone (docs/performance.md).
 * The wrapper starts the real runtime this way on every call. */
#ifndef MEASURED_SPAWN_H
#define MEASURED_SPAWN_H

#include "merr.h"

#include <sys/types.h>

/* The child's stack: one that only makes system calls and execs needs little; one that forks
 * gives its stack to what it forks, which may run anything (a thread's default size). Reserved,
 * not committed: a smaller one saves the kernel ~30 us a call here (a map and an unmap of 8 MiB
 * against 64 KiB, measured). */
enum {
  SPAWN_EXEC_STACK_BYTES = 64 << 10,
  SPAWN_FORK_STACK_BYTES = 8 << 20,
};

/* Runs child(arg) in a new process (SIGCHLD to the caller when it ends) and returns its pid once
 * it has exec'd or ended; the caller is suspended until then. The child shares the caller's
 * memory and runs on a stack of its own (stack_bytes, a guard page below): it must only make
 * system calls (no malloc, no stdio, nothing written that the caller reads; errno excepted) and
 * end in an exec or _exit. It may fork (with SPAWN_FORK_STACK_BYTES): what it forks gets a copy
 * of the memory, this stack included, and may run anything. */
pid_t spawn_shared(int (*child)(void *), void *arg, size_t stack_bytes, merr **err);

/* What a child says when its exec fails, without allocating: "measured: exec PATH: REASON\n" on
 * descriptor 2. */
void spawn_report_exec_failure(const char *path, int errnum);

#endif
