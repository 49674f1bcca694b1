/* containerd's config.toml: read, and measured's import added and taken out again; what comes
 * out must read back. */
#include "containerd_config.h"
#include "toml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct toml_doc doc;
  if (toml_parse((const char *)data, size, "config.toml", &doc, NULL) < 0)
    return 0;
  toml_doc_clear(&doc);
  char *added = NULL, *removed = NULL;
  bool changed = false;
  if (containerd_add_import((const char *)data, size, "t", "/etc/containerd/m.toml", &added,
                            &changed, NULL) == 0) {
    if (toml_parse(added, strlen(added), "added", &doc, NULL) < 0)
      abort(); /* the edit made a valid file invalid */
    toml_doc_clear(&doc);
    if (containerd_remove_import(added, strlen(added), "t", "/etc/containerd/m.toml", &removed,
                                 &changed, NULL) == 0 &&
        toml_parse(removed, strlen(removed), "removed", &doc, NULL) == 0)
      toml_doc_clear(&doc);
  }
  free(added);
  free(removed);
  return 0;
}
