#include "delete.h"
#include "cleanup.h"
#include "clock.h"
#include "finish.h"
#include "gc.h"
#include "hostctx.h"
#include "monitor.h"
#include "state.h"

#include <errno.h>

static int64_t overhead_now(const void *arg)
{
  return call_overhead_now(arg);
}

int delete_after(const struct call_ctx *c)
{
  if (call_rc(c) != 0)
    return 0; /* the lifecycle goes on: the record comes with the delete that succeeds */
  cleanup_merr merr *err = NULL;
  cleanup_scope struct state_scope scope;
  cleanup_free char *claimed = NULL;
  cleanup_close int dirfd = call_scope_open(c, &scope, &err) < 0
                                ? -1
                                : state_claim(scope.fd, c->call->id, &claimed, &err);
  if (dirfd < 0) {
    if (merr_is(err, ENOENT)) /* already recorded (Docker deletes twice) */
      return 0;
    call_warn(c, "record not written", err);
    return -1;
  }
  cleanup_json json *missed = json_new(JSON_ARRAY);
  if (monitor_wait_exit_recorded(dirfd, MONITOR_END_WAIT_MS) < 0)
    json_append(missed, json_new_string("exit status: the monitor was still running at delete"));
  cleanup_json json *context = host_load();
  struct finish f = {.table = c->table,
                     .scope_path = scope.path,
                     .rootfd = scope.fd,
                     .dirfd = dirfd,
                     .name = claimed,
                     .id = c->call->id,
                     .del = {.begin_mono_us = c->run.start_us,
                             .real_ns = real_ns(),
                             .dur_us = c->run.end_us - c->run.start_us,
                             .rc = 0,
                             .context = context},
                     .overhead_now = overhead_now,
                     .overhead_arg = c,
                     .missed = missed};
  enum finish_outcome outcome;
  if (lifecycle_finish(&f, &outcome, &err) < 0) {
    call_warn(c,
              outcome == FINISH_UNSTORED ? "record not written to the store (kept in the state "
                                           "directory)"
              : outcome == FINISH_LOST   ? "record lost"
                                         : "state not removed",
              err);
    if (outcome == FINISH_UNSTORED || outcome == FINISH_LOST)
      return -1;
  }
  gc_opportunistic(c->table, scope.topfd);
  return 0;
}
