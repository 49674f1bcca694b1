#include "lifecycle.h"
#include "capture.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "hostctx.h"
#include "monitor.h"
#include "netns.h"
#include "record.h"
#include "spec.h"
#include "state.h"
#include "store.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MONITOR_EXIT_WAIT_MS = 500, PID_FILE_MAX = 64, STATE_QUERY_TIMEOUT_MS = 3000 };

static int rc_of(const struct run_result *r)
{
  if (WIFEXITED(r->wait_status))
    return WEXITSTATUS(r->wait_status);
  return 128 + WTERMSIG(r->wait_status);
}

static int64_t overhead_now(const struct call_ctx *c)
{
  return (c->run.start_us - c->t0_us) + (mono_us() - c->run.end_us);
}

/* An event for this call, with its timings. */
static json *call_event(const struct call_ctx *c)
{
  json *ev = json_new(JSON_OBJECT);
  json_set(ev, "ev", json_new_string(oci_sub_name(c->call->sub)));
  json_set(ev, "mono_us", json_new_int(c->run.end_us));
  json_set(ev, "real_ns", json_new_int(real_ns()));
  json_set(ev, "dur_us", json_new_int(c->run.end_us - c->run.start_us));
  json_set(ev, "rc", json_new_int(rc_of(&c->run)));
  return ev;
}

static void finish_event(const struct call_ctx *c, json *ev)
{
  json_set(ev, "ovh_us", json_new_int(overhead_now(c)));
}

static void warn(const struct call_ctx *c, const char *what, merr *err)
{
  ocilog_write(c->log, "warning", "%s for container %s: %s; the container is not affected", what,
               c->call->id, merr_msg(err));
}

static int open_root(const struct call_ctx *c, merr **err)
{
  return state_root_open(c->table->state_dir, err);
}

/* ---- create ---- */

static pid_t parse_pid(const char *text)
{
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  while (*end == '\n' || *end == ' ')
    end++;
  return errno || *end || v <= 0 || v > 0x3fffffff ? 0 : (pid_t)v;
}

/* Asks the runtime (`state <id>`) when the caller gave no --pid-file. */
static pid_t pid_from_runtime_state(const struct call_ctx *c, merr **err)
{
  size_t nextra = c->entry->nargs, nglobal = (size_t)c->call->sub_index - 1;
  char **argv = xreallocarray(NULL, 1 + nextra + nglobal + 3, sizeof *argv);
  size_t n = 0;
  argv[n++] = (char *)c->real_path;
  for (size_t i = 0; i < nextra; i++)
    argv[n++] = c->entry->args[i];
  for (size_t i = 0; i < nglobal; i++)
    argv[n++] = c->argv[1 + i];
  argv[n++] = "state";
  argv[n++] = (char *)c->call->id;
  argv[n] = NULL;
  cleanup_free char *out = NULL;
  int ret = capture_output(argv, STATE_QUERY_TIMEOUT_MS, 1 << 20, &out, err);
  free(argv);
  if (ret < 0)
    return 0;
  cleanup_json json *st = NULL;
  int64_t pid;
  if (json_parse(out, strlen(out), NULL, "runtime state", &st, err) < 0)
    return 0;
  if (!json_int64(json_get(st, "pid"), &pid) || pid <= 0 || pid > 0x3fffffff) {
    merr_set(err, 0, "runtime state has no valid pid");
    return 0;
  }
  return (pid_t)pid;
}

