#include "podman_config.h"
#include "cleanup.h"
#include "fileio.h"
#include "naming.h"
#include "table.h"
#include "toml.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHARE_CONF "/usr/share/containers/containers.conf"
#define ETC_CONF "/etc/containers/containers.conf"

static const char *const list_keys[PODMAN_NLISTS] = {
    "runtime_supports_json", "runtime_supports_kvm", "runtime_supports_nocgroups"};

/* What podman 4.3 uses when no file sets them (its containers.conf documents these values). */
static const char *const list_defaults[PODMAN_NLISTS][6] = {
    {"crun", "runc", "kata", "runsc", "krun", NULL},
    {"kata", "krun", NULL},
    {"crun", "krun", NULL},
};

const char *podman_list_key(enum podman_list l)
{
  return list_keys[l];
}

void podman_strings_clear(struct podman_strings *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->item[i]);
  s->n = 0;
}

static void strings_add(struct podman_strings *s, const char *item)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->item[i], item) == 0)
      return;
  if (s->n < PODMAN_MAX_LIST)
    s->item[s->n++] = xstrdup(item);
}

static bool strings_has(const struct podman_strings *s, const char *item)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->item[i], item) == 0)
      return true;
  return false;
}

char *podman_dropin_dir(bool rootless, merr **err)
{
  if (!rootless)
    return xstrdup(PODMAN_SYSTEM_DIR);
  const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  if (config && config[0] == '/')
    return xasprintf("%s/containers/containers.conf.d", config);
  if (home && home[0] == '/')
    return xasprintf("%s/.config/containers/containers.conf.d", home);
  merr_set(err, 0,
           "neither XDG_CONFIG_HOME nor HOME is set: where podman reads a user's "
           "configuration is unknown");
  return NULL;
}

static void add_file(char ***files, size_t *n, char *path)
{
  if (*n < PODMAN_MAX_FILES && access(path, F_OK) == 0) {
    (*files)[(*n)++] = path;
    return;
  }
  free(path);
}

static int is_conf(const struct dirent *d)
{
  size_t len = strlen(d->d_name);
  return d->d_name[0] != '.' && len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0 &&
         strcmp(d->d_name, PODMAN_DROPIN_NAME) != 0;
}

/* dir's *.conf in name order (C collation: podman sorts byte-wise), measured's left out. */
static void add_dropins(const char *dir, char ***files, size_t *n)
{
  struct dirent **names = NULL;
  int k = scandir(dir, &names, is_conf, alphasort);
  for (int i = 0; i < k; i++) {
    add_file(files, n, xasprintf("%s/%s", dir, names[i]->d_name));
    free(names[i]);
  }
  free(names);
}

int podman_config_files(const char *dir, bool rootless, char ***files, size_t *n, merr **err)
{
  const char *only = getenv("CONTAINERS_CONF");
  if (only && *only)
    return merr_set(
        err, 0, "CONTAINERS_CONF is set (%s): podman reads that file alone, and no drop-in", only);
  *files = xzalloc(PODMAN_MAX_FILES * sizeof **files);
  *n = 0;
  add_file(files, n, xstrdup(SHARE_CONF));
  add_file(files, n, xstrdup(ETC_CONF));
  add_dropins(PODMAN_SYSTEM_DIR, files, n);
  if (rootless || strcmp(dir, PODMAN_SYSTEM_DIR) != 0) {
    cleanup_free char *parent = path_dirname(dir);
    add_file(files, n, xasprintf("%s/containers.conf", parent));
    add_dropins(dir, files, n);
  }
  return 0;
}

void podman_config_files_free(char **files, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(files[i]);
  free(files);
}

static int parse_file(const char *path, struct toml_doc *doc, merr **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file_at(AT_FDCWD, path, TOML_MAX_BYTES, &text, &len, err) < 0)
    return merr_wrap(err, "podman configuration");
  return toml_parse(text, len, path, doc, err);
}

