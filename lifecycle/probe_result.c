#include "probe_result.h"
#include "cleanup.h"
#include "probe_contract.h"
#include "xalloc.h"

#include <math.h>
#include <string.h>

enum { KIND_INT, KIND_NUM, KIND_STR, KIND_BOOL, KIND_OBJ, KIND_STRS };

struct field {
  const char *key;
  int kind;
  bool nullable;
  double lo, hi;                /* numbers: range; strings: length */
  const struct field *children; /* KIND_OBJ */
  const char *const *choices;   /* KIND_STR: allowed values, NULL: any */
};

#define END                                                                                        \
  {                                                                                                \
    NULL, 0, false, 0, 0, NULL, NULL                                                               \
  }
#define BIG 1e12

static const struct field stats_fields[] = {{"count", KIND_INT, false, 0, BIG, NULL, NULL},
                                            {"min_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"mean_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"p50_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"p90_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"p99_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"p999_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"max_us", KIND_NUM, false, 0, BIG, NULL, NULL},
                                            {"msg_size", KIND_INT, false, 8, 65000, NULL, NULL},
                                            {"lost", KIND_INT, false, 0, BIG, NULL, NULL},
                                            END};
static const struct field latency_fields[] = {{"tcp", KIND_OBJ, false, 0, 0, stats_fields, NULL},
                                              {"udp", KIND_OBJ, false, 0, 0, stats_fields, NULL},
                                              END};
static const char *const directions[] = {"send", "receive", NULL};
static const struct field bandwidth_fields[] = {
    {"direction", KIND_STR, false, 1, 16, NULL, directions},
    {"bytes", KIND_INT, false, 0, BIG * 1000, NULL, NULL},
    {"seconds", KIND_NUM, false, 0, 1e6, NULL, NULL},
    {"bits_per_s", KIND_NUM, false, 0, BIG * 1000, NULL, NULL},
    {"retransmits", KIND_INT, true, 0, BIG, NULL, NULL},
    END};
static const char *const modes[] = {"prelude", "exec", NULL};
static const struct field top_fields[] = {
    {"schema", KIND_INT, false, PROBE_RESULT_SCHEMA, PROBE_RESULT_SCHEMA, NULL, NULL},
    {"mode", KIND_STR, false, 1, 16, NULL, modes},
    {"peer", KIND_STR, true, 1, 80, NULL, NULL},
    {"budget_ms", KIND_INT, false, 0, 1e7, NULL, NULL},
    {"elapsed_us", KIND_INT, false, 0, 1e10, NULL, NULL},
    {"ready_us", KIND_INT, true, 0, 1e10, NULL, NULL},
    {"ready_attempts", KIND_INT, false, 0, 1e9, NULL, NULL},
    {"latency", KIND_OBJ, false, 0, 0, latency_fields, NULL},
    {"bandwidth", KIND_OBJ, false, 0, 0, bandwidth_fields, NULL},
    {"budget_exceeded", KIND_BOOL, false, 0, 0, NULL, NULL},
    {"errors", KIND_STRS, false, 0, 16, NULL, NULL},
    END};

static const struct field *find(const struct field *fields, const char *key)
{
  for (; fields->key; fields++)
    if (strcmp(fields->key, key) == 0)
      return fields;
  return NULL;
}

static bool string_ok(const json *v, double lo, double hi, const char *const *choices)
{
  const char *s = json_string(v);
  if (s == NULL || (double)v->len < lo || (double)v->len > hi)
    return false;
  for (const char *const *c = choices; c && *c; c++)
    if (strcmp(*c, s) == 0)
      return true;
  return choices == NULL;
}

static bool check_value(const struct field *f, const json *v, const char *path, char **why);

static bool check_object(const struct field *fields, const json *o, const char *path, char **why)
{
  if (!json_is(o, JSON_OBJECT)) {
    *why = xasprintf("%s: not an object", path);
    return false;
  }
  for (size_t i = 0; i < o->n; i++) {
    const struct field *f = find(fields, o->keys[i]);
    cleanup_free char *sub = xasprintf("%s.%s", path, o->keys[i]);
    if (f == NULL) {
      *why = xasprintf("%s: unknown key", sub);
      return false;
    }
    for (size_t k = 0; k < i; k++)
      if (strcmp(o->keys[k], o->keys[i]) == 0) {
        *why = xasprintf("%s: duplicate key", sub);
        return false;
      }
    if (!check_value(f, o->items[i], sub, why))
      return false;
  }
  return true;
}

static bool check_value(const struct field *f, const json *v, const char *path, char **why)
{
  if (f->nullable && json_is(v, JSON_NULL))
    return true;
  double d;
  int64_t n;
  bool ok;
  switch (f->kind) {
  case KIND_INT:
    ok = json_int64(v, &n) && (double)n >= f->lo && (double)n <= f->hi;
    break;
  case KIND_NUM:
    ok = json_double(v, &d) && isfinite(d) && d >= f->lo && d <= f->hi;
    break;
  case KIND_STR:
    ok = string_ok(v, f->lo, f->hi, f->choices);
    break;
  case KIND_BOOL:
    ok = json_is(v, JSON_TRUE) || json_is(v, JSON_FALSE);
    break;
  case KIND_OBJ:
    return check_object(f->children, v, path, why);
  case KIND_STRS:
    ok = json_is(v, JSON_ARRAY) && (double)v->n <= f->hi;
    for (size_t i = 0; ok && i < v->n; i++)
      ok = string_ok(v->items[i], 1, 400, NULL);
    break;
  default:
    ok = false;
  }
  if (!ok)
    *why = xasprintf("%s: not a valid value", path);
  return ok;
}

json *probe_result_validate(const char *text, size_t len, char **why)
{
  static const struct json_limits lim = {.max_bytes = 64 * 1024, .max_depth = 4, .max_nodes = 400};
  json *doc = NULL;
  cleanup_merr merr *err = NULL;
  if (json_parse(text, len, &lim, "result", &doc, &err) < 0) {
    *why = xstrdup(merr_msg(err));
    return NULL;
  }
  if (!check_object(top_fields, doc, "result", why)) {
    json_free(doc);
    return NULL;
  }
  return doc;
}
