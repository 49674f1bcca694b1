/* Least privilege for the measuring process: no capabilities at all (effective, permitted,
 * inheritable, ambient and bounding sets), no_new_privs, and a seccomp allowlist of the system
 * calls a measurement needs (sockets of AF_INET/AF_INET6 only, plain read and write, timers,
 * memory). A call outside the list fails with EPERM, so the probe can name it in its result.
 *
 * Applied in the forked measuring child only: seccomp filters and dropped bounding capabilities
 * survive execve, so the process that goes on to become the workload never gets them. */
#ifndef MEASURED_PROBE_SANDBOX_H
#define MEASURED_PROBE_SANDBOX_H

#include "merr.h"

int probe_sandbox_enter(merr **err);

#endif
