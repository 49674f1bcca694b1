/* Building the lifecycle record from the events the wrapper calls and the monitor left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "record.h"

#include <stdlib.h>
#include <string.h>

static json *parse(const char *text)
{
  json *j = NULL;
  merr *err = NULL;
  if (json_parse(text, strlen(text), NULL, "events", &j, &err) < 0)
    fail_msg("%s", err->msg);
  return j;
}

static int64_t get_int(const json *j, const char *const *path)
{
  int64_t v = -999;
  if (!json_int64(json_get_path(j, path), &v))
    fail_msg("no integer at %s", path[0]);
  return v;
}

#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *full_lifecycle =
    "[{\"ev\":\"create\",\"mono_us\":1000,\"real_ns\":1700000000000000000,\"dur_us\":300,"
    "\"ovh_us\":20,\"rc\":0,\"runtime\":{\"name\":\"runc\",\"path\":\"/usr/sbin/runc\"},"
    "\"host\":{\"hostname\":\"h\"},\"container\":{\"args\":[\"sh\"]},\"labels\":{\"k\":\"v\"},"
    "\"pid\":42,\"missed\":[]},"
    "{\"ev\":\"version\",\"version\":\"1.1.5\"},"
    "{\"ev\":\"start\",\"mono_us\":2000,\"dur_us\":50,\"ovh_us\":10,\"rc\":0,"
    "\"context\":{\"loadavg\":[0.5,0.2,0.1]}},"
    "{\"ev\":\"exec\",\"dur_us\":70,\"ovh_us\":5,\"rc\":0},"
    "{\"ev\":\"kill\",\"dur_us\":30,\"ovh_us\":4,\"rc\":0,\"signal\":\"15\"},"
    "{\"ev\":\"exec\",\"dur_us\":71,\"ovh_us\":6,\"rc\":1},"
    "{\"ev\":\"net\",\"phase\":\"create\",\"discovery_us\":90,\"topology\":{\"driver\":\"bridge\","
    "\"paths\":[{\"text\":\"container eth0 -> host veth1 -> bridge docker0\"}]}},"
    "{\"ev\":\"net\",\"phase\":\"start\",\"discovery_us\":80,\"topology\":{\"driver\":\"bridge\","
    "\"paths\":[{\"text\":\"container eth0 -> host veth1 -> bridge docker0\"}]}},"
    "{\"ev\":\"exit\",\"signal\":15}]";

static void complete_lifecycle(void **state)
{
  (void)state;
  json *events = parse(full_lifecycle);
  json *ctx = parse("{\"loadavg\":[1,1,1]}");
  struct delete_info del = {.begin_mono_us = 12000,
                            .real_ns = 1700000001000000000,
                            .dur_us = 40,
                            .overhead_us = 9,
                            .rc = 0,
                            .context = ctx};
  json *net = parse("{\"interval_ms\":1000,\"counters\":{\"samples\":3,\"consistent\":true},"
                    "\"sampler\":{\"cpu_us\":5,\"max_rss_kb\":900},\"missed\":[]}");
  struct record_inputs in = {.events = events, .net = net};
  json *rec = record_build("cid", &in, &del, NULL);
  json_free(net);
  /* schema first: readers can dispatch on it before anything else */
  assert_string_equal(rec->keys[0], "schema");
  assert_int_equal(get_int(rec, PATH("schema")), RECORD_SCHEMA);
  assert_string_equal(json_string(json_get(rec, "outcome")), "completed");
  assert_string_equal(json_string(json_get_path(rec, PATH("runtime", "version"))), "1.1.5");
  assert_int_equal(get_int(rec, PATH("calls", "create", "us")), 300);
  assert_int_equal(get_int(rec, PATH("calls", "create", "overhead_us")), 20);
  assert_int_equal(get_int(rec, PATH("calls", "start", "us")), 50);
  assert_int_equal(get_int(rec, PATH("calls", "delete", "us")), 40);
  assert_int_equal(json_get_path(rec, PATH("calls", "exec"))->n, 2);
  assert_int_equal(json_get_path(rec, PATH("calls", "kill"))->n, 1);
  assert_string_equal(
      json_string(json_get(json_get_path(rec, PATH("calls", "kill"))->items[0], "signal")), "15");
  assert_int_equal(get_int(rec, PATH("lifetime_us")), 10000);
  assert_int_equal(get_int(rec, PATH("exit", "signal")), 15);
  assert_int_equal(get_int(rec, PATH("exit", "status")), 143);
  assert_string_equal(json_string(json_get_path(rec, PATH("labels", "k"))), "v");
  assert_non_null(json_get_path(rec, PATH("context", "start", "loadavg")));
  assert_non_null(json_get_path(rec, PATH("context", "delete", "loadavg")));
  assert_int_equal(json_get(rec, "missed")->n, 0);
  assert_string_equal(json_string(json_get_path(rec, PATH("network", "driver"))), "bridge");
  assert_string_equal(json_string(json_get_path(rec, PATH("network", "paths"))->items[0]),
                      "container eth0 -> host veth1 -> bridge docker0");
  assert_int_equal(get_int(rec, PATH("network", "discovery", "create", "us")), 90);
  assert_int_equal(get_int(rec, PATH("network", "discovery", "start", "us")), 80);
  assert_int_equal(get_int(rec, PATH("network", "counters", "samples")), 3);
  assert_int_equal(get_int(rec, PATH("network", "sampler", "interval_ms")), 1000);
  char *line = NULL;
  assert_int_equal(json_serialize(rec, false, &line, NULL, NULL), 0);
  assert_null(strchr(line, '\n'));
  free(line);
  json_free(rec);
  json_free(ctx);
  json_free(events);
}