static pid_t init_pid(const struct call_ctx *c, json *missed)
{
  merr *err = NULL;
  pid_t pid = 0;
  if (c->call->pid_file) {
    cleanup_free char *text = NULL;
    if (read_file_at(AT_FDCWD, c->call->pid_file, PID_FILE_MAX, &text, NULL, &err) == 0 &&
        (pid = parse_pid(text)) == 0)
      merr_set(&err, 0, "%s does not hold a pid", c->call->pid_file);
  } else {
    pid = pid_from_runtime_state(c, &err);
  }
  if (pid == 0) {
    cleanup_free char *m = xasprintf("init pid: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
  }
  merr_free(err);
  return pid;
}

/* Docker gives --network host containers the path of a bind mount of the host's namespace
 * (/var/run/docker/netns/default): same namespace as ours, so it is "host", whatever the path. */
static void resolve_host_netns(json *summary)
{
  json *ns = json_get(summary, "netns");
  const char *mode = json_string(json_get(ns, "mode"));
  const char *path = json_string(json_get(ns, "path"));
  struct stat theirs, ours;
  if (mode && strcmp(mode, "path") == 0 && path && stat(path, &theirs) == 0 &&
      stat("/proc/self/ns/net", &ours) == 0 && theirs.st_dev == ours.st_dev &&
      theirs.st_ino == ours.st_ino)
    json_set(ns, "mode", json_new_string("host"));
}

static json *load_config(const struct call_ctx *c, json *missed)
{
  json *config = NULL;
  merr *err = NULL;
  if (spec_load(c->call->bundle, &config, &err) < 0) {
    cleanup_free char *m = xasprintf("container details: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
    merr_free(err);
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
  merr *err = NULL;
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
  merr_free(err);
  return fd;
}

/* The table's interval, or MEASURED_SAMPLE_INTERVAL_MS from the container's environment. */
static int64_t sample_interval_ms(const struct call_ctx *c, const json *config)
{
  const char *env = spec_env(config, "MEASURED_SAMPLE_INTERVAL_MS");
  char *end = NULL;
  long v = env ? strtol(env, &end, 10) : 0;
  if (env && *end == '\0' && v >= MEASURED_MIN_SAMPLE_INTERVAL_MS &&
      v <= MEASURED_MAX_SAMPLE_INTERVAL_MS)
    return v;
  return runtime_entry_sample_interval_ms(c->table, c->entry);
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
  json_set(ev, "runtime", rt);
  json_set(ev, "host", host_identity());
  add_spec_details(config, ev, missed);
  return ev;
}

static int store_record(const struct call_ctx *c, const json *rec, merr **err)
{
  cleanup_free char *line = NULL;
  size_t len;
  if (json_serialize(rec, false, &line, &len, err) < 0)
    return -1;
  return store_append(runtime_entry_store(c->table, c->entry), line, len, err);
}

static int after_failed_create(const struct call_ctx *c, int rootfd)
{
  cleanup_json json *missed = json_new(JSON_ARRAY);
  cleanup_free char *version = version_cached(rootfd, c->entry->name, c->real_path);
  cleanup_json json *config = load_config(c, missed);
  cleanup_json json *ev = create_event(c, config, version, missed);
  json_set(ev, "missed", json_clone(missed));
  finish_event(c, ev);
  cleanup_json json *rec = record_build_create_failed(c->call->id, ev);
  merr *err = NULL;
  if (store_record(c, rec, &err) < 0) {
    warn(c, "record of the failed create not written", err);
    merr_free(err);
    return -1;
  }
  return 0;
}

static int after_create(const struct call_ctx *c)
{
  merr *err = NULL;
  cleanup_close int rootfd = open_root(c, &err);
  if (rootfd < 0) {
    warn(c, "not measured", err);
    merr_free(err);
    return -1;
  }
  if (rc_of(&c->run) != 0)
    return after_failed_create(c, rootfd);
  bool stale = false;
  cleanup_close int dirfd = state_create(rootfd, c->call->id, &stale, &err);
  if (dirfd < 0) {
    warn(c, "not measured", err);
    merr_free(err);
    return -1;
  }
  if (stale)
    ocilog_write(c->log, "warning",
                 "state of an earlier lifecycle of container %s was never closed by a delete; "
                 "moved aside for `measured gc`",
                 c->call->id);
  cleanup_json json *missed = json_new(JSON_ARRAY);
  cleanup_free char *version = version_cached(rootfd, c->entry->name, c->real_path);
  cleanup_json json *config = load_config(c, missed);
  cleanup_json json *ev = create_event(c, config, version, missed);
  pid_t pid = init_pid(c, missed);
  json_set(ev, "pid", json_new_int(pid));
  json_set(ev, "missed", json_clone(missed));
  finish_event(c, ev);
  if (state_append_event(dirfd, ev, &err) < 0) {
    warn(c, "create not recorded", err);
    merr_free(err);
    return -1;
  }
  cleanup_free char *netns_why = NULL;
  struct monitor_config mc = {.rootfd = rootfd,
                              .dirfd = dirfd,
                              .init_pid = pid,
                              .netns_fd = open_container_netns(config, pid, &netns_why),
                              .interval_us = sample_interval_ms(c, config) * 1000LL,
                              .runtime_name = c->entry->name,
                              .runtime_path = version ? NULL : c->real_path};
  mc.netns_why = netns_why;
  int started = monitor_start(&mc, &err);
  if (mc.netns_fd >= 0)
    close(mc.netns_fd); /* the monitor has its own */
  if (started < 0) {
    warn(c, "exit status will not be recorded", err);
    merr_free(err);
  }
  return 0;
}

/* ---- start, exec, kill ---- */

static int append_call_event(const struct call_ctx *c, json *extra_context)
{
  merr *err = NULL;
  cleanup_json json *ev = call_event(c);
  if (extra_context)
    json_set(ev, "context", extra_context);
  if (c->call->sub == OCI_SUB_KILL)
    json_set(ev, "signal", json_new_text(c->call->signal ? c->call->signal : "SIGTERM"));
  cleanup_close int rootfd = open_root(c, &err);
  cleanup_close int dirfd = rootfd < 0 ? -1 : state_open(rootfd, c->call->id, &err);
  if (dirfd < 0) {
    /* ENOENT: a container created before measured was installed, or already recorded. */
    bool silent = merr_is(err, ENOENT);
    if (!silent)
      warn(c, "call not recorded", err);
    merr_free(err);
    return silent ? 0 : -1;
  }
  /* A monitor that already finished (the container lived a few milliseconds) left net.json:
   * not waking it is no loss. */
  if (c->call->sub == OCI_SUB_START && rc_of(&c->run) == 0 && monitor_wake(dirfd, &err) < 0 &&
      faccessat(dirfd, "net.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
    cleanup_free char *m = xasprintf("network counters: %s", merr_msg(err));
    json_set(ev, "missed", json_new_text(m));
    merr_freep(&err);
  }
  finish_event(c, ev);
  if (state_append_event(dirfd, ev, &err) < 0) {
    warn(c, "call not recorded", err);
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
  cleanup_free char *aside = xasprintf(".unstored-%s-%d", c->call->id, (int)getpid());
  if (json_serialize(rec, false, &text, &len, NULL) == 0 &&
      write_file_atomic_at(dirfd, "record.json", text, len, 0600, NULL) == 0)
    renameat(rootfd, claimed, rootfd, aside);
}

/* The sampler's summary (written by the monitor, our own file, parsed strictly all the same). */
static json *read_net_summary(int dirfd, json *missed)
{
  cleanup_free char *text = NULL;
  size_t len;
  merr *err = NULL;
  json *net = NULL;
  if (read_file_at(dirfd, "net.json", STATE_MAX_EVENTS_BYTES, &text, &len, &err) == 0 &&
      json_parse(text, len, NULL, "net.json", &net, &err) == 0)
    return net;
  if (!merr_is(err, ENOENT)) {
    cleanup_free char *m = xasprintf("network counters: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
  }
  merr_free(err);
  return NULL;
}

static int after_delete(const struct call_ctx *c)
{
  if (rc_of(&c->run) != 0)
    return 0; /* the lifecycle goes on: the record comes with the delete that succeeds */
  merr *err = NULL;
  cleanup_close int rootfd = open_root(c, &err);
  cleanup_free char *claimed = NULL;
  cleanup_close int dirfd = rootfd < 0 ? -1 : state_claim(rootfd, c->call->id, &claimed, &err);
  if (dirfd < 0) {
    bool silent = merr_is(err, ENOENT); /* already recorded (Docker deletes twice) */
    if (!silent)
      warn(c, "record not written", err);
    merr_free(err);
    return silent ? 0 : -1;
  }
  cleanup_json json *missed = json_new(JSON_ARRAY);
  if (monitor_wait_exit_recorded(dirfd, MONITOR_EXIT_WAIT_MS) < 0)
    json_append(missed, json_new_string("exit status: the monitor was still running at delete"));
  cleanup_json json *events = NULL;
  unsigned bad = 0;
  if (state_read_events(dirfd, &events, &bad, &err) < 0) {
    cleanup_free char *m = xasprintf("state events: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
    merr_freep(&err);
    events = json_new(JSON_ARRAY);
  }
  cleanup_json json *net = read_net_summary(dirfd, missed);
  cleanup_json json *context = host_load();
  struct delete_info del = {.begin_mono_us = c->run.start_us,
                            .real_ns = real_ns(),
                            .dur_us = c->run.end_us - c->run.start_us,
                            .overhead_us = overhead_now(c),
                            .rc = 0,
                            .context = context};
  cleanup_json json *rec = record_build(c->call->id, events, bad, &del, net, missed);
  if (store_record(c, rec, &err) < 0) {
    warn(c, "record not written to the store (kept in the state directory)", err);
    merr_free(err);
    keep_unstored(c, rootfd, dirfd, claimed, rec);
    return -1;
  }
  if (remove_tree_at(rootfd, claimed, &err) < 0) {
    warn(c, "state not removed", err);
    merr_free(err);
  }
  return 0;
}

int lifecycle_after(void *arg)
{
  const struct call_ctx *c = arg;
  switch (c->call->sub) {
  case OCI_SUB_CREATE:
    return after_create(c);
  case OCI_SUB_START:
    return append_call_event(c, rc_of(&c->run) == 0 ? host_load() : NULL);
  case OCI_SUB_EXEC:
  case OCI_SUB_KILL:
    return append_call_event(c, NULL);
  case OCI_SUB_DELETE:
    return after_delete(c);
  default:
    return 0;
  }
}
