/* What the host looked like: identity (hostname, kernel, CPUs) and load (load averages and
 * CPU pressure stall information), as JSON objects for records. */
#ifndef MEASURED_HOSTCTX_H
#define MEASURED_HOSTCTX_H

#include "json.h"

/* {"hostname":..,"kernel":..,"cpus":..} */
json *host_identity(void);

/* {"loadavg":[1,5,15],"psi_cpu":{"some":{"avg10":..,"avg60":..,"avg300":..,"total_us":..},
 *  "full":{...}}}; psi_cpu is null when the kernel does not provide it. */
json *host_load(void);

/* Parses the text of /proc/pressure/cpu; NULL when it is not in the expected form. */
json *host_parse_psi(const char *text);

#endif
