/* The delete call: the first successful one claims the lifecycle (Docker deletes twice; only one
 * wins) and finishes it into its record (finish.h); then a small, bounded gc. */
#ifndef MEASURED_DELETE_H
#define MEASURED_DELETE_H

#include "call.h"

int delete_after(const struct call_ctx *c);

#endif
