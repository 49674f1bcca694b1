/* What a finished lifecycle left in its state directory, gathered for its record: the events,
 * the sampler's summary and the probe's result (which also releases the probe's channel). Used
 * by `delete` and by `measured gc`. */
#ifndef MEASURED_COLLECT_H
#define MEASURED_COLLECT_H

#include "json.h"
#include "record.h"

struct collected {
  json *events, *net, *probe; /* owned; net and probe may be NULL */
  unsigned bad_lines;
};

/* dirfd/path: the (claimed) state directory. What cannot be read goes into `missed`. */
void collect_lifecycle(int dirfd, const char *path, json *missed, struct collected *out);
void collected_clear(struct collected *c);

/* The record inputs over what was collected (borrowed). */
struct record_inputs collected_inputs(const struct collected *c);

#endif
