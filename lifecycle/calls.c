#include "calls.h"
#include "cleanup.h"
#include "hostctx.h"
#include "monitor.h"
#include "probe_exec.h"
#include "probe_inject.h"
#include "state.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>

/* What a call could not do, as a line of its event's "missed" (an array, as in every event). */
static void add_missed(json *ev, const char *what, const merr *err)
{
  json *missed = json_get(ev, "missed");
  if (missed == NULL) {
    missed = json_new(JSON_ARRAY);
    json_set(ev, "missed", missed);
  }
  cleanup_free char *m = xasprintf("%s: %s", what, merr_msg(err));
  json_append(missed, json_new_text(m));
}

/* An exec-mode probe goes in now that the container runs. */
static void start_exec_probe(const struct call_ctx *c, int dirfd, json *ev)
{
  struct probe_plan plan;
  if (probe_load_injected_plan(dirfd, &plan) < 0)
    return;
  cleanup_merr merr *err = NULL;
  if (plan.exec_mode && probe_exec_launch(c, dirfd, &plan, &err) < 0)
    add_missed(ev, "probe", err);
  probe_plan_clear(&plan);
}

/* A started container's monitor begins to sample. One that already finished (the container
 * lived a few milliseconds) left its summary: not waking it is no loss. */
static void wake_monitor(int dirfd, json *ev)
{
  cleanup_merr merr *err = NULL;
  if (monitor_wake(dirfd, &err) < 0 && !state_has_net_summary(dirfd))
    add_missed(ev, "network counters", err);
}

/* The lifecycle's state directory: the one opened before the call (a copy), or opened now. */
static int open_state_dir(const struct call_ctx *c, merr **err)
{
  if (c->state.open)
    return fcntl(c->state.dirfd, F_DUPFD_CLOEXEC, 0);
  cleanup_scope struct state_scope scope;
  return call_scope_open(c, &scope, err) < 0 ? -1 : state_open(scope.fd, c->call->id, err);
}

void calls_before_start(struct call_ctx *c)
{
  int dirfd = open_state_dir(c, NULL);
  if (dirfd < 0)
    return;
  c->state.open = true;
  c->state.dirfd = dirfd;
  if (monitor_wait_ready(dirfd, MONITOR_READY_MS) < 0)
    ocilog_write(c->log, "warning",
                 "the monitor of container %s was not ready within %d ms; the container starts "
                 "without waiting longer (its first packets may not be counted)",
                 c->call->id, MONITOR_READY_MS);
}

int calls_after(const struct call_ctx *c)
{
  cleanup_merr merr *err = NULL;
  bool started = c->call->sub == OCI_SUB_START && call_rc(c) == 0;
  cleanup_json json *ev = call_event(c);
  if (started)
    json_set(ev, "context", host_load());
  if (c->call->sub == OCI_SUB_KILL)
    json_set(ev, "signal", json_new_text(c->call->signal ? c->call->signal : "SIGTERM"));
  cleanup_close int dirfd = open_state_dir(c, &err);
  if (dirfd < 0) {
    /* ENOENT: a container created before measured was installed, or already recorded. */
    if (merr_is(err, ENOENT))
      return 0;
    call_warn(c, "call not recorded", err);
    return -1;
  }
  if (started) {
    wake_monitor(dirfd, ev);
    start_exec_probe(c, dirfd, ev);
  }
  call_finish_event(c, ev);
  if (state_append_event(dirfd, ev, &err) < 0) {
    call_warn(c, "call not recorded", err);
    return -1;
  }
  return 0;
}
