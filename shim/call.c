#include "call.h"
#include "cleanup.h"
#include "clock.h"
#include "state.h"
#include "store.h"
#include "xalloc.h"

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

int call_open_state_root(const struct call_ctx *c, merr **err)
{
  return state_root_open(c->table->state_dir, err);
}

int call_store_record(const struct call_ctx *c, const json *rec, merr **err)
{
  cleanup_free char *line = NULL;
  size_t len;
  if (json_serialize(rec, false, &line, &len, err) < 0)
    return -1;
  return store_append(runtime_entry_store(c->table, c->entry), line, len, err);
}

char *call_owner_token(const struct call_ctx *c)
{
  if (c->hook.active) /* without the shim's token, one that adopts nothing */
    return c->hook.owner ? xstrdup(c->hook.owner)
                         : xasprintf("hook-%d-%lld", (int)getpid(), (long long)c->t0_us);
  /* Called in guard children: their parent is the wrapper. */
  return xasprintf("%d-%lld", (int)getppid(), (long long)c->t0_us);
}
