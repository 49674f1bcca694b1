#include "table.h"
#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "places.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { TABLE_MAX_BYTES = 1 << 20, TABLE_MAX_ARGS = 64, TABLE_MAX_RUNTIMES = 256 };

static const struct {
  const char *name, *path, *arg, *shim;
} builtin_runtimes[] = {
    {"runc", "runc", NULL, "containerd-shim-runc-v2"},
    {"crun", "crun", NULL, NULL},
    /* gVisor's own netstack fails on this project's reference machine (see docs/machine.md); with
     * --network=host runsc uses the container's network namespace through the host kernel. */
    {"runsc", "runsc", "--network=host", "containerd-shim-runsc-v1"},
    {"kata-runtime", "kata-runtime", NULL, NULL},              /* Kata 1.x: an OCI command line */
    {"kata", "kata-runtime", NULL, "containerd-shim-kata-v2"}, /* Kata 2.x/3.x: a shim only */
};

const char *runtime_table_path(void)
{
  const char *env = getenv("MEASURED_CONFIG");
  const char *own = measured_places()->config;
  return env && *env ? env : own ? own : ""; /* "": none, the built-in entries */
}

bool runtime_name_valid(const char *name)
{
  size_t n = strlen(name);
  if (n == 0 || n > 64 ||
      !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
    return false;
  /* "wrapper": measured-wrapper is the binary itself, never a runtime link. */
  return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n &&
         strcmp(name, "wrapper") != 0;
}

static void entry_clear(struct runtime_entry *e)
{
  free(e->probe.tests);
  free(e->probe.peer);
  free(e->probe.mode);
  free(e->name);
  free(e->path);
  free(e->shim);
  for (size_t i = 0; i < e->nargs; i++)
    free(e->args[i]);
  free(e->args);
  free(e->store);
  memset(e, 0, sizeof *e);
}

void runtime_table_free(struct runtime_table *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++)
    entry_clear(&t->entries[i]);
  free(t->entries);
  free(t->source);
  free(t->store);
  free(t->state_dir);
  free(t->probe_binary);
  for (size_t i = 0; i < t->nexport_labels; i++)
    free(t->export_labels[i]);
  free(t->export_labels);
  free(t);
}

static struct runtime_entry *entry_slot(struct runtime_table *t, const char *name)
{
  struct runtime_entry *e = NULL;
  for (size_t i = 0; i < t->n && e == NULL; i++)
    if (strcmp(t->entries[i].name, name) == 0) {
      entry_clear(&t->entries[i]);
      e = &t->entries[i];
    }
  if (e == NULL) {
    t->entries = xreallocarray(t->entries, t->n + 1, sizeof *t->entries);
    e = &t->entries[t->n++];
  }
  memset(e, 0, sizeof *e);
  e->flows = -1; /* the table's */
  return e;
}

static struct runtime_table *table_with_builtins(const char *source)
{
  struct runtime_table *t = xzalloc(sizeof *t);
  t->source = xstrdup(source);
  const struct measured_places *places = measured_places();
  t->store = xstrdup(places->store ? places->store : "");
  t->state_dir = xstrdup(places->state_dir ? places->state_dir : "");
  t->sample_interval_ms = MEASURED_DEFAULT_SAMPLE_INTERVAL_MS;
  t->store_max_bytes = MEASURED_DEFAULT_STORE_MAX_BYTES;
  t->store_keep = MEASURED_DEFAULT_STORE_KEEP;
  t->flows = 1;
  for (size_t i = 0; i < sizeof builtin_runtimes / sizeof builtin_runtimes[0]; i++) {
    struct runtime_entry *e = entry_slot(t, builtin_runtimes[i].name);
    e->name = xstrdup(builtin_runtimes[i].name);
    e->path = xstrdup(builtin_runtimes[i].path);
    if (builtin_runtimes[i].shim)
      e->shim = xstrdup(builtin_runtimes[i].shim);
    e->builtin = true;
    if (builtin_runtimes[i].arg) {
      e->args = xmalloc(sizeof *e->args);
      e->args[e->nargs++] = xstrdup(builtin_runtimes[i].arg);
    }
  }
  return t;
}

static int want_abs_path(const json *v, const char *what, const char *key, char **out, merr **err)
{
  const char *s = json_string(v);
  if (s == NULL || s[0] != '/' || strlen(s) > 4096)
    return merr_set(err, 0, "%s: \"%s\" must be an absolute path", what, key);
  free(*out);
  *out = xstrdup(s);
  return 0;
}

