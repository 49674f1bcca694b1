/* The record's contract from both ends: a record the writer builds (lifecycle/record.c), read by
 * the report's strict fast reader (report/sample.c), gives back the figures it was built from.
 * A key renamed on one side only fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "record.h"
#include "sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static json *parse(const char *text)
{
  json *j = NULL;
  merr *err = NULL;
  if (json_parse(text, strlen(text), NULL, "input", &j, &err) < 0)
    fail_msg("%s", err->msg);
  return j;
}

static const char *events_text =
    "[{\"ev\":\"create\",\"mono_us\":1000,\"real_ns\":1700000000000000000,\"dur_us\":3000,"
    "\"ovh_us\":200,\"rc\":0,\"runtime\":{\"name\":\"runsc\",\"path\":\"/usr/bin/runsc\","
    "\"version\":\"release-20221219.0\",\"via\":\"oci\"},"
    "\"host\":{\"hostname\":\"h\",\"kernel\":\"6.1\",\"arch\":\"x86_64\",\"cpus\":2},"
    "\"container\":{\"args\":[\"sh\"],\"args_truncated\":false,\"hostname\":\"c\","
    "\"netns\":{\"mode\":\"new\"}},\"labels\":{\"load\":\"stress\",\"pair\":\"bridge/bridge\"},"
    "\"pid\":42,\"missed\":[]},"
    "{\"ev\":\"start\",\"mono_us\":5000,\"dur_us\":1500,\"ovh_us\":100,\"rc\":0},"
    "{\"ev\":\"net\",\"phase\":\"start\",\"discovery_us\":80,\"topology\":{\"driver\":\"bridge\","
    "\"paths\":[{\"text\":\"container eth0 -> host veth1 -> bridge docker0\"}]}},"
    "{\"ev\":\"exit\",\"code\":0}]";

static const char *net_text =
    "{\"interval_ms\":1000,\"counters\":{\"samples\":3,\"span_us\":2000000,\"links\":["
    "{\"ns\":\"container\",\"name\":\"eth0\",\"role\":\"container\",\"ifindex\":2,"
    "\"delta\":{\"rx_bytes\":2000000,\"tx_bytes\":52428800}},"
    "{\"ns\":\"host\",\"name\":\"veth1\",\"role\":\"peer\",\"ifindex\":3,"
    "\"delta\":{\"rx_bytes\":52428800,\"tx_bytes\":2000000}}],\"actions\":[],"
    "\"consistent\":true,\"veth_pairs\":[]},\"sampler\":{\"cpu_us\":5},\"missed\":[],"
    "\"flows\":{\"views\":{\"socket\":{\"ran\":true},\"packet\":{\"ran\":true}},"
    "\"connections\":{\"total\":12544,\"accepted\":12544,\"opened\":0,\"direction_unknown\":0,"
    "\"failed\":0,\"open_at_end\":0,\"untracked\":0},\"retransmit_rate\":0.0125,"
    "\"rtt_us\":{\"n\":12544,\"p50\":41.5,\"p99\":250},\"packet_rtt_us\":{\"outside\":{\"n\":9,"
    "\"p50\":30},\"inside\":{\"n\":9,\"p50\":12}},\"handshake_us\":{\"inside\":{\"n\":3,"
    "\"p50\":9.5}},\"duration_us\":{\"n\":3,\"p50\":4200},\"goodput_bps\":{\"n\":3,"
    "\"p50\":2500000}}}";

static const char *probe_text =
    "{\"mode\":\"prelude\",\"tests\":\"latency,bandwidth\",\"peer\":\"10.0.0.1:7447\","
    "\"injected\":true,\"why_not\":null,\"result\":{\"schema\":1,\"mode\":\"prelude\","
    "\"budget_ms\":2000,\"elapsed_us\":1500000,\"ready_us\":4000,\"latency\":{\"tcp\":{"
    "\"count\":100,\"p50_us\":35.5,\"p99_us\":85.25},\"udp\":{\"count\":100,\"p50_us\":30,"
    "\"p99_us\":70}},\"bandwidth\":{\"direction\":\"send\",\"bytes\":1000,\"seconds\":1,"
    "\"bits_per_s\":11620000000},\"budget_exceeded\":false,\"errors\":[]}}";

static void writer_to_reader(void **state)
{
  (void)state;
  struct record_inputs in = {
      .events = parse(events_text), .net = parse(net_text), .probe = parse(probe_text)};
  cleanup_json json *ctx = parse("{\"loadavg\":[1,1,1],\"psi_cpu\":null}");
  struct delete_info del = {.begin_mono_us = 9000,
                            .real_ns = 1700000001000000000,
                            .dur_us = 2500,
                            .overhead_us = 300,
                            .context = ctx};
  cleanup_json json *rec = record_build("round-trip", &in, &del, NULL);
  record_inputs_clear(&in);
  cleanup_free char *line = NULL;
  size_t len;
  assert_int_equal(json_serialize(rec, false, &line, &len, NULL), 0);

  struct sample s;
  assert_true(sample_parse(line, len, &s));
  assert_int_equal(s.kind, KIND_RECORD);
  assert_string_equal(s.runtime, "runsc");
  assert_string_equal(s.driver, "bridge");
  assert_string_equal(s.outcome, "completed");
  assert_string_equal(sample_label(&s, "load"), "stress");
  assert_string_equal(sample_label(&s, "pair"), "bridge/bridge");
  struct {
    enum metric m;
    double want;
  } figures[] = {{M_CREATE, 3.0},    {M_START, 1.5},  {M_DELETE, 2.5},      {M_WRAPPER, 0.6},
                 {M_TX_MB, 52.4288}, {M_RX_MB, 2.0},  {M_BANDWIDTH, 11.62}, {M_TCP_P50, 35.5},
                 {M_TCP_P99, 85.25}, {M_UDP_P50, 30}, {M_UDP_P99, 70},      {M_READY, 4.0}};
  for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
    if (!s.has[figures[i].m])
      fail_msg("the reader found no %s in the writer's record", metric_defs[figures[i].m].name);
    if (fabs(s.value[figures[i].m] - figures[i].want) > 1e-9 * fabs(figures[i].want) + 1e-12)
      fail_msg("%s: read %g, written %g", metric_defs[figures[i].m].name, s.value[figures[i].m],
               figures[i].want);
  }
  assert_false(s.has[M_IPERF3]); /* a harness figure, not in a record */
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(writer_to_reader)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
