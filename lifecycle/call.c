#include "call.h"
#include "cleanup.h"
#include "clock.h"
#include "xalloc.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int call_rc(const struct call_ctx *c)
{
  if (WIFEXITED(c->run.wait_status))
    return WEXITSTATUS(c->run.wait_status);
  return 128 + WTERMSIG(c->run.wait_status);
}

int64_t call_overhead_now(const struct call_ctx *c)
{
  if (c->hook.active) /* the runtime waits for the hook: all of its time is added time */
    return (mono_us() - c->t0_us) + c->hook.before_us;
  return (c->run.start_us - c->t0_us) + (mono_us() - c->run.end_us);
}

json *call_event(const struct call_ctx *c)
{
  json *ev = json_new(JSON_OBJECT);
  json_set(ev, "ev", json_new_string(oci_sub_name(c->call->sub)));
  json_set(ev, "mono_us", json_new_int(c->run.end_us));
  json_set(ev, "real_ns", json_new_int(real_ns()));
  json_set(ev, "dur_us", json_new_int(c->run.end_us - c->run.start_us));
  json_set(ev, "rc", json_new_int(call_rc(c)));
  return ev;
}

void call_finish_event(const struct call_ctx *c, json *ev)
{
  json_set(ev, "ovh_us", json_new_int(call_overhead_now(c)));
}

void call_warn(const struct call_ctx *c, const char *what, const merr *err)
{
  ocilog_write(c->log, "warning", "%s for container %s: %s; the container is not affected", what,
               c->call->id, merr_msg(err));
}

char *call_shim_scope_key(const char *address, const char *ns)
{
  return xasprintf("shim\n%s\n%s", address ? address : "", ns ? ns : "");
}

char *call_scope_key(const struct call_ctx *c)
{
  if (c->hook.active)
    return c->hook.scope ? xstrdup(c->hook.scope) : call_shim_scope_key(NULL, NULL);
  /* The runtime's file, not the path PATH found it by: podman runs create with a PATH and
   * delete without one, and /usr/bin/runc is a link to /usr/sbin/runc on Debian. */
  cleanup_free char *file = realpath(c->real_path, NULL);
  return xasprintf("oci\n%s\n%s", file ? file : c->real_path, c->call->root ? c->call->root : "");
}

int call_scope_open(const struct call_ctx *c, struct state_scope *s, merr **err)
{
  cleanup_free char *key = call_scope_key(c);
  return state_scope_open(c->table->state_dir, key, s, err);
}

char *call_owner_token(const struct call_ctx *c)
{
  if (c->hook.active) /* without the shim's token, one that adopts nothing */
    return c->hook.owner ? xstrdup(c->hook.owner)
                         : xasprintf("hook-%d-%lld", (int)getpid(), (long long)c->t0_us);
  return xasprintf("%d-%lld", (int)c->wrapper_pid, (long long)c->t0_us);
}

char **call_real_argv(const char *real, const struct runtime_entry *e, int argc, char **argv)
{
  char **out = xreallocarray(NULL, (size_t)argc + e->nargs + 1, sizeof *out);
  size_t n = 0;
  out[n++] = (char *)real;
  for (size_t i = 0; i < e->nargs; i++)
    out[n++] = e->args[i];
  for (int i = 1; i < argc; i++)
    out[n++] = argv[i];
  out[n] = NULL;
  return out;
}

/* --log X, --log=X, -log X (urfave/cli takes one dash too), and the same for --log-format.
 * Returns how many words the flag takes (1 or 2), 0 when it is not one of them. */
static int log_flag_words(const char *arg)
{
  static const char *const names[] = {"log", "log-format"};
  const char *name = arg[0] == '-' ? arg + 1 + (arg[1] == '-') : NULL;
  for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
    size_t n = strlen(names[i]);
    if (strncmp(name, names[i], n) == 0 && name[n] == '\0')
      return 2;
    if (strncmp(name, names[i], n) == 0 && name[n] == '=')
      return 1;
  }
  return 0;
}

char **call_aux_argv(const struct call_ctx *c, const char *const *tail)
{
  size_t ntail = 0;
  while (tail[ntail])
    ntail++;
  int nglobal = c->call->sub_index > 1 ? c->call->sub_index - 1 : 0;
  char **out = xreallocarray(NULL, 1 + c->entry->nargs + (size_t)nglobal + ntail + 1, sizeof *out);
  size_t n = 0;
  out[n++] = (char *)c->real_path;
  for (size_t i = 0; i < c->entry->nargs; i++)
    out[n++] = c->entry->args[i];
  for (int i = 1; i <= nglobal; i++) {
    int skip = log_flag_words(c->argv[i]);
    if (skip)
      i += skip - 1;
    else
      out[n++] = c->argv[i];
  }
  for (size_t i = 0; i < ntail; i++)
    out[n++] = (char *)tail[i];
  out[n] = NULL;
  return out;
}
