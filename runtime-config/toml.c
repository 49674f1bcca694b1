#include "toml.h"
#include "cleanup.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { MAX_DEFS = 10000, SEP = '\x1f' };

/* What a path is: a value, a table from a header, an array of tables, or a table that dotted keys
 * made; PREFIX marks a path below which something is defined. */
enum { K_VALUE = 1, K_TABLE = 2, K_ARRAY = 4, K_DOTTED = 8, K_PREFIX = 16 };

struct defs { /* open addressing: path -> kinds */
  char **path;
  unsigned *kind;
  size_t cap, n;
};

struct parser {
  const unsigned char *s;
  size_t n, i;
  const char *what;
  merr **err;
  struct defs defs;
  char *table; /* the current table's path (parts joined with SEP), "" at the root */
  bool in_root;
  int depth;
  struct toml_doc *doc;
};

/* ---- errors ---- */

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
  size_t line = 1, col = 1;
  for (size_t k = 0; k < p->i && k < p->n; k++) {
    if (p->s[k] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  return merr_set(p->err, 0, "%s: line %zu, column %zu: %s", p->what, line, col, msg);
}

/* ---- the set of defined paths ---- */

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static size_t slot(const struct defs *d, const char *path)
{
  size_t i = hash(path) & (d->cap - 1);
  while (d->path[i] && strcmp(d->path[i], path) != 0)
    i = (i + 1) & (d->cap - 1);
  return i;
}

static unsigned kind_of(const struct defs *d, const char *path)
{
  if (d->cap == 0)
    return 0;
  size_t i = slot(d, path);
  return d->path[i] ? d->kind[i] : 0;
}

static void grow(struct defs *d)
{
  struct defs bigger = {.cap = d->cap ? d->cap * 2 : 64};
  bigger.path = xzalloc(bigger.cap * sizeof *bigger.path);
  bigger.kind = xzalloc(bigger.cap * sizeof *bigger.kind);
  for (size_t i = 0; i < d->cap; i++)
    if (d->path[i]) {
      size_t j = slot(&bigger, d->path[i]);
      bigger.path[j] = d->path[i];
      bigger.kind[j] = d->kind[i];
      bigger.n++;
    }
  free(d->path);
  free(d->kind);
  *d = bigger;
}

static int mark(struct parser *p, const char *path, unsigned kind)
{
  struct defs *d = &p->defs;
  if (d->n >= MAX_DEFS)
    return fail(p, "more than %d keys and tables", MAX_DEFS);
  if ((d->n + 1) * 2 > d->cap)
    grow(d);
  size_t i = slot(d, path);
  if (d->path[i] == NULL) {
    d->path[i] = xstrdup(path);
    d->n++;
  }
  d->kind[i] |= kind;
  return 0;
}

/* A new element of an array of tables starts empty: forget what the last one defined. */
static void forget_below(struct defs *d, const char *path)
{
  size_t len = strlen(path);
  for (size_t i = 0; i < d->cap; i++)
    if (d->path[i] && strncmp(d->path[i], path, len) == 0 && d->path[i][len] == SEP)
      d->kind[i] = 0; /* kept as a tombstone: the probe sequence stays intact */
}

static void defs_free(struct defs *d)
{
  for (size_t i = 0; i < d->cap; i++)
    free(d->path[i]);
  free(d->path);
  free(d->kind);
}

static char *join(const char *base, char *const *parts, size_t n)
{
  char *s = xstrdup(base);
  for (size_t k = 0; k < n; k++) {
    char *next = *s ? xasprintf("%s%c%s", s, SEP, parts[k]) : xstrdup(parts[k]);
    free(s);
    s = next;
  }
  return s;
}

/* Marks every proper prefix of path with `kind` (plus PREFIX), after checking none is a value. */
static int mark_prefixes(struct parser *p, const char *path, unsigned kind)
{
  cleanup_free char *copy = xstrdup(path);
  for (char *c = copy; (c = strchr(c, SEP)) != NULL; c++) {
    *c = '\0';
    if (kind_of(&p->defs, copy) & K_VALUE)
      return fail(p, "\"%s\" is a value, not a table", copy);
    if (mark(p, copy, kind | K_PREFIX) < 0)
      return -1;
    *c = SEP;
  }
  return 0;
}

static int define_value(struct parser *p, const char *path)
{
  unsigned k = kind_of(&p->defs, path);
  if (k & (K_VALUE | K_TABLE | K_ARRAY | K_DOTTED | K_PREFIX))
    return fail(p, "key defined twice");
  if (mark_prefixes(p, path, 0) < 0)
    return -1;
  return mark(p, path, K_VALUE);
}

static int define_header(struct parser *p, const char *path, bool array)
{
  unsigned k = kind_of(&p->defs, path);
  if (k & K_VALUE || k & K_DOTTED)
    return fail(p, "table defined twice (as a key before)");
  if (!array && (k & (K_TABLE | K_ARRAY)))
    return fail(p, "table defined twice");
  if (array && (k & K_TABLE))
    return fail(p, "an array of tables where a table was defined");
  if (mark_prefixes(p, path, 0) < 0)
    return -1;
  if (array)
    forget_below(&p->defs, path);
  return mark(p, path, array ? K_ARRAY : K_TABLE);
}

/* ---- characters ---- */

static bool at_end(const struct parser *p)
{
  return p->i >= p->n;
}
static int peek(const struct parser *p)
{
  return at_end(p) ? -1 : p->s[p->i];
}
static bool starts(const struct parser *p, const char *lit)
{
  size_t l = strlen(lit);
  return p->n - p->i >= l && memcmp(p->s + p->i, lit, l) == 0;
}

static void skip_ws(struct parser *p)
{
  while (peek(p) == ' ' || peek(p) == '\t')
    p->i++;
}

/* A UTF-8 sequence at p->i (lead byte >= 0x80): its length, 0 when invalid (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_at(const struct parser *p)
{
  const unsigned char *c = p->s + p->i;
  size_t left = p->n - p->i, n;
  uint32_t cp;
  if ((c[0] & 0xe0) == 0xc0)
    n = 2, cp = c[0] & 0x1f;
  else if ((c[0] & 0xf0) == 0xe0)
    n = 3, cp = c[0] & 0x0f;
  else if ((c[0] & 0xf8) == 0xf0)
    n = 4, cp = c[0] & 0x07;
  else
    return 0;
  if (left < n)
    return 0;
  for (size_t k = 1; k < n; k++) {
    if ((c[k] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (c[k] & 0x3f);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* One character of a comment or string body that may not be a control character. */
static int text_char(struct parser *p, const char *where)
{
  int c = peek(p);
  if (c >= 0x80) {
    size_t l = utf8_at(p);
    if (l == 0)
      return fail(p, "invalid UTF-8 in %s", where);
    p->i += l;
    return 0;
  }
  if ((c < 0x20 && c != '\t') || c == 0x7f)
    return fail(p, "control character in %s", where);
  p->i++;
  return 0;
}

static int comment(struct parser *p)
{
  p->i++; /* '#' */
  while (!at_end(p) && peek(p) != '\n' && !starts(p, "\r\n"))
    if (text_char(p, "a comment") < 0)
      return -1;
  return 0;
}

static bool newline(struct parser *p)
{
  if (peek(p) == '\n') {
    p->i++;
    return true;
  }
  if (starts(p, "\r\n")) {
    p->i += 2;
    return true;
  }
  return false;
}

/* Whitespace, comments and newlines, as between the items of an array. */
static int skip_blank(struct parser *p)
{
  for (;;) {
    skip_ws(p);
    if (peek(p) == '#') {
      if (comment(p) < 0)
        return -1;
    } else if (!newline(p)) {
      return 0;
    }
  }
}

/* ---- strings ---- */

static void put(char **buf, size_t *len, size_t *cap, const void *src, size_t n)
{
  if (*len + n + 1 > *cap) {
    *cap = (*len + n + 1) * 2;
    *buf = xrealloc(*buf, *cap);
  }
  memcpy(*buf + *len, src, n);
  *len += n;
  (*buf)[*len] = '\0';
}

static void put_cp(char **buf, size_t *len, size_t *cap, uint32_t cp)
{
  unsigned char u[4];
  size_t n;
  if (cp < 0x80)
    u[0] = (unsigned char)cp, n = 1;
  else if (cp < 0x800)
    u[0] = (unsigned char)(0xc0 | cp >> 6), u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000)
    u[0] = (unsigned char)(0xe0 | cp >> 12), u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)),
    u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
  else
    u[0] = (unsigned char)(0xf0 | cp >> 18), u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f)),
    u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (unsigned char)(0x80 | (cp & 0x3f)),
    n = 4;
  put(buf, len, cap, u, n);
}

