#include "gc.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "finish.h"
#include "hostctx.h"
#include "monitor.h"
#include "naming.h"
#include "probe_inject.h"
#include "proc.h"
#include "state.h"
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

struct gc {
  const struct runtime_table *t;
  const struct gc_options *o;
  struct gc_result *r;
  const struct state_scope *scope; /* the one being visited */
  unsigned done;                   /* items acted on, for max_items */
};

static void say(const struct gc *g, const char *name, const char *what)
{
  if (g->o->say)
    fprintf(g->o->say, "%s%s: %s\n", g->o->dry_run ? "(dry run) " : "", name, what);
}

/* A claiming wrapper still at work: that pid runs, and it is a measured wrapper (not a pid
 * reused since). */
static bool wrapper_alive(long pid)
{
  if (!proc_alive((pid_t)pid))
    return false;
  cleanup_free char *comm = proc_comm((pid_t)pid);
  return comm && naming_is_wrapper_comm(comm);
}

/* A <id>/ is live while its monitor holds its lock or its container's init runs. */
static bool lifecycle_running(int dirfd)
{
  if (monitor_wait_exit_recorded(dirfd, 0) < 0)
    return true;
  return proc_alive((pid_t)state_first_event_int(dirfd, "create", "pid"));
}

static void remove_item(struct gc *g, const char *name)
{
  cleanup_free char *path = state_item_path(g->scope->path, name);
  probe_release(path); /* a probe channel left mounted would keep the directory */
  cleanup_merr merr *err = NULL;
  if (state_remove(g->scope->fd, name, &err) < 0) {
    say(g, name, merr_msg(err));
    g->r->failed++;
    return;
  }
  g->r->removed++;
}

/* The record a lifecycle still gives without its delete, stored; then its directory goes. */
static void finish_lifecycle(struct gc *g, const struct state_item *it, const char *why)
{
  if (g->o->dry_run) {
    say(g, it->name, why);
    g->r->recorded++;
    return;
  }
  cleanup_merr merr *err = NULL;
  cleanup_close int dirfd = state_open_item(g->scope->fd, it->name, &err);
  if (dirfd < 0) {
    say(g, it->name, merr_msg(err));
    g->r->failed++;
    return;
  }
  cleanup_json json *missed = json_new(JSON_ARRAY);
  cleanup_free char *m = xasprintf("delete: not observed (%s); recorded by measured gc", why);
  json_append(missed, json_new_text(m));
  cleanup_json json *context = host_load();
  struct finish f = {.table = g->t,
                     .scope_path = g->scope->path,
                     .rootfd = g->scope->fd,
                     .dirfd = dirfd,
                     .name = it->name,
                     .id = it->id,
                     .del = {.unobserved = true, .real_ns = real_ns(), .context = context},
                     .missed = missed,
                     .maybe_stored = true,
                     .skip_without_create = true};
  enum finish_outcome outcome;
  int ret = lifecycle_finish(&f, &outcome, &err);
  switch (outcome) {
  case FINISH_STORED:
    g->r->recorded++;
    say(g, it->name, why);
    break;
  case FINISH_ALREADY_STORED:
    say(g, it->name, "already stored by the delete that claimed it");
    break;
  case FINISH_NOTHING:
    say(g, it->name, "nothing to record (no create was seen)");
    break;
  case FINISH_UNSTORED:
  case FINISH_LOST:
    say(g, it->name, merr_msg(err)); /* waiting as .unstored-*: the next gc tries again */
    g->r->failed++;
    return;
  }
  if (ret < 0) {
    say(g, it->name, merr_msg(err));
    g->r->failed++;
  } else {
    g->r->removed++;
  }
}

static void store_waiting(struct gc *g, const struct state_item *it)
{
  if (g->o->dry_run) {
    say(g, it->name, "a record waiting to be stored");
    g->r->stored++;
    return;
  }
  cleanup_merr merr *err = NULL;
  cleanup_close int dirfd = state_open_item(g->scope->fd, it->name, &err);
  cleanup_json json *rec = NULL;
  if (dirfd < 0 || state_read_unstored(dirfd, &rec, &err) < 0 ||
      lifecycle_store_record(g->t, rec, &err) < 0) {
    say(g, it->name, merr_msg(err));
    g->r->failed++;
    return;
  }
  g->r->stored++;
  say(g, it->name, "stored the waiting record");
  remove_item(g, it->name);
}

