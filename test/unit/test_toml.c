/* The TOML reader against valid and invalid documents, and the config.toml "imports" edits:
 * every other byte kept, idempotent, malformed input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "containerd_config.h"
#include "toml.h"

#include <stdio.h>
#include <string.h>

static const char debian_default[] =
    "version = 2\n\n[plugins]\n  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
    "    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n      bin_dir = \"/usr/lib/cni\"\n"
    "      conf_dir = \"/etc/cni/net.d\"\n  [plugins.\"io.containerd.internal.v1.opt\"]\n"
    "    path = \"/var/lib/containerd/opt\"\n";

static bool valid(const char *text)
{
  struct toml_doc doc;
  merr *err = NULL;
  int r = toml_parse(text, strlen(text), "t", &doc, &err);
  if (r < 0) {
    print_message("refused: %s\n", merr_msg(err));
    merr_free(err);
    return false;
  }
  toml_doc_clear(&doc);
  return true;
}

static void accepts_toml(void **state)
{
  (void)state;
  const char *docs[] = {
      debian_default,
      "",
      "# only a comment\r\n\r\n",
      "\xef\xbb\xbf"
      "a = 1\n",
      "a = \"x\\t\\\"\\u00e9\\U0001F600\" # c\nb = 'C:\\\\raw'\nc = \"\"\"\nl1\nl2 \\\n   "
      "l2b\"\"\"\n"
      "d = '''\nraw ''x'' '''\ne = \"\"\"q\"\"\"\"\"\nf = ''''two'''''\n",
      "i = [+99, 42, 0, -17, 1_000, 0xDEAD_beef, 0o755, 0b1101]\n",
      "f = [+1.0, 3.1415, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, inf, -inf, nan, "
      "+nan]\n",
      "d = [1979-05-27T07:32:00Z, 1979-05-27T00:32:00-07:00, 1979-05-27 07:32:00.999, 1979-05-27, "
      "07:32:00, 00:32:00.5]\n",
      "b = [true, false]\n",
      "a = [\n  1, # one\n  2,\n\n  # comment\n]\nm = [[1, 2], [\"a\", 'b'], [1.5]]\n",
      "t = {x = 1, y.z = \"a\", \"q k\" = {}}\ne = {}\n",
      "site.\"google.com\" = true\n3.14159 = \"pi\"\n\"\" = 'empty'\n",
      "[a.b]\nc = 1\n[a]\nd = 2\n",
      "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = "
      "\"red\"\n[[fruits.varieties]]\nname = "
      "\"r\"\n[[fruits]]\nname = \"banana\"\n[fruits.physical]\ncolor = \"yellow\"\n",
      "[ a . \"b c\" ]  # spaced\nk = 1\n",
      "name.first = 'T'\nname.last = 'P'\n",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    if (!valid(docs[i]))
      fail_msg("document %zu should be valid: %s", i, docs[i]);
}

static void refuses_bad_toml(void **state)
{
  (void)state;
  const char *docs[] = {
      "a = 1\na = 2\n",         /* a key twice */
      "[a]\n[a]\n",             /* a table twice */
      "a.b = 1\n[a]\n",         /* dotted keys made a, a header cannot reopen it */
      "a = 1\n[a.b]\n",         /* a is a value */
      "a = {x = 1}\na.y = 2\n", /* inline tables are closed */
      "[a]\nb = 1\n[a.b]\n",    /* b is a value */
      "[[a]]\n[a]\n",           /* an array of tables, then a table */
      "a = \"\\x41\"\n",        /* bad escape */
      "a = \"open\n",           /* unterminated */
      "a = \"tab\x01\"\n",      /* control character */
      "a = \"\xc3\x28\"\n",     /* invalid UTF-8 */
      "a = \"\\uD800\"\n",      /* a surrogate */
      "a = 01\n",
      "a = 1__0\n",
      "a = _1\n",
      "a = 1_\n",
      "a = +0x10\n",
      "a = 1.\n",
      "a = .5\n",
      "a = 1e\n",
      "a = 0xG\n",
      "a = nan2\n",
      "a = tru\n",
      "a = 2026-13-01\n",
      "a = 25:00:00\n",
      "a = 1979-05-27T07:32\n",
      "a = 1 b = 2\n",         /* two keys on a line */
      "a =\n",                 /* no value */
      "a = {x = 1,}\n",        /* trailing comma in an inline table */
      "a = {x = 1\n}\n",       /* a newline in an inline table */
      "a = {x = 1, x = 2}\n",  /* a key twice in an inline table */
      "a = [1 2]\n",           /* no comma */
      "[a\nb = 1\n",           /* unclosed header */
      "[[a]\n",                /* unclosed array-of-tables header */
      "= 1\n",                 /* no key */
      "a.\"\"\"b\"\"\" = 1\n", /* a multi-line string as a key */
      "# bell \x07\n",         /* a control character in a comment */
      "a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    struct toml_doc doc;
    merr *err = NULL;
    if (toml_parse(docs[i], strlen(docs[i]), "t", &doc, &err) == 0)
      fail_msg("document %zu should be refused: %s", i, docs[i]);
    merr_free(err);
  }
}

