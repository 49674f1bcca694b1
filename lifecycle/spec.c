#include "spec.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

int spec_load(const char *bundle, json **config, merr **err)
{
  cleanup_free char *path = xasprintf("%s/config.json", bundle ? bundle : ".");
  cleanup_free char *buf = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, path, SPEC_MAX_BYTES, &buf, &len, err) < 0)
    return -1;
  struct json_limits lim = json_limits_default;
  lim.max_bytes = SPEC_MAX_BYTES;
  if (json_parse(buf, len, &lim, path, config, err) < 0)
    return -1;
  if (!json_is(*config, JSON_OBJECT)) {
    json_freep(config);
    return merr_set(err, 0, "%s: not a JSON object", path);
  }
  return 0;
}

static json *args_summary(const json *args, bool *truncated)
{
  json *out = json_new(JSON_ARRAY);
  if (!json_is(args, JSON_ARRAY))
    return out;
  for (size_t i = 0; i < args->n; i++) {
    const json *a = args->items[i];
    if (i >= SPEC_MAX_ARGS) {
      *truncated = true;
      break;
    }
    if (!json_is(a, JSON_STRING))
      continue;
    size_t n = a->len;
    if (n > SPEC_MAX_ARG_BYTES) {
      n = SPEC_MAX_ARG_BYTES;
      /* Do not cut a UTF-8 sequence in half: back up to a lead byte. */
      while (n > 0 && ((unsigned char)a->text[n] & 0xc0) == 0x80)
        n--;
      *truncated = true;
    }
    json_append(out, json_new_stringn(a->text, n));
  }
  return out;
}

static json *netns_summary(const json *config)
{
  json *o = json_new(JSON_OBJECT);
  const json *nss = json_get_path(config, (const char *const[]){"linux", "namespaces", NULL});
  const char *mode = "host";
  const char *path = NULL;
  for (size_t i = 0; json_is(nss, JSON_ARRAY) && i < nss->n; i++) {
    const char *type = json_string(json_get(nss->items[i], "type"));
    if (type == NULL || strcmp(type, "network") != 0)
      continue;
    path = json_string(json_get(nss->items[i], "path"));
    mode = path && *path ? "path" : "new";
  }
  json_set(o, "mode", json_new_string(mode));
  if (strcmp(mode, "path") == 0)
    json_set(o, "path", json_new_string(path));
  return o;
}

json *spec_container_summary(const json *config)
{
  json *o = json_new(JSON_OBJECT);
  bool truncated = false;
  json_set(o, "args",
           args_summary(json_get_path(config, (const char *const[]){"process", "args", NULL}),
                        &truncated));
  json_set(o, "args_truncated", json_new_bool(truncated));
  const json *hostname = json_get(config, "hostname");
  if (json_is(hostname, JSON_STRING) && hostname->len <= 255 && json_string(hostname))
    json_set(o, "hostname", json_clone(hostname));
  json_set(o, "netns", netns_summary(config));
  return o;
}

const char *spec_env(const json *config, const char *name)
{
  const json *env = json_get_path(config, (const char *const[]){"process", "env", NULL});
  size_t n = strlen(name);
  const char *found = NULL;
  for (size_t i = 0; json_is(env, JSON_ARRAY) && i < env->n; i++) {
    const char *e = json_string(env->items[i]);
    if (e && strncmp(e, name, n) == 0 && e[n] == '=')
      found = e + n + 1;
  }
  return found;
}

static bool label_key_valid(const char *k, size_t n)
{
  if (n == 0 || n > SPEC_MAX_LABEL_KEY)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = k[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  }
  return true;
}

json *spec_labels(const json *config, unsigned *rejected)
{
  json *labels = json_new(JSON_OBJECT);
  *rejected = 0;
  const json *env = json_get_path(config, (const char *const[]){"process", "env", NULL});
  const size_t plen = strlen(SPEC_LABEL_PREFIX);
  for (size_t i = 0; json_is(env, JSON_ARRAY) && i < env->n; i++) {
    const char *e = json_string(env->items[i]);
    if (e == NULL || strncmp(e, SPEC_LABEL_PREFIX, plen) != 0)
      continue;
    const char *key = e + plen;
    const char *eq = strchr(key, '=');
    size_t klen = eq ? (size_t)(eq - key) : 0;
    if (eq == NULL || !label_key_valid(key, klen) || strlen(eq + 1) > SPEC_MAX_LABEL_VALUE ||
        labels->n >= SPEC_MAX_LABELS) {
      (*rejected)++;
      continue;
    }
    cleanup_free char *k = xstrndup(key, klen);
    json_set(labels, k, json_new_string(eq + 1));
  }
  return labels;
}

int spec_save(const char *bundle, const json *config, merr **err)
{
  cleanup_free char *path = xasprintf("%s/config.json", bundle ? bundle : ".");
  struct stat st;
  mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
  cleanup_free char *text = NULL;
  size_t len;
  if (json_serialize(config, false, &text, &len, err) < 0)
    return -1;
  return write_file_atomic_at(AT_FDCWD, path, text, len, mode, err);
}
