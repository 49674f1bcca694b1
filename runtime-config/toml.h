/* A strict TOML 1.0 reader for containerd's config.toml, just enough to edit it losslessly.
 *
 * It checks the whole document (keys bare, quoted and dotted; the four kinds of strings with
 * their escapes and valid UTF-8; integers in four bases, floats, booleans, dates and times;
 * arrays over several lines; inline tables; table and array-of-tables headers; comments) and
 * refuses a key or a table defined twice, with the line and column of the first error. What it
 * keeps is what an editor of the root table and a reader of settings need: where the root table
 * ends (the first header), and every key outside inline tables, by its whole dotted path
 * ("engine.runtimes.crun" for `crun` under `[engine.runtimes]`), with the byte span of its value;
 * for an array of strings, its strings and where a new item can go. Nothing is rewritten: an
 * edit inserts text at those offsets. (A quoted key part that holds a dot reads as two parts in
 * the path; no setting this reader looks for has one.) */
#ifndef MEASURED_TOML_H
#define MEASURED_TOML_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

enum { TOML_MAX_BYTES = 1 << 20, TOML_MAX_DEPTH = 32 };

struct toml_root_key {
  char *key;          /* its table's path and the key as written, dotted parts joined with '.' */
  bool in_root;       /* a key of the root table (before the first header) */
  size_t value_start; /* byte offsets of its value */
  size_t value_end;
  char *string;         /* the value decoded, when it is a string (else NULL) */
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

/* s as a TOML basic string, quotes included (escapes for '"', '\\' and control characters). */
char *toml_quote(const char *s);

/* A key of the root table; any key by its whole dotted path. NULL: not there. */
const struct toml_root_key *toml_root_find(const struct toml_doc *doc, const char *key);
const struct toml_root_key *toml_find(const struct toml_doc *doc, const char *path);

#endif
