/* The report's reading of one store line: which figures it takes from a record, in whatever
 * order the record's keys come, and which lines it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "sample.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static bool parse(const char *line, struct sample *s)
{
  return sample_parse(line, strlen(line), s);
}

/* The shape the wrapper writes: the container's link carries name, ifindex, start, end, delta
 * and peak, and keys the report does not read come after the ones it does. */
static void record_in_the_wrappers_order(void **state)
{
  (void)state;
  struct sample s;
  assert_true(parse(
      "{\"schema\":1,\"id\":\"c1\",\"outcome\":\"completed\",\"created_at\":\"2026-11-23T10:00:"
      "00Z\","
      "\"runtime\":{\"name\":\"runc\",\"path\":\"/usr/sbin/runc\"},\"labels\":{\"load\":\"none\"},"
      "\"calls\":{\"create\":{\"us\":150000,\"overhead_us\":500,\"rc\":0},"
      "\"start\":{\"us\":6000,\"overhead_us\":250,\"rc\":0},\"exec\":[{\"us\":1,\"overhead_us\":50}"
      "],"
      "\"delete\":{\"us\":7000,\"overhead_us\":300,\"rc\":0}},"
      "\"network\":{\"driver\":\"bridge\",\"counters\":{\"samples\":8,\"links\":["
      "{\"ns\":\"container\",\"name\":\"eth0\",\"role\":\"container\",\"ifindex\":2,"
      "\"start\":{\"tx_bytes\":1,\"rx_bytes\":2},\"end\":{\"tx_bytes\":9,\"rx_bytes\":9},"
      "\"delta\":{\"rx_bytes\":2000000,\"tx_bytes\":3000000},\"peak\":{\"tx_bytes_per_s\":5}},"
      "{\"ns\":\"host\",\"role\":\"peer\",\"delta\":{\"rx_bytes\":1,\"tx_bytes\":1}}],"
      "\"consistent\":true}},"
      "\"probe\":{\"mode\":\"prelude\",\"result\":{\"ready_us\":850,"
      "\"latency\":{\"tcp\":{\"count\":10,\"p50_us\":75.5,\"p99_us\":120},"
      "\"udp\":{\"count\":10,\"p50_us\":70,\"p99_us\":130}},"
      "\"bandwidth\":{\"direction\":\"send\",\"bits_per_s\":16e9}}},\"missed\":[]}",
      &s));
  assert_int_equal(s.kind, KIND_RECORD);
  assert_string_equal(s.runtime, "runc");
  assert_string_equal(s.driver, "bridge");
  assert_string_equal(s.outcome, "completed");
  assert_string_equal(sample_label(&s, "load"), "none");
  NEAR(s.value[M_CREATE], 150);
  NEAR(s.value[M_WRAPPER], 1.1); /* 500 + 250 + 50 + 300 us */
  NEAR(s.value[M_TX_MB], 3);     /* the container's own link, not its peer */
  NEAR(s.value[M_RX_MB], 2);
  NEAR(s.value[M_READY], 0.85);
  NEAR(s.value[M_TCP_P50], 75.5);
  NEAR(s.value[M_UDP_P99], 130);
  NEAR(s.value[M_BANDWIDTH], 16);
  assert_false(s.has[M_IPERF3]);
}

/* A map whose last key is skipped still ends where it ends (this once lost the counters). */
static void skipped_key_last_in_a_link(void **state)
{
  (void)state;
  const char *lines[] = {
      "{\"schema\":1,\"outcome\":\"completed\",\"network\":{\"counters\":{\"links\":"
      "[{\"role\":\"container\",\"delta\":{\"tx_bytes\":5e6},\"ns\":\"c\"}]}}}",
      "{\"schema\":1,\"outcome\":\"completed\",\"network\":{\"counters\":{\"links\":"
      "[{\"role\":\"container\",\"delta\":{\"tx_bytes\":5e6},\"peak\":{\"a\":[1,{}]}}]}}}",
      "{\"schema\":1,\"outcome\":\"completed\",\"network\":{\"counters\":{\"links\":"
      "[{\"role\":\"container\",\"delta\":{\"tx_bytes\":5e6}}],\"x\":1}}}",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    struct sample s;
    assert_true(parse(lines[i], &s));
    assert_true(s.has[M_TX_MB]);
    NEAR(s.value[M_TX_MB], 5);
  }
}

static void harness_lines(void **state)
{
  (void)state;
  struct sample s;
  assert_true(parse("{\"schema\":1,\"kind\":\"tool\",\"runtime\":{\"name\":\"runsc\"},"
                    "\"tool\":{\"iperf3_bits_per_s\":8e9},\"reason\":\"sockperf: failed\"}",
                    &s));
  assert_int_equal(s.kind, KIND_TOOL);
  NEAR(s.value[M_IPERF3], 8);
  assert_false(s.has[M_SOCKPERF_P50]); /* absent, not zero */
  assert_true(parse("{\"schema\":1,\"kind\":\"unsupported\",\"runtime\":{\"name\":\"kata\"},"
                    "\"reason\":\"Kata cannot use the host network driver\"}",
                    &s));
  assert_int_equal(s.kind, KIND_UNSUPPORTED);
  assert_string_equal(s.reason, "Kata cannot use the host network driver");
}

static void refused_lines(void **state)
{
  (void)state;
  const char *bad[] = {
      "",
      "[]",
      "{\"schema\":99,\"outcome\":\"completed\"}",
      "{\"outcome\":\"completed\"}",
      "{\"schema\":1,\"outcome\":\"completed\"",        /* cut short */
      "{\"schema\":1} {\"schema\":1}",                  /* two objects */
      "{\"schema\":1,\"runtime\":{\"name\":\"\xff\"}}", /* not UTF-8 */
      "{\"schema\":1,\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", /* too
                                                                                              deep
                                                                                            */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sample s;
    assert_false(parse(bad[i], &s));
  }
}

static void long_texts_are_cut_not_overrun(void **state)
{
  (void)state;
  char line[1024];
  char name[300];
  memset(name, 'r', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  snprintf(line, sizeof line,
           "{\"schema\":1,\"runtime\":{\"name\":\"%s\"},\"labels\":{\"%s\":\"v\"}}", name, name);
  struct sample s;
  assert_true(parse(line, &s));
  assert_int_equal(strlen(s.runtime), SAMPLE_TEXT - 1);
}

static void lines_in_a_buffer(void **state)
{
  (void)state;
  const char buf[] = "{\"schema\":1}\n\nnot json\n{\"schema\":1";
  size_t off = 0, next;
  bool blank;
  struct sample s;
  assert_true(sample_parse_next(buf + off, sizeof buf - 1 - off, &s, &next, &blank));
  off += next;
  assert_false(sample_parse_next(buf + off, sizeof buf - 1 - off, &s, &next, &blank));
  assert_true(blank);
  off += next;
  assert_false(sample_parse_next(buf + off, sizeof buf - 1 - off, &s, &next, &blank));
  assert_false(blank);
  off += next;
  assert_false(sample_parse_next(buf + off, sizeof buf - 1 - off, &s, &next, &blank));
  assert_int_equal(off + next, sizeof buf - 1); /* a partial last line ends the buffer */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(record_in_the_wrappers_order),
      cmocka_unit_test(skipped_key_last_in_a_link),
      cmocka_unit_test(harness_lines),
      cmocka_unit_test(refused_lines),
      cmocka_unit_test(long_texts_are_cut_not_overrun),
      cmocka_unit_test(lines_in_a_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
