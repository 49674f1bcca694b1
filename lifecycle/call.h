/* What every measured call shares: its context, its event, its warnings, and the command lines
 * of the real runtime. */
#ifndef MEASURED_CALL_H
#define MEASURED_CALL_H

#include "json.h"
#include "merr.h"
#include "oci.h"
#include "ocilog.h"
#include "state.h"
#include "table.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the real runtime's call did. */
struct run_result {
  int wait_status;  /* as from waitpid */
  int64_t start_us; /* monotonic, just before fork */
  int64_t end_us;   /* monotonic, just after the child was reaped */
};

struct call_ctx {
  int argc;
  char **argv; /* the wrapper's own command line */
  const struct oci_call *call;
  const struct runtime_table *table;
  const struct runtime_entry *entry;
  const char *real_path;
  char **real_argv; /* what the real runtime was given */
  const struct ocilog *log;
  int64_t t0_us;     /* when the wrapper's main() began */
  pid_t wrapper_pid; /* the wrapper's process (measurement may run in a child of it) */
  struct run_result run;
  /* Under a containerd shim (shim/hook.c) there is no runtime call to wrap: OCI hooks stand for
   * its points, and these say what the hook knows. */
  struct {
    bool active;
    pid_t pid;             /* the container's init, from the hook's state */
    const char *owner;     /* the state owner token the shim wrapper used */
    const char *scope;     /* the state scope's key the shim wrapper chose */
    const char *shim_path; /* the real containerd shim */
    int64_t before_us;     /* the shim wrapper's own time, counted in create's overhead */
  } hook;
  /* The lifecycle's state directory when a step before the call opened it (start's), for the
   * step after it; the wrapper's to close at its exit. */
  struct {
    bool open;
    int dirfd;
  } state;
};

/* The real call's exit status as a shell would show it. */
int call_rc(const struct call_ctx *c);

/* An event for this call ({"ev","mono_us","real_ns","dur_us","rc"}); call_finish_event adds
 * the wrapper's own time so far, last. */
json *call_event(const struct call_ctx *c);
void call_finish_event(const struct call_ctx *c, json *ev);
int64_t call_overhead_now(const struct call_ctx *c);

/* One warning line in the runtime's log: measurement failed, the container is not affected. */
void call_warn(const struct call_ctx *c, const char *what, const merr *err);

/* The state scope of this call's lifecycles (state.h): an OCI call's is its real runtime's file
 * (links resolved) and --root, a hook's the one the shim wrapper chose (call_shim_scope_key). */
int call_scope_open(const struct call_ctx *c, struct state_scope *s, merr **err);
char *call_scope_key(const struct call_ctx *c);
char *call_shim_scope_key(const char *address, const char *ns);

/* A token naming this wrapper invocation (pid and start time): the state a pre-create step
 * makes is adopted by the post-create step of the same invocation only. */
char *call_owner_token(const struct call_ctx *c);

/* The real runtime's command line for the call itself: its path, the table entry's arguments,
 * then the caller's arguments unchanged (NULL-terminated; the strings are borrowed). */
char **call_real_argv(const char *real, const struct runtime_entry *e, int argc, char **argv);

/* The command line of a call measured makes of its own (`state`, the exec-mode probe's `exec`):
 * the real runtime, the entry's arguments, the caller's global flags (its --root and the like,
 * so that the runtime finds the container), then `tail`. The caller's --log and --log-format
 * stay out: that file is the engine's, and these calls' errors are measured's. */
char **call_aux_argv(const struct call_ctx *c, const char *const *tail);

#endif
