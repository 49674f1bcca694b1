/* The lifecycle record: one JSON object per container lifecycle, built at `delete` from the
 * events its wrapper calls and its monitor left in the state directory. Contract:
 * docs/record.schema.json. */
#ifndef MEASURED_RECORD_H
#define MEASURED_RECORD_H

#include "json.h"

#include <stdbool.h>
#include <stdint.h>

#include "record_schema.h"

struct delete_info {
  bool unobserved;       /* no delete was seen (`measured gc` writes the record): no "delete"
                            call, and the lifetime ends at the exit */
  int64_t begin_mono_us; /* the real delete was called */
  int64_t real_ns;       /* wall clock at the end */
  int64_t dur_us;
  int64_t overhead_us;
  int rc;
  json *context; /* host load at delete (borrowed) */
};

/* What a lifecycle left in its state directory. */
struct record_inputs {
  json *events;             /* the event lines */
  unsigned bad_event_lines; /* lines that did not parse */
  json *net;                /* the monitor's network summary, NULL when there is none */
  json *probe;              /* probe_collect's answer, NULL when not probed */
};

/* Frees what the inputs hold. */
void record_inputs_clear(struct record_inputs *in);

/* Builds the record of a completed lifecycle. `missed` (borrowed, strings) lists what the caller
 * already knows it could not measure. */
json *record_build(const char *id, const struct record_inputs *in, const struct delete_info *del,
                   const json *missed);

/* The record of a lifecycle that ended at a failed create (no state was kept). */
json *record_build_create_failed(const char *id, const json *create_event);

/* The "calls" entry of one wrapper call: {"us":..,"overhead_us":..,"rc":..}. */
json *record_call(int64_t dur_us, int64_t overhead_us, int rc);

#endif