/* Whether a lifecycle is to be left alone: its container or its monitor still runs (whatever its
 * directory's name says), or it is a live-looking <id>/ younger than min_age. */
static bool keep(struct gc *g, const struct state_item *it)
{
  cleanup_close int dirfd = state_open_item(g->scope->fd, it->name, NULL);
  if (dirfd < 0 || lifecycle_running(dirfd))
    return true;
  return it->kind == STATE_LIVE && state_age_s(g->scope->fd, it->name) < g->o->min_age_s;
}

static void visit(struct gc *g, const struct state_item *it)
{
  if ((it->kind == STATE_LIVE || it->kind == STATE_STALE || it->kind == STATE_CLAIMED) &&
      keep(g, it)) {
    g->r->kept++;
    return;
  }
  switch (it->kind) {
  case STATE_SCOPE:
  case STATE_OTHER:
    return;
  case STATE_UNSTORED:
    store_waiting(g, it);
    return;
  case STATE_RECORDED: /* its record is stored; its delete died removing it */
    say(g, it->name, "already recorded");
    if (!g->o->dry_run)
      remove_item(g, it->name);
    return;
  case STATE_CLAIMED:
    if (wrapper_alive(it->number)) {
      g->r->kept++; /* its delete is still at work */
      return;
    }
    finish_lifecycle(g, it, "the delete that claimed it did not finish");
    return;
  case STATE_STALE:
    finish_lifecycle(g, it, "a later lifecycle of the same id replaced it");
    return;
  case STATE_LIVE:
    finish_lifecycle(g, it, "its container is gone and no delete came");
    return;
  }
}

static unsigned acted(const struct gc_result *r)
{
  return r->recorded + r->stored + r->removed + r->failed;
}

/* The lifecycles of one scope ("." for the state directory itself, where measured kept them
 * before scopes). */
static void visit_scope(struct gc *g, int topfd, const char *name)
{
  cleanup_scope struct state_scope scope;
  struct state_item *items;
  size_t n;
  if (state_scope_open_name(topfd, g->t->state_dir, name, &scope, NULL) < 0 ||
      state_list(scope.fd, &items, &n, NULL) < 0)
    return;
  g->scope = &scope;
  for (size_t i = 0; i < n && (!g->o->max_items || g->done < g->o->max_items); i++) {
    unsigned before = acted(g->r);
    visit(g, &items[i]);
    if (acted(g->r) != before)
      g->done++;
  }
  g->scope = NULL;
  state_items_free(items, n);
}

int gc_run(const struct runtime_table *t, const struct gc_options *o, struct gc_result *r,
           merr **err)
{
  memset(r, 0, sizeof *r);
  cleanup_close int topfd = state_root_open(t->state_dir, err);
  if (topfd < 0)
    return -1;
  struct state_item *tops;
  size_t n;
  if (state_list(topfd, &tops, &n, err) < 0)
    return -1;
  struct gc g = {.t = t, .o = o, .r = r};
  visit_scope(&g, topfd, ".");
  for (size_t i = 0; i < n; i++)
    if (tops[i].kind == STATE_SCOPE)
      visit_scope(&g, topfd, tops[i].name);
  state_items_free(tops, n);
  return 0;
}

void gc_opportunistic(const struct runtime_table *t, int rootfd)
{
  struct stat st;
  if (fstatat(rootfd, STATE_GC_STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      time(NULL) - st.st_mtime < GC_OPPORTUNISTIC_S)
    return;
  /* The stamp first: of concurrent deletes, most see it fresh and go on at once. */
  if (write_file_replace_at(rootfd, STATE_GC_STAMP, "", 0, 0600, NULL) < 0)
    return;
  struct gc_options o = {.min_age_s = GC_OPPORTUNISTIC_MIN_AGE_S,
                         .max_items = GC_OPPORTUNISTIC_ITEMS};
  struct gc_result r;
  gc_run(t, &o, &r, NULL);
}