static void missing_pieces_are_named(void **state)
{
  (void)state;
  /* No create (state written by something else), no exit, no version, unreadable lines. */
  json *events = parse("[{\"ev\":\"start\",\"mono_us\":5,\"dur_us\":1,\"ovh_us\":1,\"rc\":0,"
                       "\"missed\":[\"network counters: x\",\"probe: y\"]},"
                       "{\"ev\":\"exit\",\"unknown\":\"exit status not observed (EPERM)\"}]");
  struct delete_info del = {.begin_mono_us = 10, .real_ns = 1, .dur_us = 1};
  struct record_inputs in = {.events = events, .bad_event_lines = 2};
  json *rec = record_build("cid", &in, &del, NULL);
  const json *missed = json_get(rec, "missed");
  char *all = NULL;
  assert_int_equal(json_serialize(missed, false, &all, NULL, NULL), 0);
  assert_non_null(strstr(all, "create was not observed"));
  assert_non_null(strstr(all, "exit status not observed (EPERM)"));
  assert_non_null(strstr(all, "runtime version"));
  assert_non_null(strstr(all, "2 unreadable state event line(s)"));
  /* Everything the start call missed, not only its last line. */
  assert_non_null(strstr(all, "\"network counters: x\""));
  assert_non_null(strstr(all, "\"probe: y\""));
  assert_non_null(strstr(all, "network counters: the monitor left no summary"));
  assert_int_equal(json_get(rec, "exit")->type, JSON_NULL);
  assert_int_equal(json_get_path(rec, PATH("calls", "create"))->type, JSON_NULL);
  free(all);
  json_free(rec);
  json_free(events);
}

static void hostile_event_shapes(void **state)
{
  (void)state;
  /* Events of the wrong types do not crash the builder. */
  json *events = parse("[1,\"x\",{\"ev\":5},{\"ev\":\"create\",\"runtime\":[],\"missed\":{}},"
                       "{\"ev\":\"exit\",\"code\":\"3\"},{\"ev\":\"start\",\"mono_us\":\"x\"}]");
  struct delete_info del = {0};
  struct record_inputs in = {.events = events};
  json *rec = record_build("cid", &in, &del, NULL);
  assert_non_null(rec);
  assert_int_equal(json_get(rec, "lifetime_us")->type, JSON_NULL);
  json_free(rec);
  json_free(events);
}

/* A start whose wrapper was killed: the container ran (it exited with a code), no start event. */
static void unobserved_start_is_named(void **state)
{
  (void)state;
  json *ran = parse("[{\"ev\":\"create\",\"mono_us\":1,\"rc\":0},{\"ev\":\"exit\",\"code\":3}]");
  json *killed =
      parse("[{\"ev\":\"create\",\"mono_us\":1,\"rc\":0},{\"ev\":\"exit\",\"signal\":9}]");
  struct delete_info del = {.begin_mono_us = 10, .real_ns = 1, .dur_us = 1};
  struct record_inputs in = {.events = ran};
  json *rec = record_build("cid", &in, &del, NULL);
  char *all = NULL;
  assert_int_equal(json_serialize(json_get(rec, "missed"), false, &all, NULL, NULL), 0);
  assert_non_null(strstr(all, "start: not observed (the container ran"));
  assert_int_equal(get_int(rec, PATH("exit", "status")), 3);
  free(all);
  json_free(rec);
  /* Killed before any start (docker create, then rm): nothing was missed about a start. */
  in.events = killed;
  rec = record_build("cid", &in, &del, NULL);
  assert_int_equal(json_serialize(json_get(rec, "missed"), false, &all, NULL, NULL), 0);
  assert_null(strstr(all, "start: not observed"));
  free(all);
  json_free(rec);
  json_free(ran);
  json_free(killed);
}

static void failed_create(void **state)
{
  (void)state;
  json *ev = parse("{\"ev\":\"create\",\"real_ns\":5,\"dur_us\":9,\"ovh_us\":1,\"rc\":1,"
                   "\"runtime\":{\"name\":\"crun\",\"path\":\"/usr/bin/crun\"}}");
  json *rec = record_build_create_failed("cid", ev);
  assert_string_equal(json_string(json_get(rec, "outcome")), "create_failed");
  assert_int_equal(get_int(rec, PATH("calls", "create", "rc")), 1);
  json_free(rec);
  json_free(ev);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(complete_lifecycle),   cmocka_unit_test(missing_pieces_are_named),
      cmocka_unit_test(hostile_event_shapes), cmocka_unit_test(unobserved_start_is_named),
      cmocka_unit_test(failed_create),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
