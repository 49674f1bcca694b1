#include "install_podman.h"
#include "capture.h"
#include "cleanup.h"
#include "config_file.h"
#include "fileio.h"
#include "links.h"
#include "naming.h"
#include "places.h"
#include "podman_config.h"
#include "registration.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_RUNTIMES = 64, PODMAN_INFO_TIMEOUT_MS = 30000 };

/* One runtime of the drop-in: measured-<name>, run as `wrapper`, wrapping `real`. */
struct chosen {
  char *name, *real, *wrapper;
  bool picked; /* by this install (its link is made); else kept from the drop-in */
};

struct dropin {
  char *dir, *path;
  struct chosen rt[MAX_RUNTIMES];
  size_t n;
  char *default_name; /* measured-<x>, NULL: podman's own default stays */
  bool existed;
};

static void chosen_clear(struct chosen *c)
{
  free(c->name);
  free(c->real);
  free(c->wrapper);
}

static void dropin_clear(struct dropin *d)
{
  for (size_t i = 0; i < d->n; i++)
    chosen_clear(&d->rt[i]);
  free(d->dir);
  free(d->path);
  free(d->default_name);
  memset(d, 0, sizeof *d);
}

static struct chosen *find(struct dropin *d, const char *name)
{
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->rt[i].name, name) == 0)
      return &d->rt[i];
  return NULL;
}

/* Adds or replaces measured-<name>. */
static void put(struct dropin *d, const char *name, const char *real, char *wrapper)
{
  struct chosen *c = find(d, name);
  if (c == NULL && d->n == MAX_RUNTIMES) {
    free(wrapper);
    return;
  }
  if (c == NULL) {
    c = &d->rt[d->n++];
    c->name = xstrdup(name);
  } else {
    free(c->real);
    free(c->wrapper);
  }
  c->real = xstrdup(real);
  c->wrapper = wrapper;
  c->picked = false;
}

/* Where the drop-in is, and what it holds now (nothing when there is none). */
static int dropin_read(const struct podman_opts *o, const struct runtime_table *t, struct dropin *d,
                       merr **err)
{
  memset(d, 0, sizeof *d);
  d->dir = o->dir ? xstrdup(o->dir) : podman_dropin_dir(measured_places()->rootless, err);
  if (d->dir == NULL)
    return -1;
  d->path = xasprintf("%s/%s", d->dir, PODMAN_DROPIN_NAME);
  cleanup_free char *text = NULL;
  size_t len = 0;
  cleanup_merr merr *rerr = NULL;
  if (read_file_at(AT_FDCWD, d->path, 1 << 20, &text, &len, &rerr) < 0) {
    if (merr_is(rerr, ENOENT))
      return 0;
    return merr_pass(err, &rerr);
  }
  d->existed = true;
  struct podman_registered *reg = NULL;
  size_t n = 0;
  if (podman_read_registrations(text, len, d->path, &reg, &n, &d->default_name, err) < 0)
    return merr_wrap(err, "measured's drop-in (remove it, or fix it, and run again)");
  for (size_t i = 0; i < n; i++) {
    const char *name = naming_runtime_of(reg[i].key);
    const struct runtime_entry *e = name ? runtime_table_find(t, name) : NULL;
    if (name && podman_name_ok(name) && reg[i].path)
      put(d, name, e ? path_basename(e->path) : name, xstrdup(reg[i].path));
  }
  podman_registered_free(reg, n);
  return 0;
}

/* Whether entry e can run under podman: conmon calls an OCI command line, so a containerd shim
 * alone (Kata 2.x/3.x) cannot. */
static int usable(const struct runtime_entry *e, merr **err)
{
  cleanup_free char *real = NULL;
  if (!podman_name_ok(e->name))
    return merr_set(err, 0,
                    "%s: a name with a '.' reads as a table in containers.conf; not for podman",
                    e->name);
  if (runtime_resolve(e->path, &real, err) < 0)
    return merr_wrap(err, "%s", e->name);
  if (!oci_cli_capable(real))
    return merr_set(err, 0,
                    "%s: %s has no OCI command line (a containerd shim only); podman runs "
                    "runtimes through conmon, which needs one",
                    e->name, real);
  return 0;
}

