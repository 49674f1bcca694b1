/* The monitor's confinement. It runs as root for the whole life of a container and reads other
 * processes' network namespaces, so once its descriptors are set up it keeps only what that
 * takes: of the capabilities, CAP_SYS_ADMIN (setns into a namespace the path leads to), the
 * others dropped from every set including the bounding set; no_new_privs; and a seccomp
 * allowlist of the calls sampling, discovery and the state files need (socket only for
 * netlink, setns only into network namespaces). Anything else fails with EPERM, which the
 * sampler reports as a missed measurement: the container is never affected. Landlock adds where
 * it may go: write only beneath its own state directory, read in /proc and /run, execute nothing,
 * no TCP, no signal to a process outside itself (so a bug in parsing what a container's
 * namespace reports cannot overwrite a root-owned file). */
#ifndef MEASURED_CONFINE_H
#define MEASURED_CONFINE_H

#include "merr.h"

/* dirfd: the lifecycle's state directory, the one place it may write (Landlock): beyond it the
 * monitor may only read, in /proc and /run (network namespace files). */
int monitor_confine(int dirfd, merr **err);

#endif
