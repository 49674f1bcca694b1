#include "install_containerd.h"
#include "cleanup.h"
#include "config_file.h"
#include "containerd_config.h"
#include "fileio.h"
#include "links.h"
#include "naming.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_RUNTIMES = 64 };

struct picked {
  const struct runtime_entry *entry;
  char *handler, *runtime_type, *link;
};

static void pick(struct picked *p, const struct runtime_entry *e)
{
  p->entry = e;
  p->handler = naming_runtime(e->name);
  p->runtime_type = naming_runtime_type(e->name);
  p->link = naming_shim_binary(e->name);
}

/* Every runtime of the table whose shim is installed, or the ones named (each must be). */
static int pick_runtimes(const struct runtime_table *t, const struct containerd_opts *o,
                         struct picked *out, size_t *n, merr **err)
{
  *n = 0;
  for (size_t i = 0; i < (o->nnames ? o->nnames : t->n) && *n < MAX_RUNTIMES; i++) {
    const struct runtime_entry *e = o->nnames ? runtime_table_find(t, o->names[i]) : &t->entries[i];
    if (e == NULL)
      return merr_set(err, 0, "unknown runtime \"%s\": not in the runtime table (%s)", o->names[i],
                      t->source);
    cleanup_free char *shim = NULL;
    cleanup_merr merr *why = NULL;
    if (e->shim && runtime_resolve(e->shim, &shim, &why) == 0) {
      pick(&out[(*n)++], e);
    } else if (o->nnames) {
      int r = e->shim ? merr_set(err, 0, "%s: its shim: %s", e->name, merr_msg(why))
                      : merr_set(err, 0, "%s: its table entry names no \"shim\"", e->name);
      return r;
    } else {
      printf("skipping %s: %s\n", e->name, e->shim ? "its shim is not installed" : "no shim");
    }
  }
  if (*n == 0)
    return merr_set(err, 0, "no runtime of %s has its containerd shim installed", t->source);
  return 0;
}

static char *dropin_path(const char *config)
{
  cleanup_free char *dir = path_dirname(config);
  return xasprintf("%s/%s", dir, CONTAINERD_DROPIN_NAME);
}

/* The config.toml as it is (NULL when there is none), and its mode. */
static int read_config(const char *path, char **text, size_t *len, mode_t *mode, merr **err)
{
  cleanup_merr merr *e = NULL;
  *text = NULL;
  *len = 0;
  *mode = 0644;
  if (read_file_at(AT_FDCWD, path, 1 << 20, text, len, &e) == 0) {
    struct stat st;
    if (stat(path, &st) == 0)
      *mode = st.st_mode & 07777;
    return 0;
  }
  if (merr_is(e, ENOENT)) {
    merr_freep(&e);
    return 0;
  }
  return merr_pass(err, &e);
}

static int write_config(const struct config_edit *e, const char *text, bool existed, mode_t mode,
                        merr **err)
{
  cleanup_free char *backup = NULL;
  if (config_file_replace(e->path, text, strlen(text), mode, existed, &backup, err) < 0)
    return -1;
  printf("wrote %s", e->path);
  printf(backup ? " (previous version kept as %s)\n" : " (new file)\n", backup);
  return 0;
}

static void say_restart(void)
{
  printf("containerd reads its configuration when it starts: restart it (for example `systemctl "
         "restart containerd`) for the change to take effect\n");
}

int containerd_install(const struct containerd_opts *o, merr **err)
{
  struct runtime_table *t = NULL;
  if (runtime_table_load(runtime_table_path(), &t, err) < 0)
    return -1;
  struct picked picked[MAX_RUNTIMES] = {0};
  struct containerd_runtime rt[MAX_RUNTIMES];
  size_t n = 0;
  cleanup_free char *text = NULL, *edited = NULL, *dropin_text = NULL;
  cleanup_free char *dropin = NULL;
  cleanup_free char *bindir = o->bindir ? xstrdup(o->bindir) : own_bindir();
  size_t len;
  mode_t mode;
  bool changed = false;
  struct config_edit edit = {.lockfd = -1};
  int ret = pick_runtimes(t, o, picked, &n, err);
  if (ret == 0)
    ret = config_edit_begin(o->config, &edit, err);
  if (ret == 0) /* next to the file edited (where a symlinked config.toml leads) */
    dropin = dropin_path(edit.path);
  if (ret == 0)
    ret = read_config(edit.path, &text, &len, &mode, err);
  if (ret == 0)
    ret = containerd_add_import(text, len, o->config, dropin, &edited, &changed, err);
  if (ret < 0 && text)
    merr_wrap(err, "%s (left unchanged)", o->config);
  for (size_t i = 0; ret == 0 && i < n; i++) {
    rt[i] = (struct containerd_runtime){picked[i].handler, picked[i].runtime_type};
    printf("%s: runtime_type %s, the shim-v2 wrapper of %s\n", picked[i].handler,
           picked[i].runtime_type, picked[i].entry->shim);
  }
  if (ret == 0)
    dropin_text = containerd_dropin_text(rt, n);
  if (ret == 0 && o->dry_run) {
    printf("--- %s\n%s--- %s\n%s", dropin, dropin_text, o->config, edited);
  } else if (ret == 0) {
    for (size_t i = 0; ret == 0 && i < n; i++)
      ret = ensure_link(bindir, picked[i].link, err);
    cleanup_free char *no_backup = NULL; /* the drop-in is measured's own: no backup */
    if (ret == 0)
      ret = config_file_replace(dropin, dropin_text, strlen(dropin_text), 0644, false, &no_backup,
                                err);
    if (ret == 0)
      printf("wrote %s\n", dropin);
    if (ret == 0 && changed)
      ret = write_config(&edit, edited, text != NULL, mode, err);
    else if (ret == 0)
      printf("%s already imports it\n", o->config);
    if (ret == 0)
      say_restart();
  }
  for (size_t i = 0; i < n; i++) {
    free(picked[i].handler);
    free(picked[i].runtime_type);
    free(picked[i].link);
  }
  config_edit_end(&edit);
  runtime_table_free(t);
  return ret;
}

int containerd_uninstall(const struct containerd_opts *o, merr **err)
{
  cleanup_free char *text = NULL, *edited = NULL;
  size_t len;
  mode_t mode;
  bool changed = false;
  struct config_edit edit __attribute__((cleanup(config_edit_end))) = {.lockfd = -1};
  if (config_edit_begin(o->config, &edit, err) < 0 ||
      read_config(edit.path, &text, &len, &mode, err) < 0)
    return -1;
  cleanup_free char *dropin = dropin_path(edit.path);
  if (text && containerd_remove_import(text, len, o->config, dropin, &edited, &changed, err) < 0)
    return merr_wrap(err, "%s (left unchanged)", o->config);
  if (o->dry_run) {
    printf("would remove %s\n", dropin);
    if (changed)
      printf("--- %s\n%s", o->config, edited);
    return 0;
  }
  if (changed && write_config(&edit, edited, true, mode, err) < 0)
    return -1;
  if (unlink(dropin) == 0)
    printf("removed %s\n", dropin);
  else if (errno != ENOENT)
    return merr_set(err, errno, "remove %s", dropin);
  if (!changed)
    printf("%s does not import %s\n", o->config, dropin);
  say_restart();
  return 0;
}