/* The runtimes named (each must be usable), or every usable one of the table. */
static int pick(const struct runtime_table *t, const struct podman_opts *o, const char *bindir,
                struct dropin *d, merr **err)
{
  size_t picked = 0;
  for (size_t i = 0; i < (o->nnames ? o->nnames : t->n); i++) {
    const struct runtime_entry *e = o->nnames ? runtime_table_find(t, o->names[i]) : &t->entries[i];
    cleanup_merr merr *why = NULL;
    if (e == NULL)
      return merr_set(err, 0, "unknown runtime \"%s\": not in the runtime table (%s)", o->names[i],
                      t->source);
    if (usable(e, &why) < 0) {
      if (o->nnames)
        return merr_pass(err, &why);
      printf("skipping %s\n", merr_msg(why));
      continue;
    }
    cleanup_free char *link = naming_runtime(e->name);
    put(d, e->name, path_basename(e->path), xasprintf("%s/%s", bindir, link));
    find(d, e->name)->picked = true;
    printf("%s: the OCI-CLI wrapper of %s\n", link, e->path);
    picked++;
  }
  if (picked == 0)
    return merr_set(err, 0, "no runtime of %s answers the OCI command line here", t->source);
  return 0;
}

static int write_dropin(const struct dropin *d, bool dry_run, merr **err)
{
  char **files = NULL;
  size_t nfiles = 0;
  struct podman_strings lists[PODMAN_NLISTS] = {0};
  struct podman_runtime rt[MAX_RUNTIMES];
  for (size_t i = 0; i < d->n; i++)
    rt[i] = (struct podman_runtime){d->rt[i].name, d->rt[i].real, d->rt[i].wrapper};
  if (podman_config_files(d->dir, measured_places()->rootless, &files, &nfiles, err) < 0)
    return -1;
  int ret = podman_effective_lists(files, nfiles, lists, err);
  podman_config_files_free(files, nfiles);
  cleanup_free char *text = ret == 0 ? podman_dropin_text(rt, d->n, lists, d->default_name) : NULL;
  for (int l = 0; l < PODMAN_NLISTS; l++)
    podman_strings_clear(&lists[l]);
  if (ret < 0)
    return -1;
  if (dry_run) {
    printf("--- %s\n%s", d->path, text);
    return 0;
  }
  struct config_edit edit __attribute__((cleanup(config_edit_end))) = {.lockfd = -1};
  cleanup_free char *no_backup = NULL; /* the drop-in is measured's own: no backup */
  if (config_edit_begin(d->path, &edit, err) < 0 ||
      config_file_replace(edit.path, text, strlen(text), 0644, false, &no_backup, err) < 0)
    return -1;
  printf("wrote %s\n", edit.path);
  return 0;
}

/* podman, when it is installed; NULL otherwise. */
static char *podman_binary(void)
{
  char *path = NULL;
  return runtime_resolve("podman", &path, NULL) == 0 ? path : NULL;
}

bool podman_installed(void)
{
  cleanup_free char *path = podman_binary();
  return path != NULL;
}

/* Asks podman which file measured-<name> runs, as a user's `podman --runtime` would find it. */
static int confirm(const struct dropin *d, merr **err)
{
  cleanup_free char *podman = podman_binary();
  if (podman == NULL) {
    printf("podman is not installed: nothing to confirm\n");
    return 0;
  }
  for (size_t i = 0; i < d->n; i++) {
    cleanup_free char *key = naming_runtime(d->rt[i].name);
    char *argv[] = {podman, "--runtime", key, "info", "--format", "{{.Host.OCIRuntime.Path}}",
                    NULL};
    cleanup_free char *out = NULL;
    cleanup_merr merr *why = NULL;
    if (capture_output(argv, PODMAN_INFO_TIMEOUT_MS, 4096, &out, &why) < 0)
      return merr_set(err, 0, "podman does not find %s (podman info: %s): does it read %s?", key,
                      merr_msg(why), d->dir);
    out[strcspn(out, "\n")] = '\0';
    if (strcmp(out, d->rt[i].wrapper) != 0)
      return merr_set(err, 0, "podman runs %s as %s, not %s: another configuration file wins", key,
                      out, d->rt[i].wrapper);
    printf("podman runs %s as %s\n", key, out);
  }
  return 0;
}

