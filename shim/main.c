/* measured-<runtime>: a transparent OCI runtime wrapper. The same binary is also the shim-v2
 * wrapper (containerd-shim-measured-<runtime>-v2, shimv2.c) and the OCI hooks that one puts in
 * place (measured-hook, hook.c) and each container's monitor (measured-monitor, monitor.h), chosen
 * by the name it is run as.
 *
 * Docker runs it in place of runc (or crun, runsc, kata-runtime). The part of argv[0] after
 * "measured-" names an entry of the runtime table. Calls that are not measured (state, list,
 * pause, --version, ...) are replaced by the real runtime at once with execv; create, start,
 * exec, kill and delete run the real runtime as a child, timed, then leave an event for the
 * container's record (see lifecycle.c). */
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "guard.h"
#include "hook.h"
#include "lifecycle.h"
#include "monitor_argv.h"
#include "naming.h"
#include "ociargs.h"
#include "ocilog.h"
#include "places.h"
#include "probe_contract.h"
#include "runner.h"
#include "shimv2.h"
#include "spec.h"
#include "table.h"
#include "table_cache.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_WRAPPER_ERROR = 1 };

/* Errors of the wrapper itself: the user must see them, and the call fails. */
__attribute__((noreturn)) static void fail(const struct ocilog *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(const struct ocilog *log, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  struct ocilog loud = *log;
  loud.to_stderr = true;
  ocilog_write(&loud, "error", "%s", msg);
  exit(EXIT_WRAPPER_ERROR);
}

static const char *runtime_name(const char *argv0)
{
  return naming_runtime_of(path_basename(argv0));
}

static char *known_names(const struct runtime_table *t)
{
  char *s = xstrdup("");
  for (size_t i = 0; i < t->n; i++) {
    char *next = xasprintf("%s%s%s", s, i ? ", " : "", t->entries[i].name);
    free(s);
    s = next;
  }
  return s;
}

/* The real runtime must not be this very program (a measured-runc installed as "runc" would
 * otherwise call itself forever). */
static bool is_self(const char *path)
{
  return same_file(path, "/proc/self/exe");
}

/* Whether a create might need the probe: the table asks for it, or the spec mentions it. A
 * bounded read and a byte search, no parsing: the common case stays cheap, and the pre-create
 * step (in a guard) decides for real. */
static bool probe_maybe_requested(const struct runtime_entry *e, const char *bundle)
{
  if (e->probe.tests)
    return true;
  cleanup_free char *path = xasprintf("%s/config.json", bundle ? bundle : ".");
  cleanup_free char *text = NULL;
  size_t len = 0;
  return read_file_at(AT_FDCWD, path, SPEC_MAX_BYTES, &text, &len, NULL) == 0 &&
         memmem(text, len, PROBE_ENV_PREFIX, strlen(PROBE_ENV_PREFIX)) != NULL;
}

/* A new container's create refuses a broken table (the user sees why at once); every other call
 * goes on with the last table that parsed, with a warning: a typo in the table must not break
 * containers that already run. */
static int load_table(const struct oci_call *call, const struct ocilog *log,
                      struct runtime_table **table, merr **err)
{
  if (call->sub == OCI_SUB_CREATE)
    return runtime_table_load_and_remember(runtime_table_path(), table, err);
  cleanup_free char *warning = NULL;
  if (runtime_table_load_or_last_good(runtime_table_path(), table, &warning, err) < 0)
    return -1;
  if (warning)
    ocilog_write(log, "warning", "%s", warning);
  return 0;
}

static bool is_measured(const struct oci_call *call)
{
  return call->sub >= OCI_SUB_CREATE && oci_id_valid(call->id) && call->id[0] != '.';
}

int main(int argc, char **argv)
{
  int64_t t0 = mono_us();
  const char *self = path_basename(argv[0]);
  if (strcmp(self, MONITOR_ARGV0) == 0) /* a container's monitor (monitor.h) */
    return monitor_exec_main(argc, argv);
  if (strcmp(self, HOOK_ARGV0) == 0)
    return hook_main(argc, argv, t0);
  if (strncmp(self, NAMING_SHIM_PREFIX, strlen(NAMING_SHIM_PREFIX)) == 0)
    return shimv2_main(argc, argv, t0);
  struct oci_call call;
  oci_args_parse(argc, argv, &call);
  struct ocilog log = {.path = call.log_path,
                       .json = call.log_format && strcmp(call.log_format, "json") == 0};

  const char *name = runtime_name(argv[0]);
  if (name == NULL || *name == '\0' || strcmp(name, "wrapper") == 0)
    fail(&log, "run me as measured-<runtime> (a link made by `measured install`), not as %s",
         argv[0]);
  struct runtime_table *table = NULL;
  merr *err = NULL;
  if (load_table(&call, &log, &table, &err) < 0)
    fail(&log, "%s", merr_msg(err));
  const struct runtime_entry *entry = runtime_table_find(table, name);
  if (entry == NULL)
    fail(&log, "unknown runtime \"%s\": no such entry in the runtime table (%s); known: %s", name,
         table->source, known_names(table));
  char *real = NULL;
  if (runtime_resolve(entry->path, &real, &err) < 0)
    fail(&log, "runtime \"%s\": %s", name, merr_msg(err));
  if (is_self(real))
    fail(&log, "runtime \"%s\": the real runtime %s is measured itself", name, real);
  char **rargv = call_real_argv(real, entry, argc, argv);

  /* Where measured keeps its state is worked out only for a call it measures: the calls it
   * passes through (state, list, ...) go to the runtime without that. */
  bool measured = is_measured(&call);
  const char *unplaced = measured ? measured_places()->why : NULL;
  if (!measured || unplaced) {
    /* Without an id the runtime answers for itself (help, usage error). */
    if (call.sub >= OCI_SUB_CREATE && call.id && !unplaced)
      ocilog_write(&log, "warning", "container id %s cannot name a state directory; not measured",
                   call.id);
    if (call.sub == OCI_SUB_CREATE && unplaced) /* said once a lifecycle */
      ocilog_write(&log, "warning", "%s; container %s is not measured", unplaced, call.id);
    runner_exec(real, rargv, &err);
    fail(&log, "runtime \"%s\": %s", name, merr_msg(err));
  }

  runner_block_signals();
  struct call_ctx ctx = {.argc = argc,
                         .argv = argv,
                         .call = &call,
                         .table = table,
                         .entry = entry,
                         .real_path = real,
                         .real_argv = rargv,
                         .log = &log,
                         .t0_us = t0,
                         .wrapper_pid = getpid()};
  if (call.sub == OCI_SUB_CREATE && probe_maybe_requested(entry, call.bundle) &&
      guard_run(lifecycle_before_create, &ctx, GUARD_MEASUREMENT_MS, &err) < 0)
    ocilog_write(&log, "warning", "%s (before create of container %s); not probed", merr_msg(err),
                 call.id);
  merr_freep(&err);
  if (call.sub == OCI_SUB_START)
    lifecycle_before_start(&ctx);
  if (runner_run(real, rargv, &ctx.run, &err) < 0)
    fail(&log, "runtime \"%s\": %s", name, merr_msg(err));
  /* The last step: whatever happens in it, the wrapper ends as the runtime did. */
  cleanup_free char *what = xasprintf("%s of container %s", oci_sub_name(call.sub), call.id);
  guard_inline(lifecycle_after, &ctx, GUARD_MEASUREMENT_MS, &log, what);
  runner_mirror_exit(ctx.run.wait_status);
}
