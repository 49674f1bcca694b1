/* The report's statistics against values computed by hand, and its scanner against yajl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "scan.h"
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) < (eps))

static void one_value(void **state)
{
  (void)state;
  double v[] = {5};
  struct summary s;
  summarize(v, 1, &s);
  assert_int_equal(s.n, 1);
  NEAR(s.mean, 5, 1e-12);
  NEAR(s.median, 5, 1e-12);
  NEAR(s.p5, 5, 1e-12);
  NEAR(s.p95, 5, 1e-12);
  assert_false(s.has_sd); /* no deviation, no interval from one value */
}

static void two_values(void **state)
{
  (void)state;
  double v[] = {3, 1};
  struct summary s;
  summarize(v, 2, &s);
  NEAR(s.mean, 2, 1e-12);
  NEAR(s.sd, sqrt(2), 1e-12);
  NEAR(s.median, 2, 1e-12);
  NEAR(s.p5, 1.1, 1e-12); /* 1 + 0.05 * (3 - 1) */
  NEAR(s.p95, 2.9, 1e-12);
  /* t(0.975, 1) = 12.7062047; half-width = t * sqrt(2) / sqrt(2) */
  NEAR(s.ci_lo, 2 - 12.7062047, 1e-6);
  NEAR(s.ci_hi, 2 + 12.7062047, 1e-6);
}

static void identical_values(void **state)
{
  (void)state;
  double v[] = {4, 4, 4};
  struct summary s;
  summarize(v, 3, &s);
  NEAR(s.sd, 0, 1e-12);
  NEAR(s.ci_lo, 4, 1e-12);
  NEAR(s.ci_hi, 4, 1e-12);
}

static void outlier(void **state)
{
  (void)state;
  double v[] = {100, 1, 2, 3, 4};
  struct summary s;
  summarize(v, 5, &s);
  NEAR(s.mean, 22, 1e-12);
  NEAR(s.median, 3, 1e-12);
  NEAR(s.p5, 1.2, 1e-12);  /* h = 0.2: 1 + 0.2 * (2 - 1) */
  NEAR(s.p95, 80.8, 1e-9); /* h = 3.8: 4 + 0.8 * (100 - 4) */
  NEAR(s.sd, sqrt(7610.0 / 4), 1e-9);
  double half = 2.7764451052 * sqrt(7610.0 / 4) / sqrt(5);
  NEAR(s.ci_hi - s.mean, half, 1e-6);
}

static void t_quantiles(void **state)
{
  (void)state;
  /* Reference values of t(0.975, df). */
  const double df[] = {1, 2, 5, 10, 14, 30, 100, 1e6};
  const double t[] = {12.7062047362, 4.3026527297, 2.5705818366, 2.2281388520,
                      2.1447866879,  2.0422724563, 1.9839715185, 1.9599663};
  for (size_t i = 0; i < sizeof df / sizeof df[0]; i++)
    NEAR(student_t_quantile(0.975, df[i]), t[i], 1e-6);
  NEAR(student_t_cdf(0, 7), 0.5, 1e-12);
  NEAR(student_t_cdf(2.3646242516, 7), 0.975, 1e-9);
}

static void ratios(void **state)
{
  (void)state;
  double a[] = {9, 10, 11, 9, 10, 11, 9, 10, 11, 10}, b[] = {4, 5, 6, 4, 5, 6, 4, 5, 6, 5};
  struct summary sa, sb;
  summarize(a, 10, &sa);
  summarize(b, 10, &sb);
  struct ratio r;
  ratio_of_means(&sa, &sb, &r);
  NEAR(r.value, 2, 1e-12);
  assert_true(r.has_ci);
  assert_true(r.lo < 2 && r.hi > 2 && r.lo > 1.5 && r.hi < 2.5);
  double one[] = {3};
  struct summary s1;
  summarize(one, 1, &s1);
  ratio_of_means(&s1, &sb, &r);
  assert_false(r.has_ci);
  NEAR(r.value, 0.6, 1e-12);
}

/* ---- the scanner agrees with yajl ---- */

static bool yajl_accepts(const char *doc)
{
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  bool ok = yajl_parse(h, (const unsigned char *)doc, strlen(doc)) == yajl_status_ok &&
            yajl_complete_parse(h) == yajl_status_ok;
  yajl_free(h);
  return ok;
}

static void scan_agrees_with_yajl(void **state)
{
  (void)state;
  static const yajl_callbacks none = {0};
  const char *docs[] = {
      "{}",
      "[]",
      "{\"a\":1}",
      " {\"a\" : [1, 2.5, -0.1e+5, true, false, null]} ",
      "\"x\"",
      "0",
      "-0",
      "1E9",
      "[\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"]",
      "[\"caf\xc3\xa9\"]",
      "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
      "[1,]",
      "{\"a\":1,}",
      "[01]",
      "[1.]",
      "[.5]",
      "[-]",
      "[+1]",
      "[1e]",
      "[0x10]",
      "[NaN]",
      "[Infinity]",
      "[tru]",
      "[nul]",
      "{\"a\" 1}",
      "{a:1}",
      "{\"a\":1} x",
      "[\"a\nb\"]",
      "[\"\\x\"]",
      "[\"\\u12\"]",
      "[\"\xff\"]",
      "[\"\xc0\xaf\"]",
      "[\"\xed\xa0\x80\"]",
      "[\"\xf4\x90\x80\x80\"]",
      "[1 2]",
      "{\"a\":1 \"b\":2}",
      "",
      " ",
      "[",
      "{\"a\"",
      "[1]]",
      "{}{}",
      "/*c*/[]",
      "['a']",
      "[\"\\ud800\"]",
      "[1e5, -1.5E-3]",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    bool want = yajl_accepts(docs[i]);
    bool got = json_scan(docs[i], strlen(docs[i]), &none, NULL, 64);
    if (want != got)
      fail_msg("document %zu (%s): yajl says %d, the scanner %d", i, docs[i], want, got);
  }
}

