/* measured-hook: the OCI hooks the shim-v2 wrapper puts into a container's config.json.
 *
 * Under a containerd shim measured wraps no runtime call, so the runtime's own hooks stand for
 * the lifecycle's points: createRuntime for create (the container's namespaces exist, its init
 * waits), poststart for start, poststop for delete. Each hook reads the container's state (id,
 * pid, bundle) from stdin and does what the OCI-CLI wrapper does after that call, through the
 * same code and into the same record. A runtime aborts a container whose hook fails or hangs,
 * so the work runs in a guard and the hook always exits 0; failures go to the shim's log. */
#include "hook.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "guard.h"
#include "lifecycle.h"
#include "monitor.h"
#include "proc.h"
#include "state.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HOOK_STATE_MAX = 64 << 10, HOOK_STDIN_MS = 5000 };

struct hook_args {
  enum oci_sub sub;
  const char *runtime, *owner, *scope;
  int64_t since_us, before_us;
};

static bool parse_int64(const char *s, int64_t *out)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < 0)
    return false;
  *out = v;
  return true;
}

static enum oci_sub phase_sub(const char *phase)
{
  if (strcmp(phase, HOOK_CREATE_RUNTIME) == 0)
    return OCI_SUB_CREATE;
  if (strcmp(phase, HOOK_POSTSTART) == 0)
    return OCI_SUB_START;
  if (strcmp(phase, HOOK_POSTSTOP) == 0)
    return OCI_SUB_DELETE;
  return OCI_SUB_NONE;
}

/* measured-hook PHASE --runtime NAME [--since-us N] [--owner TOKEN] [--scope KEY] [--before-us N]
 */
static int parse_args(int argc, char **argv, struct hook_args *a, merr **err)
{
  memset(a, 0, sizeof *a);
  if (argc < 2 || (a->sub = phase_sub(argv[1])) == OCI_SUB_NONE)
    return merr_set(err, 0, "usage: measured-hook %s|%s|%s --runtime NAME ...", HOOK_CREATE_RUNTIME,
                    HOOK_POSTSTART, HOOK_POSTSTOP);
  for (int i = 2; i < argc; i += 2) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = v != NULL;
    if (ok && strcmp(k, "--runtime") == 0)
      a->runtime = v;
    else if (ok && strcmp(k, "--owner") == 0)
      a->owner = v;
    else if (ok && strcmp(k, "--scope") == 0)
      a->scope = v;
    else if (ok && strcmp(k, "--since-us") == 0)
      ok = parse_int64(v, &a->since_us);
    else if (ok && strcmp(k, "--before-us") == 0)
      ok = parse_int64(v, &a->before_us);
    else
      ok = false;
    if (!ok)
      return merr_set(err, 0, "measured-hook: bad argument %s", k);
  }
  if (a->runtime == NULL)
    return merr_set(err, 0, "measured-hook: no --runtime");
  return 0;
}

/* The OCI state on stdin: {"ociVersion","id","status","pid","bundle","annotations"}. */
struct hook_state {
  json *doc;
  const char *id, *bundle;
  pid_t pid;
};

static int read_state(struct hook_state *st, merr **err)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_fd_bounded(STDIN_FILENO, "the hook's state (stdin)", HOOK_STATE_MAX, 4096, HOOK_STDIN_MS,
                      &text, &len, err) < 0 ||
      json_parse(text, len, NULL, "hook state", &st->doc, err) < 0)
    return -1;
  int64_t pid = 0;
  st->id = json_string(json_get(st->doc, "id"));
  st->bundle = json_string(json_get(st->doc, "bundle"));
  const json *p = json_get(st->doc, "pid");
  if (p && (!json_int64(p, &pid) || (pid != 0 && !proc_pid_valid(pid))))
    return merr_set(err, 0, "hook state: bad pid");
  st->pid = (pid_t)pid;
  if (st->id == NULL || !oci_id_valid(st->id) || st->id[0] == '.')
    return merr_set(err, 0, "hook state: no valid container id");
  if (st->bundle == NULL || st->bundle[0] != '/')
    return merr_set(err, 0, "hook state: no absolute bundle path");
  return 0;
}

