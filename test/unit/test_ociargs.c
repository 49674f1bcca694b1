/* The wrapper must find the subcommand, id and paths in every shape of command line Docker,
 * containerd and people use, without ever mistaking a flag's value for the container id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "ociargs.h"

#include <string.h>

#define PARSE(call, ...)                                                                           \
  do {                                                                                             \
    char *argv_[] = {"measured-runc", __VA_ARGS__, NULL};                                          \
    oci_args_parse((int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, (call));                      \
  } while (0)

static void docker_create(void **state)
{
  (void)state;
  struct oci_call c;
  PARSE(&c, "--root", "/var/run/docker/runtime-runc/moby", "--log", "/b/log.json", "--log-format",
        "json", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket",
        "/tmp/pty.sock", "cid");
  assert_int_equal(c.sub, OCI_SUB_CREATE);
  assert_int_equal(c.sub_index, 7);
  assert_string_equal(c.id, "cid");
  assert_string_equal(c.bundle, "/b");
  assert_string_equal(c.pid_file, "/b/init.pid");
  assert_string_equal(c.log_path, "/b/log.json");
  assert_string_equal(c.log_format, "json");
  assert_string_equal(c.root, "/var/run/docker/runtime-runc/moby");
}

static void bundle_spellings(void **state)
{
  (void)state;
  struct oci_call c;
  PARSE(&c, "create", "--bundle=/x", "id1");
  assert_string_equal(c.bundle, "/x");
  assert_string_equal(c.id, "id1");
  PARSE(&c, "create", "-b", "/y", "id2");
  assert_string_equal(c.bundle, "/y");
  assert_string_equal(c.id, "id2");
  PARSE(&c, "create", "-bundle", "/z", "id3"); /* Go flag style (runsc) */
  assert_string_equal(c.bundle, "/z");
  assert_string_equal(c.id, "id3");
  PARSE(&c, "create", "-b=/w", "id4");
  assert_string_equal(c.bundle, "/w");
  PARSE(&c, "create", "id5");
  assert_null(c.bundle);
  assert_string_equal(c.id, "id5");
}

static void globals_after_subcommand(void **state)
{
  (void)state;
  struct oci_call c;
  /* A global value flag after the subcommand must not make its value the id. */
  PARSE(&c, "create", "--root", "/r", "--log", "/l", "--bundle", "/b", "cid");
  assert_int_equal(c.sub, OCI_SUB_CREATE);
  assert_string_equal(c.id, "cid");
  assert_string_equal(c.root, "/r");
  assert_string_equal(c.log_path, "/l");
  PARSE(&c, "delete", "--log-format=json", "cid");
  assert_string_equal(c.log_format, "json");
  assert_string_equal(c.id, "cid");
}

static void unknown_global_flags(void **state)
{
  (void)state;
  struct oci_call c;
  /* Unknown boolean flag directly before the subcommand. */
  PARSE(&c, "--debug", "--systemd-cgroup", "start", "cid");
  assert_int_equal(c.sub, OCI_SUB_START);
  assert_string_equal(c.id, "cid");
  /* Unknown flag with a separate value. */
  PARSE(&c, "--some-new-flag", "value", "kill", "cid", "KILL");
  assert_int_equal(c.sub, OCI_SUB_KILL);
  assert_string_equal(c.id, "cid");
  assert_string_equal(c.signal, "KILL");
  /* Unknown flag with an inline value; runsc's own flags. */
  PARSE(&c, "--network=host", "-platform", "ptrace", "--frobnicate=1", "delete", "-force", "cid");
  assert_int_equal(c.sub, OCI_SUB_DELETE);
  assert_true(c.force);
  assert_string_equal(c.id, "cid");
}

static void unknown_subcommand_flags(void **state)
{
  (void)state;
  struct oci_call c;
  PARSE(&c, "create", "--no-pivot", "--new-bool-flag", "--bundle", "/b", "cid");
  assert_string_equal(c.id, "cid");
  assert_string_equal(c.bundle, "/b");
  PARSE(&c, "create", "--new-valued=3", "cid");
  assert_string_equal(c.id, "cid");
}

static void exec_kill_delete(void **state)
{
  (void)state;
  struct oci_call c;
  PARSE(&c, "--root", "/r", "exec", "--process", "/tmp/p.json", "--detach", "--pid-file", "/p",
        "cid");
  assert_int_equal(c.sub, OCI_SUB_EXEC);
  assert_string_equal(c.id, "cid");
  assert_true(c.detach);
  assert_string_equal(c.pid_file, "/p");
  /* What follows the id is the command, not ours to read. */
  PARSE(&c, "exec", "-t", "cid", "sh", "-c", "--bundle x");
  assert_string_equal(c.id, "cid");
  assert_null(c.bundle);
  PARSE(&c, "kill", "--all", "cid", "9");
  assert_string_equal(c.id, "cid");
  assert_string_equal(c.signal, "9");
  PARSE(&c, "kill", "cid");
  assert_null(c.signal);
  PARSE(&c, "delete", "--force", "cid");
  assert_true(c.force);
  PARSE(&c, "delete", "-f", "cid");
  assert_true(c.force);
  PARSE(&c, "delete", "cid");
  assert_false(c.force);
}

static void passthrough_shapes(void **state)
{
  (void)state;
  struct oci_call c;
  PARSE(&c, "--version");
  assert_int_equal(c.sub, OCI_SUB_NONE);
  assert_int_equal(c.sub_index, -1);
  PARSE(&c, "--root", "/r", "state", "cid");
  assert_int_equal(c.sub, OCI_SUB_OTHER);
  assert_string_equal(c.sub_name, "state");
  assert_null(c.id); /* not measured: the id is not looked for */
  PARSE(&c, "features");
  assert_int_equal(c.sub, OCI_SUB_OTHER);
  PARSE(&c, "--", "start", "cid");
  assert_int_equal(c.sub, OCI_SUB_START);
  PARSE(&c, "start");
  assert_int_equal(c.sub, OCI_SUB_START);
  assert_null(c.id);
  PARSE(&c, "--log"); /* value missing at the end */
  assert_int_equal(c.sub, OCI_SUB_NONE);
}

static void ids(void **state)
{
  (void)state;
  assert_true(oci_id_valid("b384882a2bd33181e01e0e1d66add8bbefd6103ff349ff5c5c7e98fb8934bdc2"));
  assert_true(oci_id_valid("my_container-1.2+x"));
  assert_false(oci_id_valid(NULL));
  assert_false(oci_id_valid(""));
  assert_false(oci_id_valid("."));
  assert_false(oci_id_valid(".."));
  assert_false(oci_id_valid("a/b"));
  assert_false(oci_id_valid("../etc"));
  assert_false(oci_id_valid("a b"));
  char long_id[300];
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  assert_false(oci_id_valid(long_id));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(docker_create),
      cmocka_unit_test(bundle_spellings),
      cmocka_unit_test(globals_after_subcommand),
      cmocka_unit_test(unknown_global_flags),
      cmocka_unit_test(unknown_subcommand_flags),
      cmocka_unit_test(exec_kill_delete),
      cmocka_unit_test(passthrough_shapes),
      cmocka_unit_test(ids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