static int want_interval(const json *v, const char *what, int *out, merr **err)
{
  int64_t ms;
  if (!json_int64(v, &ms) || ms < MEASURED_MIN_SAMPLE_INTERVAL_MS ||
      ms > MEASURED_MAX_SAMPLE_INTERVAL_MS)
    return merr_set(err, 0, "%s: \"sample_interval_ms\" must be an integer from %d to %d", what,
                    MEASURED_MIN_SAMPLE_INTERVAL_MS, MEASURED_MAX_SAMPLE_INTERVAL_MS);
  *out = (int)ms;
  return 0;
}

/* An integer from lo to hi, or 0 when zero_ok. */
static int want_int_range(const json *v, const char *what, const char *key, int64_t lo, int64_t hi,
                          bool zero_ok, int64_t *out, merr **err)
{
  int64_t n;
  if (!json_int64(v, &n) || ((n < lo || n > hi) && !(zero_ok && n == 0)))
    return merr_set(err, 0, "%s: \"%s\" must be an integer from %lld to %lld%s", what, key,
                    (long long)lo, (long long)hi, zero_ok ? ", or 0" : "");
  *out = n;
  return 0;
}

/* true or false; stored as 1 or 0 (-1 in an entry means: the table's). */
static int want_bool(const json *v, const char *what, const char *key, int *out, merr **err)
{
  if (!json_is(v, JSON_TRUE) && !json_is(v, JSON_FALSE))
    return merr_set(err, 0, "%s: \"%s\" must be true or false", what, key);
  *out = json_is(v, JSON_TRUE);
  return 0;
}

static int want_string(const json *v, const char *what, const char *key, size_t max, char **out,
                       merr **err)
{
  const char *s = json_string(v);
  if (s == NULL || *s == '\0' || strlen(s) > max)
    return merr_set(err, 0, "%s: \"%s\" must be a non-empty string of at most %zu bytes", what, key,
                    max);
  free(*out);
  *out = xstrdup(s);
  return 0;
}

static int want_int(const json *v, const char *what, const char *key, int lo, int hi, int *out,
                    merr **err)
{
  int64_t n;
  if (!json_int64(v, &n) || n < lo || n > hi)
    return merr_set(err, 0, "%s: \"%s\" must be an integer from %d to %d", what, key, lo, hi);
  *out = (int)n;
  return 0;
}

/* "probe": {...}: checked for shape here; values are checked again, with the container's own
 * variables, when a container is probed. */
static int parse_probe(const json *v, const char *what, struct probe_settings *p, merr **err)
{
  if (!json_is(v, JSON_OBJECT))
    return merr_set(err, 0, "%s: \"probe\" must be an object", what);
  for (size_t i = 0; i < v->n; i++) {
    const char *k = v->keys[i];
    const json *x = v->items[i];
    int r;
    if (strcmp(k, "tests") == 0)
      r = want_string(x, what, k, 64, &p->tests, err);
    else if (strcmp(k, "peer") == 0)
      r = want_string(x, what, k, 80, &p->peer, err);
    else if (strcmp(k, "mode") == 0)
      r = want_string(x, what, k, 16, &p->mode, err);
    else if (strcmp(k, "budget_ms") == 0)
      r = want_int(x, what, k, 100, 600000, &p->budget_ms, err);
    else if (strcmp(k, "msg_size") == 0)
      r = want_int(x, what, k, 8, 65000, &p->msg_size, err);
    else if (strcmp(k, "latency_ms") == 0)
      r = want_int(x, what, k, 1, 600000, &p->latency_ms, err);
    else if (strcmp(k, "bandwidth_ms") == 0)
      r = want_int(x, what, k, 10, 600000, &p->bandwidth_ms, err);
    else if (strcmp(k, "reverse") == 0 && json_is(x, JSON_TRUE))
      r = (p->reverse = 1, 0);
    else if (strcmp(k, "reverse") == 0 && json_is(x, JSON_FALSE))
      r = (p->reverse = 0, 0);
    else
      r = merr_set(err, 0, "%s: probe: unknown key or bad value \"%s\"", what, k);
    if (r < 0)
      return -1;
  }
  return 0;
}

static int parse_args(const json *v, const char *what, const char *name, struct runtime_entry *e,
                      merr **err)
{
  if (!json_is(v, JSON_ARRAY) || v->n > TABLE_MAX_ARGS)
    return merr_set(err, 0, "%s: runtimes.%s.args must be an array of at most %d strings", what,
                    name, TABLE_MAX_ARGS);
  for (size_t i = 0; i < e->nargs; i++) /* "args" given twice: the last one counts */
    free(e->args[i]);
  free(e->args);
  e->nargs = 0;
  e->args = xreallocarray(NULL, v->n ? v->n : 1, sizeof *e->args);
  for (size_t i = 0; i < v->n; i++) {
    const char *s = json_string(v->items[i]);
    if (s == NULL || strlen(s) > 4096)
      return merr_set(err, 0, "%s: runtimes.%s.args[%zu] must be a string", what, name, i);
    e->args[e->nargs++] = xstrdup(s);
  }
  return 0;
}

