#include "probe_inject.h"
#include "cleanup.h"
#include "fileio.h"
#include "probe_result.h"
#include "spec.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum { RESULT_MAX = 64 * 1024 };

char *probe_binary_path(const char *table_value, merr **err)
{
  char *path = NULL;
  if (table_value) {
    path = xstrdup(table_value);
  } else {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
      merr_set(err, errno, "readlink /proc/self/exe");
      return NULL;
    }
    self[n] = '\0';
    cleanup_free char *dir = path_dirname(self);
    path = xasprintf("%s/../libexec/measured/measured-probe", dir);
  }
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXOTH)) {
    merr_set(err, errno ? errno : EACCES, "probe binary %s is not an executable file", path);
    free(path);
    return NULL;
  }
  return path;
}

/* ---- args[0] as the runtime will look it up ---- */

static int open_in_root(int rootfd, const char *path)
{
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static bool exists_in_root(int rootfd, const char *path)
{
  int fd = open_in_root(rootfd, path);
  if (fd < 0)
    return false;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  close(fd);
  return ok;
}

static const char *env_path(const json *config)
{
  const json *env = json_get_path(config, (const char *const[]){"process", "env", NULL});
  const char *found = NULL;
  for (size_t i = 0; json_is(env, JSON_ARRAY) && i < env->n; i++) {
    const char *e = json_string(env->items[i]);
    if (e && strncmp(e, "PATH=", 5) == 0)
      found = e + 5;
  }
  return found ? found : DEFAULT_PATH;
}

static char *root_path_of(const char *bundle, const json *config)
{
  const char *root =
      json_string(json_get_path(config, (const char *const[]){"root", "path", NULL}));
  if (root == NULL)
    return NULL;
  return root[0] == '/' ? xstrdup(root) : xasprintf("%s/%s", bundle ? bundle : ".", root);
}

bool probe_root_ready(const char *bundle, const json *config)
{
  cleanup_free char *path = root_path_of(bundle, config);
  DIR *d = path ? opendir(path) : NULL;
  if (d == NULL)
    return false;
  bool any = false;
  for (struct dirent *e; !any && (e = readdir(d));)
    any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return any;
}

bool probe_args0_resolvable(const char *bundle, const json *config)
{
  const json *args = json_get_path(config, (const char *const[]){"process", "args", NULL});
  const char *arg0 = json_is(args, JSON_ARRAY) && args->n ? json_string(args->items[0]) : NULL;
  cleanup_free char *root_path = root_path_of(bundle, config);
  if (arg0 == NULL || *arg0 == '\0' || root_path == NULL)
    return false;
  cleanup_close int rootfd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return false;
  if (strchr(arg0, '/'))
    return exists_in_root(rootfd, arg0);
  cleanup_free char *dirs = xstrdup(env_path(config));
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    cleanup_free char *candidate = xasprintf("%s/%s", d, arg0);
    if (exists_in_root(rootfd, candidate))
      return true;
  }
  return false;
}

/* ---- the channel ---- */

/* The container's user as the host sees it (through user namespace mappings, if any). */
static unsigned host_id(const json *config, const char *map_key, const char *user_key)
{
  int64_t id = 0;
  json_int64(json_get_path(config, (const char *const[]){"process", "user", user_key, NULL}), &id);
  const json *maps = json_get_path(config, (const char *const[]){"linux", map_key, NULL});
  for (size_t i = 0; json_is(maps, JSON_ARRAY) && i < maps->n; i++) {
    int64_t cid, hid, size;
    if (json_int64(json_get(maps->items[i], "containerID"), &cid) &&
        json_int64(json_get(maps->items[i], "hostID"), &hid) &&
        json_int64(json_get(maps->items[i], "size"), &size) && id >= cid && id < cid + size)
      return (unsigned)(hid + (id - cid));
  }
  return (unsigned)id;
}

