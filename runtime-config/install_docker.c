#include "install_docker.h"
#include "cleanup.h"
#include "containerd_config.h"
#include "daemon_file.h"
#include "daemon_json.h"
#include "engine.h"
#include "fileio.h"
#include "install_containerd.h"
#include "links.h"
#include "naming.h"
#include "registration.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RELOAD_CONFIRM_MS = 15000, MAX_NAMES = 64 };

/* The engine's version for the shim-v2 form: as told, or asked; NULL with *why when unknown. */
static const struct engine_version *docker_version(const struct docker_opts *o,
                                                   struct engine_version *v, char **why)
{
  if (o->docker_version) {
    if (!engine_version_parse(o->docker_version, v)) {
      *why = xasprintf("--docker-version %s is not MAJOR.MINOR", o->docker_version);
      return NULL;
    }
    v->source = "--docker-version";
    return v;
  }
  cleanup_merr merr *err = NULL;
  if (engine_version_detect(v, &err) < 0) {
    *why = xstrdup(merr_msg(err));
    return NULL;
  }
  return v;
}

/* What to register: the runtimes named, each of which must be possible here, or every runtime
 * of the table that is (the others are listed with the reason). */
static int choose_registrations(const struct runtime_table *t, const struct docker_opts *o,
                                struct registration *regs, size_t *n, merr **err)
{
  struct engine_version v;
  cleanup_free char *why = NULL;
  const struct engine_version *ev = docker_version(o, &v, &why);
  *n = 0;
  if (o->nnames > MAX_NAMES)
    return merr_set(err, 0, "at most %d runtimes at once", MAX_NAMES);
  if (o->nnames) {
    for (size_t i = 0; i < o->nnames; i++, (*n)++)
      if (registration_choose(t, o->names[i], ev, why, &regs[i], err) < 0)
        return -1;
    return 0;
  }
  for (size_t i = 0; i < t->n && *n < MAX_NAMES; i++) {
    cleanup_merr merr *e = NULL;
    if (registration_choose(t, t->entries[i].name, ev, why, &regs[*n], &e) == 0)
      (*n)++;
    else
      fprintf(o->dry_run ? stderr : stdout, "skipping %s\n", merr_msg(e));
  }
  if (*n == 0)
    return merr_set(err, 0, "none of the runtimes in %s can be registered here", t->source);
  return 0;
}

static char **entry_keys(const struct docker_opts *o)
{
  char **keys = xzalloc((o->nnames + 1) * sizeof *keys);
  for (size_t i = 0; i < o->nnames; i++)
    keys[i] = naming_runtime(o->names[i]);
  return keys;
}

static char **registration_keys(const struct registration *regs, size_t n)
{
  char **keys = xzalloc((n + 1) * sizeof *keys);
  for (size_t i = 0; i < n; i++)
    keys[i] = xstrdup(regs[i].key);
  return keys;
}

static void free_keys(char **keys)
{
  for (char **k = keys; k && *k; k++)
    free(*k);
  free(keys);
}

/* Reloads the engine when it reads this file (and does not list the change yet), and confirms
 * the change through its API. */
static int reload_and_confirm(const struct docker_opts *o, bool changed, char **present,
                              char **absent, merr **err)
{
  if (o->no_reload) {
    printf("not reloading the engine (--no-reload)\n");
    return 0;
  }
  pid_t pid = engine_pid();
  if (pid == 0) {
    printf("no dockerd is running: the change applies when it starts\n");
    return 0;
  }
  cleanup_free char *engine_file = engine_config_file(pid);
  if (!same_file(engine_file, o->config) && strcmp(engine_file, o->config) != 0) {
    printf("not reloading: dockerd (pid %d) reads %s, not %s\n", (int)pid, engine_file, o->config);
    return 0;
  }
  if (!changed && engine_wait_runtimes((const char *const *)present, (const char *const *)absent, 0,
                                       NULL) == 0) {
    printf("dockerd (pid %d) already lists the change\n", (int)pid);
    return 0;
  }
  if (engine_reload(pid, err) < 0)
    return -1;
  if (engine_wait_runtimes((const char *const *)present, (const char *const *)absent,
                           RELOAD_CONFIRM_MS, err) < 0)
    return merr_wrap(err, "dockerd (pid %d) was reloaded but does not confirm the change",
                     (int)pid);
  printf("dockerd (pid %d) reloaded; its runtime list confirms the change\n", (int)pid);
  return 0;
}

