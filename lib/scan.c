#include "scan.h"

#include <stdint.h>
#include <string.h>

enum { DECODE_MAX = 4096 };

struct scanner {
  const unsigned char *p, *end;
  const yajl_callbacks *cb;
  void *ctx;
  unsigned depth, max_depth;
  bool lines;                    /* JSON Lines: a newline ends the document */
  unsigned char buf[DECODE_MAX]; /* a decoded string (with escapes) */
};

static const yajl_callbacks quiet; /* no callbacks: a value read to check it, not to report it */

static inline void skip_ws(struct scanner *s)
{
  if (s->p<s->end && * s->p> ' ') /* compact JSON: the common case */
    return;
  while (s->p < s->end &&
         (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || (*s->p == '\n' && !s->lines)))
    s->p++;
}

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Length of the UTF-8 sequence at p (lead byte >= 0x80), 0 when invalid. Exactly yajl's rule
 * (a lead byte and its count of continuation bytes): every store line measured writes through
 * yajl must read back, so this accepts what yajl accepts, no more, no less. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
  unsigned char c = p[0];
  size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (n == 0 || (size_t)(end - p) < n)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

static size_t put_utf8(unsigned char *out, unsigned cp)
{
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xc0 | cp >> 6);
    out[1] = (unsigned char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xe0 | cp >> 12);
    out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    out[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (unsigned char)(0xf0 | cp >> 18);
  out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
  out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
  out[3] = (unsigned char)(0x80 | (cp & 0x3f));
  return 4;
}

/* \uXXXX at p (after the backslash and u): the code unit, -1 when not four hex digits. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
  if (end - p < 4)
    return -1;
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0)
      return -1;
    v = v << 4 | h;
  }
  return v;
}

/* One escape after the backslash; appends its decoding (when out is not NULL). */
static bool escape(struct scanner *s, unsigned char *out, size_t *n)
{
  static const char simple_in[] = "\"\\/bfnrt", simple_out[] = "\"\\/\b\f\n\r\t";
  const char *k = s->p < s->end ? memchr(simple_in, *s->p, 8) : NULL;
  if (k && *s->p) {
    if (out && *n < DECODE_MAX)
      out[(*n)++] = (unsigned char)simple_out[k - simple_in];
    s->p++;
    return true;
  }
  if (s->p >= s->end || *s->p != 'u')
    return false;
  long cp = hex4(s->p + 1, s->end);
  if (cp < 0)
    return false;
  s->p += 5;
  /* A surrogate pair makes one character; a lone surrogate is kept as yajl keeps it. */
  if (cp >= 0xd800 && cp <= 0xdbff && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u') {
    long lo = hex4(s->p + 2, s->end);
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      s->p += 6;
    }
  }
  if (out && *n + 4 <= DECODE_MAX)
    *n += put_utf8(out + *n, (unsigned)cp);
  return true;
}

/* A string at s->p (the opening quote); *str and *len point at its content, decoded when it
 * held escapes. */
static bool string(struct scanner *s, const unsigned char **str, size_t *len)
{
  const unsigned char *start = ++s->p;
  bool escaped = false;
  size_t n = 0;
  for (;;) {
    /* The common case, eight bytes at a time: plain ASCII with no quote, backslash or control
     * character (each test sets a byte's high bit where that byte is one of them). */
    while (!escaped && s->end - s->p >= 8) {
      uint64_t w;
      memcpy(&w, s->p, 8);
      const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
      uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
      uint64_t special =
          (w - ones * 0x20) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | w;
      special &= highs;
      if (special) { /* the lowest flagged byte is the first special one: borrows go upwards */
        s->p += __builtin_ctzll(special) >> 3;
        break;
      }
      s->p += 8;
    }
    while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 && *s->p != '"' && *s->p != '\\') {
      if (escaped && n < DECODE_MAX)
        s->buf[n++] = *s->p;
      s->p++;
    }
    if (s->p >= s->end)
      return false;
    unsigned char c = *s->p;
    if (c == '"')
      break;
    if (c < 0x20)
      return false;
    if (c == '\\') {
      if (!escaped) {
        n = (size_t)(s->p - start) < DECODE_MAX ? (size_t)(s->p - start) : DECODE_MAX;
        memcpy(s->buf, start, n);
        escaped = true;
      }
      s->p++;
      if (!escape(s, s->buf, &n))
        return false;
      continue;
    }
    size_t k = utf8_len(s->p, s->end);
    if (k == 0)
      return false;
    if (escaped && n + k <= DECODE_MAX) {
      memcpy(s->buf + n, s->p, k);
      n += k;
    }
    s->p += k;
  }
  *str = escaped ? s->buf : start;
  *len = escaped ? n : (size_t)(s->p - start);
  s->p++; /* the closing quote */
  return true;
}

static bool digits(struct scanner *s)
{
  const unsigned char *start = s->p;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
    s->p++;
  return s->p > start;
}

