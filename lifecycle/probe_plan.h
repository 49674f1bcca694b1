/* Whether and how to probe one container: the runtime entry's "probe" settings, overridden by
 * the container's own variables:
 *   MEASURED_PROBE=latency,bandwidth   the tests (this, or the table's "tests", turns it on)
 *   MEASURED_PEER=IP[:PORT]            the reflector (required)
 *   MEASURED_PROBE_MODE=prelude|exec   MEASURED_PROBE_BUDGET_MS   MEASURED_PROBE_MSG_SIZE
 *   MEASURED_PROBE_LATENCY_MS          MEASURED_PROBE_BANDWIDTH_MS   MEASURED_PROBE_REVERSE=1
 * A value that is not valid leaves the container unprobed (its spec untouched) with the reason
 * in the record: probing never changes whether a container runs. */
#ifndef MEASURED_PROBE_PLAN_H
#define MEASURED_PROBE_PLAN_H

#include "json.h"
#include "table.h"

#include <stdbool.h>

struct probe_plan {
  bool requested; /* the table or the container asked for it */
  char *why_not;  /* requested, but it cannot be done */
  bool exec_mode; /* else prelude */
  char *tests, *peer;
  int budget_ms, msg_size, latency_ms, bandwidth_ms;
  bool reverse;
};

void probe_plan_make(const struct probe_settings *table, const json *config, struct probe_plan *p);

/* The probe's command line: subcommand ("prelude" / "exec") and options, NULL-terminated. */
char **probe_plan_argv(const struct probe_plan *p, const char *subcommand, size_t *n);

/* {"mode","tests","peer","budget_ms",...} as the record shows the plan. */
json *probe_plan_json(const struct probe_plan *p);

/* Reads back what probe_plan_json wrote (our own state file). */
int probe_plan_from_json(const json *j, struct probe_plan *p);

void probe_plan_clear(struct probe_plan *p);

#endif
