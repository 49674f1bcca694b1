/* The probe's result as the host reads it: written inside the container, so untrusted. Size
 * capped by the caller, parsed strictly with tight limits, and checked against the one shape the
 * probe writes (every key known, every value of its type and range); anything else is rejected
 * whole, with the reason. */
#ifndef MEASURED_PROBE_RESULT_H
#define MEASURED_PROBE_RESULT_H

#include "json.h"

#include <stddef.h>

/* A validated copy of the result, or NULL with *why (to free). */
json *probe_result_validate(const char *text, size_t len, char **why);

#endif
