/* The runtime table, /etc/measured/measured.json. */
#include "table.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct runtime_table *t = NULL;
  merr *err = NULL;
  if (runtime_table_parse((const char *)data, size, "fuzz", &t, &err) == 0) {
    for (size_t i = 0; i < t->n; i++) {
      (void)runtime_entry_store(t, &t->entries[i]);
      (void)runtime_entry_sample_interval_ms(t, &t->entries[i]);
    }
    (void)runtime_table_find(t, "runc");
    runtime_table_free(t);
  }
  merr_free(err);
  return 0;
}
