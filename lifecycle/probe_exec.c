#include "probe_exec.h"
#include "capture.h"
#include "cleanup.h"
#include "detach.h"
#include "probe_inject.h"
#include "state.h"
#include "xalloc.h"

#include <stdlib.h>

enum { EXEC_MARGIN_MS = 10000 };

struct exec_job {
  char **argv;
  int dirfd;
  int timeout_ms;
};

static void run_exec(void *arg)
{
  struct exec_job *job = arg;
  cleanup_free char *out = NULL;
  merr *err = NULL;
  int r = capture_output(job->argv, job->timeout_ms, 4096, &out, &err);
  cleanup_json json *ev = state_event("probe_exec");
  json_set(ev, "ok", json_new_bool(r == 0));
  if (r < 0)
    json_set(ev, "error", json_new_text(merr_msg(err)));
  state_append_event(job->dirfd, ev, NULL);
  _exit(0);
}

/* The runtime's own exec of the probe, as call_aux_argv makes a runtime call of measured's. */
static char **exec_argv(const struct call_ctx *c, const struct probe_plan *p)
{
  size_t np = 0;
  cleanup_free char **pargs = probe_plan_argv(p, "exec", &np);
  cleanup_free const char **tail = xzalloc((np + 4) * sizeof *tail);
  size_t n = 0;
  tail[n++] = "exec";
  tail[n++] = c->call->id;
  tail[n++] = PROBE_BIN_DEST;
  for (size_t i = 0; i < np; i++)
    tail[n++] = pargs[i];
  return call_aux_argv(c, tail);
}

int probe_exec_launch(const struct call_ctx *c, int dirfd, const struct probe_plan *p, merr **err)
{
  struct exec_job job = {
      .argv = exec_argv(c, p), .dirfd = dirfd, .timeout_ms = p->budget_ms + EXEC_MARGIN_MS};
  int keep[] = {dirfd};
  return spawn_detached(run_exec, &job, keep, 1, err);
}
