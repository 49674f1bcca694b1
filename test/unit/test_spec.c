/* What the record takes from config.json: args (bounded), network namespace mode, labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json *parse(const char *text)
{
  json *j = NULL;
  merr *err = NULL;
  if (json_parse(text, strlen(text), NULL, "config.json", &j, &err) < 0)
    fail_msg("%s", err->msg);
  return j;
}

static const char *netns_mode(const char *config_text, const char **path)
{
  static char mode[16];
  json *config = parse(config_text);
  json *s = spec_container_summary(config);
  const json *ns = json_get(s, "netns");
  snprintf(mode, sizeof mode, "%s", json_string(json_get(ns, "mode")));
  static char p[128];
  const char *got = json_string(json_get(ns, "path"));
  snprintf(p, sizeof p, "%s", got ? got : "");
  *path = p;
  json_free(s);
  json_free(config);
  return mode;
}

static void network_namespace_modes(void **state)
{
  (void)state;
  const char *path;
  assert_string_equal(
      netns_mode("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}]}}", &path),
      "new");
  assert_string_equal(netns_mode("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}", &path),
                      "host");
  assert_string_equal(netns_mode("{}", &path), "host");
  assert_string_equal(
      netns_mode(
          "{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/proc/7/ns/net\"}]}}",
          &path),
      "path");
  assert_string_equal(path, "/proc/7/ns/net");
  /* Wrong types are not a crash. */
  assert_string_equal(netns_mode("{\"linux\":{\"namespaces\":{\"type\":\"network\"}}}", &path),
                      "host");
  assert_string_equal(netns_mode("{\"linux\":{\"namespaces\":[1,\"x\",{\"type\":7}]}}", &path),
                      "host");
}

static void args_are_bounded(void **state)
{
  (void)state;
  /* 100 args, one of 3000 bytes of 2-byte UTF-8 characters. */
  size_t cap = 20000;
  char *text = malloc(cap);
  size_t n = (size_t)snprintf(text, cap, "{\"hostname\":\"h1\",\"process\":{\"args\":[\"");
  for (int i = 0; i < 1500; i++)
    n += (size_t)snprintf(text + n, cap - n, "\xc3\xa9");
  n += (size_t)snprintf(text + n, cap - n, "\"");
  for (int i = 1; i < 100; i++)
    n += (size_t)snprintf(text + n, cap - n, ",\"a%d\"", i);
  snprintf(text + n, cap - n, "]}}");
  json *config = parse(text);
  json *s = spec_container_summary(config);
  const json *args = json_get(s, "args");
  assert_int_equal(args->n, SPEC_MAX_ARGS);
  assert_true(args->items[0]->len <= SPEC_MAX_ARG_BYTES);
  assert_int_equal(args->items[0]->len % 2, 0); /* not cut inside a character */
  assert_int_equal(json_get(s, "args_truncated")->type, JSON_TRUE);
  assert_string_equal(json_string(json_get(s, "hostname")), "h1");
  char *out = NULL;
  assert_int_equal(json_serialize(s, false, &out, NULL, NULL), 0); /* still valid UTF-8 */
  free(out);
  json_free(s);
  json_free(config);
  free(text);
}

static void labels(void **state)
{
  (void)state;
  json *config = parse("{\"process\":{\"env\":[\"PATH=/bin\",\"MEASURED_LABEL_workload=web\","
                       "\"MEASURED_LABEL_run.id=7\",\"MEASURED_LABEL_=x\",\"MEASURED_LABEL_a b=1\","
                       "\"MEASURED_LABEL_novalue\",\"MEASURED_LABEL_workload=api\",5]}}");
  unsigned rejected = 0;
  json *l = spec_labels(config, &rejected);
  assert_int_equal(l->n, 2);
  assert_string_equal(json_string(json_get(l, "workload")), "api");
  assert_string_equal(json_string(json_get(l, "run.id")), "7");
  assert_int_equal(rejected, 3);
  json_free(l);
  json_free(config);
}

static void load_refuses_bad_files(void **state)
{
  (void)state;
  char dir[] = "/tmp/measured-spec-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen(path, "w");
  fputs("[1,2]", f);
  fclose(f);
  json *config = NULL;
  merr *err = NULL;
  assert_int_equal(spec_load(dir, &config, &err), -1);
  assert_non_null(strstr(err->msg, "not a JSON object"));
  merr_freep(&err);
  unlink(path);
  assert_int_equal(symlink("/etc/hostname", path), 0);
  assert_int_equal(spec_load(dir, &config, &err), -1); /* a symlink is not followed */
  merr_freep(&err);
  unlink(path);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(network_namespace_modes),
      cmocka_unit_test(args_are_bounded),
      cmocka_unit_test(labels),
      cmocka_unit_test(load_refuses_bad_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
