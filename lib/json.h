/* A small mutable JSON tree on top of yajl, shared by every parser and editor in measured.
 *
 * Parsing is strict (RFC 8259 through yajl: no comments, no trailing garbage, valid UTF-8) and
 * bounded (size, depth, node count). Numbers keep their original text and objects keep their
 * key order and duplicates, so parse + serialize loses no value: editors (daemon.json,
 * config.json) change only what they mean to change. */
#ifndef MEASURED_JSON_H
#define MEASURED_JSON_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type {
  JSON_NULL,
  JSON_FALSE,
  JSON_TRUE,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT
};

typedef struct json json;
struct json {
  enum json_type type;
  char *text;   /* JSON_STRING: the bytes (may hold NUL); JSON_NUMBER: the literal */
  size_t len;   /* length of text */
  size_t n;     /* JSON_ARRAY / JSON_OBJECT: number of members */
  size_t cap;   /* allocated members */
  json **items; /* array items or object values */
  char **keys;  /* object keys (NUL-free) */
};

struct json_limits {
  size_t max_bytes;   /* whole document */
  unsigned max_depth; /* nesting of arrays and objects */
  size_t max_nodes;   /* values in the document */
};

/* Limits for small configuration files and internal state. */
extern const struct json_limits json_limits_default;

/* Parses buf[0..len). On a syntax error the message names the line and column. `what` names
 * the document in messages (a path, or "probe result"). */
int json_parse(const char *buf, size_t len, const struct json_limits *lim, const char *what,
               json **out, merr **err);

void json_free(json *j);
static inline void json_freep(json **j)
{
  json_free(*j);
  *j = NULL;
}
#define cleanup_json __attribute__((cleanup(json_freep)))

/* Constructors (abort on exhaustion, see xalloc.h). */
json *json_new(enum json_type type);
json *json_new_string(const char *s);
json *json_new_stringn(const char *s, size_t len);
/* For text from outside any JSON document (paths, /proc, hostnames): invalid UTF-8 bytes become
 * U+FFFD so that the value can always be serialized. */
json *json_new_text(const char *s);
/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not valid. */
size_t json_utf8_seq_len(const unsigned char *s, size_t n);
json *json_new_int(int64_t v);
json *json_new_uint(uint64_t v);
json *json_new_double(double v);  /* non-finite values become null */
json *json_new_rounded(double v); /* to three decimals (a figure in µs to the ns) */
json *json_new_bool(bool v);
json *json_clone(const json *j); /* NULL gives a JSON null */

/* Members. json_get returns the last member with that key (as Go's encoding/json does). */
json *json_get(const json *obj, const char *key);
json *json_get_path(const json *obj, const char *const *keys); /* NULL-terminated key list */
/* Replaces every member named key by one holding v (appended if absent); takes ownership. */
void json_set(json *obj, const char *key, json *v);
/* Removes every member named key; returns how many. */
size_t json_del(json *obj, const char *key);
void json_append(json *arr, json *v); /* takes ownership */

/* Typed views: NULL / false when the value is absent or of another type. */
const char *json_string(const json *j); /* NULL also when the string holds a NUL byte */
bool json_is(const json *j, enum json_type t);
bool json_int64(const json *j, int64_t *out); /* integer literals only, range-checked */
bool json_double(const json *j, double *out);

/* Serializes; pretty adds newlines and two-space indentation, compact output has neither
 * (one line, safe for JSON Lines). Returns a NUL-terminated buffer. */
int json_serialize(const json *j, bool pretty, char **out, size_t *len, merr **err);

#endif
