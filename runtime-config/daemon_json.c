#include "daemon_json.h"
#include "cleanup.h"
#include "fileio.h"
#include "naming.h"

#include <string.h>

static int check_doc(const json *doc, merr **err)
{
  if (!json_is(doc, JSON_OBJECT))
    return merr_set(err, 0, "the top level is not a JSON object");
  const json *rt = json_get(doc, "runtimes");
  if (rt && !json_is(rt, JSON_OBJECT))
    return merr_set(err, 0, "\"runtimes\" is not a JSON object");
  return 0;
}

const json *daemon_json_runtimes(const json *doc)
{
  return json_get(doc, "runtimes");
}

/* runtimes.<key>, made when missing; NULL (err set) when something else is in the way. */
static json *entry_for(json *doc, const char *key, bool *changed, merr **err)
{
  if (check_doc(doc, err) < 0)
    return NULL;
  json *rt = json_get(doc, "runtimes");
  if (rt == NULL) {
    rt = json_new(JSON_OBJECT);
    json_set(doc, "runtimes", rt);
  }
  json *entry = json_get(rt, key);
  if (entry && !json_is(entry, JSON_OBJECT)) {
    merr_set(err, 0, "runtimes.%s is not a JSON object", key);
    return NULL;
  }
  if (entry == NULL) {
    entry = json_new(JSON_OBJECT);
    json_set(rt, key, entry);
    *changed = true;
  }
  return entry;
}

static void set_text(json *entry, const char *name, const char *value, bool *changed)
{
  const char *old = json_string(json_get(entry, name));
  if (old == NULL || strcmp(old, value) != 0) {
    json_set(entry, name, json_new_text(value));
    *changed = true;
  }
}

/* The two forms exclude each other: Docker refuses an entry with both. */
static void drop(json *entry, const char *name, bool *changed)
{
  if (json_del(entry, name))
    *changed = true;
}

/* runtimes.<key>.<field> = value, without the keys of the other form. */
static int set_form(json *doc, const char *key, const char *field, const char *value,
                    const char *const *other_form, bool *changed, merr **err)
{
  json *entry = entry_for(doc, key, changed, err);
  if (entry == NULL)
    return -1;
  set_text(entry, field, value, changed);
  for (; *other_form; other_form++)
    drop(entry, *other_form, changed);
  return 0;
}

int daemon_json_add_runtime(json *doc, const char *key, const char *path, bool *changed, merr **err)
{
  return set_form(doc, key, "path", path, (const char *const[]){"runtimeType", "options", NULL},
                  changed, err);
}

int daemon_json_add_shim_runtime(json *doc, const char *key, const char *runtime_type,
                                 bool *changed, merr **err)
{
  return set_form(doc, key, "runtimeType", runtime_type,
                  (const char *const[]){"path", "runtimeArgs", NULL}, changed, err);
}

int daemon_json_set_default(json *doc, const char *key, bool *changed, merr **err)
{
  if (check_doc(doc, err) < 0)
    return -1;
  const char *old = json_string(json_get(doc, "default-runtime"));
  if (old == NULL || strcmp(old, key) != 0) {
    json_set(doc, "default-runtime", json_new_text(key));
    *changed = true;
  }
  return 0;
}

/* io.containerd.measured-<name>.v2 for the key measured-<name> or measured-<name>-v2. */
static bool own_runtime_type(const char *key, const char *type)
{
  cleanup_free char *name = naming_runtime_of_type(type);
  const char *k = naming_runtime_of(key);
  if (name == NULL || k == NULL)
    return false;
  size_t len = strlen(name);
  return strncmp(k, name, len) == 0 && (k[len] == '\0' || strcmp(k + len, NAMING_V2_SUFFIX) == 0);
}

bool daemon_json_is_own(const char *key, const json *entry)
{
  if (naming_runtime_of(key) == NULL)
    return false;
  const char *path = json_string(json_get(entry, "path"));
  const char *type = json_string(json_get(entry, "runtimeType"));
  if (path && type)
    return false;
  if (type)
    return own_runtime_type(key, type);
  return path && strchr(path, '/') && strcmp(path_basename(path), key) == 0;
}

int daemon_json_remove_runtime(json *doc, const char *key, bool *changed, merr **err)
{
  if (check_doc(doc, err) < 0)
    return -1;
  json *rt = json_get(doc, "runtimes");
  json *entry = json_get(rt, key);
  if (entry == NULL)
    return 0;
  if (!daemon_json_is_own(key, entry))
    return merr_set(err, 0, "runtimes.%s was not written by measured install; left alone", key);
  json_del(rt, key);
  *changed = true;
  const char *def = json_string(json_get(doc, "default-runtime"));
  if (def && strcmp(def, key) == 0)
    json_del(doc, "default-runtime");
  return 0;
}
