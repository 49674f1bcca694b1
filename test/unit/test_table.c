/* The runtime table: built-in defaults, file entries replacing them, strict errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "table.h"

#include <stdlib.h>
#include <string.h>

static struct runtime_table *parse_ok(const char *text)
{
  struct runtime_table *t = NULL;
  merr *err = NULL;
  if (runtime_table_parse(text, strlen(text), "table.json", &t, &err) < 0)
    fail_msg("unexpected error: %s", err->msg);
  return t;
}

static void parse_fails_with(const char *text, const char *needle)
{
  struct runtime_table *t = NULL;
  merr *err = NULL;
  assert_int_equal(runtime_table_parse(text, strlen(text), "table.json", &t, &err), -1);
  if (strstr(err->msg, needle) == NULL)
    fail_msg("error \"%s\" does not mention \"%s\"", err->msg, needle);
  merr_free(err);
}

static void defaults_when_absent(void **state)
{
  (void)state;
  struct runtime_table *t = NULL;
  assert_int_equal(runtime_table_load("/nonexistent/measured.json", &t, NULL), 0);
  assert_string_equal(t->source, "built-in defaults");
  assert_string_equal(t->store, MEASURED_DEFAULT_STORE);
  assert_string_equal(t->state_dir, MEASURED_DEFAULT_STATE_DIR);
  const struct runtime_entry *runsc = runtime_table_find(t, "runsc");
  assert_non_null(runsc);
  assert_int_equal(runsc->nargs, 1);
  assert_string_equal(runsc->args[0], "--network=host");
  assert_non_null(runtime_table_find(t, "runc"));
  assert_non_null(runtime_table_find(t, "crun"));
  assert_non_null(runtime_table_find(t, "kata-runtime"));
  assert_null(runtime_table_find(t, "nope"));
  runtime_table_free(t);
}

static void file_entries_replace_and_add(void **state)
{
  (void)state;
  struct runtime_table *t = parse_ok(
      "{\"store\":\"/data/s.jsonl\",\"runtimes\":{\"runsc\":{\"path\":\"/opt/runsc\"},"
      "\"runc-probe\":{\"path\":\"runc\",\"args\":[\"--debug\"],\"store\":\"/p.jsonl\"}}}");
  const struct runtime_entry *runsc = runtime_table_find(t, "runsc");
  assert_string_equal(runsc->path, "/opt/runsc");
  assert_int_equal(runsc->nargs, 0); /* replaced whole, not merged */
  const struct runtime_entry *rp = runtime_table_find(t, "runc-probe");
  assert_string_equal(rp->args[0], "--debug");
  assert_string_equal(runtime_entry_store(t, rp), "/p.jsonl");
  assert_string_equal(runtime_entry_store(t, runsc), "/data/s.jsonl");
  assert_non_null(runtime_table_find(t, "runc"));
  runtime_table_free(t);
  /* A key given twice: the last one counts (the first "args" once overflowed: fuzz_table). */
  t = parse_ok("{\"runtimes\":{\"x\":{\"path\":\"/x\",\"args\":[\"a\",\"b\",\"c\"],"
               "\"args\":[\"d\"],\"shim\":\"s1\",\"shim\":\"s2\"}}}");
  const struct runtime_entry *x = runtime_table_find(t, "x");
  assert_int_equal(x->nargs, 1);
  assert_string_equal(x->args[0], "d");
  assert_string_equal(x->shim, "s2");
  runtime_table_free(t);
}

static void strict_errors(void **state)
{
  (void)state;
  parse_fails_with("{\"runtime\":{}}", "unknown key \"runtime\"");
  parse_fails_with("{\"runtimes\":{\"runc\":{\"path\":\"runc\",\"arg\":[]}}}",
                   "unknown key \"arg\"");
  parse_fails_with("{\"runtimes\":{\"runc\":{}}}", "no \"path\"");
  parse_fails_with("{\"runtimes\":{\"Bad Name\":{\"path\":\"x\"}}}", "invalid");
  parse_fails_with("{\"runtimes\":{\"x\":{\"path\":\"rel/path\"}}}",
                   "absolute path or a plain name");
  parse_fails_with("{\"store\":\"relative.jsonl\"}", "absolute path");
  parse_fails_with("{\"runtimes\":{\"x\":{\"path\":\"x\",\"args\":[1]}}}", "args[0]");
  parse_fails_with("[]", "top level");
  parse_fails_with("{\"runtimes\":{\"x\":{\"path\":\"x\"}", "line 1");
}

static void export_labels(void **state)
{
  (void)state;
  struct runtime_table *t = parse_ok("{\"export_labels\":[\"workload\",\"team_2\"]}");
  assert_int_equal(t->nexport_labels, 2);
  assert_string_equal(t->export_labels[0], "workload");
  assert_string_equal(t->export_labels[1], "team_2");
  runtime_table_free(t);
  t = parse_ok("{}");
  assert_int_equal(t->nexport_labels, 0);
  runtime_table_free(t);
  parse_fails_with("{\"export_labels\":\"workload\"}", "at most 4");
  parse_fails_with("{\"export_labels\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "at most 4");
  parse_fails_with("{\"export_labels\":[\"runtime\"]}", "exporter's own labels");
  parse_fails_with("{\"export_labels\":[\"le\"]}", "exporter's own labels");
  parse_fails_with("{\"export_labels\":[\"Work-load\"]}", "export_labels[0]");
  parse_fails_with("{\"export_labels\":[\"__x\"]}", "export_labels[0]");
  parse_fails_with("{\"export_labels\":[\"9x\"]}", "export_labels[0]");
  parse_fails_with("{\"export_labels\":[\"a\",\"a\"]}", "twice");
}

static void names(void **state)
{
  (void)state;
  assert_true(runtime_name_valid("runc"));
  assert_true(runtime_name_valid("kata-runtime"));
  assert_true(runtime_name_valid("runc-probe.v2_x"));
  assert_false(runtime_name_valid(""));
  assert_false(runtime_name_valid("-x"));
  assert_false(runtime_name_valid("Runc"));
  assert_false(runtime_name_valid("a/b"));
}

static void resolve(void **state)
{
  (void)state;
  char *p = NULL;
  setenv("PATH", "relative:/nonexistent:/bin", 1);
  assert_int_equal(runtime_resolve("sh", &p, NULL), 0);
  assert_string_equal(p, "/bin/sh");
  free(p);
  merr *err = NULL;
  assert_int_equal(runtime_resolve("no-such-runtime-xyz", &p, &err), -1);
  assert_non_null(strstr(err->msg, "not found"));
  merr_freep(&err);
  assert_int_equal(runtime_resolve("/etc/passwd", &p, &err), -1); /* not executable */
  merr_free(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_when_absent),
      cmocka_unit_test(file_entries_replace_and_add),
      cmocka_unit_test(strict_errors),
      cmocka_unit_test(export_labels),
      cmocka_unit_test(names),
      cmocka_unit_test(resolve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
