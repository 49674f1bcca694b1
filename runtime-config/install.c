#include "cleanup.h"
#include "commands.h"
#include "containerd_config.h"
#include "daemon_file.h"
#include "daemon_json.h"
#include "engine.h"
#include "fileio.h"
#include "install_containerd.h"
#include "links.h"
#include "registration.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RELOAD_CONFIRM_MS = 15000, MAX_NAMES = 64 };

struct options {
  const char *docker_config;
  const char *bindir;
  const char *docker_version; /* --docker-version: instead of asking the engine */
  const char *engine;         /* --engine: "docker" (default) or "containerd" */
  const char *containerd_config;
  const char *names[MAX_NAMES + 1];
  size_t nnames;
  bool set_default, dry_run, no_reload;
};

static int usage_error(const char *cmd, const char *msg)
{
  fprintf(stderr, "measured %s: %s (see `measured %s --help`)\n", cmd, msg, cmd);
  return 2;
}

static void print_help(const char *cmd)
{
  if (strcmp(cmd, "install") == 0)
    printf("usage: measured install [--docker-config PATH] [--runtime NAME]... [--default]\n"
           "                        [--dry-run] [--no-reload] [--bindir DIR]\n"
           "                        [--docker-version VERSION]\n"
           "       measured install --engine containerd [--containerd-config PATH]\n"
           "                        [--runtime NAME]... [--dry-run]\n\n"
           "Registers measured-NAME runtimes in Docker's daemon.json (default %s),\n"
           "keeping every other setting, after a timestamped backup; then reloads the engine\n"
           "and confirms that it lists them. Without --runtime: every runtime of the table\n"
           "that is installed. A runtime with an OCI command line (runc, crun, runsc, Kata 1.x)\n"
           "goes through the OCI-CLI wrapper (\"path\"); one that is a containerd shim only\n"
           "(Kata 2.x/3.x) through the shim-v2 wrapper (\"runtimeType\", Docker >= 23);\n"
           "NAME-v2 asks for the shim-v2 form of a runtime that has both. The engine's version\n"
           "comes from the running engine or `dockerd --version`; --docker-version says it.\n"
           "--default makes the one runtime named the engine's default. --dry-run prints the\n"
           "result and changes nothing.\n"
           "--engine containerd: every runtime of the table whose containerd shim is installed\n"
           "(or the ones named) becomes a CRI runtime handler measured-NAME in a drop-in file\n"
           "next to config.toml (default %s), which config.toml imports.\n",
           DAEMON_JSON_DEFAULT, CONTAINERD_CONFIG_DEFAULT);
  else if (strcmp(cmd, "uninstall") == 0)
    printf(
        "usage: measured uninstall [--docker-config PATH] [--runtime NAME]... [--dry-run]\n"
        "                          [--no-reload]\n"
        "       measured uninstall --engine containerd [--containerd-config PATH] [--dry-run]\n\n"
        "Removes measured's own runtime entries (all, or the ones named) from daemon.json,\n"
        "and \"default-runtime\" when it named one of them.\n");
  else
    printf("usage: measured list [--docker-config PATH]\n\n"
           "Lists the measured runtimes registered in daemon.json, the real runtime each one\n"
           "wraps, whether that exists, and whether the running engine lists the runtime.\n");
}

