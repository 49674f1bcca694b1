/* What the wrapper does around each measured call: the entry points of the front ends
 * (shim/main.c for the OCI command line, shim/hook.c for the shim-v2 hooks). Each but
 * lifecycle_before_start runs under a guard (shim/guard.h): it may fail or crash without any
 * effect on the call's outcome. */
#ifndef MEASURED_LIFECYCLE_H
#define MEASURED_LIFECYCLE_H

#include "call.h"

/* Before the real create: puts the probe into the spec when the container asks for it. */
int lifecycle_before_create(void *call_ctx);

/* Before the real start: waits (bounded) until the container's monitor has taken the counters'
 * baseline, when it is still starting (the OCI create does not wait for it, see create.c).
 * System calls on measured's own state only, no parsing: it runs unguarded, in the wrapper. The
 * state directory it opened stays in c->state for the step after the call. */
void lifecycle_before_start(struct call_ctx *c);

/* After the real runtime returned: create makes the lifecycle's state and its monitor
 * (create.c); start, exec and kill leave an event (calls.c); delete turns the lifecycle into its
 * record (delete.c). Returns 0, or -1 after logging. */
int lifecycle_after(void *call_ctx);

#endif
