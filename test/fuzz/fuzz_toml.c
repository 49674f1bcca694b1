/* containerd's config.toml: read, and measured's import added and taken out again; what comes
 * out must read back. The same bytes as podman's containers.conf: its measured registrations
 * read, and a drop-in made from them must read back with the same ones. */
#include "containerd_config.h"
#include "podman_config.h"
#include "toml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void podman_round_trip(const uint8_t *data, size_t size)
{
  struct podman_registered *reg = NULL, *again = NULL;
  size_t n = 0, m = 0;
  char *def = NULL, *def2 = NULL;
  if (podman_read_registrations((const char *)data, size, "containers.conf", &reg, &n, &def, NULL) <
      0)
    return;
  struct podman_runtime rt[8];
  size_t k = 0;
  for (size_t i = 0; i < n && k < 8; i++)
    if (reg[i].path && podman_name_ok(reg[i].key + 9))
      rt[k++] = (struct podman_runtime){reg[i].key + 9, "runc", reg[i].path};
  struct podman_strings lists[PODMAN_NLISTS] = {0};
  char *text = podman_dropin_text(rt, k, lists, def);
  if (podman_read_registrations(text, strlen(text), "drop-in", &again, &m, &def2, NULL) < 0 ||
      m != k)
    abort(); /* a drop-in measured writes must read back, whole */
  podman_registered_free(reg, n);
  podman_registered_free(again, m);
  free(def);
  free(def2);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  podman_round_trip(data, size);
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
