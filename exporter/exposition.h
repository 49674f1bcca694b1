/* The text the exporter serves: the OpenMetrics text format 1.0.0, or Prometheus' text format
 * 0.0.4 for a scraper that does not ask for OpenMetrics. One function writes both: they differ in
 * a counter's TYPE line (the family's name, or the sample's with _total), the UNIT lines and the
 * final "# EOF". */
#ifndef MEASURED_EXPORTER_EXPOSITION_H
#define MEASURED_EXPORTER_EXPOSITION_H

#include "aggregate.h"
#include "follow.h"
#include "running.h"

#include <stdio.h>

enum exposition_format { FORMAT_OPENMETRICS, FORMAT_PROMETHEUS };

struct exposition {
  const struct aggregate *agg;
  const struct follower *stores;
  size_t nstores;
  const struct running_container *running;
  size_t nrunning;              /* those described */
  size_t running_seen;          /* all that run (more than nrunning past the bound) */
  double last_catch_up_seconds; /* the last catch-up that read something */
};

/* The format an Accept header asks for (NULL: none): OpenMetrics when it names it. */
enum exposition_format exposition_negotiate(const char *accept);
const char *exposition_content_type(enum exposition_format fmt);

void exposition_write(FILE *out, const struct exposition *e, enum exposition_format fmt);

#endif