static int mount_channel(int dirfd, const char *out_path, const json *config, merr **err)
{
  if (mkdirat(dirfd, PROBE_OUT_DIR, 0700) < 0 && errno != EEXIST)
    return merr_set(err, errno, "mkdir %s", out_path);
  cleanup_free char *opts =
      xasprintf("size=256k,nr_inodes=32,mode=0700,uid=%u,gid=%u",
                host_id(config, "uidMappings", "uid"), host_id(config, "gidMappings", "gid"));
  if (mount("measured-probe", out_path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
    return merr_set(err, errno, "mount the probe's channel on %s", out_path);
  return 0;
}

void probe_release(const char *state_path)
{
  cleanup_free char *out = xasprintf("%s/%s", state_path, PROBE_OUT_DIR);
  umount2(out, MNT_DETACH | UMOUNT_NOFOLLOW);
}

/* ---- the spec ---- */

static json *bind_mount(const char *dest, const char *source, const char *const *options)
{
  json *m = json_new(JSON_OBJECT);
  json_set(m, "destination", json_new_string(dest));
  json_set(m, "type", json_new_string("bind"));
  json_set(m, "source", json_new_text(source));
  json *opts = json_new(JSON_ARRAY);
  for (; *options; options++)
    json_append(opts, json_new_string(*options));
  json_set(m, "options", opts);
  return m;
}

static int edit_spec(json *config, const struct probe_plan *p, const char *probe_bin,
                     const char *out_path, merr **err)
{
  json *mounts = json_get(config, "mounts");
  if (mounts == NULL) {
    mounts = json_new(JSON_ARRAY);
    json_set(config, "mounts", mounts);
  }
  json *process = json_get(config, "process");
  json *args = json_get(process, "args");
  if (!json_is(mounts, JSON_ARRAY) || !json_is(args, JSON_ARRAY) || args->n == 0)
    return merr_set(err, 0, "config.json has no process.args or mounts of the expected shape");
  /* After the runtime's own /dev: the mount points are created in that tmpfs. */
  json_append(mounts, bind_mount(PROBE_BIN_DEST, probe_bin,
                                 (const char *const[]){"bind", "ro", "nosuid", "nodev", NULL}));
  json_append(mounts,
              bind_mount(PROBE_DEFAULT_OUT, out_path,
                         (const char *const[]){"bind", "rw", "nosuid", "nodev", "noexec", NULL}));
  if (p->exec_mode)
    return 0;
  json *prelude = json_new(JSON_ARRAY);
  json_append(prelude, json_new_string(PROBE_BIN_DEST));
  size_t n = 0;
  char **pargs = probe_plan_argv(p, "prelude", &n);
  for (size_t i = 0; i < n; i++) {
    json_append(prelude, json_new_text(pargs[i]));
    free(pargs[i]);
  }
  free(pargs);
  json_append(prelude, json_new_string("--"));
  for (size_t i = 0; i < args->n; i++)
    json_append(prelude, json_clone(args->items[i]));
  json_set(process, "args", prelude);
  return 0;
}

void probe_strip_prelude(json *config)
{
  json *process = json_get(config, "process");
  json *args = json_get(process, "args");
  const char *first = json_is(args, JSON_ARRAY) && args->n ? json_string(args->items[0]) : NULL;
  if (first == NULL || strcmp(first, PROBE_BIN_DEST) != 0)
    return;
  for (size_t i = 1; i < args->n; i++) {
    const char *a = json_string(args->items[i]);
    if (a && strcmp(a, "--") == 0) {
      json *orig = json_new(JSON_ARRAY);
      for (size_t k = i + 1; k < args->n; k++)
        json_append(orig, json_clone(args->items[k]));
      json_set(process, "args", orig);
      return;
    }
  }
}

int probe_save_plan(int dirfd, const struct probe_plan *p, bool injected, const char *why_not,
                    merr **err)
{
  cleanup_json json *j = probe_plan_json(p);
  json_set(j, "injected", json_new_bool(injected));
  json_set(j, "why_not", why_not ? json_new_text(why_not) : json_new(JSON_NULL));
  cleanup_free char *text = NULL;
  size_t len;
  if (json_serialize(j, false, &text, &len, err) < 0)
    return -1;
  return write_file_replace_at(dirfd, PROBE_PLAN_FILE, text, len, 0600, err);
}

int probe_inject(int dirfd, const char *state_path, const char *bundle, json *config,
                 const struct probe_plan *p, const char *probe_bin, merr **err)
{
  cleanup_free char *out_path = xasprintf("%s/%s", state_path, PROBE_OUT_DIR);
  if (mount_channel(dirfd, out_path, config, err) < 0)
    return -1;
  if (edit_spec(config, p, probe_bin, out_path, err) < 0 ||
      probe_save_plan(dirfd, p, true, NULL, err) < 0 || spec_save(bundle, config, err) < 0) {
    probe_release(state_path);
    unlinkat(dirfd, PROBE_PLAN_FILE, 0);
    return -1;
  }
  return 0;
}

static json *load_plan_json(int dirfd)
{
  cleanup_free char *text = NULL;
  size_t len;
  json *j = NULL;
  if (read_file_at(dirfd, PROBE_PLAN_FILE, 64 * 1024, &text, &len, NULL) < 0 ||
      json_parse(text, len, NULL, PROBE_PLAN_FILE, &j, NULL) < 0 || !json_is(j, JSON_OBJECT)) {
    json_free(j);
    return NULL;
  }
  return j;
}

int probe_load_injected_plan(int dirfd, struct probe_plan *p)
{
  cleanup_json json *j = load_plan_json(dirfd);
  if (j == NULL || !json_is(json_get(j, "injected"), JSON_TRUE))
    return -1;
  return probe_plan_from_json(j, p);
}

/* ---- the result ---- */

json *probe_collect(int dirfd, const char *state_path)
{
  json *out = load_plan_json(dirfd);
  if (out == NULL)
    return NULL;
  if (!json_is(json_get(out, "injected"), JSON_TRUE)) {
    json_set(out, "result", json_new(JSON_NULL));
    return out; /* why_not says why */
  }
  size_t len;
  cleanup_free char *text = NULL;
  cleanup_merr merr *err = NULL;
  cleanup_free char *file = xasprintf("%s/%s", PROBE_OUT_DIR, PROBE_RESULT_FILE);
  if (read_file_at(dirfd, file, RESULT_MAX, &text, &len, &err) < 0) {
    json_set(out, "result", json_new(JSON_NULL));
    cleanup_free char *why = merr_is(err, ENOENT)
                                 ? xstrdup("the probe left no result (it never ran, or was killed)")
                                 : xasprintf("result rejected: %s", merr_msg(err));
    json_set(out, "why", json_new_text(why));
  } else {
    char *why = NULL;
    json *res = probe_result_validate(text, len, &why);
    json_set(out, "result", res ? res : json_new(JSON_NULL));
    if (why) {
      cleanup_free char *m = xasprintf("result rejected: %s", why);
      json_set(out, "why", json_new_text(m));
      free(why);
    }
  }
  probe_release(state_path);
  return out;
}

/* "bind" or "rbind" among a mount's options, or its type. */
static bool is_bind(const json *mount)
{
  const char *type = json_string(json_get(mount, "type"));
  if (type && strcmp(type, "bind") == 0)
    return true;
  const json *opts = json_get(mount, "options");
  for (size_t i = 0; json_is(opts, JSON_ARRAY) && i < opts->n; i++) {
    const char *o = json_string(opts->items[i]);
    if (o && (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0))
      return true;
  }
  return false;
}

bool probe_dev_is_bound(const json *config)
{
  const json *mounts = json_get(config, "mounts");
  for (size_t i = 0; json_is(mounts, JSON_ARRAY) && i < mounts->n; i++) {
    const char *dest = json_string(json_get(mounts->items[i], "destination"));
    if (dest && (strcmp(dest, "/dev") == 0 || strcmp(dest, "/dev/") == 0) &&
        is_bind(mounts->items[i]))
      return true;
  }
  return false;
}
