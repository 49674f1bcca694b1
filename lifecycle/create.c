#include "create.h"
#include "capture.h"
#include "cleanup.h"
#include "detach.h"
#include "fileio.h"
#include "finish.h"
#include "hostctx.h"
#include "monitor.h"
#include "netns.h"
#include "probe_inject.h"
#include "probe_plan.h"
#include "proc.h"
#include "record.h"
#include "spec.h"
#include "state.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PID_FILE_MAX = 64, STATE_QUERY_TIMEOUT_MS = 3000 };

/* Asks the runtime (`state <id>`) when the caller gave no --pid-file. */
static pid_t pid_from_runtime_state(const struct call_ctx *c, merr **err)
{
  cleanup_free char **argv = call_aux_argv(c, (const char *const[]){"state", c->call->id, NULL});
  cleanup_free char *out = NULL;
  if (capture_output(argv, STATE_QUERY_TIMEOUT_MS, 1 << 20, &out, err) < 0)
    return 0;
  cleanup_json json *st = NULL;
  int64_t pid;
  if (json_parse(out, strlen(out), NULL, "runtime state", &st, err) < 0)
    return 0;
  if (!json_int64(json_get(st, "pid"), &pid) || !proc_pid_valid(pid)) {
    merr_set(err, 0, "runtime state has no valid pid");
    return 0;
  }
  return (pid_t)pid;
}

