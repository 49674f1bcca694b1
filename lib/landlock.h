/* Landlock for a process of ours that handles untrusted input as root: what it may still touch
 * in the file system, beneath a few directories, and nothing else; no TCP, no signals to
 * processes outside its domain (where the kernel's ABI has them). Complements the seccomp
 * allowlist of privileges.h: seccomp says which calls, Landlock where. */
#ifndef MEASURED_LANDLOCK_H
#define MEASURED_LANDLOCK_H

#include "merr.h"

#include <stddef.h>

enum landlock_right {
  LANDLOCK_READ = 1 << 0,  /* read files, list directories */
  LANDLOCK_WRITE = 1 << 1, /* write, create, replace and remove regular files */
};

struct landlock_beneath {
  int fd;         /* a directory (borrowed) */
  unsigned right; /* enum landlock_right */
};

/* Restricts this process (and what it forks) to the given hierarchies. Fails (with ENOSYS or
 * EOPNOTSUPP when the kernel has no Landlock) without changing anything; *abi gets the ABI used. */
int landlock_confine(const struct landlock_beneath *allowed, size_t n, int *abi, merr **err);

#endif