int podman_install(const struct podman_opts *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct dropin d __attribute__((cleanup(dropin_clear))) = {0};
  cleanup_free char *bindir = o->bindir ? xstrdup(o->bindir) : own_bindir();
  int ret = dropin_read(o, t, &d, err);
  if (ret == 0)
    ret = pick(t, o, bindir, &d, err);
  if (ret == 0 && o->set_default) {
    free(d.default_name);
    d.default_name = naming_runtime(o->names[0]);
  }
  for (size_t i = 0; ret == 0 && !o->dry_run && i < d.n; i++) {
    cleanup_free char *link = naming_runtime(d.rt[i].name);
    if (d.rt[i].picked)
      ret = ensure_link(bindir, link, err);
  }
  if (ret == 0)
    ret = write_dropin(&d, o->dry_run, err);
  if (ret == 0 && !o->dry_run && !o->no_confirm)
    ret = confirm(&d, err);
  runtime_table_free(t);
  return ret;
}

/* The drop-in without the runtimes named (and its default, when it named one of them). */
static void drop_named(struct dropin *d, const struct podman_opts *o)
{
  for (size_t k = 0; k < o->nnames; k++) {
    struct chosen *c = find(d, o->names[k]);
    if (c == NULL) {
      printf("measured-%s is not in %s\n", o->names[k], d->path);
      continue;
    }
    cleanup_free char *key = naming_runtime(c->name);
    if (d->default_name && strcmp(d->default_name, key) == 0) {
      free(d->default_name);
      d->default_name = NULL;
    }
    chosen_clear(c);
    *c = d->rt[--d->n];
  }
}

int podman_uninstall(const struct podman_opts *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct dropin d __attribute__((cleanup(dropin_clear))) = {0};
  int ret = dropin_read(o, t, &d, err);
  runtime_table_free(t);
  if (ret < 0)
    return -1;
  if (!d.existed) {
    printf("%s does not exist: nothing to remove\n", d.path);
    return 0;
  }
  if (o->nnames) {
    drop_named(&d, o);
    if (d.n > 0)
      return write_dropin(&d, o->dry_run, err);
  }
  if (o->dry_run) {
    printf("would remove %s\n", d.path);
    return 0;
  }
  if (unlink(d.path) < 0 && errno != ENOENT)
    return merr_set(err, errno, "remove %s", d.path);
  printf("removed %s\n", d.path);
  return 0;
}

int podman_list(const struct podman_opts *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct dropin d __attribute__((cleanup(dropin_clear))) = {0};
  int ret = dropin_read(o, t, &d, err);
  if (ret == 0)
    printf("\npodman (%s):\n", d.path);
  if (ret == 0 && d.n == 0)
    printf("(no measured runtime registered)\n");
  for (size_t i = 0; ret == 0 && i < d.n; i++) {
    const struct runtime_entry *e = runtime_table_find(t, d.rt[i].name);
    cleanup_free char *real = NULL;
    const char *status = e == NULL                                    ? "(no table entry)"
                         : runtime_resolve(e->path, &real, NULL) == 0 ? "ok"
                                                                      : "missing";
    cleanup_free char *key = naming_runtime(d.rt[i].name);
    bool is_default = d.default_name && strcmp(d.default_name, key) == 0;
    printf("%-24s %-8s %-28s %-8s %s\n", key, access(d.rt[i].wrapper, X_OK) == 0 ? "ok" : "missing",
           real ? real : "-", status, is_default ? "podman (default)" : "podman");
  }
  runtime_table_free(t);
  return ret;
}
