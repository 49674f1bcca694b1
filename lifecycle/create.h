/* The create call: before it, the probe (when asked for) goes into the spec; after it, the
 * lifecycle's state, its first event and its monitor. A failed create is a lifecycle of its
 * own, recorded at once. */
#ifndef MEASURED_CREATE_H
#define MEASURED_CREATE_H

#include "call.h"

int create_before(const struct call_ctx *c);
int create_after(const struct call_ctx *c);

#endif
