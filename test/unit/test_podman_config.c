/* podman's configuration: the drop-in's text (podman's lists extended to the measured runtimes
 * of the runtimes they name), the lists as the files read before it leave them, and reading the
 * registrations back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "fileio.h"
#include "podman_config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void dropin_extends_the_lists(void **state)
{
  (void)state;
  struct podman_strings lists[PODMAN_NLISTS] = {0};
  char *files[] = {NULL};
  assert_int_equal(podman_effective_lists(files, 0, lists, NULL), 0); /* podman's defaults */
  struct podman_runtime rt[] = {{"runc", "runc", "/usr/local/bin/measured-runc"},
                                {"crun", "crun", "/opt/m \"x\"/measured-crun"},
                                {"kata", "kata-runtime", "/usr/local/bin/measured-kata"}};
  char *text = podman_dropin_text(rt, 3, lists, "measured-crun");
  assert_non_null(strstr(text, "[engine]\nruntime = \"measured-crun\"\n"));
  assert_non_null(strstr(text, "runtime_supports_json = [\"crun\", \"runc\", \"kata\", \"runsc\", "
                               "\"krun\", \"measured-runc\", \"measured-crun\", "
                               "\"measured-kata\"]\n"));
  assert_non_null(strstr(text, "runtime_supports_kvm = [\"kata\", \"krun\", \"measured-kata\"]\n"));
  assert_non_null(
      strstr(text, "runtime_supports_nocgroups = [\"crun\", \"krun\", \"measured-crun\"]\n"));
  assert_non_null(strstr(text, "measured-crun = [\"/opt/m \\\"x\\\"/measured-crun\"]\n"));
  struct podman_registered *reg;
  size_t n;
  char *def;
  assert_int_equal(podman_read_registrations(text, strlen(text), "t", &reg, &n, &def, NULL), 0);
  assert_int_equal(n, 3);
  assert_string_equal(reg[1].key, "measured-crun");
  assert_string_equal(reg[1].path, "/opt/m \"x\"/measured-crun"); /* quoting round-trips */
  assert_string_equal(def, "measured-crun");
  podman_registered_free(reg, n);
  free(def);
  free(text);
  for (int l = 0; l < PODMAN_NLISTS; l++)
    podman_strings_clear(&lists[l]);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
  char *path = NULL;
  assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
  assert_int_equal(write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0644, NULL), 0);
  return path;
}

/* The last file that sets an array wins, whole; one that is not TOML is refused. */
static void lists_follow_podman_order(void **state)
{
  (void)state;
  char dir[] = "/tmp/measured-podman-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char *files[3] = {
      write_tmp(dir, "a.conf", "[engine]\nruntime_supports_json = [\"runc\", \"x\"]\n"),
      write_tmp(dir, "b.conf", "[engine.runtimes]\nx = [\"/x\"]\n"),
      write_tmp(dir, "c.conf", "[engine]\nruntime_supports_kvm = []\n")};
  struct podman_strings lists[PODMAN_NLISTS] = {0};
  assert_int_equal(podman_effective_lists(files, 3, lists, NULL), 0);
  assert_int_equal(lists[PODMAN_JSON].n, 2);
  assert_string_equal(lists[PODMAN_JSON].item[1], "x");
  assert_int_equal(lists[PODMAN_KVM].n, 0);
  assert_int_equal(lists[PODMAN_NOCGROUPS].n, 2); /* the default: crun, krun */
  for (int l = 0; l < PODMAN_NLISTS; l++)
    podman_strings_clear(&lists[l]);
  char *bad = write_tmp(dir, "d.conf", "[engine]\nruntime_supports_json = \"runc\"\n");
  char *with_bad[] = {files[0], bad};
  merr *err = NULL;
  assert_int_equal(podman_effective_lists(with_bad, 2, lists, &err), -1);
  assert_non_null(strstr(merr_msg(err), "not an array of strings"));
  merr_free(err);
  for (int l = 0; l < PODMAN_NLISTS; l++)
    podman_strings_clear(&lists[l]);
  for (int i = 0; i < 3; i++) {
    unlink(files[i]);
    free(files[i]);
  }
  unlink(bad);
  free(bad);
  rmdir(dir);
}

/* Only measured's own registrations are read; another [engine] runtime is not measured's. */
static void registrations_are_measureds_only(void **state)
{
  (void)state;
  const char *text = "[engine]\nruntime = \"crun\"\n[engine.runtimes]\n"
                     "crun = [\"/usr/bin/crun\"]\nmeasured-runc = []\n";
  struct podman_registered *reg;
  size_t n;
  char *def;
  assert_int_equal(podman_read_registrations(text, strlen(text), "t", &reg, &n, &def, NULL), 0);
  assert_int_equal(n, 1);
  assert_null(reg[0].path); /* it lists no path */
  assert_null(def);
  podman_registered_free(reg, n);
  assert_int_equal(podman_read_registrations("[engine", 7, "t", &reg, &n, &def, NULL), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dropin_extends_the_lists),
      cmocka_unit_test(lists_follow_podman_order),
      cmocka_unit_test(registrations_are_measureds_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