static int escape(struct parser *p, char **buf, size_t *len, size_t *cap)
{
  p->i++; /* '\' */
  int c = peek(p);
  static const char in[] = "btnfr\"\\", out[] = "\b\t\n\f\r\"\\";
  const char *k = c > 0 ? strchr(in, c) : NULL;
  if (k && c) {
    put(buf, len, cap, &out[k - in], 1);
    p->i++;
    return 0;
  }
  if (c != 'u' && c != 'U')
    return fail(p, "invalid escape");
  size_t digits = c == 'u' ? 4 : 8;
  p->i++;
  if (p->n - p->i < digits)
    return fail(p, "short \\%c escape", c);
  uint32_t cp = 0;
  for (size_t k2 = 0; k2 < digits; k2++) {
    int h = p->s[p->i + k2];
    int v = h >= '0' && h <= '9'   ? h - '0'
            : h >= 'a' && h <= 'f' ? h - 'a' + 10
            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                   : -1;
    if (v < 0)
      return fail(p, "bad hex digit in \\%c escape", c);
    cp = cp << 4 | (uint32_t)v;
  }
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return fail(p, "escape of an invalid code point");
  p->i += digits;
  put_cp(buf, len, cap, cp);
  return 0;
}

/* A string of any of the four kinds at p->i; *out (when not NULL) gets it decoded. */
static int string(struct parser *p, bool allow_multiline, char **out)
{
  bool literal = peek(p) == '\'';
  bool multi = starts(p, literal ? "'''" : "\"\"\"");
  if (multi && !allow_multiline)
    return fail(p, "a multi-line string cannot be a key");
  char quote = literal ? '\'' : '"';
  p->i += multi ? 3 : 1;
  if (multi)
    newline(p); /* a newline right after the opening quotes is not part of the string */
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  put(&buf, &len, &cap, "", 0);
  for (;;) {
    if (at_end(p))
      return fail(p, "unterminated string");
    int c = peek(p);
    if (c == quote) {
      if (!multi) {
        p->i++;
        break;
      }
      /* up to two quotes may end the content: """"" is a string ending in two quotes */
      size_t q = 0;
      while (q < 5 && p->i + q < p->n && p->s[p->i + q] == (unsigned char)quote)
        q++;
      if (q >= 3) {
        put(&buf, &len, &cap, p->s + p->i, q - 3);
        p->i += q;
        break;
      }
      put(&buf, &len, &cap, p->s + p->i, q);
      p->i += q;
      continue;
    }
    if (multi && (c == '\n' || starts(p, "\r\n"))) {
      put(&buf, &len, &cap, "\n", 1);
      newline(p);
      continue;
    }
    if (!literal && c == '\\') {
      if (multi) { /* a line-ending backslash trims the newline and the blanks after it */
        size_t k = p->i + 1;
        while (k < p->n && (p->s[k] == ' ' || p->s[k] == '\t'))
          k++;
        if (k < p->n &&
            (p->s[k] == '\n' || (p->s[k] == '\r' && k + 1 < p->n && p->s[k + 1] == '\n'))) {
          p->i = k;
          while (newline(p) || peek(p) == ' ' || peek(p) == '\t')
            if (peek(p) == ' ' || peek(p) == '\t')
              p->i++;
          continue;
        }
      }
      if (escape(p, &buf, &len, &cap) < 0)
        return -1;
      continue;
    }
    size_t from = p->i;
    if (text_char(p, "a string") < 0)
      return -1;
    put(&buf, &len, &cap, p->s + from, p->i - from);
  }
  if (out)
    *out = steal_pointer(&buf);
  return 0;
}