static int parse_entry(const char *name, const json *v, const char *what, struct runtime_table *t,
                       merr **err)
{
  if (!runtime_name_valid(name))
    return merr_set(err, 0, "%s: runtime name \"%s\" is invalid (1-64 of a-z 0-9 . _ -)", what,
                    name);
  if (!json_is(v, JSON_OBJECT))
    return merr_set(err, 0, "%s: runtimes.%s must be an object", what, name);
  struct runtime_entry *e = entry_slot(t, name);
  e->name = xstrdup(name);
  for (size_t i = 0; i < v->n; i++) {
    const char *key = v->keys[i];
    const json *val = v->items[i];
    if (strcmp(key, "path") == 0 || strcmp(key, "shim") == 0) {
      const char *s = json_string(val);
      if (s == NULL || *s == '\0' || strlen(s) > 4096 || (strchr(s, '/') && s[0] != '/'))
        return merr_set(err, 0, "%s: runtimes.%s.%s must be an absolute path or a plain name", what,
                        name, key);
      char **slot = key[0] == 'p' ? &e->path : &e->shim;
      free(*slot);
      *slot = xstrdup(s);
    } else if (strcmp(key, "args") == 0) {
      if (parse_args(val, what, name, e, err) < 0)
        return -1;
    } else if (strcmp(key, "store") == 0) {
      if (want_abs_path(val, what, "store", &e->store, err) < 0)
        return -1;
    } else if (strcmp(key, "sample_interval_ms") == 0) {
      if (want_interval(val, what, &e->sample_interval_ms, err) < 0)
        return -1;
    } else if (strcmp(key, "probe") == 0) {
      if (parse_probe(val, what, &e->probe, err) < 0)
        return -1;
    } else if (strcmp(key, "flows") == 0) {
      if (want_bool(val, what, "flows", &e->flows, err) < 0)
        return -1;
    } else {
      return merr_set(err, 0, "%s: runtimes.%s: unknown key \"%s\"", what, name, key);
    }
  }
  if (e->path == NULL)
    return merr_set(err, 0, "%s: runtimes.%s has no \"path\"", what, name);
  return 0;
}

static int parse_runtimes(const json *v, const char *what, struct runtime_table *t, merr **err)
{
  if (!json_is(v, JSON_OBJECT) || v->n > TABLE_MAX_RUNTIMES)
    return merr_set(err, 0, "%s: \"runtimes\" must be an object of at most %d entries", what,
                    TABLE_MAX_RUNTIMES);
  for (size_t i = 0; i < v->n; i++)
    if (parse_entry(v->keys[i], v->items[i], what, t, err) < 0)
      return -1;
  return 0;
}

/* A Prometheus label name ([a-z_][a-z0-9_]*, lower case as the record's keys usually are) that
 * none of the exporter's own labels already takes. */
