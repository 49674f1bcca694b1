/* Detached helper processes (the monitor, the exec-mode probe runner). Detached means: double
 * fork and setsid (no child of the runtime or the shim, no controlling terminal), every
 * inherited descriptor closed but the ones named, stdio on /dev/null (a stray copy of
 * containerd's pipes would hang `docker run`), every signal at its default with an empty mask, and
 * SIGCHLD ignored so
 * that its own helpers never linger as zombies. */
#ifndef MEASURED_DETACH_H
#define MEASURED_DETACH_H

#include "merr.h"

#include <stddef.h>

/* Runs fn(arg) in a detached grandchild (fn must not return: it ends with _exit), keeping the
 * descriptors in keep[] (-1 entries ignored). Returns once the grandchild exists. */
int spawn_detached(void (*fn)(void *), void *arg, const int *keep, size_t nkeep, merr **err);

#endif
