/* containerd-shim-measured-<name>-v2: the wrapper of a containerd runtime v2 shim (see
 * shimv2.c). */
#ifndef MEASURED_SHIMV2_H
#define MEASURED_SHIMV2_H

#include <stdint.h>

#define SHIM_PREFIX "containerd-shim-measured-"
#define SHIM_SUFFIX "-v2"

/* argv[0] ends in SHIM_PREFIX<name>SHIM_SUFFIX. Does not return on success (the real shim
 * replaces this process). */
int shimv2_main(int argc, char **argv, int64_t t0_us);

#endif
