/* measured gc over a state directory made by hand: what it records, stores, keeps and removes,
 * and that the record it writes is the one finish (shared with delete) builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "fileio.h"
#include "gc.h"
#include "state.h"
#include "store.h"
#include "table.h"
#include "xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

struct fixture {
  struct runtime_table *t;
  char store[128];
  int rootfd;
};

static int setup(void **state)
{
  strcpy(tmpdir, "/tmp/measured-gc-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return -1;
  struct fixture *f = xzalloc(sizeof *f);
  snprintf(f->store, sizeof f->store, "%s/samples.jsonl", tmpdir);
  cleanup_free char *doc =
      xasprintf("{\"state_dir\": \"%s/state\", \"store\": \"%s\"}", tmpdir, f->store);
  if (runtime_table_parse(doc, strlen(doc), "test", &f->t, NULL) < 0)
    return -1;
  f->rootfd = state_root_open(f->t->state_dir, NULL);
  *state = f;
  return f->rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  close(f->rootfd);
  runtime_table_free(f->t);
  free(f);
  return remove_tree_at(AT_FDCWD, tmpdir, NULL);
}

/* A lifecycle as create leaves it: a create event with the init's pid (a pid that cannot run),
 * a start and the monitor's exit. */
static void make_lifecycle(const struct fixture *f, const char *name, bool with_create)
{
  assert_int_equal(mkdirat(f->rootfd, name, 0700), 0);
  cleanup_close int dirfd = state_open_item(f->rootfd, name, NULL);
  if (with_create) {
    cleanup_json json *ev = state_event("create");
    json_set(ev, "pid", json_new_int(0x3ffffff0));
    json_set(ev, "dur_us", json_new_int(1000));
    json_set(ev, "rc", json_new_int(0));
    json_set(ev, "ovh_us", json_new_int(10));
    json *rt = json_new(JSON_OBJECT);
    json_set(rt, "name", json_new_string("runc"));
    json_set(ev, "runtime", rt);
    assert_int_equal(state_append_event(dirfd, ev, NULL), 0);
  }
  cleanup_json json *ex = state_event("exit");
  json_set(ex, "code", json_new_int(3));
  assert_int_equal(state_append_event(dirfd, ex, NULL), 0);
}

static size_t store_lines(const char *path)
{
  cleanup_free char *text = NULL;
  size_t len = 0, n = 0;
  if (read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, NULL) < 0)
    return 0;
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  return n;
}

static json *last_record(const char *path)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, NULL), 0);
  text[len - 1] = '\0';
  char *line = strrchr(text, '\n');
  line = line ? line + 1 : text;
  json *rec = NULL;
  assert_int_equal(json_parse(line, strlen(line), NULL, "record", &rec, NULL), 0);
  return rec;
}

static bool exists(const struct fixture *f, const char *name)
{
  return faccessat(f->rootfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void records_what_no_delete_came_for(void **state)
{
  struct fixture *f = *state;
  make_lifecycle(f, "gone", true);
  make_lifecycle(f, ".stale-old-0", true);
  make_lifecycle(f, ".claimed-killed-999999999", true); /* its claiming wrapper is gone */
  make_lifecycle(f, ".stale-empty-1", false);
  struct gc_options o = {.min_age_s = 0};
  struct gc_result r;
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  assert_int_equal(r.recorded, 3);
  assert_int_equal(r.removed, 4);
  assert_int_equal(r.failed, 0);
  assert_int_equal(store_lines(f->store), 3);
  assert_false(exists(f, "gone"));
  assert_false(exists(f, ".stale-empty-1"));
  cleanup_json json *rec = last_record(f->store);
  assert_int_equal(json_get_path(rec, (const char *const[]){"calls", "delete", NULL})->type,
                   JSON_NULL);
  int64_t code;
  assert_true(json_int64(json_get_path(rec, (const char *const[]){"exit", "code", NULL}), &code));
  assert_int_equal(code, 3);
  const json *missed = json_get(rec, "missed");
  bool says_gc = false;
  for (size_t i = 0; i < missed->n; i++)
    says_gc = says_gc || strstr(json_string(missed->items[i]), "recorded by measured gc");
  assert_true(says_gc);
}

static void leaves_the_living_and_the_young_alone(void **state)
{
  struct fixture *f = *state;
  make_lifecycle(f, "young", true);
  assert_int_equal(mkdirat(f->rootfd, "running", 0700), 0);
  cleanup_close int dirfd = state_open_item(f->rootfd, "running", NULL);
  cleanup_json json *ev = state_event("create");
  json_set(ev, "pid", json_new_int(getpid())); /* this process runs */
  assert_int_equal(state_append_event(dirfd, ev, NULL), 0);
  cleanup_free char *claimed = xasprintf(".claimed-busy-%d", (int)getpid()); /* not a wrapper */
  make_lifecycle(f, claimed, true);
  /* A lifecycle moved aside whose container still runs (its id reused under another root,
   * before measured kept roots apart) is never recorded. */
  assert_int_equal(mkdirat(f->rootfd, ".stale-alive-0", 0700), 0);
  cleanup_close int sfd = state_open_item(f->rootfd, ".stale-alive-0", NULL);
  cleanup_json json *sev = state_event("create");
  json_set(sev, "pid", json_new_int(getpid()));
  assert_int_equal(state_append_event(sfd, sev, NULL), 0);
  struct gc_options young = {.min_age_s = 3600};
  struct gc_result r;
  assert_int_equal(gc_run(f->t, &young, &r, NULL), 0);
  assert_true(exists(f, "young"));
  assert_true(exists(f, "running"));
  struct gc_options all = {.min_age_s = 0};
  assert_int_equal(gc_run(f->t, &all, &r, NULL), 0);
  assert_false(exists(f, "young"));
  assert_true(exists(f, "running")); /* its init runs */
  assert_false(exists(f, claimed));  /* that pid is no measured wrapper: its delete died */
  assert_int_equal(r.kept, 2);
}

static void dry_run_changes_nothing(void **state)
{
  struct fixture *f = *state;
  make_lifecycle(f, "dry", true);
  cleanup_free char *path = xasprintf("%s/gc.out", tmpdir);
  FILE *say = fopen(path, "w+");
  struct gc_options o = {.min_age_s = 0, .dry_run = true, .say = say};
  struct gc_result r;
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  fclose(say);
  assert_int_equal(r.recorded, 1);
  assert_true(exists(f, "dry"));
  assert_int_equal(store_lines(f->store), 0);
  cleanup_free char *out = NULL;
  assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &out, NULL, NULL), 0);
  assert_non_null(strstr(out, "(dry run) dry: its container is gone"));
}

