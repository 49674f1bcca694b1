/* daemon.json editing: keeps every key it does not own, is idempotent, refuses what it must not
 * touch; and the file layer leaves a malformed file untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "daemon_file.h"
#include "daemon_json.h"
#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static json *parse(const char *text)
{
  json *j = NULL;
  assert_int_equal(json_parse(text, strlen(text), NULL, "daemon.json", &j, NULL), 0);
  return j;
}

static char *dump(const json *j)
{
  char *s = NULL;
  assert_int_equal(json_serialize(j, false, &s, NULL, NULL), 0);
  return s;
}

static const char *user_config =
    "{\"log-driver\":\"json-file\",\"log-opts\":{\"max-size\":\"10m\"},"
    "\"runtimes\":{\"nvidia\":{\"path\":\"/usr/bin/nvidia-container-runtime\","
    "\"runtimeArgs\":[]}},\"mtu\":1450.0,\"features\":{\"buildkit\":true}}";

static void add_keeps_unknown_keys(void **state)
{
  (void)state;
  json *doc = parse(user_config);
  bool changed = false;
  assert_int_equal(
      daemon_json_add_runtime(doc, "measured-runc", "/usr/local/bin/measured-runc", &changed, NULL),
      0);
  assert_true(changed);
  char *out = dump(doc);
  assert_string_equal(out,
                      "{\"log-driver\":\"json-file\",\"log-opts\":{\"max-size\":\"10m\"},"
                      "\"runtimes\":{\"nvidia\":{\"path\":\"/usr/bin/nvidia-container-runtime\","
                      "\"runtimeArgs\":[]},\"measured-runc\":{\"path\":\"/usr/local/bin/"
                      "measured-runc\"}},\"mtu\":1450.0,\"features\":{\"buildkit\":true}}");
  free(out);
  json_free(doc);
}

static void add_is_idempotent(void **state)
{
  (void)state;
  json *doc = parse("{}");
  bool changed = false;
  daemon_json_add_runtime(doc, "measured-runc", "/x/measured-runc", &changed, NULL);
  char *first = dump(doc);
  changed = false;
  assert_int_equal(
      daemon_json_add_runtime(doc, "measured-runc", "/x/measured-runc", &changed, NULL), 0);
  assert_false(changed);
  char *second = dump(doc);
  assert_string_equal(first, second);
  /* A moved binary updates the path only. */
  assert_int_equal(
      daemon_json_add_runtime(doc, "measured-runc", "/y/measured-runc", &changed, NULL), 0);
  assert_true(changed);
  free(first);
  free(second);
  json_free(doc);
}

static void default_runtime(void **state)
{
  (void)state;
  json *doc = parse("{\"default-runtime\":\"runc\"}");
  bool changed = false;
  daemon_json_add_runtime(doc, "measured-runc", "/x/measured-runc", &changed, NULL);
  daemon_json_set_default(doc, "measured-runc", &changed, NULL);
  assert_string_equal(json_string(json_get(doc, "default-runtime")), "measured-runc");
  changed = false;
  assert_int_equal(daemon_json_remove_runtime(doc, "measured-runc", &changed, NULL), 0);
  assert_true(changed);
  assert_null(json_get(doc, "default-runtime")); /* back to the engine's own default */
  char *out = dump(doc);
  assert_string_equal(out, "{\"runtimes\":{}}");
  free(out);
  json_free(doc);
}

static void remove_only_own(void **state)
{
  (void)state;
  json *doc = parse("{\"runtimes\":{\"measured-foo\":{\"path\":\"/opt/other-tool\"},"
                    "\"measured-runc\":{\"path\":\"/usr/local/bin/measured-runc\"},"
                    "\"runsc\":{\"path\":\"/usr/bin/runsc\"}},\"default-runtime\":\"runsc\"}");
  bool changed = false;
  merr *err = NULL;
  assert_int_equal(daemon_json_remove_runtime(doc, "measured-foo", &changed, &err), -1);
  assert_non_null(strstr(err->msg, "not written by measured"));
  merr_free(err);
  assert_false(changed);
  assert_int_equal(daemon_json_remove_runtime(doc, "measured-runc", &changed, NULL), 0);
  assert_int_equal(daemon_json_remove_runtime(doc, "measured-absent", &changed, NULL), 0);
  char *out = dump(doc);
  assert_string_equal(out,
                      "{\"runtimes\":{\"measured-foo\":{\"path\":\"/opt/other-tool\"},"
                      "\"runsc\":{\"path\":\"/usr/bin/runsc\"}},\"default-runtime\":\"runsc\"}");
  free(out);
  json_free(doc);
}