static bool export_label_valid(const char *s)
{
  static const char *const taken[] = {"runtime", "driver",   "load",      "outcome",
                                      "call",    "protocol", "direction", "container",
                                      "le",      "quantile", "instance",  "job"};
  size_t n = strlen(s);
  if (n == 0 || n > 32 || (s[0] >= '0' && s[0] <= '9') || strncmp(s, "__", 2) == 0 ||
      strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
    return false;
  for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
    if (strcmp(s, taken[i]) == 0)
      return false;
  return true;
}

static int parse_export_labels(const json *v, const char *what, struct runtime_table *t, merr **err)
{
  if (!json_is(v, JSON_ARRAY) || v->n > TABLE_MAX_EXPORT_LABELS)
    return merr_set(err, 0, "%s: export_labels must be an array of at most %d label keys", what,
                    TABLE_MAX_EXPORT_LABELS);
  for (size_t i = 0; i < t->nexport_labels; i++) /* given twice: the last one counts */
    free(t->export_labels[i]);
  free(t->export_labels);
  t->export_labels = xreallocarray(NULL, v->n ? v->n : 1, sizeof *t->export_labels);
  t->nexport_labels = 0;
  for (size_t i = 0; i < v->n; i++) {
    const char *s = json_string(v->items[i]);
    if (s == NULL || !export_label_valid(s))
      return merr_set(err, 0,
                      "%s: export_labels[%zu] must be a label key of [a-z0-9_] (at most 32, not "
                      "starting with a digit or __) that is not one of the exporter's own labels",
                      what, i);
    for (size_t k = 0; k < t->nexport_labels; k++)
      if (strcmp(t->export_labels[k], s) == 0)
        return merr_set(err, 0, "%s: export_labels names \"%s\" twice", what, s);
    t->export_labels[t->nexport_labels++] = xstrdup(s);
  }
  return 0;
}

int runtime_table_parse(const char *buf, size_t len, const char *what, struct runtime_table **out,
                        merr **err)
{
  cleanup_json json *doc = NULL;
  if (json_parse(buf, len, NULL, what, &doc, err) < 0)
    return -1;
  if (!json_is(doc, JSON_OBJECT))
    return merr_set(err, 0, "%s: the top level must be an object", what);
  struct runtime_table *t = table_with_builtins(what);
  int ret = 0;
  for (size_t i = 0; ret == 0 && i < doc->n; i++) {
    const char *key = doc->keys[i];
    if (strcmp(key, "store") == 0)
      ret = want_abs_path(doc->items[i], what, "store", &t->store, err);
    else if (strcmp(key, "state_dir") == 0)
      ret = want_abs_path(doc->items[i], what, "state_dir", &t->state_dir, err);
    else if (strcmp(key, "runtimes") == 0)
      ret = parse_runtimes(doc->items[i], what, t, err);
    else if (strcmp(key, "sample_interval_ms") == 0)
      ret = want_interval(doc->items[i], what, &t->sample_interval_ms, err);
    else if (strcmp(key, "probe_binary") == 0)
      ret = want_abs_path(doc->items[i], what, "probe_binary", &t->probe_binary, err);
    else if (strcmp(key, "flows") == 0)
      ret = want_bool(doc->items[i], what, key, &t->flows, err);
    else if (strcmp(key, "export_labels") == 0)
      ret = parse_export_labels(doc->items[i], what, t, err);
    else if (strcmp(key, "store_max_bytes") == 0)
      ret = want_int_range(doc->items[i], what, key, 1 << 20, INT64_MAX / 2, true,
                           &t->store_max_bytes, err);
    else if (strcmp(key, "store_keep") == 0) {
      int64_t keep = 0;
      ret = want_int_range(doc->items[i], what, key, 1, 100, false, &keep, err);
      t->store_keep = (int)keep;
    } else
      ret = merr_set(err, 0, "%s: unknown key \"%s\"", what, key);
  }
  if (ret < 0) {
    runtime_table_free(t);
    return ret;
  }
  *out = t;
  return 0;
}

int runtime_table_load(const char *path, struct runtime_table **out, merr **err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  cleanup_merr merr *rerr = NULL;
  if (read_file_at(AT_FDCWD, path, TABLE_MAX_BYTES, &buf, &len, &rerr) < 0) {
    if (merr_is(rerr, ENOENT)) {
      merr_freep(&rerr);
      *out = table_with_builtins("built-in defaults");
      return 0;
    }
    merr_pass(err, &rerr);
    return merr_wrap(err, "runtime table");
  }
  return runtime_table_parse(buf, len, path, out, err);
}

const struct runtime_entry *runtime_table_find(const struct runtime_table *t, const char *name)
{
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->entries[i].name, name) == 0)
      return &t->entries[i];
  return NULL;
}

const char *runtime_entry_store(const struct runtime_table *t, const struct runtime_entry *e)
{
  return e->store ? e->store : t->store;
}

bool runtime_entry_flows(const struct runtime_table *t, const struct runtime_entry *e)
{
  return e->flows >= 0 ? e->flows == 1 : t->flows == 1;
}

int runtime_entry_sample_interval_ms(const struct runtime_table *t, const struct runtime_entry *e)
{
  return e->sample_interval_ms ? e->sample_interval_ms : t->sample_interval_ms;
}

static bool is_executable_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int runtime_resolve(const char *path, char **out, merr **err)
{
  if (path[0] == '/') {
    if (!is_executable_file(path))
      return merr_set(err, errno ? errno : EACCES, "real runtime %s is not an executable file",
                      path);
    *out = xstrdup(path);
    return 0;
  }
  const char *env = getenv("PATH");
  cleanup_free char *dirs =
      xstrdup(env && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    if (d[0] != '/')
      continue; /* a relative PATH entry would depend on the bundle directory */
    cleanup_free char *candidate = xasprintf("%s/%s", d, path);
    if (is_executable_file(candidate)) {
      *out = steal_pointer(&candidate);
      return 0;
    }
  }
  return merr_set(err, ENOENT, "real runtime \"%s\" not found in PATH", path);
}
