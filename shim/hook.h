/* measured-hook: the OCI hooks that stand for create, start and delete under a containerd shim
 * (see hook.c). */
#ifndef MEASURED_HOOK_H
#define MEASURED_HOOK_H

#include <stdint.h>

#define HOOK_ARGV0 "measured-hook"
#define HOOK_CREATE_RUNTIME "create-runtime"
#define HOOK_POSTSTART "poststart"
#define HOOK_POSTSTOP "poststop"

/* argv[0] is HOOK_ARGV0. Always returns 0: a hook that fails would fail the container. */
int hook_main(int argc, char **argv, int64_t t0_us);

#endif
