/* daemon.json, the user's file: measured's entries merged in and taken out again. */
#include "daemon_json.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json *doc = NULL;
  if (json_parse((const char *)data, size, NULL, "daemon.json", &doc, NULL) < 0)
    return 0;
  bool changed = false;
  daemon_json_add_runtime(doc, "measured-runc", "/usr/local/bin/measured-runc", &changed, NULL);
  daemon_json_add_shim_runtime(doc, "measured-kata", "io.containerd.measured-kata.v2", &changed,
                               NULL);
  daemon_json_set_default(doc, "measured-runc", &changed, NULL);
  const json *rt = daemon_json_runtimes(doc);
  for (size_t i = 0; json_is(rt, JSON_OBJECT) && i < rt->n; i++)
    (void)daemon_json_is_own(rt->keys[i], rt->items[i]);
  daemon_json_remove_runtime(doc, "measured-runc", &changed, NULL);
  daemon_json_remove_runtime(doc, "measured-kata", &changed, NULL);
  char *out = NULL;
  size_t len;
  if (json_serialize(doc, true, &out, &len, NULL) == 0)
    free(out);
  json_free(doc);
  return 0;
}
