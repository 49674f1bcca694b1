/* The shim-v2 wrapper's pure parts: reading containerd's command line, and the hooks edit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "hook_spec.h"
#include "shimargs.h"

#include <string.h>

static void parse(struct shim_call *c, const char *const *args)
{
  int n = 0;
  while (args[n])
    n++;
  shim_args_parse(n, (char *const *)args, c);
}

static void containerd_command_lines(void **state)
{
  (void)state;
  struct shim_call c;
  parse(&c, (const char *const[]){"shim", "-namespace", "moby", "-address", "/run/c.sock",
                                  "-publish-binary", "/usr/bin/containerd", "-id", "abc", "start",
                                  NULL});
  assert_int_equal(c.action, SHIM_START);
  assert_string_equal(c.id, "abc");
  assert_string_equal(c.namespace, "moby");
  parse(&c, (const char *const[]){"shim", "--namespace=k8s.io", "-debug", "-id=x1", "-bundle", "/b",
                                  "delete", NULL});
  assert_int_equal(c.action, SHIM_DELETE);
  assert_string_equal(c.id, "x1");
  assert_string_equal(c.bundle, "/b");
  /* the shim's own daemon run: no action */
  parse(&c,
        (const char *const[]){"shim", "-namespace", "moby", "-id", "abc", "-address", "/a", NULL});
  assert_int_equal(c.action, SHIM_OTHER);
  /* anything not understood is passed through unmeasured */
  parse(&c, (const char *const[]){"shim", "-newflag", "v", "-id", "abc", "start", NULL});
  assert_int_equal(c.action, SHIM_OTHER);
  parse(&c, (const char *const[]){"shim", "-id", "abc", "start", "extra", NULL});
  assert_int_equal(c.action, SHIM_OTHER);
  parse(&c, (const char *const[]){"shim", "-id", NULL});
  assert_int_equal(c.action, SHIM_OTHER);
  parse(&c, (const char *const[]){"shim", "-v", NULL});
  assert_int_equal(c.action, SHIM_OTHER);
}

static json *doc(const char *text)
{
  json *j = NULL;
  assert_int_equal(json_parse(text, strlen(text), NULL, "test", &j, NULL), 0);
  return j;
}

static const struct hook_spec spec = {.path = "/usr/local/bin/measured-wrapper",
                                      .runtime = "kata",
                                      .owner = "shim-1-2",
                                      .since_us = 100,
                                      .before_us = 7};

static void hooks_added_after_the_engines(void **state)
{
  (void)state;
  cleanup_json json *c =
      doc("{\"ociVersion\":\"1.0.2\",\"hooks\":{\"prestart\":[{\"path\":\"/docker\"}],"
          "\"createRuntime\":[{\"path\":\"/other\",\"args\":[\"other\"]}]}}");
  assert_int_equal(hook_spec_add(c, &spec, NULL), 0);
  const json *cr = json_get_path(c, (const char *const[]){"hooks", "createRuntime", NULL});
  assert_int_equal(cr->n, 2);
  assert_string_equal(json_string(json_get(cr->items[0], "path")), "/other");
  const json *ours = cr->items[1];
  assert_string_equal(json_string(json_get(ours, "path")), spec.path);
  const json *args = json_get(ours, "args");
  assert_string_equal(json_string(args->items[0]), "measured-hook");
  assert_string_equal(json_string(args->items[1]), "create-runtime");
  assert_string_equal(json_string(args->items[3]), "kata");
  assert_non_null(json_get(ours, "timeout"));
  assert_int_equal(json_get_path(c, (const char *const[]){"hooks", "poststart", NULL})->n, 1);
  assert_int_equal(json_get_path(c, (const char *const[]){"hooks", "poststop", NULL})->n, 1);
  assert_int_equal(json_get_path(c, (const char *const[]){"hooks", "prestart", NULL})->n, 1);
  /* twice: the same spec, not a second set of hooks */
  assert_int_equal(hook_spec_add(c, &spec, NULL), 0);
  assert_int_equal(cr->n, 2);
  assert_int_equal(json_get_path(c, (const char *const[]){"hooks", "poststop", NULL})->n, 1);
}

static void hooks_of_the_wrong_shape_refused(void **state)
{
  (void)state;
  merr *err = NULL;
  cleanup_json json *a = doc("{\"hooks\":[]}");
  assert_int_equal(hook_spec_add(a, &spec, &err), -1);
  merr_freep(&err);
  cleanup_json json *b = doc("{\"hooks\":{\"poststart\":{}}}");
  assert_int_equal(hook_spec_add(b, &spec, &err), -1);
  merr_freep(&err);
  cleanup_json json *d = doc("[]");
  assert_int_equal(hook_spec_add(d, &spec, &err), -1);
  merr_freep(&err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(containerd_command_lines),
      cmocka_unit_test(hooks_added_after_the_engines),
      cmocka_unit_test(hooks_of_the_wrong_shape_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