/* Writes the file (or prints it for --dry-run), then reloads. */
static int commit(const struct docker_opts *o, struct daemon_file *f, bool changed, char **present,
                  char **absent, merr **err)
{
  if (o->dry_run) {
    cleanup_free char *text = daemon_file_render(f, err);
    if (text == NULL)
      return -1;
    fputs(text, stdout);
    return 0;
  }
  if (!changed) {
    printf("%s already up to date\n", o->config);
  } else {
    cleanup_free char *backup = NULL;
    if (daemon_file_save(f, &backup, err) < 0)
      return -1;
    printf("wrote %s", o->config);
    printf(backup ? " (previous version kept as %s)\n" : " (new file)\n", backup);
  }
  return reload_and_confirm(o, changed, present, absent, err);
}

static int add_registration(const struct docker_opts *o, json *doc, const char *bindir,
                            const struct registration *r, bool *changed, merr **err)
{
  fprintf(o->dry_run ? stderr : stdout, "%s: %s\n", r->key, r->why); /* --dry-run: stdout is
                                                                          the file */
  int ret;
  if (r->form == REG_OCI) {
    cleanup_free char *link = xasprintf("%s/%s", bindir, r->link);
    ret = daemon_json_add_runtime(doc, r->key, link, changed, err);
  } else {
    ret = daemon_json_add_shim_runtime(doc, r->key, r->runtime_type, changed, err);
  }
  if (ret == 0 && !o->dry_run)
    ret = ensure_link(bindir, r->link, err);
  return ret;
}

int docker_install(const struct docker_opts *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct registration regs[MAX_NAMES] = {0};
  size_t n = 0;
  int ret = choose_registrations(t, o, regs, &n, err);
  cleanup_free char *bindir = o->bindir ? xstrdup(o->bindir) : own_bindir();
  char **keys = registration_keys(regs, n);
  struct daemon_file f = {0};
  bool changed = false;
  if (ret == 0)
    ret = daemon_file_load(o->config, &f, err);
  for (size_t i = 0; ret == 0 && i < n; i++)
    ret = add_registration(o, f.doc, bindir, &regs[i], &changed, err);
  if (ret == 0 && o->set_default)
    ret = daemon_json_set_default(f.doc, keys[0], &changed, err);
  if (ret < 0 && f.path)
    merr_wrap(err, "%s (left unchanged)", o->config);
  if (ret == 0)
    ret = commit(o, &f, changed, keys, NULL, err);
  daemon_file_clear(&f);
  free_keys(keys);
  for (size_t i = 0; i < n; i++)
    registration_clear(&regs[i]);
  runtime_table_free(t);
  return ret;
}

/* Own entries to remove: the ones named, or all of them. */
static char **removal_keys(const struct docker_opts *o, const json *doc)
{
  if (o->nnames)
    return entry_keys(o);
  const json *rt = daemon_json_runtimes(doc);
  char **keys = xzalloc(((rt ? rt->n : 0) + 1) * sizeof *keys);
  size_t n = 0;
  for (size_t i = 0; json_is(rt, JSON_OBJECT) && i < rt->n; i++)
    if (daemon_json_is_own(rt->keys[i], rt->items[i]))
      keys[n++] = xstrdup(rt->keys[i]);
  return keys;
}