static int parse_options(const char *cmd, int argc, char **argv, struct options *o)
{
  static const struct option longopts[] = {{"docker-config", required_argument, NULL, 'c'},
                                           {"runtime", required_argument, NULL, 'r'},
                                           {"default", no_argument, NULL, 'd'},
                                           {"dry-run", no_argument, NULL, 'n'},
                                           {"no-reload", no_argument, NULL, 'R'},
                                           {"bindir", required_argument, NULL, 'b'},
                                           {"docker-version", required_argument, NULL, 'V'},
                                           {"engine", required_argument, NULL, 'e'},
                                           {"containerd-config", required_argument, NULL, 'C'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->docker_config = DAEMON_JSON_DEFAULT;
  bool is_install = strcmp(cmd, "install") == 0, is_list = strcmp(cmd, "list") == 0;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (c) {
    case 'c':
      o->docker_config = optarg;
      break;
    case 'r':
      if (is_list)
        return usage_error(cmd, "--runtime is not an option of list");
      if (o->nnames == MAX_NAMES)
        return usage_error(cmd, "too many --runtime options");
      o->names[o->nnames++] = optarg;
      break;
    case 'd':
    case 'b':
    case 'V':
      if (!is_install)
        return usage_error(cmd, "--default, --bindir and --docker-version are options of "
                                "install only");
      if (c == 'd')
        o->set_default = true;
      else if (c == 'b')
        o->bindir = optarg;
      else
        o->docker_version = optarg;
      break;
    case 'n':
    case 'R':
      if (is_list)
        return usage_error(cmd, "list changes nothing: no --dry-run or --no-reload");
      if (c == 'n')
        o->dry_run = true;
      else
        o->no_reload = true;
      break;
    case 'e':
    case 'C':
      if (is_list)
        return usage_error(cmd, "list reads daemon.json only");
      if (c == 'e')
        o->engine = optarg;
      else
        o->containerd_config = optarg;
      break;
    case 'h':
      print_help(cmd);
      return 0;
    default:
      return usage_error(cmd, argv[optind - 1] ? "unknown option or missing value" : "bad option");
    }
  }
  if (optind < argc)
    return usage_error(cmd, "unexpected argument");
  if (o->set_default && o->nnames != 1)
    return usage_error(cmd, "--default needs exactly one --runtime");
  if (o->engine && strcmp(o->engine, "docker") != 0 && strcmp(o->engine, "containerd") != 0)
    return usage_error(cmd, "--engine is docker or containerd");
  bool containerd = o->engine && strcmp(o->engine, "containerd") == 0;
  if (o->containerd_config && !containerd)
    return usage_error(cmd, "--containerd-config goes with --engine containerd");
  if (containerd && (o->set_default || o->docker_version || o->no_reload ||
                     strcmp(o->docker_config, DAEMON_JSON_DEFAULT) != 0))
    return usage_error(cmd, "--default, --docker-version, --no-reload and --docker-config are "
                            "Docker's; not with --engine containerd");
  if (containerd && !o->containerd_config)
    o->containerd_config = CONTAINERD_CONFIG_DEFAULT;
  return -1; /* go on */
}

/* The engine's version for the shim-v2 form: as told, or asked; NULL with *why when unknown. */
static const struct engine_version *docker_version(const struct options *o,
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
  merr *err = NULL;
  if (engine_version_detect(v, &err) < 0) {
    *why = xstrdup(merr_msg(err));
    merr_free(err);
    return NULL;
  }
  return v;
}

/* What to register: the runtimes named, each of which must be possible here, or every runtime
 * of the table that is (the others are listed with the reason). */
static int choose_registrations(const struct runtime_table *t, const struct options *o,
                                struct registration *regs, size_t *n, merr **err)
{
  struct engine_version v;
  cleanup_free char *why = NULL;
  const struct engine_version *ev = docker_version(o, &v, &why);
  *n = 0;
  if (o->nnames) {
    for (size_t i = 0; i < o->nnames; i++, (*n)++)
      if (registration_choose(t, o->names[i], ev, why, &regs[i], err) < 0)
        return -1;
    return 0;
  }
  for (size_t i = 0; i < t->n && *n < MAX_NAMES; i++) {
    merr *e = NULL;
    if (registration_choose(t, t->entries[i].name, ev, why, &regs[*n], &e) == 0)
      (*n)++;
    else
      fprintf(o->dry_run ? stderr : stdout, "skipping %s\n", merr_msg(e));
    merr_free(e);
  }
  if (*n == 0)
    return merr_set(err, 0, "none of the runtimes in %s can be registered here", t->source);
  return 0;
}

static char **entry_keys(const struct options *o)
{
  char **keys = xzalloc((o->nnames + 1) * sizeof *keys);
  for (size_t i = 0; i < o->nnames; i++)
    keys[i] = xasprintf("%s%s", DAEMON_ENTRY_PREFIX, o->names[i]);
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

static bool same_file(const char *a, const char *b)
{
  struct stat sa, sb;
  if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  return strcmp(a, b) == 0;
}

/* Reloads the engine when it reads this file (and does not list the change yet), and confirms
 * the change through its API. */
static int reload_and_confirm(const struct options *o, bool changed, char **present, char **absent,
                              merr **err)
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
  if (!same_file(engine_file, o->docker_config)) {
    printf("not reloading: dockerd (pid %d) reads %s, not %s\n", (int)pid, engine_file,
           o->docker_config);
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
static int commit(const struct options *o, struct daemon_file *f, bool changed, char **present,
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
    printf("%s already up to date\n", o->docker_config);
  } else {
    cleanup_free char *backup = NULL;
    if (daemon_file_save(f, &backup, err) < 0)
      return -1;
    printf("wrote %s", o->docker_config);
    printf(backup ? " (previous version kept as %s)\n" : " (new file)\n", backup);
  }
  return reload_and_confirm(o, changed, present, absent, err);
}

static int add_registration(const struct options *o, json *doc, const char *bindir,
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

static int install(const struct options *o, merr **err)
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
    ret = daemon_file_load(o->docker_config, &f, err);
  for (size_t i = 0; ret == 0 && i < n; i++)
    ret = add_registration(o, f.doc, bindir, &regs[i], &changed, err);
  if (ret == 0 && o->set_default)
    ret = daemon_json_set_default(f.doc, keys[0], &changed, err);
  if (ret < 0 && f.path)
    merr_wrap(err, "%s (left unchanged)", o->docker_config);
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
static char **removal_keys(const struct options *o, const json *doc)
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

static int uninstall(const struct options *o, merr **err)
{
  struct daemon_file f = {0};
  if (daemon_file_load(o->docker_config, &f, err) < 0) {
    daemon_file_clear(&f);
    return merr_wrap(err, "%s (left unchanged)", o->docker_config);
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
    merr_wrap(err, "%s (left unchanged)", o->docker_config);
  else if (keys[0] == NULL)
    printf("no measured runtime is registered in %s\n", o->docker_config);
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
    return runtime_table_find(t, key + strlen(DAEMON_ENTRY_PREFIX));
  static const char pre[] = "io.containerd.measured-";
  cleanup_free char *name = xstrndup(type + sizeof pre - 1, strlen(type) - (sizeof pre - 1) - 3);
  return runtime_table_find(t, name);
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
  return e ? xasprintf("%s/containerd-shim-measured-%s-v2", dir, e->name) : NULL;
}

static int list(const struct options *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct daemon_file f = {0};
  if (daemon_file_load(o->docker_config, &f, err) < 0) {
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
    printf("(no measured runtime registered in %s)\n", o->docker_config);
  daemon_file_clear(&f);
  runtime_table_free(t);
  return 0;
}

/* Parses the options, runs the command, reports its error: the exit status. */
static int run_command(const char *name, int argc, char **argv,
                       int (*body)(const struct options *, merr **))
{
  struct options o;
  int u = parse_options(name, argc, argv, &o);
  if (u >= 0)
    return u;
  cleanup_merr merr *err = NULL;
  if (o.containerd_config) {
    struct containerd_opts co = {.config = o.containerd_config,
                                 .names = o.names,
                                 .nnames = o.nnames,
                                 .bindir = o.bindir,
                                 .dry_run = o.dry_run};
    body = NULL;
    if ((strcmp(name, "install") == 0 ? containerd_install(&co, &err)
                                      : containerd_uninstall(&co, &err)) < 0) {
      fprintf(stderr, "measured %s: %s\n", name, merr_msg(err));
      return 1;
    }
    return 0;
  }
  if (body(&o, &err) < 0) {
    fprintf(stderr, "measured %s: %s\n", name, merr_msg(err));
    return 1;
  }
  return 0;
}

int cmd_install(int argc, char **argv)
{
  return run_command("install", argc, argv, install);
}
int cmd_uninstall(int argc, char **argv)
{
  return run_command("uninstall", argc, argv, uninstall);
}
int cmd_list(int argc, char **argv)
{
  return run_command("list", argc, argv, list);
}
