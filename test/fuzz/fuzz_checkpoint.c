/* The exporter's checkpoint, read back at its start (a file in a shared place: anything may be
 * in it). A refused one must leave the aggregates empty and the followers as they were. */
#include "checkpoint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *labels[] = {"workload"};
  struct aggregate a;
  aggregate_init(&a, labels, 1);
  struct follower f = {.path = (char *)"/var/lib/measured/samples.jsonl"};
  merr *err = NULL;
  if (checkpoint_parse((const char *)data, size, "fuzz", &a, &f, 1, &err) < 0) {
    if (a.nseries != 0 || f.known || f.offset != 0)
      abort();
  }
  aggregate_clear(&a);
  merr_free(err);
  return 0;
}
