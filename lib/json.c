#include "json.h"
#include "cleanup.h"
#include "scan.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

const struct json_limits json_limits_default = {
    .max_bytes = 4u << 20, .max_depth = 64, .max_nodes = 200000};

json *json_new(enum json_type type)
{
  json *j = xzalloc(sizeof *j);
  j->type = type;
  return j;
}

json *json_new_stringn(const char *s, size_t len)
{
  json *j = json_new(JSON_STRING);
  j->text = xmalloc(len + 1);
  memcpy(j->text, s, len);
  j->text[len] = '\0';
  j->len = len;
  return j;
}

json *json_new_string(const char *s)
{
  return json_new_stringn(s, strlen(s));
}

size_t json_utf8_seq_len(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t len;
  unsigned min;
  unsigned cp;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0) {
    len = 2, min = 0x80, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, min = 0x800, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

json *json_new_text(const char *s)
{
  size_t n = strlen(s);
  char *out = xmalloc(n * 3 + 1); /* worst case: every byte replaced by a 3-byte U+FFFD */
  size_t w = 0;
  for (size_t i = 0; i < n;) {
    size_t k = json_utf8_seq_len((const unsigned char *)s + i, n - i);
    if (k == 0) {
      memcpy(out + w, "\xef\xbf\xbd", 3);
      w += 3;
      i++;
    } else {
      memcpy(out + w, s + i, k);
      w += k;
      i += k;
    }
  }
  json *j = json_new_stringn(out, w);
  free(out);
  return j;
}

static json *number_from_text(char *text)
{
  json *j = json_new(JSON_NUMBER);
  j->text = text;
  j->len = strlen(text);
  return j;
}

json *json_new_int(int64_t v)
{
  return number_from_text(xasprintf("%" PRId64, v));
}
json *json_new_uint(uint64_t v)
{
  return number_from_text(xasprintf("%" PRIu64, v));
}

json *json_new_double(double v)
{
  if (!isfinite(v))
    return json_new(JSON_NULL);
  /* The shortest text that reads back as the same double: 0.22, not 0.22000000000000000111. */
  for (int prec = 1; prec < 17; prec++) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return number_from_text(xstrdup(buf));
  }
  return number_from_text(xasprintf("%.17g", v));
}

json *json_new_rounded(double v)
{
  return json_new_double(round(v * 1000.0) / 1000.0);
}

json *json_new_bool(bool v)
{
  return json_new(v ? JSON_TRUE : JSON_FALSE);
}

void json_free(json *j)
{
  if (j == NULL)
    return;
  for (size_t i = 0; i < j->n; i++) {
    json_free(j->items[i]);
    if (j->keys)
      free(j->keys[i]);
  }
  free(j->items);
  free(j->keys);
  free(j->text);
  free(j);
}

static void reserve_member(json *c)
{
  if (c->n < c->cap)
    return;
  c->cap = c->cap ? c->cap * 2 : 4;
  c->items = xreallocarray(c->items, c->cap, sizeof *c->items);
  if (c->type == JSON_OBJECT)
    c->keys = xreallocarray(c->keys, c->cap, sizeof *c->keys);
}

void json_append(json *arr, json *v)
{
  if (arr == NULL || arr->type != JSON_ARRAY) { /* a caller bug must not corrupt memory */
    json_free(v);
    return;
  }
  reserve_member(arr);
  arr->items[arr->n++] = v;
}

static void object_add(json *obj, char *key, json *v)
{
  reserve_member(obj);
  obj->keys[obj->n] = key;
  obj->items[obj->n++] = v;
}

json *json_clone(const json *j)
{
  if (j == NULL)
    return json_new(JSON_NULL);
  json *c = json_new(j->type);
  if (j->text) {
    c->text = xmalloc(j->len + 1);
    memcpy(c->text, j->text, j->len + 1);
    c->len = j->len;
  }
  for (size_t i = 0; i < j->n; i++) {
    if (j->type == JSON_OBJECT)
      object_add(c, xstrdup(j->keys[i]), json_clone(j->items[i]));
    else
      json_append(c, json_clone(j->items[i]));
  }
  return c;
}

