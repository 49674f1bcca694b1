/* The probe's two ways in, and what they share: parse the options, measure in a sandboxed child
 * within the time budget, write the result where the host reads it. */
#ifndef MEASURED_PROBE_RUN_H
#define MEASURED_PROBE_RUN_H

#include "measure.h"
#include "protocol.h"

struct probe_options {
  struct probe_config cfg;
  const char *out_dir;
  char error[256]; /* set when the options were not valid: measure nothing, report this */
};

/* Parses argv[*i..] up to "--" or the end; *i ends on the first argument after the options. */
void probe_options_parse(int argc, char **argv, int *i, struct probe_options *o);

/* Measures (unless o->error is set) and writes the result file. Never fails its caller: what
 * went wrong goes into the result. `interrupt_fd` (-1: none) ends the measurement early when
 * readable; mode names the way in ("prelude" or "exec"). */
void probe_run(const struct probe_options *o, const char *mode, int64_t start_us, int interrupt_fd);

#endif
