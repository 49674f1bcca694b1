/* start, exec and kill: each leaves an event in the lifecycle's state; start also wakes the
 * monitor and launches an exec-mode probe. */
#ifndef MEASURED_CALLS_H
#define MEASURED_CALLS_H

#include "call.h"

int calls_after(const struct call_ctx *c);

#endif
