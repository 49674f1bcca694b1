/* The per-container state on its own: creating and adopting a lifecycle, moving a leftover aside,
 * events and the first of a kind, the network summary, claiming (once), the store offset, keeping
 * a record unstored, finishing, and what gc's listing makes of every name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "fileio.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];
static char root[96];

static int setup(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/measured-state-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return -1;
  snprintf(root, sizeof root, "%s/state", tmpdir);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  return remove_tree_at(AT_FDCWD, tmpdir, NULL);
}

static bool exists(int rootfd, const char *name)
{
  return faccessat(rootfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void root_is_private(void **state)
{
  (void)state;
  cleanup_close int fd = state_root_open(root, NULL);
  assert_true(fd >= 0);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  cleanup_free char *p = state_item_path(root, "abc");
  assert_string_equal(p + strlen(root), "/abc");
}

static void create_adopt_and_stale(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  bool stale = true;
  cleanup_close int a = state_create(rootfd, "c1", "owner-1", &stale, NULL);
  assert_true(a >= 0);
  assert_false(stale);
  /* The same owner takes its own directory over (a pre-create step, then the create). */
  cleanup_close int b = state_create(rootfd, "c1", "owner-1", &stale, NULL);
  assert_true(b >= 0);
  assert_false(stale);
  assert_true(state_adopt(rootfd, "c1", "owner-2") < 0);
  /* Anyone else's leftover is moved aside, never reused. */
  cleanup_close int c = state_create(rootfd, "c1", "owner-2", &stale, NULL);
  assert_true(c >= 0);
  assert_true(stale);
  assert_true(exists(rootfd, ".stale-c1-0"));
  cleanup_close int d = state_adopt(rootfd, "c1", "owner-2");
  assert_true(d >= 0);
  merr *err = NULL;
  assert_true(state_open(rootfd, "nope", &err) < 0);
  assert_true(merr_is(err, ENOENT));
  merr_free(err);
}

static void events_and_first_of_a_kind(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "c2", "o", &stale, NULL);
  assert_int_equal(state_first_event_int(dirfd, "create", "pid"), -1); /* no events yet */
  const char *names[] = {"start", "create", "create"};
  for (int i = 0; i < 3; i++) {
    cleanup_json json *ev = state_event(names[i]);
    json_set(ev, "pid", json_new_int(100 + i));
    assert_int_equal(state_append_event(dirfd, ev, NULL), 0);
  }
  /* A line that does not parse is skipped and counted, not fatal. */
  cleanup_close int fd = openat(dirfd, "events", O_WRONLY | O_APPEND);
  assert_int_equal(write(fd, "{broken\n", 8), 8);
  cleanup_json json *events = NULL;
  unsigned bad = 0;
  assert_int_equal(state_read_events(dirfd, &events, &bad, NULL), 0);
  assert_int_equal(events->n, 3);
  assert_int_equal(bad, 1);
  int64_t pid;
  assert_true(json_int64(json_get(state_first_event(events, "create"), "pid"), &pid));
  assert_int_equal(pid, 101);
  assert_null(state_first_event(events, "exit"));
  assert_int_equal(state_first_event_int(dirfd, "create", "pid"), 101);
  assert_int_equal(state_first_event_int(dirfd, "create", "nokey"), -1);
}

static void net_summary_round_trip(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "c3", "o", &stale, NULL);
  json *got = NULL;
  merr *err = NULL;
  assert_false(state_has_net_summary(dirfd));
  assert_true(state_read_net_summary(dirfd, &got, &err) < 0);
  assert_true(merr_is(err, ENOENT));
  merr_free(err);
  cleanup_json json *o = json_new(JSON_OBJECT);
  json_set(o, "interval_ms", json_new_int(1000));
  assert_int_equal(state_write_net_summary(dirfd, o, NULL), 0);
  assert_true(state_has_net_summary(dirfd));
  assert_int_equal(state_read_net_summary(dirfd, &got, NULL), 0);
  int64_t v;
  assert_true(json_int64(json_get(got, "interval_ms"), &v));
  assert_int_equal(v, 1000);
  json_free(got);
}

/* Of several concurrent deletes, exactly one claims the lifecycle. */
static void claim_once(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "c4", "o", &stale, NULL);
  enum { CLAIMERS = 8 };
  pid_t pids[CLAIMERS];
  for (int i = 0; i < CLAIMERS; i++) {
    if ((pids[i] = fork()) == 0) {
      char *name = NULL;
      _exit(state_claim(rootfd, "c4", &name, NULL) >= 0 ? 0 : 1);
    }
  }
  int won = 0;
  for (int i = 0; i < CLAIMERS; i++) {
    int status;
    waitpid(pids[i], &status, 0);
    won += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  assert_int_equal(won, 1);
  assert_false(exists(rootfd, "c4"));
  merr *err = NULL;
  char *name = NULL;
  assert_true(state_claim(rootfd, "c4", &name, &err) < 0);
  assert_true(merr_is(err, ENOENT));
  merr_free(err);
}

