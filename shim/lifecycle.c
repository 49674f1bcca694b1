/* After the real runtime returned: start, exec and kill leave an event (start also wakes the
 * monitor, and launches an exec-mode probe); delete turns the lifecycle into its record. */
#include "lifecycle.h"
#include "cleanup.h"
#include "clock.h"
#include "collect.h"
#include "fileio.h"
#include "gc.h"
#include "hostctx.h"
#include "monitor.h"
#include "probe_exec.h"
#include "probe_inject.h"
#include "record.h"
#include "state.h"
#include "store.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { MONITOR_EXIT_WAIT_MS = 500 };

/* ---- start, exec, kill ---- */

/* An exec-mode probe goes in now that the container runs. */
static void start_exec_probe(const struct call_ctx *c, int dirfd, json *ev)
{
  struct probe_plan plan;
  if (probe_load_injected_plan(dirfd, &plan) < 0)
    return;
  merr *err = NULL;
  if (plan.exec_mode && probe_exec_launch(c, dirfd, &plan, &err) < 0) {
    cleanup_free char *m = xasprintf("probe: %s", merr_msg(err));
    json_set(ev, "missed", json_new_text(m));
    merr_free(err);
  }
  probe_plan_clear(&plan);
}

static int append_call_event(const struct call_ctx *c, json *extra_context)
{
  merr *err = NULL;
  cleanup_json json *ev = call_event(c);
  if (extra_context)
    json_set(ev, "context", extra_context);
  if (c->call->sub == OCI_SUB_KILL)
    json_set(ev, "signal", json_new_text(c->call->signal ? c->call->signal : "SIGTERM"));
  cleanup_close int rootfd = call_open_state_root(c, &err);
  cleanup_close int dirfd = rootfd < 0 ? -1 : state_open(rootfd, c->call->id, &err);
  if (dirfd < 0) {
    /* ENOENT: a container created before measured was installed, or already recorded. */
    bool silent = merr_is(err, ENOENT);
    if (!silent)
      call_warn(c, "call not recorded", err);
    merr_free(err);
    return silent ? 0 : -1;
  }
  /* A monitor that already finished (the container lived a few milliseconds) left net.json:
   * not waking it is no loss. */
  if (c->call->sub == OCI_SUB_START && call_rc(c) == 0 && monitor_wake(dirfd, &err) < 0 &&
      faccessat(dirfd, "net.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
    cleanup_free char *m = xasprintf("network counters: %s", merr_msg(err));
    json_set(ev, "missed", json_new_text(m));
    merr_freep(&err);
  }
  if (c->call->sub == OCI_SUB_START && call_rc(c) == 0)
    start_exec_probe(c, dirfd, ev);
  call_finish_event(c, ev);
  if (state_append_event(dirfd, ev, &err) < 0) {
    call_warn(c, "call not recorded", err);
    merr_free(err);
    return -1;
  }
  return 0;
}

/* ---- delete ---- */

/* Keeps a record that could not be stored next to its state, for `measured gc` to retry. */
static void keep_unstored(const struct call_ctx *c, int rootfd, int dirfd, const char *claimed,
                          const json *rec)
{
  cleanup_free char *text = NULL;
  size_t len;
  cleanup_free char *aside = xasprintf(STATE_UNSTORED_PREFIX "%s-%d", c->call->id, (int)getpid());
  if (json_serialize(rec, false, &text, &len, NULL) == 0 &&
      write_file_atomic_at(dirfd, "record.json", text, len, 0600, NULL) == 0)
    renameat(rootfd, claimed, rootfd, aside);
}

/* Where the record will land in the store, at the earliest (see STATE_STORE_OFFSET). */
static void note_store_offset(const struct call_ctx *c, int dirfd)
{
  int64_t size;
  if (store_size(runtime_entry_store(c->table, c->entry), &size, NULL) < 0)
    return;
  char text[32];
  int n = snprintf(text, sizeof text, "%lld", (long long)size);
  write_file_replace_at(dirfd, STATE_STORE_OFFSET, text, (size_t)n, 0600, NULL);
}

static int after_delete(const struct call_ctx *c)
{
  if (call_rc(c) != 0)
    return 0; /* the lifecycle goes on: the record comes with the delete that succeeds */
  merr *err = NULL;
  cleanup_close int rootfd = call_open_state_root(c, &err);
  cleanup_free char *claimed = NULL;
  cleanup_close int dirfd = rootfd < 0 ? -1 : state_claim(rootfd, c->call->id, &claimed, &err);
  if (dirfd < 0) {
    bool silent = merr_is(err, ENOENT); /* already recorded (Docker deletes twice) */
    if (!silent)
      call_warn(c, "record not written", err);
    merr_free(err);
    return silent ? 0 : -1;
  }
  cleanup_json json *missed = json_new(JSON_ARRAY);
  if (monitor_wait_exit_recorded(dirfd, MONITOR_EXIT_WAIT_MS) < 0)
    json_append(missed, json_new_string("exit status: the monitor was still running at delete"));
  cleanup_free char *claimed_path = xasprintf("%s/%s", c->table->state_dir, claimed);
  struct collected got;
  collect_lifecycle(dirfd, claimed_path, missed, &got);
  cleanup_json json *context = host_load();
  struct delete_info del = {.begin_mono_us = c->run.start_us,
                            .real_ns = real_ns(),
                            .dur_us = c->run.end_us - c->run.start_us,
                            .overhead_us = call_overhead_now(c),
                            .rc = 0,
                            .context = context};
  struct record_inputs in = collected_inputs(&got);
  cleanup_json json *rec = record_build(c->call->id, &in, &del, missed);
  collected_clear(&got);
  note_store_offset(c, dirfd);
  if (call_store_record(c, rec, &err) < 0) {
    call_warn(c, "record not written to the store (kept in the state directory)", err);
    merr_free(err);
    keep_unstored(c, rootfd, dirfd, claimed, rec);
    return -1;
  }
  /* Stored: renamed first, so that a wrapper killed while removing it leaves nothing `measured
   * gc` would record a second time. */
  cleanup_free char *done = xasprintf(STATE_RECORDED_PREFIX "%s-%d", c->call->id, (int)getpid());
  const char *gone = renameat(rootfd, claimed, rootfd, done) == 0 ? done : claimed;
  if (remove_tree_at(rootfd, gone, &err) < 0) {
    call_warn(c, "state not removed", err);
    merr_free(err);
  }
  gc_opportunistic(c->table, rootfd);
  return 0;
}

int lifecycle_after(void *arg)
{
  const struct call_ctx *c = arg;
  switch (c->call->sub) {
  case OCI_SUB_CREATE:
    return lifecycle_after_create(c);
  case OCI_SUB_START:
    return append_call_event(c, call_rc(c) == 0 ? host_load() : NULL);
  case OCI_SUB_EXEC:
  case OCI_SUB_KILL:
    return append_call_event(c, NULL);
  case OCI_SUB_DELETE:
    return after_delete(c);
  default:
    return 0;
  }
}