static bool number(struct scanner *s)
{
  const unsigned char *start = s->p;
  if (*s->p == '-')
    s->p++;
  if (s->p >= s->end)
    return false;
  if (*s->p == '0')
    s->p++;
  else if (!digits(s))
    return false;
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (!digits(s))
      return false;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!digits(s))
      return false;
  }
  return !s->cb->yajl_number ||
         s->cb->yajl_number(s->ctx, (const char *)start, (size_t)(s->p - start));
}

static bool literal(struct scanner *s, const char *word, size_t n)
{
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
    return false;
  s->p += n;
  return true;
}

static bool value(struct scanner *s);

static bool quiet_value(struct scanner *s)
{
  const yajl_callbacks *cb = s->cb;
  s->cb = &quiet;
  bool ok = value(s);
  s->cb = cb;
  return ok;
}

static bool object(struct scanner *s)
{
  s->p++;
  if (s->cb->yajl_start_map && !s->cb->yajl_start_map(s->ctx))
    return false;
  skip_ws(s);
  if (s->p < s->end && *s->p == '}') {
    s->p++;
    return !s->cb->yajl_end_map || s->cb->yajl_end_map(s->ctx);
  }
  for (;;) {
    skip_ws(s);
    const unsigned char *key;
    size_t klen;
    if (s->p >= s->end || *s->p != '"' || !string(s, &key, &klen))
      return false;
    int said = s->cb->yajl_map_key ? s->cb->yajl_map_key(s->ctx, key, klen) : 1;
    if (!said)
      return false;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
      return false;
    s->p++;
    if (!(said == JSON_SCAN_SKIP_VALUE ? quiet_value(s) : value(s)))
      return false;
    skip_ws(s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      continue;
    }
    if (s->p < s->end && *s->p == '}') {
      s->p++;
      return !s->cb->yajl_end_map || s->cb->yajl_end_map(s->ctx);
    }
    return false;
  }
}

static bool array(struct scanner *s)
{
  s->p++;
  if (s->cb->yajl_start_array && !s->cb->yajl_start_array(s->ctx))
    return false;
  skip_ws(s);
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    return !s->cb->yajl_end_array || s->cb->yajl_end_array(s->ctx);
  }
  for (;;) {
    if (!value(s))
      return false;
    skip_ws(s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      continue;
    }
    if (s->p < s->end && *s->p == ']') {
      s->p++;
      return !s->cb->yajl_end_array || s->cb->yajl_end_array(s->ctx);
    }
    return false;
  }
}

static bool value(struct scanner *s)
{
  skip_ws(s);
  if (s->p >= s->end)
    return false;
  switch (*s->p) {
  case '{':
  case '[': {
    if (++s->depth > s->max_depth)
      return false;
    bool ok = *s->p == '{' ? object(s) : array(s);
    s->depth--;
    return ok;
  }
  case '"': {
    const unsigned char *str;
    size_t len;
    return string(s, &str, &len) && (!s->cb->yajl_string || s->cb->yajl_string(s->ctx, str, len));
  }
  case 't':
    return literal(s, "true", 4) && (!s->cb->yajl_boolean || s->cb->yajl_boolean(s->ctx, 1));
  case 'f':
    return literal(s, "false", 5) && (!s->cb->yajl_boolean || s->cb->yajl_boolean(s->ctx, 0));
  case 'n':
    return literal(s, "null", 4) && (!s->cb->yajl_null || s->cb->yajl_null(s->ctx));
  default:
    if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
      return number(s);
    return false;
  }
}

static void init(struct scanner *s, const char *buf, size_t len, const yajl_callbacks *cb,
                 void *ctx, unsigned max_depth, bool lines)
{
  s->p = (const unsigned char *)buf;
  s->end = s->p + len;
  s->cb = cb;
  s->ctx = ctx;
  s->depth = 0;
  s->max_depth = max_depth;
  s->lines = lines;
}

bool json_scan(const char *buf, size_t len, const yajl_callbacks *cb, void *ctx, unsigned max_depth)
{
  struct scanner s;
  init(&s, buf, len, cb, ctx, max_depth, false);
  if (!value(&s))
    return false;
  skip_ws(&s);
  return s.p == s.end;
}

bool json_scan_line(const char *buf, size_t len, const yajl_callbacks *cb, void *ctx,
                    unsigned max_depth, size_t *next)
{
  struct scanner s;
  init(&s, buf, len, cb, ctx, max_depth, true);
  bool ok = value(&s);
  if (ok) {
    skip_ws(&s);
    ok = s.p == s.end || *s.p == '\n';
  }
  /* Resume after the newline that ends this line (searched for only when it was not where the
   * value ended). */
  const unsigned char *nl =
      s.p < s.end && *s.p == '\n' ? s.p : memchr(s.p, '\n', (size_t)(s.end - s.p));
  *next = nl ? (size_t)(nl + 1 - (const unsigned char *)buf) : len;
  return ok;
}