static void store_offset_unstored_and_finish(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  bool stale;
  close(state_create(rootfd, "c5", "o", &stale, NULL));
  cleanup_free char *claimed = NULL;
  cleanup_close int dirfd = state_claim(rootfd, "c5", &claimed, NULL);
  assert_true(dirfd >= 0);
  int64_t off = -1;
  assert_true(state_read_store_offset(dirfd, &off) < 0);
  state_note_store_offset(dirfd, 12345);
  assert_int_equal(state_read_store_offset(dirfd, &off), 0);
  assert_int_equal(off, 12345);

  cleanup_json json *rec = json_new(JSON_OBJECT);
  json_set(rec, "id", json_new_string("c5"));
  assert_int_equal(state_keep_unstored(rootfd, dirfd, claimed, "c5", rec, NULL), 0);
  assert_false(exists(rootfd, claimed));
  char unstored[64];
  snprintf(unstored, sizeof unstored, ".unstored-c5-%d", (int)getpid());
  assert_true(exists(rootfd, unstored));
  cleanup_close int ufd = state_open_item(rootfd, unstored, NULL);
  cleanup_json json *back = NULL;
  assert_int_equal(state_read_unstored(ufd, &back, NULL), 0);
  assert_string_equal(json_string(json_get(back, "id")), "c5");

  assert_int_equal(state_finish_recorded(rootfd, unstored, "c5", NULL), 0);
  assert_false(exists(rootfd, unstored));
  char recorded[64];
  snprintf(recorded, sizeof recorded, ".recorded-c5-%d", (int)getpid());
  assert_false(exists(rootfd, recorded));
}

/* What waits for a store that refuses records is bounded. */
static void unstored_records_are_bounded(void **state)
{
  (void)state;
  char dir[128];
  snprintf(dir, sizeof dir, "%s/unstored", tmpdir);
  cleanup_close int rootfd = state_root_open(dir, NULL);
  char name[64];
  for (int i = 0; i < STATE_MAX_UNSTORED; i++) {
    snprintf(name, sizeof name, ".unstored-w%d-1", i);
    assert_int_equal(mkdirat(rootfd, name, 0700), 0);
  }
  bool stale;
  close(state_create(rootfd, "one-more", "o", &stale, NULL));
  cleanup_free char *claimed = NULL;
  cleanup_close int dirfd = state_claim(rootfd, "one-more", &claimed, NULL);
  cleanup_json json *rec = json_new(JSON_OBJECT);
  merr *err = NULL;
  assert_int_equal(state_keep_unstored(rootfd, dirfd, claimed, "one-more", rec, &err), -1);
  assert_true(merr_is(err, ENOSPC));
  merr_free(err);
}

static const struct state_item *find(const struct state_item *items, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(items[i].name, name) == 0)
      return &items[i];
  return NULL;
}

static void listing_names_every_kind(void **state)
{
  (void)state;
  char dir[128];
  snprintf(dir, sizeof dir, "%s/list", tmpdir);
  cleanup_close int rootfd = state_root_open(dir, NULL);
  const char *names[] = {"abc",           ".claimed-abc-12", ".stale-a-b-3",      ".unstored-x-7",
                         ".recorded-y-9", ".cache",          ".claimed-nonumber", ".weird"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    assert_int_equal(mkdirat(rootfd, names[i], 0700), 0);
  assert_int_equal(close(openat(rootfd, ".gc-stamp", O_CREAT | O_WRONLY, 0600)), 0);
  struct state_item *items;
  size_t n;
  assert_int_equal(state_list(rootfd, &items, &n, NULL), 0);
  assert_int_equal(n, 8); /* directories only */
  const struct state_item *it = find(items, n, "abc");
  assert_int_equal(it->kind, STATE_LIVE);
  assert_string_equal(it->id, "abc");
  it = find(items, n, ".claimed-abc-12");
  assert_int_equal(it->kind, STATE_CLAIMED);
  assert_string_equal(it->id, "abc");
  assert_int_equal(it->number, 12);
  it = find(items, n, ".stale-a-b-3"); /* ids may hold dashes: the number is after the last */
  assert_int_equal(it->kind, STATE_STALE);
  assert_string_equal(it->id, "a-b");
  assert_int_equal(it->number, 3);
  assert_int_equal(find(items, n, ".unstored-x-7")->kind, STATE_UNSTORED);
  assert_int_equal(find(items, n, ".recorded-y-9")->kind, STATE_RECORDED);
  assert_int_equal(find(items, n, ".cache")->kind, STATE_OTHER);
  assert_int_equal(find(items, n, ".claimed-nonumber")->kind, STATE_OTHER);
  assert_int_equal(find(items, n, ".weird")->kind, STATE_OTHER);
  state_items_free(items, n);
  assert_true(state_age_s(rootfd, "abc") <= 1);
}

/* Nothing follows a symlink planted where the state expects a file or a directory. */
static void symlinks_are_not_followed(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  char target[128];
  snprintf(target, sizeof target, "%s/target", tmpdir);
  assert_int_equal(mkdir(target, 0700), 0);
  assert_int_equal(symlinkat(target, rootfd, "evil"), 0);
  assert_true(state_open(rootfd, "evil", NULL) < 0);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "c6", "o", &stale, NULL);
  char outside[160];
  snprintf(outside, sizeof outside, "%s/events", target);
  assert_int_equal(symlinkat(outside, dirfd, "events"), 0);
  cleanup_json json *ev = state_event("x");
  assert_true(state_append_event(dirfd, ev, NULL) < 0);
  assert_int_equal(access(outside, F_OK), -1);
}