static void errors_say_where(void **state)
{
  (void)state;
  struct toml_doc doc;
  merr *err = NULL;
  const char *text = "a = 1\n[t]\nb = \"x\\q\"\n";
  assert_int_equal(toml_parse(text, strlen(text), "/etc/containerd/config.toml", &doc, &err), -1);
  assert_non_null(strstr(merr_msg(err), "/etc/containerd/config.toml: line 3, column 8"));
  merr_free(err);
}

static void root_keys_and_end(void **state)
{
  (void)state;
  struct toml_doc doc;
  const char *text = "version = 2\nimports = [ \"/a\" , '/b' ]\n\n[plugins]\nx = 1\n";
  assert_int_equal(toml_parse(text, strlen(text), "t", &doc, NULL), 0);
  assert_int_equal(doc.nkeys, 3);
  assert_true(doc.keys[1].in_root);
  assert_false(doc.keys[2].in_root);
  assert_int_equal(doc.root_end, strlen("version = 2\nimports = [ \"/a\" , '/b' ]\n\n"));
  const struct toml_root_key *k = toml_root_find(&doc, "imports");
  assert_non_null(k);
  assert_true(k->is_string_array);
  assert_int_equal(k->nstrings, 2);
  assert_string_equal(k->strings[1], "/b");
  assert_null(toml_root_find(&doc, "x"));
  assert_null(toml_root_find(&doc, "plugins.x"));
  assert_non_null(toml_find(&doc, "plugins.x"));
  toml_doc_clear(&doc);
}

/* Keys of every table by their whole path, however the document spells them (podman's
 * containers.conf is read this way); inline tables' keys are their value's, not kept. */
static void keys_by_path(void **state)
{
  (void)state;
  struct toml_doc doc;
  const char *text = "[engine]\nruntime = \"crun\"\n"
                     "[engine.runtimes]\nmeasured-runc = [\"/usr/local/bin/measured-runc\"]\n"
                     "[network]\ncni.dir = \"/x\"\n[containers]\nlabel = { a = 1 }\n";
  assert_int_equal(toml_parse(text, strlen(text), "t", &doc, NULL), 0);
  const struct toml_root_key *k = toml_find(&doc, "engine.runtimes.measured-runc");
  assert_non_null(k);
  assert_true(k->is_string_array);
  assert_string_equal(k->strings[0], "/usr/local/bin/measured-runc");
  assert_non_null(toml_find(&doc, "network.cni.dir"));
  assert_string_equal(toml_find(&doc, "engine.runtime")->string, "crun");
  assert_non_null(toml_find(&doc, "containers.label"));
  assert_null(toml_find(&doc, "containers.label.a"));
  assert_null(toml_root_find(&doc, "engine.runtime"));
  toml_doc_clear(&doc);
}

