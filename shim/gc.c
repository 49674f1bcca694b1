#include "gc.h"
#include "cleanup.h"
#include "clock.h"
#include "collect.h"
#include "fileio.h"
#include "hostctx.h"
#include "monitor.h"
#include "probe_inject.h"
#include "record.h"
#include "state.h"
#include "store.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAMP ".gc-stamp"

enum item_kind { ITEM_LIVE, ITEM_CLAIMED, ITEM_STALE, ITEM_UNSTORED, ITEM_RECORDED, ITEM_OTHER };

struct gc {
  const struct runtime_table *t;
  const struct gc_options *o;
  struct gc_result *r;
  int rootfd;
  unsigned done;
};

static void say(const struct gc *g, const char *name, const char *what)
{
  if (g->o->say)
    fprintf(g->o->say, "%s%s: %s\n", g->o->dry_run ? "(dry run) " : "", name, what);
}

static const struct {
  const char *prefix;
  enum item_kind kind;
} kinds[] = {{STATE_CLAIMED_PREFIX, ITEM_CLAIMED},
             {STATE_STALE_PREFIX, ITEM_STALE},
             {STATE_UNSTORED_PREFIX, ITEM_UNSTORED},
             {STATE_RECORDED_PREFIX, ITEM_RECORDED}};

/* What an entry of the state directory is, and the length of its name's prefix. */
static enum item_kind kind_of(const char *name, size_t *prefix_len)
{
  *prefix_len = 0;
  if (name[0] != '.')
    return ITEM_LIVE;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    *prefix_len = strlen(kinds[i].prefix);
    if (strncmp(name, kinds[i].prefix, *prefix_len) == 0)
      return kinds[i].kind;
  }
  return ITEM_OTHER; /* .cache, the stamp, anything else: not gc's */
}

/* <prefix><id>-<number>: the id, and the number. */
static char *split_suffix(const char *name, size_t prefix_len, long *number)
{
  const char *dash = strrchr(name, '-');
  if (dash == NULL || dash <= name + prefix_len)
    return NULL;
  char *end;
  *number = strtol(dash + 1, &end, 10);
  if (*end || end == dash + 1)
    return NULL;
  return xstrndup(name + prefix_len, (size_t)(dash - name - prefix_len));
}

/* The newest change in the directory: its own mtime or its events file's. */
static int64_t age_s(int rootfd, const char *name)
{
  struct stat st, ev;
  if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  time_t newest = st.st_mtime;
  cleanup_free char *events = xasprintf("%s/events", name);
  if (fstatat(rootfd, events, &ev, AT_SYMLINK_NOFOLLOW) == 0 && ev.st_mtime > newest)
    newest = ev.st_mtime;
  return (int64_t)(time(NULL) - newest);
}