static pid_t init_pid(const struct call_ctx *c, json *missed)
{
  cleanup_merr merr *err = NULL;
  pid_t pid = 0;
  if (c->hook.active) {
    if ((pid = c->hook.pid) <= 0)
      merr_set(&err, 0, "the hook's state has no pid");
  } else if (c->call->pid_file) {
    cleanup_free char *text = NULL;
    if (read_file_at(AT_FDCWD, c->call->pid_file, PID_FILE_MAX, &text, NULL, &err) == 0 &&
        (pid = proc_parse_pid(text)) == 0)
      merr_set(&err, 0, "%s does not hold a pid", c->call->pid_file);
  } else {
    pid = pid_from_runtime_state(c, &err);
  }
  if (pid == 0) {
    cleanup_free char *m = xasprintf("init pid: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
  }
  return pid;
}

/* Docker gives --network host containers the path of a bind mount of the host's namespace
 * (/var/run/docker/netns/default): same namespace as ours, so it is "host", whatever the path. */
static void resolve_host_netns(json *summary)
{
  json *ns = json_get(summary, "netns");
  const char *mode = json_string(json_get(ns, "mode"));
  const char *path = json_string(json_get(ns, "path"));
  if (mode && strcmp(mode, "path") == 0 && path && same_file(path, "/proc/self/ns/net"))
    json_set(ns, "mode", json_new_string("host"));
}

static json *load_config(const struct call_ctx *c, json *missed)
{
  json *config = NULL;
  cleanup_merr merr *err = NULL;
  if (spec_load(c->call->bundle, &config, &err) < 0) {
    cleanup_free char *m = xasprintf("container details: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
    return NULL;
  }
  return config;
}

static void add_spec_details(const json *config, json *ev, json *missed)
{
  if (config == NULL)
    return;
  json *summary = spec_container_summary(config);
  resolve_host_netns(summary);
  json_set(ev, "container", summary);
  unsigned rejected = 0;
  json_set(ev, "labels", spec_labels(config, &rejected));
  if (rejected) {
    cleanup_free char *m =
        xasprintf("%u MEASURED_LABEL_ variable(s) rejected (key of "
                  "[A-Za-z0-9_.-], at most %d labels, values of at most %d bytes)",
                  rejected, SPEC_MAX_LABELS, SPEC_MAX_LABEL_VALUE);
    json_append(missed, json_new_text(m));
  }
}

/* The container's network namespace: the one its init lives in (what it really uses), else
 * the path the spec names. */
static int open_container_netns(const json *config, pid_t pid, char **why)
{
  cleanup_merr merr *err = NULL;
  int fd = pid > 0 ? netns_open_pid(pid, &err) : -1;
  const json *nss = json_get_path(config, (const char *const[]){"linux", "namespaces", NULL});
  for (size_t i = 0; fd < 0 && json_is(nss, JSON_ARRAY) && i < nss->n; i++) {
    const char *type = json_string(json_get(nss->items[i], "type"));
    const char *path = json_string(json_get(nss->items[i], "path"));
    if (type && strcmp(type, "network") == 0 && path && path[0] == '/') {
      merr_freep(&err);
      fd = netns_open_path(path, &err);
    }
  }
  if (fd < 0)
    *why =
        xasprintf("no network namespace to watch (%s)", err ? merr_msg(err) : "init pid unknown");
  return fd;
}

/* The table's interval, or MEASURED_SAMPLE_INTERVAL_MS from the container's environment. */
static int64_t sample_interval_ms(const struct call_ctx *c, const json *config, json *missed)
{
  const char *env = spec_env(config, "MEASURED_SAMPLE_INTERVAL_MS");
  int64_t table = runtime_entry_sample_interval_ms(c->table, c->entry);
  if (env == NULL)
    return table;
  char *end = NULL;
  errno = 0;
  long v = strtol(env, &end, 10);
  if (errno || end == env || *end || v > MEASURED_MAX_SAMPLE_INTERVAL_MS || v <= 0) {
    cleanup_free char *m =
        xasprintf("MEASURED_SAMPLE_INTERVAL_MS=%.32s: not a number of milliseconds up to %d; "
                  "the table's %lld ms used",
                  env, MEASURED_MAX_SAMPLE_INTERVAL_MS, (long long)table);
    json_append(missed, json_new_text(m));
    return table;
  }
  /* The container is not trusted to make the monitor (in the shim's cgroup, not its own) spend
   * what it likes: it cannot go below the floor. */
  if (v < MEASURED_MIN_CONTAINER_INTERVAL_MS) {
    cleanup_free char *m =
        xasprintf("MEASURED_SAMPLE_INTERVAL_MS=%ld: below the %d ms a "
                  "container may choose; %d ms used",
                  v, MEASURED_MIN_CONTAINER_INTERVAL_MS, MEASURED_MIN_CONTAINER_INTERVAL_MS);
    json_append(missed, json_new_text(m));
    return MEASURED_MIN_CONTAINER_INTERVAL_MS;
  }
  return v;
}

/* Whether to measure the workload's connections: the table's "flows" (on by default), and the
 * container's MEASURED_FLOWS=0 or 1, which wins. */
static bool flows_wanted(const struct call_ctx *c, const json *config, char **why)
{
  const char *env = config ? spec_env(config, "MEASURED_FLOWS") : NULL;
  if (env && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0)) {
    if (env[0] == '0')
      *why = xstrdup("off: MEASURED_FLOWS=0 in the container");
    return env[0] == '1';
  }
  if (runtime_entry_flows(c->table, c->entry))
    return true;
  *why = xasprintf("off: \"flows\": false in the runtime table for %s", c->entry->name);
  return false;
}

static json *create_event(const struct call_ctx *c, const json *config, const char *version,
                          json *missed)
{
  json *ev = call_event(c);
  json *rt = json_new(JSON_OBJECT);
  json_set(rt, "name", json_new_text(c->entry->name));
  json_set(rt, "path", json_new_text(c->real_path));
  if (version)
    json_set(rt, "version", json_new_text(version));
  json_set(rt, "via", json_new_string(c->hook.active ? "shim-v2" : "oci"));
  if (c->hook.shim_path)
    json_set(rt, "shim", json_new_text(c->hook.shim_path));
  json_set(ev, "runtime", rt);
  json_set(ev, "host", host_identity());
  add_spec_details(config, ev, missed);
  return ev;
}

/* A pre-create step of this call may have prepared state (and mounted the probe's channel). */
static void discard_prepared_state(const struct call_ctx *c, const struct state_scope *scope,
                                   json *missed)
{
  cleanup_free char *token = call_owner_token(c);
  cleanup_close int dirfd = state_adopt(scope->fd, c->call->id, token);
  if (dirfd < 0)
    return;
  cleanup_free char *path = state_item_path(scope->path, c->call->id);
  probe_release(path);
  state_remove(scope->fd, c->call->id, NULL);
  json_append(missed, json_new_string("probe: prepared, but the create failed"));
}

static int after_failed_create(const struct call_ctx *c, const struct state_scope *scope)
{
  cleanup_json json *missed = json_new(JSON_ARRAY);
  discard_prepared_state(c, scope, missed);
  cleanup_free char *version = version_cached(scope->topfd, c->entry->name, c->real_path);
  cleanup_json json *config = load_config(c, missed);
  cleanup_json json *ev = create_event(c, config, version, missed);
  json_set(ev, "missed", json_clone(missed));
  call_finish_event(c, ev);
  cleanup_json json *rec = record_build_create_failed(c->call->id, ev);
  cleanup_merr merr *err = NULL;
  if (lifecycle_store_record(c->table, rec, &err) < 0) {
    call_warn(c, "record of the failed create not written", err);
    return -1;
  }
  return 0;
}

/* Asking the runtime its version costs milliseconds: done once per binary, by a detached helper
 * that leaves a "version" event (and fills the cache), while the container goes on. */
struct version_job {
  int rootfd, dirfd;
  const char *name, *path;
};

static void query_version(void *arg)
{
  const struct version_job *job = arg;
  cleanup_json json *ev = state_event("version");
  char *version = NULL;
  merr *err = NULL;
  if (version_query(job->rootfd, job->name, job->path, &version, &err) == 0)
    json_set(ev, "version", json_new_text(version));
  else
    json_set(ev, "error", json_new_text(merr_msg(err)));
  state_append_event(job->dirfd, ev, NULL);
  _exit(0);
}

static void start_version_query(const struct call_ctx *c, int rootfd, int dirfd)
{
  struct version_job job = {rootfd, dirfd, c->entry->name, c->real_path};
  int keep[] = {rootfd, dirfd};
  spawn_detached(query_version, &job, keep, 2, NULL);
}

/* The wrapper's own time in create, its monitor's start included (the create event was written
 * before the monitor began: the monitor reads it). */
static void record_own_time(const struct call_ctx *c, int dirfd)
{
  cleanup_json json *done = state_event("create_done");
  call_finish_event(c, done);
  state_append_event(dirfd, done, NULL);
}

int create_after(const struct call_ctx *c)
{
  cleanup_merr merr *err = NULL;
  cleanup_scope struct state_scope scope;
  if (call_scope_open(c, &scope, &err) < 0) {
    call_warn(c, "not measured", err);
    return -1;
  }
  if (call_rc(c) != 0)
    return after_failed_create(c, &scope);
  bool stale = false;
  cleanup_free char *token = call_owner_token(c);
  cleanup_close int dirfd = state_create(scope.fd, c->call->id, token, &stale, &err);
  if (dirfd < 0) {
    call_warn(c, "not measured", err);
    return -1;
  }
  if (stale)
    ocilog_write(c->log, "warning",
                 "state of an earlier lifecycle of container %s was never closed by a delete; "
                 "moved aside for `measured gc`",
                 c->call->id);
  cleanup_json json *missed = json_new(JSON_ARRAY);
  cleanup_free char *version = version_cached(scope.topfd, c->entry->name, c->real_path);
  cleanup_json json *config = load_config(c, missed);
  probe_strip_prelude(config); /* the record shows the container's own args */
  cleanup_json json *ev = create_event(c, config, version, missed);
  pid_t pid = init_pid(c, missed);
  json_set(ev, "pid", json_new_int(pid));
  int64_t interval_ms = config ? sample_interval_ms(c, config, missed)
                               : runtime_entry_sample_interval_ms(c->table, c->entry);
  json_set(ev, "missed", json_clone(missed));
  call_finish_event(c, ev);
  if (state_append_event(dirfd, ev, &err) < 0) {
    call_warn(c, "create not recorded", err);
    return -1;
  }
  if (version == NULL)
    start_version_query(c, scope.topfd, dirfd);
  cleanup_free char *netns_why = NULL;
  cleanup_free char *flows_why = NULL;
  struct monitor_config mc = {.container = c->call->id,
                              .dirfd = dirfd,
                              .flows = flows_wanted(c, config, &flows_why),
                              .init_pid = pid,
                              .netns_fd = open_container_netns(config, pid, &netns_why),
                              .interval_us = interval_ms * 1000LL,
                              /* A hook's start comes after the container started: wait now. An
                               * OCI create does not wait: start does (calls_before_start). */
                              .wait_ready = c->hook.active};
  mc.netns_why = netns_why;
  mc.flows_why = flows_why;
  /* The probe's connections are measured's own: the monitor leaves them out of the flows. */
  struct probe_plan probe = {0};
  if (probe_load_injected_plan(dirfd, &probe) == 0)
    mc.probe_peer = probe.peer;
  int started = monitor_start(&mc, &err);
  probe_plan_clear(&probe);
  if (mc.netns_fd >= 0)
    close(mc.netns_fd); /* the monitor has its own */
  if (started < 0)
    call_warn(c, "exit status will not be recorded", err);
  record_own_time(c, dirfd);
  return 0;
}

/* ---- before create: the probe ---- */

static const char *probe_blocker(const struct call_ctx *c, const json *config,
                                 const struct probe_plan *plan, char **bin, merr **err)
{
  if (plan->why_not)
    return plan->why_not;
  if (probe_dev_is_bound(config))
    return "the container's /dev is a bind mount (of the host's, say): the probe's mount points "
           "would be made there, outside the container";
  if (!plan->exec_mode && (!c->hook.active || probe_root_ready(c->call->bundle, config)) &&
      !probe_args0_resolvable(c->call->bundle, config))
    return "the container's program (args[0]) is not in its image: the runtime reports that "
           "itself, without a probe in front";
  *bin = probe_binary_path(c->table->probe_binary, err);
  return *bin ? NULL : merr_msg(*err);
}

int create_before(const struct call_ctx *c)
{
  cleanup_json json *config = NULL;
  if (spec_load(c->call->bundle, &config, NULL) < 0)
    return 0; /* the record will say why after create */
  struct probe_plan plan;
  probe_plan_make(&c->entry->probe, config, &plan);
  if (!plan.requested)
    return 0;
  cleanup_merr merr *err = NULL;
  cleanup_scope struct state_scope scope;
  cleanup_free char *token = call_owner_token(c);
  bool stale = false;
  cleanup_close int dirfd = call_scope_open(c, &scope, &err) < 0
                                ? -1
                                : state_create(scope.fd, c->call->id, token, &stale, &err);
  if (dirfd < 0) {
    call_warn(c, "not probed", err);
    probe_plan_clear(&plan);
    return -1;
  }
  cleanup_free char *bin = NULL;
  cleanup_free char *state_path = state_item_path(scope.path, c->call->id);
  const char *why_not = probe_blocker(c, config, &plan, &bin, &err);
  cleanup_free char *failed = NULL;
  if (why_not == NULL &&
      probe_inject(dirfd, state_path, c->call->bundle, config, &plan, bin, &err) < 0)
    why_not = failed = xasprintf("the probe could not be put in place: %s", merr_msg(err));
  if (why_not) {
    ocilog_write(c->log, "warning", "container %s is not probed: %s", c->call->id, why_not);
    probe_save_plan(dirfd, &plan, false, why_not, NULL);
  }
  probe_plan_clear(&plan);
  return 0;
}
