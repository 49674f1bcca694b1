/* start, exec and kill: each leaves an event in the lifecycle's state; start also wakes the
 * monitor and launches an exec-mode probe. */
#ifndef MEASURED_CALLS_H
#define MEASURED_CALLS_H

#include "call.h"

int calls_after(const struct call_ctx *c);

/* Before start: the monitor's readiness (lifecycle_before_start). */
void calls_before_start(struct call_ctx *c);

#endif
