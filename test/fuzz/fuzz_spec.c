/* config.json, as a container's image and command line make it: read, summarized for the
 * record, given measured's hooks, stripped of a prelude, written back. */
#include "hook_spec.h"
#include "probe_inject.h"
#include "spec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json *config = NULL;
  if (json_parse((const char *)data, size, NULL, "config.json", &config, NULL) < 0)
    return 0;
  json_free(spec_container_summary(config));
  unsigned rejected = 0;
  json_free(spec_labels(config, &rejected));
  (void)spec_env(config, "MEASURED_PROBE");
  struct hook_spec h = {.path = "/usr/local/bin/measured-wrapper",
                        .runtime = "runc",
                        .owner = "shim-1-2",
                        .since_us = 1,
                        .before_us = 2};
  hook_spec_add(config, &h, NULL);
  probe_strip_prelude(config);
  char *out = NULL;
  size_t len;
  if (json_serialize(config, false, &out, &len, NULL) == 0)
    free(out);
  json_free(config);
  return 0;
}
