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

/* real path, the table's arguments, --root (the caller's state root for this runtime), then
 * exec. The caller's --log stays out: those files are Docker's. */
static char **exec_argv(const struct call_ctx *c, const struct probe_plan *p)
{
  size_t n = 0, np = 0;
  char **pargs = probe_plan_argv(p, "exec", &np);
  char **v = xzalloc((c->entry->nargs + np + 8) * sizeof *v);
  v[n++] = (char *)c->real_path;
  for (size_t i = 0; i < c->entry->nargs; i++)
    v[n++] = c->entry->args[i];
  if (c->call->root) {
    v[n++] = "--root";
    v[n++] = (char *)c->call->root;
  }
  v[n++] = "exec";
  v[n++] = (char *)c->call->id;
  v[n++] = PROBE_BIN_DEST;
  for (size_t i = 0; i < np; i++)
    v[n++] = pargs[i];
  free(pargs);
  return v;
}

int probe_exec_launch(const struct call_ctx *c, int dirfd, const struct probe_plan *p, merr **err)
{
  struct exec_job job = {
      .argv = exec_argv(c, p), .dirfd = dirfd, .timeout_ms = p->budget_ms + EXEC_MARGIN_MS};
  int keep[] = {dirfd};
  return spawn_detached(run_exec, &job, keep, 1, err);
}
