/* The real runtime's command lines: the call itself passes everything through; a call of
 * measured's own keeps the caller's global flags but its log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "call.h"
#include "ociargs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *joined(char **argv)
{
  static char buf[1024];
  buf[0] = '\0';
  for (size_t i = 0; argv[i]; i++) {
    strcat(buf, i ? " " : "");
    strcat(buf, argv[i]);
  }
  return buf;
}

static void real_argv_passes_everything(void **state)
{
  (void)state;
  char *extra[] = {"--network=host"};
  struct runtime_entry e = {.name = "runsc", .args = extra, .nargs = 1};
  char *argv[] = {"measured-runsc", "--root", "/r", "--log", "/l", "create", "x", NULL};
  char **v = call_real_argv("/usr/bin/runsc", &e, 7, argv);
  assert_string_equal(joined(v), "/usr/bin/runsc --network=host --root /r --log /l create x");
  free(v);
}

/* Found by way of a link or by its own path, the same runtime is the same scope: podman runs
 * create with a PATH that finds /usr/bin/runc and delete with none, finding /usr/sbin/runc. */
static void scope_key_is_the_runtime_file(void **state)
{
  (void)state;
  char dir[] = "/tmp/measured-call-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char file[64], link[64];
  snprintf(file, sizeof file, "%s/runc", dir);
  snprintf(link, sizeof link, "%s/runc-link", dir);
  int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(symlink("runc", link), 0);
  struct oci_call call = {.sub = OCI_SUB_DELETE, .sub_index = -1, .id = "x", .root = "/run/r"};
  struct call_ctx by_file = {.call = &call, .real_path = file};
  struct call_ctx by_link = {.call = &call, .real_path = link};
  char *a = call_scope_key(&by_file), *b = call_scope_key(&by_link);
  assert_string_equal(a, b);
  char want[128];
  snprintf(want, sizeof want, "oci\n%s\n/run/r", file);
  assert_string_equal(a, want);
  struct oci_call other_root = call;
  other_root.root = NULL;
  struct call_ctx elsewhere = {.call = &other_root, .real_path = file};
  char *c = call_scope_key(&elsewhere);
  assert_string_not_equal(a, c);
  free(a);
  free(b);
  free(c);
  unlink(link);
  unlink(file);
  rmdir(dir);
}

static void aux_argv_drops_only_the_log(void **state)
{
  (void)state;
  char *extra[] = {"--network=host"};
  struct runtime_entry e = {.name = "runsc", .args = extra, .nargs = 1};
  char *argv[] = {
      "measured-runsc",   "--root", "/r", "--log", "/l", "--log-format=json", "-log", "/m",
      "--systemd-cgroup", "start",  "x",  NULL};
  struct oci_call call;
  oci_args_parse(11, argv, &call);
  assert_int_equal(call.sub, OCI_SUB_START);
  struct call_ctx c = {
      .argc = 11, .argv = argv, .call = &call, .entry = &e, .real_path = "/usr/bin/runsc"};
  char **v = call_aux_argv(&c, (const char *const[]){"state", "x", NULL});
  assert_string_equal(joined(v),
                      "/usr/bin/runsc --network=host --root /r --systemd-cgroup state x");
  free(v);
  /* A hook's context has no command line: the runtime, its entry's arguments, the tail. */
  struct oci_call none = {.sub = OCI_SUB_START, .sub_index = -1, .id = "x"};
  struct call_ctx h = {.call = &none, .entry = &e, .real_path = "/usr/bin/runsc"};
  v = call_aux_argv(&h, (const char *const[]){"exec", "x", NULL});
  assert_string_equal(joined(v), "/usr/bin/runsc --network=host exec x");
  free(v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(real_argv_passes_everything),
      cmocka_unit_test(scope_key_is_the_runtime_file),
      cmocka_unit_test(aux_argv_drops_only_the_log),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
