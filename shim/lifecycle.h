/* What the wrapper does around each measured call, after the real runtime returned. Runs inside
 * guard_run: it may fail or crash without any effect on the call's outcome. */
#ifndef MEASURED_LIFECYCLE_H
#define MEASURED_LIFECYCLE_H

#include "ociargs.h"
#include "ocilog.h"
#include "runner.h"
#include "table.h"

struct call_ctx {
  int argc;
  char **argv; /* the wrapper's own command line */
  const struct oci_call *call;
  const struct runtime_table *table;
  const struct runtime_entry *entry;
  const char *real_path;
  char **real_argv; /* what the real runtime was given */
  const struct ocilog *log;
  int64_t t0_us; /* when the wrapper's main() began */
  struct run_result run;
};

/* The guard entry point: dispatches on the subcommand. Returns 0, or -1 after logging. */
int lifecycle_after(void *call_ctx);

#endif