static char *add(const char *text, const char *path, bool *changed)
{
  char *out = NULL;
  *changed = false;
  assert_int_equal(
      containerd_add_import(text, text ? strlen(text) : 0, "t", path, &out, changed, NULL), 0);
  return out;
}

static char *rm(const char *text, const char *path, bool *changed)
{
  char *out = NULL;
  *changed = false;
  assert_int_equal(containerd_remove_import(text, strlen(text), "t", path, &out, changed, NULL), 0);
  return out;
}

static void imports_added_and_removed(void **state)
{
  (void)state;
  bool changed;
  cleanup_free char *fresh = add(NULL, "/etc/containerd/m.toml", &changed);
  assert_true(changed);
  assert_string_equal(fresh, "version = 2\nimports = [\"/etc/containerd/m.toml\"]\n");
  assert_true(valid(fresh));

  cleanup_free char *a = add(debian_default, "/m.toml", &changed);
  assert_true(changed);
  assert_string_equal(
      a, "version = 2\nimports = [\"/m.toml\"]\n\n[plugins]\n  "
         "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
         "    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n      bin_dir = \"/usr/lib/cni\"\n"
         "      conf_dir = \"/etc/cni/net.d\"\n  [plugins.\"io.containerd.internal.v1.opt\"]\n"
         "    path = \"/var/lib/containerd/opt\"\n");
  cleanup_free char *again = add(a, "/m.toml", &changed);
  assert_false(changed);
  assert_string_equal(again, a);
  cleanup_free char *back = rm(a, "/m.toml", &changed);
  assert_true(changed);
  assert_string_equal(back, debian_default);

  const char *multi = "imports = [\n  \"/x.toml\", # theirs\n]\n[t]\n";
  cleanup_free char *m = add(multi, "/m.toml", &changed);
  assert_string_equal(m, "imports = [\n  \"/x.toml\", \"/m.toml\", # theirs\n]\n[t]\n");
  assert_true(valid(m));
  cleanup_free char *m2 = rm(m, "/m.toml", &changed);
  assert_string_equal(m2, multi);
  cleanup_free char *first = add("imports = ['/m.toml', '/y']\n", "/m.toml", &changed);
  cleanup_free char *first_rm = rm(first, "/m.toml", &changed);
  assert_string_equal(first_rm, "imports = ['/y']\n");
  cleanup_free char *empty = add("imports = []\n", "/m.toml", &changed);
  assert_string_equal(empty, "imports = [\"/m.toml\"]\n");
  cleanup_free char *noroot = add("[t]\nx = 1\n", "/m.toml", &changed);
  assert_string_equal(noroot, "imports = [\"/m.toml\"]\n[t]\nx = 1\n");
  assert_true(valid(noroot));
}

static void bad_configs_refused(void **state)
{
  (void)state;
  const char *bad[] = {"imports = \"/x\"\n", "imports = [1]\n", "version = 2\n[t\n"};
  for (size_t i = 0; i < 3; i++) {
    char *out = NULL;
    bool changed = false;
    merr *err = NULL;
    assert_int_equal(containerd_add_import(bad[i], strlen(bad[i]), "t", "/m", &out, &changed, &err),
                     -1);
    assert_null(out);
    merr_free(err);
  }
}

static void dropin_is_valid_toml(void **state)
{
  (void)state;
  struct containerd_runtime rt[] = {{"measured-runc", "io.containerd.measured-runc.v2"},
                                    {"measured-kata", "io.containerd.measured-kata.v2"}};
  cleanup_free char *text = containerd_dropin_text(rt, 2);
  assert_true(valid(text));
  assert_non_null(
      strstr(text, "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.\"measured-kata\"]\n"
                   "  runtime_type = \"io.containerd.measured-kata.v2\"\n"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepts_toml),        cmocka_unit_test(refuses_bad_toml),
      cmocka_unit_test(errors_say_where),    cmocka_unit_test(root_keys_and_end),
      cmocka_unit_test(keys_by_path),        cmocka_unit_test(imports_added_and_removed),
      cmocka_unit_test(bad_configs_refused), cmocka_unit_test(dropin_is_valid_toml),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
