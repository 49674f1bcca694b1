#include "hook_spec.h"
#include "cleanup.h"
#include "hook.h"
#include "xalloc.h"

#include <string.h>

/* The hook's environment: runtimes run hooks with exactly this, nothing inherited. */
static json *hook_env(const struct hook_spec *h)
{
  json *env = json_new(JSON_ARRAY);
  json_append(env,
              json_new_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  if (h->config) {
    cleanup_free char *v = xasprintf("MEASURED_CONFIG=%s", h->config);
    json_append(env, json_new_text(v));
  }
  return env;
}

static json *hook_entry(const struct hook_spec *h, const char *phase)
{
  json *args = json_new(JSON_ARRAY);
  json_append(args, json_new_string(HOOK_ARGV0));
  json_append(args, json_new_string(phase));
  json_append(args, json_new_string("--runtime"));
  json_append(args, json_new_text(h->runtime));
  if (h->owner) {
    json_append(args, json_new_string("--owner"));
    json_append(args, json_new_text(h->owner));
  }
  if (h->scope) {
    json_append(args, json_new_string("--scope"));
    json_append(args, json_new_text(h->scope));
  }
  cleanup_free char *since = xasprintf("%lld", (long long)h->since_us);
  cleanup_free char *before = xasprintf("%lld", (long long)h->before_us);
  json_append(args, json_new_string("--since-us"));
  json_append(args, json_new_string(since));
  json_append(args, json_new_string("--before-us"));
  json_append(args, json_new_string(before));
  json *hook = json_new(JSON_OBJECT);
  json_set(hook, "path", json_new_text(h->path));
  json_set(hook, "args", args);
  json_set(hook, "env", hook_env(h));
  json_set(hook, "timeout", json_new_int(HOOK_TIMEOUT_S));
  return hook;
}

static bool is_ours(const json *hook)
{
  const json *args = json_get(hook, "args");
  const char *first = json_is(args, JSON_ARRAY) && args->n ? json_string(args->items[0]) : NULL;
  return first && strcmp(first, HOOK_ARGV0) == 0;
}

static int add_to(json *hooks, const char *kind, json *entry, merr **err)
{
  json *list = json_get(hooks, kind);
  if (list == NULL) {
    list = json_new(JSON_ARRAY);
    json_set(hooks, kind, list);
  }
  if (!json_is(list, JSON_ARRAY)) {
    json_free(entry);
    return merr_set(err, 0, "config.json: hooks.%s is not an array", kind);
  }
  for (size_t i = 0; i < list->n; i++)
    if (is_ours(list->items[i])) {
      json_free(list->items[i]);
      list->items[i] = entry;
      return 0;
    }
  json_append(list, entry);
  return 0;
}

int hook_spec_add(json *config, const struct hook_spec *h, merr **err)
{
  if (!json_is(config, JSON_OBJECT))
    return merr_set(err, 0, "config.json is not an object");
  json *hooks = json_get(config, "hooks");
  if (hooks == NULL) {
    hooks = json_new(JSON_OBJECT);
    json_set(config, "hooks", hooks);
  }
  if (!json_is(hooks, JSON_OBJECT))
    return merr_set(err, 0, "config.json: \"hooks\" is not an object");
  static const char *const phases[][2] = {{"createRuntime", HOOK_CREATE_RUNTIME},
                                          {"poststart", HOOK_POSTSTART},
                                          {"poststop", HOOK_POSTSTOP}};
  for (size_t i = 0; i < 3; i++)
    if (add_to(hooks, phases[i][0], hook_entry(h, phases[i][1]), err) < 0)
      return -1;
  return 0;
}
