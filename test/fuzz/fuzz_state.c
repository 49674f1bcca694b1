/* A lifecycle's state events (JSON Lines the wrapper and its monitor append) turned into the
 * record: every line is untrusted once a disk or a crash has had its way with it. */
#include "record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json *events = json_new(JSON_ARRAY);
  const char *p = (const char *)data, *end = p + size;
  unsigned bad = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    json *ev = NULL;
    if (json_parse(p, n, NULL, "events", &ev, NULL) == 0 && json_is(ev, JSON_OBJECT))
      json_append(events, ev);
    else {
      json_free(ev);
      bad++;
    }
    p += n + 1;
  }
  struct record_inputs in = {.events = events, .bad_event_lines = bad};
  struct delete_info del = {.begin_mono_us = 1000, .real_ns = 1, .dur_us = 5, .rc = 0};
  json *rec = record_build("fuzz", &in, &del, NULL);
  char *out = NULL;
  size_t len;
  if (json_serialize(rec, false, &out, &len, NULL) == 0)
    free(out);
  json_free(rec);
  del.unobserved = true;
  json_free(record_build("fuzz", &in, &del, NULL));
  json_free(events);
  return 0;
}
