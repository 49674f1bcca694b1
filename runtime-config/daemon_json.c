#include "daemon_json.h"
#include "fileio.h"

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

int daemon_json_add_runtime(json *doc, const char *key, const char *path, bool *changed, merr **err)
{
  if (check_doc(doc, err) < 0)
    return -1;
  json *rt = json_get(doc, "runtimes");
  if (rt == NULL) {
    rt = json_new(JSON_OBJECT);
    json_set(doc, "runtimes", rt);
  }
  json *entry = json_get(rt, key);
  if (entry && !json_is(entry, JSON_OBJECT))
    return merr_set(err, 0, "runtimes.%s is not a JSON object", key);
  if (entry == NULL) {
    entry = json_new(JSON_OBJECT);
    json_set(rt, key, entry);
    *changed = true;
  }
  const char *old = json_string(json_get(entry, "path"));
  if (old == NULL || strcmp(old, path) != 0) {
    json_set(entry, "path", json_new_text(path));
    *changed = true;
  }
  return 0;
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

bool daemon_json_is_own(const char *key, const json *entry)
{
  if (strncmp(key, DAEMON_ENTRY_PREFIX, strlen(DAEMON_ENTRY_PREFIX)) != 0)
    return false;
  const char *path = json_string(json_get(entry, "path"));
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