/* mono_us of the first event of that name in the container's state, or -1. */
static int64_t event_time(const struct call_ctx *c, const char *name, bool wait_exit)
{
  cleanup_scope struct state_scope scope;
  if (call_scope_open(c, &scope, NULL) < 0)
    return -1;
  cleanup_close int dirfd = state_open(scope.fd, c->call->id, NULL);
  if (dirfd < 0)
    return -1;
  if (wait_exit)
    monitor_wait_exit_recorded(dirfd, MONITOR_END_WAIT_MS);
  return state_first_event_int(dirfd, name, "mono_us");
}

/* What a hook knows of "its call": create from the shim's start to createRuntime, start from
 * createRuntime to poststart, delete from the container's exit to poststop. */
static int hook_work(void *arg)
{
  struct call_ctx *c = arg;
  int64_t from = -1;
  if (c->call->sub == OCI_SUB_START)
    from = event_time(c, "create", false);
  else if (c->call->sub == OCI_SUB_DELETE)
    from = event_time(c, "exit", true);
  if (c->call->sub != OCI_SUB_CREATE)
    c->run.start_us = from >= 0 && from <= c->run.end_us ? from : c->run.end_us;
  return lifecycle_after(c);
}

int hook_main(int argc, char **argv, int64_t t0)
{
  cleanup_merr merr *err = NULL;
  struct hook_args a;
  struct hook_state st = {0};
  struct runtime_table *table = NULL;
  const struct runtime_entry *entry = NULL;
  struct ocilog log = {.quiet = true};
  cleanup_free char *log_path = NULL;
  if (parse_args(argc, argv, &a, &err) == 0 && read_state(&st, &err) == 0) {
    log.path = log_path = xasprintf("%s/log", st.bundle);
    if (runtime_table_load(runtime_table_path(), &table, &err) == 0 &&
        (entry = runtime_table_find(table, a.runtime)) == NULL)
      merr_set(&err, 0, "unknown runtime \"%s\"", a.runtime);
  }
  if (entry == NULL) {
    ocilog_write(&log, "warning", "hook not run: %s; the container is not affected", merr_msg(err));
    merr_freep(&err);
    json_free(st.doc);
    runtime_table_free(table);
    return 0;
  }
  cleanup_free char *real = NULL, *shim = NULL;
  if (runtime_resolve(entry->shim ? entry->shim : entry->path, &shim, NULL) < 0)
    shim = xstrdup(entry->shim ? entry->shim : entry->path);
  if (runtime_resolve(entry->path, &real, NULL) < 0) /* Kata 2.x+ may come without its CLI */
    real = xstrdup(shim);
  struct oci_call call = {.sub = a.sub, .sub_index = -1, .id = st.id, .bundle = st.bundle};
  struct call_ctx c = {.call = &call,
                       .table = table,
                       .entry = entry,
                       .real_path = real,
                       .log = &log,
                       .t0_us = t0,
                       .run = {.start_us = a.since_us ? a.since_us : t0, .end_us = t0},
                       .hook = {.active = true,
                                .pid = st.pid,
                                .owner = a.owner,
                                .scope = a.scope,
                                .shim_path = shim,
                                .before_us = a.sub == OCI_SUB_CREATE ? a.before_us : 0}};
  /* The hook's last step: after a fault in it the heap may be broken, so nothing but the exit
   * (the runtime waits for a hook's status: 0, the container is not affected). */
  cleanup_free char *what = xasprintf("%s hook of container %s", argv[1], st.id);
  if (guard_inline(hook_work, &c, GUARD_MEASUREMENT_MS, &log, what) < 0)
    _exit(0);
  json_free(st.doc);
  runtime_table_free(table);
  return 0;
}
