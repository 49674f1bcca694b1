/* A strict TOML 1.0 reader for containerd's config.toml, just enough to edit it losslessly.
 *
 * It checks the whole document (keys bare, quoted and dotted; the four kinds of strings with
 * their escapes and valid UTF-8; integers in four bases, floats, booleans, dates and times;
 * arrays over several lines; inline tables; table and array-of-tables headers; comments) and
 * refuses a key or a table defined twice, with the line and column of the first error. What it
 * keeps is what an editor of the root table needs: where the root table ends (the first header)
 * and its keys with the byte span of their values; for an array of strings, its strings and
 * where a new item can go. Nothing is rewritten: an edit inserts text at those offsets. */
#ifndef MEASURED_TOML_H
#define MEASURED_TOML_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

enum { TOML_MAX_BYTES = 1 << 20, TOML_MAX_DEPTH = 32 };

struct toml_root_key {
  char *key;          /* the key as written, dotted parts joined with '.' */
  size_t value_start; /* byte offsets of its value */
  size_t value_end;
  bool is_string_array; /* an array whose items are all strings */
  char **strings;       /* its items, decoded (is_string_array) */
  size_t *string_start; /* and where each one is written */
  size_t *string_end;
  size_t nstrings;
  size_t insert_at; /* where ", item" goes: after the last item, or after '[' when empty */
  bool empty;
};

struct toml_doc {
  size_t root_end; /* offset of the first table header, or the document's length */
  struct toml_root_key *keys;
  size_t nkeys;
};

/* `what` names the document in errors ("<path>: line L, column C: ..."). */
int toml_parse(const char *buf, size_t len, const char *what, struct toml_doc *doc, merr **err);
void toml_doc_clear(struct toml_doc *doc);

const struct toml_root_key *toml_root_find(const struct toml_doc *doc, const char *key);

#endif