json *json_get(const json *obj, const char *key)
{
  if (obj == NULL || obj->type != JSON_OBJECT)
    return NULL;
  for (size_t i = obj->n; i-- > 0;)
    if (strcmp(obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

json *json_get_path(const json *obj, const char *const *keys)
{
  const json *cur = obj;
  for (; *keys && cur; keys++)
    cur = json_get(cur, *keys);
  return (json *)cur;
}

size_t json_del(json *obj, const char *key)
{
  size_t removed = 0, w = 0;
  for (size_t r = 0; r < obj->n; r++) {
    if (strcmp(obj->keys[r], key) == 0) {
      free(obj->keys[r]);
      json_free(obj->items[r]);
      removed++;
      continue;
    }
    obj->keys[w] = obj->keys[r];
    obj->items[w++] = obj->items[r];
  }
  obj->n = w;
  return removed;
}

void json_set(json *obj, const char *key, json *v)
{
  if (obj == NULL || obj->type != JSON_OBJECT) {
    json_free(v);
    return;
  }
  for (size_t i = 0; i < obj->n; i++) {
    if (strcmp(obj->keys[i], key) != 0)
      continue;
    json_free(obj->items[i]);
    obj->items[i] = v;
    /* Drop later duplicates so that the one value we set is the one every reader sees. */
    for (size_t k = i + 1; k < obj->n;) {
      if (strcmp(obj->keys[k], key) == 0) {
        free(obj->keys[k]);
        json_free(obj->items[k]);
        memmove(&obj->keys[k], &obj->keys[k + 1], (obj->n - k - 1) * sizeof *obj->keys);
        memmove(&obj->items[k], &obj->items[k + 1], (obj->n - k - 1) * sizeof *obj->items);
        obj->n--;
      } else {
        k++;
      }
    }
    return;
  }
  object_add(obj, xstrdup(key), v);
}

bool json_is(const json *j, enum json_type t)
{
  return j && j->type == t;
}

const char *json_string(const json *j)
{
  if (!json_is(j, JSON_STRING) || memchr(j->text, '\0', j->len))
    return NULL;
  return j->text;
}

bool json_int64(const json *j, int64_t *out)
{
  if (!json_is(j, JSON_NUMBER) || strpbrk(j->text, ".eE"))
    return false;
  errno = 0;
  char *end;
  long long v = strtoll(j->text, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

bool json_double(const json *j, double *out)
{
  if (!json_is(j, JSON_NUMBER))
    return false;
  char *end;
  double v = strtod(j->text, &end);
  if (*end || !isfinite(v))
    return false;
  *out = v;
  return true;
}

/* ---- parsing ---- */

struct parse_ctx {
  const struct json_limits *lim;
  json *root;
  json **stack; /* open containers */
  unsigned depth;
  char *pending_key;
  size_t nodes;
  const char *abort_reason; /* set when a callback stops the parse */
};

static int add_value(struct parse_ctx *c, json *v)
{
  if (++c->nodes > c->lim->max_nodes) {
    json_free(v);
    c->abort_reason = "too many values";
    return 0;
  }
  if (c->depth == 0) {
    c->root = v;
    return 1;
  }
  json *top = c->stack[c->depth - 1];
  if (top->type == JSON_ARRAY)
    json_append(top, v);
  else
    object_add(top, steal_pointer(&c->pending_key), v);
  return 1;
}

static int on_null(void *ctx)
{
  return add_value(ctx, json_new(JSON_NULL));
}
static int on_bool(void *ctx, int b)
{
  return add_value(ctx, json_new_bool(b));
}

static int on_number(void *ctx, const char *s, size_t len)
{
  json *j = json_new(JSON_NUMBER);
  j->text = xstrndup(s, len);
  j->len = len;
  return add_value(ctx, j);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
  return add_value(ctx, json_new_stringn((const char *)s, len));
}

static int open_container(void *ctx, enum json_type t)
{
  struct parse_ctx *c = ctx;
  if (c->depth >= c->lim->max_depth) {
    c->abort_reason = "nested too deeply";
    return 0;
  }
  json *j = json_new(t);
  if (!add_value(c, j))
    return 0;
  c->stack[c->depth++] = j;
  return 1;
}

static int on_start_map(void *ctx)
{
  return open_container(ctx, JSON_OBJECT);
}
static int on_start_array(void *ctx)
{
  return open_container(ctx, JSON_ARRAY);
}

static int on_end(void *ctx)
{
  ((struct parse_ctx *)ctx)->depth--;
  return 1;
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
  struct parse_ctx *c = ctx;
  if (memchr(s, '\0', len)) {
    c->abort_reason = "object key contains a NUL character";
    return 0;
  }
  free(c->pending_key);
  c->pending_key = xstrndup((const char *)s, len);
  return 1;
}

static const yajl_callbacks parse_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static void line_col(const char *buf, size_t off, size_t *line, size_t *col)
{
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (buf[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static int parse_error(yajl_handle h, struct parse_ctx *c, const char *buf, size_t len,
                       const char *what, merr **err)
{
  /* yajl counts the offending byte as consumed: point at it. */
  size_t off = yajl_get_bytes_consumed(h);
  if (off > len)
    off = len;
  if (off > 0 && !c->abort_reason)
    off--;
  size_t line, col;
  line_col(buf, off, &line, &col);
  if (c->abort_reason)
    return merr_set(err, 0, "%s: line %zu, column %zu: %s", what, line, col, c->abort_reason);
  unsigned char *detail = yajl_get_error(h, 0, (const unsigned char *)buf, len);
  /* yajl's message is "parse error: <reason>\n"; keep the reason only. */
  const char *reason = (const char *)detail;
  if (strncmp(reason, "parse error: ", 13) == 0)
    reason += 13;
  cleanup_free char *trimmed = xstrdup(reason);
  trimmed[strcspn(trimmed, "\n")] = '\0';
  while (*trimmed && trimmed[strlen(trimmed) - 1] == ' ')
    trimmed[strlen(trimmed) - 1] = '\0';
  yajl_free_error(h, detail);
  return merr_set(err, 0, "%s: line %zu, column %zu: invalid JSON: %s", what, line, col, trimmed);
}

static const yajl_callbacks no_callbacks;

int json_parse(const char *buf, size_t len, const struct json_limits *lim, const char *what,
               json **out, merr **err)
{
  if (lim == NULL)
    lim = &json_limits_default;
  if (len > lim->max_bytes)
    return merr_set(err, 0, "%s: %zu bytes, more than the limit of %zu", what, len, lim->max_bytes);
  if (len == 0)
    return merr_set(err, 0, "%s: empty document", what);

  struct parse_ctx c = {.lim = lim};
  cleanup_free json **stack = xreallocarray(NULL, lim->max_depth + 1, sizeof *stack);
  c.stack = stack;
  yajl_handle h = yajl_alloc(&parse_callbacks, NULL, &c);
  if (h == NULL)
    return merr_set(err, ENOMEM, "%s: cannot allocate the parser", what);
  yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  int ret = 0;
  if (st != yajl_status_ok) {
    ret = parse_error(h, &c, buf, len, what, err);
    json_free(c.root);
  } else if (!json_scan(buf, len, &no_callbacks, NULL, lim->max_depth + 1)) {
    /* yajl's one lenience: a value followed by an unterminated string */
    ret = merr_set(err, 0, "%s: invalid JSON: trailing garbage after the value", what);
    json_free(c.root);
  } else {
    *out = c.root;
  }
  free(c.pending_key);
  yajl_free(h);
  return ret;
}

/* ---- serialization ---- */

static yajl_gen_status gen_value(yajl_gen g, const json *j)
{
  yajl_gen_status s = yajl_gen_status_ok;
  switch (j->type) {
  case JSON_NULL:
    return yajl_gen_null(g);
  case JSON_FALSE:
  case JSON_TRUE:
    return yajl_gen_bool(g, j->type == JSON_TRUE);
  case JSON_NUMBER:
    return yajl_gen_number(g, j->text, j->len);
  case JSON_STRING:
    return yajl_gen_string(g, (const unsigned char *)j->text, j->len);
  case JSON_ARRAY:
    s = yajl_gen_array_open(g);
    for (size_t i = 0; s == yajl_gen_status_ok && i < j->n; i++)
      s = gen_value(g, j->items[i]);
    return s == yajl_gen_status_ok ? yajl_gen_array_close(g) : s;
  case JSON_OBJECT:
    s = yajl_gen_map_open(g);
    for (size_t i = 0; s == yajl_gen_status_ok && i < j->n; i++) {
      s = yajl_gen_string(g, (const unsigned char *)j->keys[i], strlen(j->keys[i]));
      if (s == yajl_gen_status_ok)
        s = gen_value(g, j->items[i]);
    }
    return s == yajl_gen_status_ok ? yajl_gen_map_close(g) : s;
  }
  return yajl_gen_invalid_string;
}

int json_serialize(const json *j, bool pretty, char **out, size_t *len, merr **err)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g == NULL)
    return merr_set(err, ENOMEM, "cannot allocate the JSON generator");
  yajl_gen_config(g, yajl_gen_validate_utf8, 1);
  if (pretty) {
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "  ");
  }
  yajl_gen_status s = gen_value(g, j);
  if (s != yajl_gen_status_ok) {
    yajl_gen_free(g);
    return merr_set(err, 0, "cannot serialize JSON (yajl status %d%s)", (int)s,
                    s == yajl_gen_invalid_string ? ": invalid UTF-8 in a string" : "");
  }
  const unsigned char *buf;
  size_t n;
  yajl_gen_get_buf(g, &buf, &n);
  /* yajl's beautifier ends with a newline, the compact form with none: normalize to none. */
  while (n > 0 && buf[n - 1] == '\n')
    n--;
  *out = xstrndup((const char *)buf, n);
  if (len)
    *len = n;
  yajl_gen_free(g);
  return 0;
}
