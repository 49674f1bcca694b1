/* What the wrapper does around each measured call. Runs inside guard_run: it may fail or crash
 * without any effect on the call's outcome. */
#ifndef MEASURED_LIFECYCLE_H
#define MEASURED_LIFECYCLE_H

#include "call.h"

/* Before the real create: puts the probe into the spec when the container asks for it. */
int lifecycle_before_create(void *call_ctx);

/* After the real runtime returned: dispatches on the subcommand. Returns 0, or -1 after
 * logging. */
int lifecycle_after(void *call_ctx);

int lifecycle_after_create(const struct call_ctx *c);

#endif
