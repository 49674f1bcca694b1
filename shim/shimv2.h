/* containerd-shim-measured-<name>-v2: the wrapper of a containerd runtime v2 shim (see
 * shimv2.c). */
#ifndef MEASURED_SHIMV2_H
#define MEASURED_SHIMV2_H

#include <stdint.h>

/* argv[0] names containerd-shim-measured-<name>-v2 (naming.h). Does not return on success (the real
 * shim replaces this process). */
int shimv2_main(int argc, char **argv, int64_t t0_us);

#endif
