/* Detached helper processes (the monitor, the exec-mode probe runner). Detached means: nobody's
 * child here (a double fork; for spawn_detached_exec, one clone whose caller ends a moment later),
 * setsid (no controlling terminal), every inherited descriptor closed but the ones named, stdio on
 * /dev/null (a stray copy of containerd's pipes would hang `docker run`), every signal at its
 * default with an empty mask, and SIGCHLD ignored so that its own helpers never linger as zombies.
 */
#ifndef MEASURED_DETACH_H
#define MEASURED_DETACH_H

#include "merr.h"

#include <stddef.h>

/* Runs fn(arg) in a detached grandchild (fn must not return: it ends with _exit), keeping the
 * descriptors in keep[] (-1 entries ignored). Returns once the grandchild exists. */
int spawn_detached(void (*fn)(void *), void *arg, const int *keep, size_t nkeep, merr **err);

/* Runs path (argv, an empty environment) in a detached child, keeping the descriptors in keep[]
 * (their O_CLOEXEC cleared in the child). Returns once it has exec'd (an exec that failed is the
 * error). For a caller about to end (the wrapper, a hook): the child stays the caller's until
 * then, and is not waited for; it then belongs to the nearest subreaper (the engine's shim) or
 * init, as a double fork's grandchild would at once. No copy of the caller's memory is ever made
 * and there is no intermediate process: one clone that shares the memory until the exec
 * (spawn_shared), where spawn_detached copies the caller's memory in a fork and waits for an
 * intermediate child: on this project's VM, 0.5 against 1.2 to 3 ms (docs/performance.md). */
int spawn_detached_exec(const char *path, char *const argv[], const int *keep, size_t nkeep,
                        merr **err);

#endif