/* A process that runs (a zombie has ended: only its parent has not reaped it yet). */
static bool pid_alive(long pid)
{
  if (pid <= 0 || pid > 0x3fffffff)
    return false;
  cleanup_free char *path = xasprintf("/proc/%ld/stat", pid);
  cleanup_free char *stat = NULL;
  if (read_file_at(AT_FDCWD, path, 4096, &stat, NULL, NULL) < 0)
    return false;
  const char *paren = strrchr(stat, ')'); /* the command name may hold anything but ends there */
  return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* A claiming wrapper still at work: that pid runs, and it is a measured wrapper (not a pid
 * reused since). */
static bool wrapper_alive(long pid)
{
  if (!pid_alive(pid))
    return false;
  cleanup_free char *path = xasprintf("/proc/%ld/comm", pid);
  cleanup_free char *comm = NULL;
  return read_file_at(AT_FDCWD, path, 64, &comm, NULL, NULL) == 0 &&
         strncmp(comm, "measured-", 9) == 0;
}

/* The first event of that name in dirfd's events. */
static int64_t first_event_int(int dirfd, const char *ev, const char *key)
{
  cleanup_json json *events = NULL;
  unsigned bad;
  if (state_read_events(dirfd, &events, &bad, NULL) < 0)
    return -1;
  for (size_t i = 0; i < events->n; i++) {
    const char *name = json_string(json_get(events->items[i], "ev"));
    int64_t v;
    if (name && strcmp(name, ev) == 0 && json_int64(json_get(events->items[i], key), &v))
      return v;
  }
  return -1;
}

/* A <id>/ is live while its monitor holds its lock or its container's init runs. */
static bool lifecycle_running(int dirfd)
{
  if (monitor_wait_exit_recorded(dirfd, 0) < 0)
    return true;
  return pid_alive((long)first_event_int(dirfd, "create", "pid"));
}

static const char *store_for(const struct gc *g, const json *rec)
{
  const char *name =
      json_string(json_get_path(rec, (const char *const[]){"runtime", "name", NULL}));
  const struct runtime_entry *e = name ? runtime_table_find(g->t, name) : NULL;
  return e ? runtime_entry_store(g->t, e) : g->t->store;
}

static int store_record(const struct gc *g, const json *rec, merr **err)
{
  cleanup_free char *line = NULL;
  size_t len;
  if (json_serialize(rec, false, &line, &len, err) < 0)
    return -1;
  return store_append(store_for(g, rec), line, len, err);
}

static void remove_item(struct gc *g, const char *name)
{
  cleanup_free char *path = xasprintf("%s/%s", g->t->state_dir, name);
  probe_release(path); /* a probe channel left mounted would keep the directory */
  merr *err = NULL;
  if (remove_tree_at(g->rootfd, name, &err) < 0) {
    say(g, name, merr_msg(err));
    g->r->failed++;
    merr_free(err);
    return;
  }
  g->r->removed++;
}

enum { STORED_SEARCH_WINDOW = 8 << 20 };

/* A delete killed after its append but before its rename left a claimed lifecycle whose record
 * is stored: its line begins as ours does (schema, id, outcome, created_at: the same events
 * give the same), at or after the offset the delete noted. */
static bool stored_by_its_delete(const struct gc *g, int dirfd, const json *rec)
{
  cleanup_free char *text = NULL, *line = NULL;
  size_t len;
  if (read_file_at(dirfd, STATE_STORE_OFFSET, 32, &text, NULL, NULL) < 0 ||
      json_serialize(rec, false, &line, &len, NULL) < 0)
    return false;
  char *end;
  long long offset = strtoll(text, &end, 10);
  if (*end == '\n')
    end++;
  const char *cut = strstr(line, ",\"deleted_at\":");
  bool found = false;
  if (*end || end == text || offset < 0 || cut == NULL)
    return false;
  store_has_line_after(store_for(g, rec), offset, line, (size_t)(cut - line), STORED_SEARCH_WINDOW,
                       &found, NULL);
  return found;
}

/* The record a lifecycle still gives without its delete, stored; then its directory goes. */
static void finish_lifecycle(struct gc *g, const char *name, const char *id, const char *why)
{
  if (g->o->dry_run) {
    say(g, name, why);
    g->r->recorded++;
    return;
  }
  merr *err = NULL;
  cleanup_close int dirfd =
      openat(g->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0) {
    g->r->failed++;
    return;
  }
  bool has_create = first_event_int(dirfd, "create", "mono_us") >= 0;
  if (has_create) {
    cleanup_json json *missed = json_new(JSON_ARRAY);
    cleanup_free char *m = xasprintf("delete: not observed (%s); recorded by measured gc", why);
    json_append(missed, json_new_text(m));
    cleanup_free char *path = xasprintf("%s/%s", g->t->state_dir, name);
    struct collected got;
    collect_lifecycle(dirfd, path, missed, &got);
    cleanup_json json *context = host_load();
    struct delete_info del = {.unobserved = true, .real_ns = real_ns(), .context = context};
    struct record_inputs in = collected_inputs(&got);
    cleanup_json json *rec = record_build(id, &in, &del, missed);
    collected_clear(&got);
    if (stored_by_its_delete(g, dirfd, rec)) {
      say(g, name, "already stored by the delete that claimed it");
      remove_item(g, name);
      return;
    }
    if (store_record(g, rec, &err) < 0) {
      say(g, name, merr_msg(err)); /* kept: the next gc tries again */
      merr_free(err);
      g->r->failed++;
      return;
    }
    g->r->recorded++;
  }
  say(g, name, has_create ? why : "nothing to record (no create was seen)");
  remove_item(g, name);
}

static void store_waiting(struct gc *g, const char *name)
{
  if (g->o->dry_run) {
    say(g, name, "a record waiting to be stored");
    g->r->stored++;
    return;
  }
  cleanup_close int dirfd =
      openat(g->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *text = NULL;
  size_t len;
  cleanup_json json *rec = NULL;
  merr *err = NULL;
  if (dirfd < 0 ||
      read_file_at(dirfd, "record.json", STATE_MAX_EVENTS_BYTES, &text, &len, &err) < 0 ||
      json_parse(text, len, NULL, "record.json", &rec, &err) < 0 ||
      store_record(g, rec, &err) < 0) {
    say(g, name, err ? merr_msg(err) : "cannot open");
    merr_free(err);
    g->r->failed++;
    return;
  }
  g->r->stored++;
  say(g, name, "stored the waiting record");
  remove_item(g, name);
}

static void visit(struct gc *g, const char *name)
{
  long n;
  size_t prefix_len;
  enum item_kind k = kind_of(name, &prefix_len);
  if (k == ITEM_OTHER)
    return;
  if (k == ITEM_UNSTORED) {
    store_waiting(g, name);
    return;
  }
  if (k == ITEM_RECORDED) { /* its record is stored; its delete died removing it */
    say(g, name, "already recorded");
    if (!g->o->dry_run)
      remove_item(g, name);
    return;
  }
  cleanup_free char *id = k == ITEM_LIVE ? xstrdup(name) : split_suffix(name, prefix_len, &n);
  if (id == NULL)
    return;
  if (k == ITEM_CLAIMED && wrapper_alive(n)) {
    g->r->kept++; /* its delete is still at work */
    return;
  }
  if (k == ITEM_LIVE) {
    cleanup_close int dirfd =
        openat(g->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0 || age_s(g->rootfd, name) < g->o->min_age_s || lifecycle_running(dirfd)) {
      g->r->kept++;
      return;
    }
  }
  finish_lifecycle(g, name, id,
                   k == ITEM_CLAIMED ? "the delete that claimed it did not finish"
                   : k == ITEM_STALE ? "a later lifecycle of the same id replaced it"
                                     : "its container is gone and no delete came");
}

int gc_run(const struct runtime_table *t, const struct gc_options *o, struct gc_result *r,
           merr **err)
{
  memset(r, 0, sizeof *r);
  cleanup_close int rootfd = state_root_open(t->state_dir, err);
  if (rootfd < 0)
    return -1;
  int listfd = dup(rootfd);
  DIR *d = listfd >= 0 ? fdopendir(listfd) : NULL;
  if (d == NULL) {
    if (listfd >= 0)
      close(listfd);
    return merr_set(err, errno, "list %s", t->state_dir);
  }
  struct gc g = {.t = t, .o = o, .r = r, .rootfd = rootfd};
  /* Names first, then work: removing entries while reading the directory may skip some. */
  char **names = NULL;
  size_t nnames = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
      continue;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    names = xreallocarray(names, nnames + 1, sizeof *names);
    names[nnames++] = xstrdup(e->d_name);
  }
  closedir(d);
  for (size_t i = 0; i < nnames; i++) {
    unsigned before = r->recorded + r->stored + r->removed + r->failed;
    if (!o->max_items || g.done < o->max_items)
      visit(&g, names[i]);
    if (r->recorded + r->stored + r->removed + r->failed != before)
      g.done++;
    free(names[i]);
  }
  free(names);
  return 0;
}

void gc_opportunistic(const struct runtime_table *t, int rootfd)
{
  struct stat st;
  if (fstatat(rootfd, STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      time(NULL) - st.st_mtime < GC_OPPORTUNISTIC_S)
    return;
  /* The stamp first: of concurrent deletes, most see it fresh and go on at once. */
  if (write_file_replace_at(rootfd, STAMP, "", 0, 0600, NULL) < 0)
    return;
  struct gc_options o = {.min_age_s = GC_OPPORTUNISTIC_MIN_AGE_S,
                         .max_items = GC_OPPORTUNISTIC_ITEMS};
  struct gc_result r;
  gc_run(t, &o, &r, NULL);
}