struct seen {
  char text[256];
};

static int seen_string(void *ctx, const unsigned char *s, size_t len)
{
  struct seen *x = ctx;
  strncat(x->text, (const char *)s, len);
  strcat(x->text, "|");
  return 1;
}

static int seen_number(void *ctx, const char *s, size_t len)
{
  return seen_string(ctx, (const unsigned char *)s, len);
}

static int seen_key(void *ctx, const unsigned char *s, size_t len)
{
  strcat(((struct seen *)ctx)->text, "k:");
  return seen_string(ctx, s, len);
}

static void scan_events(void **state)
{
  (void)state;
  yajl_callbacks cb = {
      .yajl_string = seen_string, .yajl_number = seen_number, .yajl_map_key = seen_key};
  struct seen x = {""};
  const char *doc = "{\"a\\u0062\":[\"x\\ty\",-1.5e3,\"\\ud83d\\ude00\"]}";
  assert_true(json_scan(doc, strlen(doc), &cb, &x, 64));
  assert_string_equal(x.text, "k:ab|x\ty|-1.5e3|\xf0\x9f\x98\x80|");
  /* depth limit */
  assert_false(json_scan("[[[1]]]", 7, &cb, &x, 2));
  /* JSON Lines: a newline ends the line, the next one is found */
  const char *lines = "{\"a\":1}\n{\"a\":\n2}\n{}";
  size_t next;
  assert_true(json_scan_line(lines, strlen(lines), &cb, &x, 64, &next));
  assert_int_equal(next, 8);
  assert_false(json_scan_line(lines + 8, strlen(lines) - 8, &cb, &x, 64, &next));
  assert_int_equal(next, 6); /* resumes at the following line: "2}" */
  assert_false(json_scan_line(lines + 14, strlen(lines) - 14, &cb, &x, 64, &next));
  assert_int_equal(next, 3);
  assert_true(json_scan_line(lines + 17, strlen(lines) - 17, &cb, &x, 64, &next));
}

/* The scanner reads strings eight bytes at a time: every special byte (quote, backslash,
 * control character, UTF-8 lead or stray continuation byte) at every offset and string length
 * must get yajl's verdict, and the string read must end where it ends. */
static void scan_special_bytes_at_every_offset(void **state)
{
  (void)state;
  static const yajl_callbacks none = {0};
  const unsigned char specials[] = {'"',  '\\', 0x01, 0x1f, 0x7f, 0x80,
                                    0xbf, 0xc3, 0xe2, 0xff, '\n'};
  for (size_t len = 1; len <= 24; len++)
    for (size_t at = 0; at < len; at++)
      for (size_t k = 0; k < sizeof specials; k++) {
        char doc[64];
        size_t n = 0;
        doc[n++] = '[';
        doc[n++] = '"';
        for (size_t i = 0; i < len; i++)
          doc[n++] = i == at ? (char)specials[k] : (char)('a' + i % 26);
        doc[n++] = '"';
        doc[n++] = ']';
        doc[n] = '\0';
        bool want = yajl_accepts(doc), got = json_scan(doc, n, &none, NULL, 64);
        if (want != got)
          fail_msg("byte 0x%02x at %zu of %zu: yajl says %d, the scanner %d", specials[k], at, len,
                   want, got);
      }
  struct seen x = {""};
  yajl_callbacks cb = {.yajl_string = seen_string};
  const char *two = "[\"abcdefghijklmnop\",\"q\"]";
  assert_true(json_scan(two, strlen(two), &cb, &x, 64));
  assert_string_equal(x.text, "abcdefghijklmnop|q|");
}

static int skip_key_b(void *ctx, const unsigned char *s, size_t len)
{
  seen_key(ctx, s, len);
  return len == 1 && s[0] == 'b' ? JSON_SCAN_SKIP_VALUE : 1;
}

/* A key's value can be skipped: checked as strictly, not reported. */
static void scan_skips_a_value(void **state)
{
  (void)state;
  yajl_callbacks cb = {
      .yajl_string = seen_string, .yajl_number = seen_number, .yajl_map_key = skip_key_b};
  struct seen x = {""};
  const char *doc = "{\"a\":1,\"b\":{\"c\":[2,\"d\"]},\"e\":3}";
  assert_true(json_scan(doc, strlen(doc), &cb, &x, 64));
  assert_string_equal(x.text, "k:a|1|k:b|k:e|3|");
  const char *bad = "{\"a\":1,\"b\":{\"c\":[2,]},\"e\":3}";
  assert_false(json_scan(bad, strlen(bad), &cb, &x, 64));
  assert_false(json_scan("{\"b\":[[[1]]]}", 13, &cb, &x, 3)); /* depth counts while skipping */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_value),
      cmocka_unit_test(two_values),
      cmocka_unit_test(identical_values),
      cmocka_unit_test(outlier),
      cmocka_unit_test(t_quantiles),
      cmocka_unit_test(ratios),
      cmocka_unit_test(scan_agrees_with_yajl),
      cmocka_unit_test(scan_events),
      cmocka_unit_test(scan_special_bytes_at_every_offset),
      cmocka_unit_test(scan_skips_a_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