int docker_uninstall(const struct docker_opts *o, merr **err)
{
  struct daemon_file f = {0};
  if (daemon_file_load(o->config, &f, err) < 0) {
    daemon_file_clear(&f);
    return merr_wrap(err, "%s (left unchanged)", o->config);
  }
  char **keys = removal_keys(o, f.doc);
  bool changed = false;
  int ret = 0;
  for (char **k = keys; ret == 0 && *k; k++) {
    if (json_get(daemon_json_runtimes(f.doc), *k) == NULL) {
      printf("%s is not registered\n", *k);
      continue;
    }
    ret = daemon_json_remove_runtime(f.doc, *k, &changed, err);
  }
  if (ret < 0)
    merr_wrap(err, "%s (left unchanged)", o->config);
  else if (keys[0] == NULL)
    printf("no measured runtime is registered in %s\n", o->config);
  if (ret == 0)
    ret = commit(o, &f, changed, NULL, keys, err);
  free_keys(keys);
  daemon_file_clear(&f);
  return ret;
}

/* The table entry an own daemon.json entry stands for: measured-<x> (path form) or, for the
 * runtimeType form, the <x> of io.containerd.measured-<x>.v2. */
static const struct runtime_entry *entry_of(const struct runtime_table *t, const char *key,
                                            const json *item)
{
  const char *type = json_string(json_get(item, "runtimeType"));
  if (type == NULL)
    return runtime_table_find(t, naming_runtime_of(key));
  cleanup_free char *name = naming_runtime_of_type(type);
  return name ? runtime_table_find(t, name) : NULL;
}

/* What the entry wraps (the runtime, or for the runtimeType form the shim), and whether it is
 * there. */
static const char *real_target(const struct runtime_table *t, const char *key, const json *item,
                               char **resolved)
{
  const struct runtime_entry *e = entry_of(t, key, item);
  if (e == NULL)
    return "(no table entry)";
  bool shim_form = json_get(item, "runtimeType") != NULL;
  if (shim_form && e->shim == NULL)
    return "(no shim in the table)";
  if (runtime_resolve(shim_form ? e->shim : e->path, resolved, NULL) < 0)
    return "missing";
  return "ok";
}

/* The wrapper an entry runs: its path, or the shim link next to this program. */
static char *wrapper_of(const struct runtime_table *t, const char *key, const json *item)
{
  const char *path = json_string(json_get(item, "path"));
  if (path)
    return xstrdup(path);
  const struct runtime_entry *e = entry_of(t, key, item);
  cleanup_free char *dir = own_bindir();
  cleanup_free char *link = e ? naming_shim_binary(e->name) : NULL;
  return e ? xasprintf("%s/%s", dir, link) : NULL;
}

int docker_list(const struct docker_opts *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct daemon_file f = {0};
  if (daemon_file_load(o->config, &f, err) < 0) {
    runtime_table_free(t);
    daemon_file_clear(&f);
    return -1;
  }
  cleanup_json json *info = NULL;
  bool engine = engine_pid() != 0 && engine_get("/info", &info, NULL) == 0;
  const json *known = json_get(info, "Runtimes");
  const json *rt = daemon_json_runtimes(f.doc);
  printf("%-24s %-8s %-28s %-8s %s\n", "RUNTIME", "WRAPPER", "REAL RUNTIME", "STATUS", "ENGINE");
  size_t shown = 0;
  for (size_t i = 0; json_is(rt, JSON_OBJECT) && i < rt->n; i++) {
    if (!daemon_json_is_own(rt->keys[i], rt->items[i]))
      continue;
    cleanup_free char *resolved = NULL;
    const char *status = real_target(t, rt->keys[i], rt->items[i], &resolved);
    cleanup_free char *wrapper = wrapper_of(t, rt->keys[i], rt->items[i]);
    bool wrapper_ok = wrapper && access(wrapper, X_OK) == 0;
    printf("%-24s %-8s %-28s %-8s %s\n", rt->keys[i], wrapper_ok ? "ok" : "missing",
           resolved ? resolved : "-", status,
           !engine                        ? "(engine not reachable)"
           : json_get(known, rt->keys[i]) ? "listed"
                                          : "not listed");
    shown++;
  }
  if (shown == 0)
    printf("(no measured runtime registered in %s)\n", o->config);
  daemon_file_clear(&f);
  runtime_table_free(t);
  return 0;
}
