/* What the wrapper does around each measured call: the two entry points of the front ends
 * (shim/main.c for the OCI command line, shim/hook.c for the shim-v2 hooks). Each runs inside
 * guard_run: it may fail or crash without any effect on the call's outcome. */
#ifndef MEASURED_LIFECYCLE_H
#define MEASURED_LIFECYCLE_H

#include "call.h"

/* Before the real create: puts the probe into the spec when the container asks for it. */
int lifecycle_before_create(void *call_ctx);

/* After the real runtime returned: create makes the lifecycle's state and its monitor
 * (create.c); start, exec and kill leave an event (calls.c); delete turns the lifecycle into its
 * record (delete.c). Returns 0, or -1 after logging. */
int lifecycle_after(void *call_ctx);

#endif