int podman_effective_lists(char *const *files, size_t n, struct podman_strings lists[PODMAN_NLISTS],
                           merr **err)
{
  for (int l = 0; l < PODMAN_NLISTS; l++) {
    lists[l].n = 0;
    for (size_t i = 0; list_defaults[l][i]; i++)
      strings_add(&lists[l], list_defaults[l][i]);
  }
  for (size_t f = 0; f < n; f++) {
    struct toml_doc doc;
    if (parse_file(files[f], &doc, err) < 0)
      return -1;
    for (int l = 0; l < PODMAN_NLISTS; l++) {
      cleanup_free char *path = xasprintf("engine.%s", list_keys[l]);
      const struct toml_root_key *k = toml_find(&doc, path);
      if (k && !k->is_string_array) {
        toml_doc_clear(&doc);
        return merr_set(err, 0, "%s: engine.%s is not an array of strings", files[f], list_keys[l]);
      }
      if (k == NULL)
        continue;
      podman_strings_clear(&lists[l]); /* an array replaces what came before */
      for (size_t s = 0; s < k->nstrings; s++)
        strings_add(&lists[l], k->strings[s]);
    }
    toml_doc_clear(&doc);
  }
  return 0;
}

static char *append(char *text, char *more)
{
  char *next = xasprintf("%s%s", text, more);
  free(text);
  free(more);
  return next;
}

static char *array_text(const struct podman_strings *s)
{
  char *text = xstrdup("[");
  for (size_t i = 0; i < s->n; i++) {
    cleanup_free char *q = toml_quote(s->item[i]);
    text = append(text, xasprintf("%s%s", i ? ", " : "", q));
  }
  return append(text, xstrdup("]"));
}

bool podman_name_ok(const char *name)
{
  return runtime_name_valid(name) && strchr(name, '.') == NULL;
}

char *podman_dropin_text(const struct podman_runtime *rt, size_t n,
                         const struct podman_strings lists[PODMAN_NLISTS], const char *default_name)
{
  char *text =
      xstrdup("# Written by `measured install --engine podman`; rewritten by it, removed by\n"
              "# `measured uninstall --engine podman`. The measured runtimes, and podman's\n"
              "# lists of what runtimes support with them added.\n"
              "[engine]\n");
  if (default_name) {
    cleanup_free char *q = toml_quote(default_name);
    text = append(text, xasprintf("runtime = %s\n", q));
  }
  for (int l = 0; l < PODMAN_NLISTS; l++) {
    struct podman_strings with = {0};
    for (size_t i = 0; i < lists[l].n; i++)
      strings_add(&with, lists[l].item[i]);
    for (size_t i = 0; i < n; i++) {
      if (strings_has(&lists[l], rt[i].name) || strings_has(&lists[l], rt[i].real)) {
        cleanup_free char *key = naming_runtime(rt[i].name);
        strings_add(&with, key);
      }
    }
    cleanup_free char *array = array_text(&with);
    text = append(text, xasprintf("%s = %s\n", list_keys[l], array));
    podman_strings_clear(&with);
  }
  text = append(text, xstrdup("\n[engine.runtimes]\n"));
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *key = naming_runtime(rt[i].name);
    cleanup_free char *path = toml_quote(rt[i].wrapper);
    text = append(text, xasprintf("%s = [%s]\n", key, path));
  }
  return text;
}

int podman_read_registrations(const char *text, size_t len, const char *what,
                              struct podman_registered **out, size_t *n, char **default_name,
                              merr **err)
{
  struct toml_doc doc;
  *out = NULL;
  *n = 0;
  *default_name = NULL;
  if (toml_parse(text, len, what, &doc, err) < 0)
    return -1;
  static const char prefix[] = "engine.runtimes." NAMING_RUNTIME_PREFIX;
  for (size_t k = 0; k < doc.nkeys; k++) {
    const struct toml_root_key *key = &doc.keys[k];
    if (strncmp(key->key, prefix, strlen(prefix)) != 0 || strchr(key->key + strlen(prefix), '.'))
      continue;
    *out = xreallocarray(*out, *n + 1, sizeof **out);
    (*out)[*n].key = xstrdup(key->key + strlen("engine.runtimes."));
    (*out)[*n].path = key->is_string_array && key->nstrings ? xstrdup(key->strings[0]) : NULL;
    (*n)++;
  }
  const struct toml_root_key *def = toml_find(&doc, "engine.runtime");
  const char *value = def ? def->string : NULL;
  if (value && strncmp(value, NAMING_RUNTIME_PREFIX, strlen(NAMING_RUNTIME_PREFIX)) == 0)
    *default_name = xstrdup(value);
  toml_doc_clear(&doc);
  return 0;
}

void podman_registered_free(struct podman_registered *r, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(r[i].key);
    free(r[i].path);
  }
  free(r);
}