static void refuses_wrong_shapes(void **state)
{
  (void)state;
  const char *bad[] = {"[]", "{\"runtimes\":[]}", "{\"runtimes\":{\"measured-runc\":\"x\"}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json *doc = parse(bad[i]);
    bool changed = false;
    merr *err = NULL;
    assert_int_equal(
        daemon_json_add_runtime(doc, "measured-runc", "/x/measured-runc", &changed, &err), -1);
    assert_false(changed);
    merr_free(err);
    json_free(doc);
  }
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/measured-test-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
  (void)state;
  return remove_tree_at(AT_FDCWD, tmpdir, NULL);
}

static void shim_form(void **state)
{
  (void)state;
  json *doc = parse("{\"runtimes\":{\"measured-kata\":{\"path\":\"/usr/local/bin/measured-kata\","
                    "\"runtimeArgs\":[\"--x\"]}}}");
  bool changed = false;
  assert_int_equal(daemon_json_add_shim_runtime(doc, "measured-kata",
                                                "io.containerd.measured-kata.v2", &changed, NULL),
                   0);
  assert_true(changed);
  char *out = dump(doc);
  assert_string_equal(out, "{\"runtimes\":{\"measured-kata\":{\"runtimeType\":"
                           "\"io.containerd.measured-kata.v2\"}}}"); /* the path form is gone */
  free(out);
  changed = false;
  assert_int_equal(daemon_json_add_shim_runtime(doc, "measured-kata",
                                                "io.containerd.measured-kata.v2", &changed, NULL),
                   0);
  assert_false(changed);
  const json *e = json_get(daemon_json_runtimes(doc), "measured-kata");
  assert_true(daemon_json_is_own("measured-kata", e));
  json *other = parse("{\"runtimeType\":\"io.containerd.measured-runc.v2\"}");
  assert_true(daemon_json_is_own("measured-runc-v2", other));
  assert_false(daemon_json_is_own("measured-kata", other)); /* names another runtime */
  assert_false(daemon_json_is_own("measured-runc-v3", other));
  json *foreign = parse("{\"runtimeType\":\"io.containerd.kata.v2\"}");
  assert_false(daemon_json_is_own("measured-kata", foreign));
  json *both =
      parse("{\"path\":\"/x/measured-kata\",\"runtimeType\":\"io.containerd.measured-kata.v2\"}");
  assert_false(daemon_json_is_own("measured-kata", both));
  json_free(both);
  json_free(foreign);
  json_free(other);
  json_free(doc);
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static int count_backups(void)
{
  DIR *d = opendir(tmpdir);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    n += strstr(de->d_name, ".measured-backup-") != NULL;
  closedir(d);
  return n;
}

static void file_malformed_is_refused(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/malformed.json", tmpdir);
  write_text(path, "{\n  \"a\": 1,\n  oops\n}\n");
  struct daemon_file f;
  merr *err = NULL;
  assert_int_equal(daemon_file_load(path, &f, &err), -1);
  assert_non_null(strstr(err->msg, "line 3, column 3"));
  assert_non_null(strstr(err->msg, path));
  merr_free(err);
  daemon_file_clear(&f);
}

static void file_save_backs_up_atomically(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/daemon.json", tmpdir);
  const char *original = "{\"debug\": true}\n";
  write_text(path, original);
  chmod(path, 0600);
  struct daemon_file f;
  assert_int_equal(daemon_file_load(path, &f, NULL), 0);
  bool changed = false;
  daemon_json_add_runtime(f.doc, "measured-runc", "/x/measured-runc", &changed, NULL);
  char *backup = NULL;
  assert_int_equal(daemon_file_save(&f, &backup, NULL), 0);
  assert_non_null(backup);
  assert_int_equal(count_backups(), 1);
  /* The backup holds the old bytes exactly; the new file keeps the old mode. */
  char buf[256] = "";
  FILE *b = fopen(backup, "r");
  size_t n = fread(buf, 1, sizeof buf - 1, b);
  fclose(b);
  buf[n] = '\0';
  assert_string_equal(buf, original);
  struct stat st;
  stat(path, &st);
  assert_int_equal(st.st_mode & 0777, 0600);
  daemon_file_clear(&f); /* the edit's lock goes with it */
  struct daemon_file again;
  assert_int_equal(daemon_file_load(path, &again, NULL), 0);
  assert_non_null(json_get(json_get(again.doc, "runtimes"), "measured-runc"));
  daemon_file_clear(&again);
  free(backup);
}

static void file_missing_and_empty(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/absent.json", tmpdir);
  struct daemon_file f;
  assert_int_equal(daemon_file_load(path, &f, NULL), 0);
  assert_false(f.existed);
  assert_int_equal(f.doc->n, 0);
  daemon_file_clear(&f);
  snprintf(path, sizeof path, "%s/empty.json", tmpdir);
  write_text(path, " \n");
  assert_int_equal(daemon_file_load(path, &f, NULL), 0);
  assert_true(f.existed);
  daemon_file_clear(&f);
}

/* Owner, group and extended attributes of the file are kept; a symlink leads to the file that is
 * edited (the link stays a link); two edits at once are one after the other, none lost. */
static void edits_keep_the_file_and_take_turns(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip(); /* chown to another user needs root */
  char dir[128], real[160], link_path[160];
  snprintf(dir, sizeof dir, "%s/etc", tmpdir);
  mkdir(dir, 0755);
  snprintf(real, sizeof real, "%s/real.json", dir);
  snprintf(link_path, sizeof link_path, "%s/linked-daemon.json", tmpdir);
  write_text(real, "{}\n");
  assert_int_equal(chown(real, 1234, 5678), 0);
  bool xattrs = setxattr(real, "user.measured-test", "kept", 4, 0) == 0;
  assert_int_equal(symlink(real, link_path), 0);

  enum { EDITORS = 6 };
  for (int i = 0; i < EDITORS; i++) {
    if (fork() == 0) {
      struct daemon_file f;
      if (daemon_file_load(link_path, &f, NULL) < 0)
        _exit(1);
      char key[32], path[64];
      snprintf(key, sizeof key, "measured-r%d", i);
      snprintf(path, sizeof path, "/x/measured-r%d", i);
      bool changed = false;
      daemon_json_add_runtime(f.doc, key, path, &changed, NULL);
      usleep(20 * 1000); /* hold the file a while: a lost update would show */
      char *backup = NULL;
      int r = daemon_file_save(&f, &backup, NULL);
      daemon_file_clear(&f);
      free(backup);
      _exit(r < 0 ? 1 : 0);
    }
  }
  for (int i = 0; i < EDITORS; i++) {
    int status;
    wait(&status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  struct stat st;
  assert_int_equal(lstat(link_path, &st), 0);
  assert_true(S_ISLNK(st.st_mode)); /* the link is still a link */
  assert_int_equal(stat(real, &st), 0);
  assert_int_equal(st.st_uid, 1234);
  assert_int_equal(st.st_gid, 5678);
  if (xattrs) {
    char value[16] = "";
    assert_int_equal(getxattr(real, "user.measured-test", value, sizeof value), 4);
    assert_memory_equal(value, "kept", 4);
  }
  struct daemon_file f;
  assert_int_equal(daemon_file_load(link_path, &f, NULL), 0);
  assert_int_equal(json_get(f.doc, "runtimes")->n, EDITORS); /* every edit is there */
  daemon_file_clear(&f);
  /* A link that leads nowhere is refused, naming its target. */
  unlink(link_path);
  assert_int_equal(symlink("/nonexistent/daemon.json", link_path), 0);
  merr *err = NULL;
  assert_int_equal(daemon_file_load(link_path, &f, &err), -1);
  assert_non_null(strstr(merr_msg(err), "/nonexistent/daemon.json"));
  merr_free(err);
  daemon_file_clear(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(add_keeps_unknown_keys),
      cmocka_unit_test(add_is_idempotent),
      cmocka_unit_test(default_runtime),
      cmocka_unit_test(remove_only_own),
      cmocka_unit_test(refuses_wrong_shapes),
      cmocka_unit_test(shim_form),
      cmocka_unit_test(file_malformed_is_refused),
      cmocka_unit_test(file_save_backs_up_atomically),
      cmocka_unit_test(file_missing_and_empty),
      cmocka_unit_test(edits_keep_the_file_and_take_turns),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