/* ---- keys ---- */

static bool bare_char(int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

static void free_parts(char **parts, size_t n)
{
  for (size_t k = 0; k < n; k++)
    free(parts[k]);
  free(parts);
}

/* key = simple-key *( ws "." ws simple-key ); the parts, decoded. */
static int key(struct parser *p, char ***parts, size_t *nparts)
{
  *parts = NULL;
  *nparts = 0;
  for (;;) {
    char *part = NULL;
    int c = peek(p);
    if (c == '"' || c == '\'') {
      if (string(p, false, &part) < 0)
        goto failed;
    } else {
      size_t from = p->i;
      while (bare_char(peek(p)))
        p->i++;
      if (p->i == from) {
        fail(p, "a key was expected");
        goto failed;
      }
      part = xstrndup((const char *)p->s + from, p->i - from);
    }
    if (strchr(part, SEP)) {
      free(part);
      fail(p, "a key holds a control character");
      goto failed;
    }
    *parts = xreallocarray(*parts, *nparts + 1, sizeof **parts);
    (*parts)[(*nparts)++] = part;
    skip_ws(p);
    if (peek(p) != '.')
      return 0;
    p->i++;
    skip_ws(p);
  }
failed:
  free_parts(*parts, *nparts);
  *parts = NULL;
  *nparts = 0;
  return -1;
}

/* ---- numbers, booleans, dates ---- */

static bool digits_with_underscores(const char *s, size_t n, int base)
{
  if (n == 0 || s[0] == '_' || s[n - 1] == '_')
    return false;
  for (size_t k = 0; k < n; k++) {
    char c = s[k];
    bool ok = c == '_' ? s[k - 1] != '_'
              : base == 16
                  ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
              : base == 8 ? (c >= '0' && c <= '7')
              : base == 2 ? (c == '0' || c == '1')
                          : (c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

static bool is_decimal(const char *s, size_t n, bool *is_float)
{
  *is_float = false;
  if (n && (s[0] == '+' || s[0] == '-'))
    s++, n--;
  if (n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0))
    return *is_float = true;
  size_t k = 0;
  while (k < n && s[k] != '.' && s[k] != 'e' && s[k] != 'E')
    k++;
  if (!digits_with_underscores(s, k, 10) || (s[0] == '0' && k > 1))
    return false;
  if (k < n && s[k] == '.') {
    size_t f = ++k;
    while (k < n && s[k] != 'e' && s[k] != 'E')
      k++;
    if (!digits_with_underscores(s + f, k - f, 10))
      return false;
    *is_float = true;
  }
  if (k < n) { /* exponent */
    k++;
    if (k < n && (s[k] == '+' || s[k] == '-'))
      k++;
    if (!digits_with_underscores(s + k, n - k, 10))
      return false;
    *is_float = true;
  }
  return true;
}

static bool d2(const char *s)
{
  return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

/* HH:MM:SS[.frac] at s, n bytes at least; its length, 0 when not one. */
static size_t time_len(const char *s, size_t n)
{
  if (n < 8 || !d2(s) || s[2] != ':' || !d2(s + 3) || s[5] != ':' || !d2(s + 6))
    return 0;
  if ((s[0] - '0') * 10 + (s[1] - '0') > 23 || (s[3] - '0') * 10 + (s[4] - '0') > 59 ||
      (s[6] - '0') * 10 + (s[7] - '0') > 60)
    return 0;
  size_t k = 8;
  if (k < n && s[k] == '.') {
    size_t f = ++k;
    while (k < n && s[k] >= '0' && s[k] <= '9')
      k++;
    if (k == f)
      return 0;
  }
  return k;
}

static bool is_datetime(const char *s, size_t n)
{
  if (time_len(s, n) == n)
    return true; /* local time */
  if (n < 10 || !d2(s) || !d2(s + 2) || s[4] != '-' || !d2(s + 5) || s[7] != '-' || !d2(s + 8))
    return false;
  int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
  if (month < 1 || month > 12 || day < 1 || day > 31)
    return false;
  if (n == 10)
    return true; /* local date */
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
    return false;
  size_t k = 11, t = time_len(s + k, n - k);
  if (t == 0)
    return false;
  k += t;
  if (k == n)
    return true; /* local date-time */
  if ((s[k] == 'Z' || s[k] == 'z') && k + 1 == n)
    return true;
  return (s[k] == '+' || s[k] == '-') && n - k == 6 && d2(s + k + 1) && s[k + 3] == ':' &&
         d2(s + k + 4);
}

static int scalar(struct parser *p)
{
  size_t from = p->i;
  for (;;) {
    int c = peek(p);
    bool date_space = c == ' ' && p->i - from == 10 && p->n - p->i > 3 &&
                      d2((const char *)p->s + p->i + 1) && p->s[p->i + 3] == ':';
    if (!(bare_char(c) || c == '+' || c == '.' || c == ':' || date_space))
      break;
    p->i++;
  }
  const char *s = (const char *)p->s + from;
  size_t n = p->i - from;
  bool is_float;
  if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0))
    return 0;
  if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b') &&
      digits_with_underscores(s + 2, n - 2,
                              s[1] == 'x'   ? 16
                              : s[1] == 'o' ? 8
                                            : 2))
    return 0;
  if (n && (is_decimal(s, n, &is_float) || is_datetime(s, n)))
    return 0;
  p->i = from;
  return fail(p, "a value was expected (string, number, boolean, date, array or table)");
}

/* ---- values ---- */

static int value(struct parser *p, struct toml_root_key *collect);

static int array(struct parser *p, struct toml_root_key *collect)
{
  p->i++; /* '[' */
  if (collect) {
    collect->is_string_array = true;
    collect->empty = true;
    collect->insert_at = p->i;
  }
  for (;;) {
    if (skip_blank(p) < 0)
      return -1;
    if (peek(p) == ']') {
      p->i++;
      return 0;
    }
    bool is_string = peek(p) == '"' || peek(p) == '\'';
    char *text = NULL;
    if (collect && is_string) {
      size_t at = p->i;
      if (string(p, true, &text) < 0)
        return -1;
      size_t k = collect->nstrings++;
      collect->strings = xreallocarray(collect->strings, k + 1, sizeof *collect->strings);
      collect->string_start = xreallocarray(collect->string_start, k + 1, sizeof(size_t));
      collect->string_end = xreallocarray(collect->string_end, k + 1, sizeof(size_t));
      collect->strings[k] = text;
      collect->string_start[k] = at;
      collect->string_end[k] = p->i;
    } else {
      if (collect)
        collect->is_string_array = false;
      if (value(p, NULL) < 0)
        return -1;
    }
    if (collect) {
      collect->empty = false;
      collect->insert_at = p->i;
    }
    if (skip_blank(p) < 0)
      return -1;
    if (peek(p) == ',') {
      p->i++;
      continue;
    }
    if (peek(p) != ']')
      return fail(p, "',' or ']' was expected in an array");
  }
}

static int keyval(struct parser *p, const char *table);

static int inline_table(struct parser *p)
{
  p->i++;                  /* '{' */
  struct defs local = {0}; /* an inline table's keys are its own */
  struct defs outer = p->defs;
  p->defs = local;
  int ret = 0;
  skip_ws(p);
  if (peek(p) == '}') {
    p->i++;
  } else {
    for (;;) {
      skip_ws(p);
      if ((ret = keyval(p, "")) < 0)
        break;
      skip_ws(p);
      if (peek(p) == ',') {
        p->i++;
        continue;
      }
      if (peek(p) == '}') {
        p->i++;
        break;
      }
      ret = fail(p, "',' or '}' was expected in an inline table");
      break;
    }
  }
  defs_free(&p->defs);
  p->defs = outer;
  return ret;
}

static int value(struct parser *p, struct toml_root_key *collect)
{
  if (++p->depth > TOML_MAX_DEPTH)
    return fail(p, "nested deeper than %d", TOML_MAX_DEPTH);
  int c = peek(p), ret;
  if (c == '"' || c == '\'')
    ret = string(p, true, NULL);
  else if (c == '[')
    ret = array(p, collect);
  else if (c == '{')
    ret = inline_table(p);
  else
    ret = scalar(p);
  p->depth--;
  return ret;
}

/* key = value, in `table`; kept for the editor and for readers (not inside an inline table). */
static int keyval(struct parser *p, const char *table)
{
  char **parts;
  size_t nparts;
  if (key(p, &parts, &nparts) < 0)
    return -1;
  cleanup_free char *path = join(table, parts, nparts);
  int ret = define_value(p, path);
  for (size_t k = 1; ret == 0 && k < nparts; k++) { /* dotted keys make tables that a header may
                                                       not reopen */
    cleanup_free char *prefix = join(table, parts, k);
    ret = mark(p, prefix, K_DOTTED);
  }
  skip_ws(p);
  if (ret == 0 && peek(p) != '=')
    ret = fail(p, "'=' was expected after a key");
  struct toml_root_key *collect = NULL;
  if (ret == 0) {
    p->i++;
    skip_ws(p);
    if (p->depth == 0) { /* not inside an inline table */
      p->doc->keys = xreallocarray(p->doc->keys, p->doc->nkeys + 1, sizeof *p->doc->keys);
      collect = &p->doc->keys[p->doc->nkeys++];
      memset(collect, 0, sizeof *collect);
      collect->in_root = p->in_root;
      collect->key = xstrdup(path);
      for (char *c = collect->key; (c = strchr(c, SEP)) != NULL;)
        *c = '.';
      collect->value_start = p->i;
    }
    if (collect && (peek(p) == '"' || peek(p) == '\'')) /* a string: kept decoded */
      ret = string(p, true, &collect->string);
    else
      ret = value(p, collect && peek(p) == '[' ? collect : NULL);
    if (collect)
      collect->value_end = p->i;
  }
  free_parts(parts, nparts);
  return ret;
}

/* [table] or [[array of tables]] */
static int header(struct parser *p)
{
  bool array = starts(p, "[[");
  p->i += array ? 2 : 1;
  skip_ws(p);
  char **parts;
  size_t nparts;
  if (key(p, &parts, &nparts) < 0)
    return -1;
  free(p->table);
  p->table = join("", parts, nparts);
  free_parts(parts, nparts);
  if (!starts(p, array ? "]]" : "]"))
    return fail(p, "'%s' was expected to close a table header", array ? "]]" : "]");
  p->i += array ? 2 : 1;
  p->in_root = false;
  return define_header(p, p->table, array);
}

static int document(struct parser *p)
{
  while (!at_end(p)) {
    size_t line_start = p->i;
    skip_ws(p);
    int c = peek(p);
    int ret = 0;
    if (c == '[') {
      if (p->in_root)
        p->doc->root_end = line_start;
      ret = header(p);
    } else if (c != '#' && c != '\n' && c != '\r' && c != -1) {
      ret = keyval(p, p->table);
    }
    if (ret < 0)
      return -1;
    skip_ws(p);
    if (peek(p) == '#' && comment(p) < 0)
      return -1;
    if (!at_end(p) && !newline(p))
      return fail(p, "a newline was expected");
  }
  return 0;
}

int toml_parse(const char *buf, size_t len, const char *what, struct toml_doc *doc, merr **err)
{
  memset(doc, 0, sizeof *doc);
  if (len > TOML_MAX_BYTES)
    return merr_set(err, 0, "%s: more than %d bytes", what, TOML_MAX_BYTES);
  struct parser p = {.s = (const unsigned char *)buf,
                     .n = len,
                     .what = what,
                     .err = err,
                     .table = xstrdup(""),
                     .in_root = true,
                     .doc = doc};
  if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
    p.i = 3; /* a byte order mark */
  int ret = document(&p);
  if (p.in_root)
    doc->root_end = len;
  defs_free(&p.defs);
  free(p.table);
  if (ret < 0)
    toml_doc_clear(doc);
  return ret;
}

void toml_doc_clear(struct toml_doc *doc)
{
  for (size_t k = 0; k < doc->nkeys; k++) {
    free(doc->keys[k].key);
    free(doc->keys[k].string);
    for (size_t s = 0; s < doc->keys[k].nstrings; s++)
      free(doc->keys[k].strings[s]);
    free(doc->keys[k].strings);
    free(doc->keys[k].string_start);
    free(doc->keys[k].string_end);
  }
  free(doc->keys);
  memset(doc, 0, sizeof *doc);
}

const struct toml_root_key *toml_root_find(const struct toml_doc *doc, const char *key)
{
  for (size_t k = 0; k < doc->nkeys; k++)
    if (doc->keys[k].in_root && strcmp(doc->keys[k].key, key) == 0)
      return &doc->keys[k];
  return NULL;
}

char *toml_quote(const char *s)
{
  size_t n = strlen(s);
  char *q = xmalloc(6 * n + 3), *o = q; /* \u00XX at most, each byte */
  *o++ = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      o += sprintf(o, "\\u%04x", c);
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = '"';
  *o = '\0';
  return q;
}

const struct toml_root_key *toml_find(const struct toml_doc *doc, const char *path)
{
  for (size_t k = 0; k < doc->nkeys; k++)
    if (strcmp(doc->keys[k].key, path) == 0)
      return &doc->keys[k];
  return NULL;
}