/* Two runtime roots, two scopes; the same root, the same scope. */
static void scopes_keep_roots_apart(void **state)
{
  (void)state;
  struct state_scope a, b, a2;
  assert_int_equal(state_scope_open(root, "oci\n/usr/bin/runc\n/run/docker", &a, NULL), 0);
  assert_int_equal(state_scope_open(root, "oci\n/usr/bin/runc\n/run/k8s", &b, NULL), 0);
  assert_int_equal(state_scope_open(root, "oci\n/usr/bin/runc\n/run/docker", &a2, NULL), 0);
  assert_string_not_equal(a.path, b.path);
  assert_string_equal(a.path, a2.path);
  assert_int_equal(strncmp(a.path, root, strlen(root)), 0);
  cleanup_free char *key = NULL;
  assert_int_equal(read_file_at(a.fd, "key", 4096, &key, NULL, NULL), 0);
  assert_string_equal(key, "oci\n/usr/bin/runc\n/run/docker");
  bool stale;
  cleanup_close int x = state_create(a.fd, "same", "o1", &stale, NULL);
  cleanup_close int y = state_create(b.fd, "same", "o2", &stale, NULL);
  assert_false(stale); /* another root's lifecycle of the same id is not a leftover */
  struct state_item *items;
  size_t n;
  assert_int_equal(state_list(a.topfd, &items, &n, NULL), 0);
  size_t scopes = 0;
  for (size_t i = 0; i < n; i++)
    scopes += items[i].kind == STATE_SCOPE;
  assert_true(scopes >= 2);
  state_items_free(items, n);
  state_scope_close(&a);
  state_scope_close(&b);
  state_scope_close(&a2);
}

/* A state directory that cannot be had (a rootless caller and root's /run/measured) fails the
 * open and leaves a scope that closes cleanly: it once freed what the stack held. */
static void unopenable_root_leaves_a_closable_scope(void **state)
{
  (void)state;
  char file[128];
  snprintf(file, sizeof file, "%s/a-file", tmpdir);
  assert_int_equal(write_file_replace_at(AT_FDCWD, file, "x", 1, 0600, NULL), 0);
  char under_file[160];
  snprintf(under_file, sizeof under_file, "%s/state", file);
  struct state_scope s;
  memset(&s, 0xa5, sizeof s); /* what an uninitialized stack slot may hold */
  assert_int_equal(state_scope_open(under_file, "oci\n/usr/bin/runc\n", &s, NULL), -1);
  assert_int_equal(s.fd, -1);
  assert_int_equal(s.topfd, -1);
  assert_null(s.path);
  state_scope_close(&s);
}

/* A container that execs in a loop fills its events up to the cap, no further; the events a
 * record needs still fit, and the state says some were refused. */
static void events_are_capped(void **state)
{
  (void)state;
  cleanup_close int rootfd = state_root_open(root, NULL);
  bool stale;
  cleanup_close int dirfd = state_create(rootfd, "loop", "o", &stale, NULL);
  assert_false(state_events_full(dirfd));
  int refused = 0, kept = 0;
  for (int i = 0; i < 20000 && !refused; i++) {
    cleanup_json json *ev = state_event("exec");
    json_set(ev, "pad", json_new_string("0123456789012345678901234567890123456789"));
    merr *err = NULL;
    if (state_append_event(dirfd, ev, &err) < 0) {
      assert_true(merr_is(err, ENOSPC));
      refused++;
    } else {
      kept++;
    }
    merr_free(err);
  }
  assert_int_equal(refused, 1);
  assert_true(kept > 1000);
  struct stat st;
  assert_int_equal(fstatat(dirfd, "events", &st, 0), 0);
  assert_true(st.st_size <= STATE_EVENTS_CAP);
  assert_true(state_events_full(dirfd));
  cleanup_json json *ex = state_event("exit");
  assert_int_equal(state_append_event(dirfd, ex, NULL), 0); /* from the reserve */
  cleanup_json json *events = NULL;
  unsigned bad;
  assert_int_equal(state_read_events(dirfd, &events, &bad, NULL), 0);
  assert_non_null(state_first_event(events, "exit"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(root_is_private),
      cmocka_unit_test(create_adopt_and_stale),
      cmocka_unit_test(events_and_first_of_a_kind),
      cmocka_unit_test(net_summary_round_trip),
      cmocka_unit_test(claim_once),
      cmocka_unit_test(store_offset_unstored_and_finish),
      cmocka_unit_test(listing_names_every_kind),
      cmocka_unit_test(symlinks_are_not_followed),
      cmocka_unit_test(events_are_capped),
      cmocka_unit_test(unstored_records_are_bounded),
      cmocka_unit_test(scopes_keep_roots_apart),
      cmocka_unit_test(unopenable_root_leaves_a_closable_scope),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
