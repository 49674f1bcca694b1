/* A store line as `measured report` reads it (its own scanner), checked against yajl's verdict
 * through the tree parser: the two must agree on what is JSON. */
#include "json.h"
#include "sample.h"
#include "scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct sample s;
  (void)sample_parse((const char *)data, size, &s);
  size_t next;
  bool blank;
  (void)sample_parse_next((const char *)data, size, &s, &next, &blank);
  if (next > size)
    abort();
  static const yajl_callbacks none = {0};
  bool scanned = json_scan((const char *)data, size, &none, NULL, 64);
  json *doc = NULL;
  struct json_limits lim = {.max_bytes = 1 << 20, .max_depth = 64, .max_nodes = 1 << 20};
  bool parsed = json_parse((const char *)data, size, &lim, "line", &doc, NULL) == 0;
  json_free(doc);
  /* yajl takes a NUL byte as the end of the text; the scanner refuses it: compare without */
  if (scanned != parsed && memchr(data, 0, size) == NULL && size < (1 << 20))
    abort();
  return 0;
}