/* A delete killed between its append and its rename: the record is in the store after the
 * offset it noted; gc removes the state and does not store it again. */
static void recreate(const struct fixture *f, const char *name, const char *events, size_t len,
                     int64_t offset)
{
  assert_int_equal(mkdirat(f->rootfd, name, 0700), 0);
  cleanup_close int dirfd = state_open_item(f->rootfd, name, NULL);
  assert_int_equal(write_file_replace_at(dirfd, "events", events, len, 0600, NULL), 0);
  state_note_store_offset(dirfd, offset);
}

static void never_stores_twice(void **state)
{
  struct fixture *f = *state;
  const char *name = ".claimed-twice-999999998";
  make_lifecycle(f, name, true);
  cleanup_free char *events = NULL;
  size_t len;
  cleanup_close int dirfd = state_open_item(f->rootfd, name, NULL);
  assert_int_equal(read_file_at(dirfd, "events", 1 << 20, &events, &len, NULL), 0);
  struct gc_options o = {.min_age_s = 0};
  struct gc_result r;
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0); /* as if its delete had appended it */
  assert_int_equal(store_lines(f->store), 1);
  recreate(f, name, events, len, 0); /* the delete noted offset 0, then died before its rename */
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  assert_int_equal(store_lines(f->store), 1);
  assert_int_equal(r.recorded, 0);
  assert_false(exists(f, name));
  /* The same lifecycle with an offset past that line was not stored by its delete: it is. */
  int64_t size;
  assert_int_equal(store_size(f->store, &size, NULL), 0);
  recreate(f, name, events, len, size);
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  assert_int_equal(store_lines(f->store), 2);
  assert_int_equal(r.recorded, 1);
}

static void stores_waiting_records_and_keeps_what_it_cannot_store(void **state)
{
  struct fixture *f = *state;
  /* A store gc cannot write: the record waits as .unstored-*, nothing is lost. */
  struct runtime_table *bad = NULL;
  cleanup_free char *doc = xasprintf(
      "{\"state_dir\": \"%s\", \"store\": \"/proc/no-such-dir/s.jsonl\"}", f->t->state_dir);
  assert_int_equal(runtime_table_parse(doc, strlen(doc), "bad", &bad, NULL), 0);
  make_lifecycle(f, "nowhere", true);
  struct gc_options o = {.min_age_s = 0};
  struct gc_result r;
  assert_int_equal(gc_run(bad, &o, &r, NULL), 0);
  assert_int_equal(r.failed, 1);
  assert_false(exists(f, "nowhere"));
  cleanup_free char *waiting = xasprintf(".unstored-nowhere-%d", (int)getpid());
  assert_true(exists(f, waiting));
  runtime_table_free(bad);
  /* With a store that works, the next gc stores it and removes it. */
  size_t before = store_lines(f->store);
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  assert_int_equal(r.stored, 1);
  assert_false(exists(f, waiting));
  assert_int_equal(store_lines(f->store), before + 1);
}

static void bounded_by_max_items(void **state)
{
  struct fixture *f = *state;
  char name[32];
  for (int i = 0; i < 5; i++) {
    snprintf(name, sizeof name, "many%d", i);
    make_lifecycle(f, name, true);
  }
  struct gc_options o = {.min_age_s = 0, .max_items = 2};
  struct gc_result r;
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  assert_int_equal(r.recorded, 2);
  o.max_items = 0;
  assert_int_equal(gc_run(f->t, &o, &r, NULL), 0);
  assert_int_equal(r.recorded, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(records_what_no_delete_came_for, setup, teardown),
      cmocka_unit_test_setup_teardown(leaves_the_living_and_the_young_alone, setup, teardown),
      cmocka_unit_test_setup_teardown(dry_run_changes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(never_stores_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(stores_waiting_records_and_keeps_what_it_cannot_store, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(bounded_by_max_items, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
