/* Exec mode: after start, the probe runs beside the workload through the real runtime's own
 * `exec`, from a detached process, so that neither the start call nor the workload waits. */
#ifndef MEASURED_PROBE_EXEC_H
#define MEASURED_PROBE_EXEC_H

#include "call.h"
#include "probe_plan.h"

/* Launches `<runtime> [--root R] exec <id> /dev/.measured-probe exec <options>`, bounded by the
 * budget plus a margin; its outcome is appended to the state as a "probe_exec" event. */
int probe_exec_launch(const struct call_ctx *c, int dirfd, const struct probe_plan *p, merr **err);

#endif
