/* containerd-shim-measured-<name>-v2: a transparent containerd runtime v2 shim wrapper.
 *
 * containerd (directly, or for Docker >= 23 through "runtimeType") runs it in place of the
 * runtime-table entry's shim (containerd-shim-runc-v2, containerd-shim-kata-v2, ...). On `start`,
 * run in the container's bundle, it puts the probe (when asked for) and measured's OCI hooks into
 * ./config.json, then execs the real shim with the same arguments and environment, so the
 * address the shim prints goes straight back to containerd. Every other call is an exec at once.
 * The hooks (hook.c) then measure the lifecycle as the OCI-CLI wrapper does.
 *
 * containerd reads everything a starting shim writes to stdout and stderr as its answer, so this
 * program writes nothing there unless it fails; its warnings go to the bundle's "log" FIFO, which
 * containerd copies into its own log. */
#include "shimv2.h"
#include "call.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "guard.h"
#include "hook_spec.h"
#include "lifecycle.h"
#include "naming.h"
#include "shimargs.h"
#include "spawn.h"
#include "spec.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An error of the wrapper itself: containerd shows a failing shim's output to the user. */
__attribute__((noreturn)) static void shim_fail(const char *name, const char *msg)
{
  dprintf(STDERR_FILENO, "measured: containerd-shim-measured-%s-v2: %s\n", name, msg);
  exit(1);
}

static char *shim_name(const char *argv0)
{
  return naming_runtime_of_shim(path_basename(argv0));
}

struct prepare {
  struct call_ctx *ctx;
  const char *self;   /* this program, for the hooks */
  const char *bundle; /* absolute */
};

/* In a guard: the probe (as before an OCI create), then the hooks. */
static int prepare_bundle(void *arg)
{
  struct prepare *p = arg;
  struct call_ctx *c = p->ctx;
  lifecycle_before_create(c); /* reports its own failures; the hooks go in regardless */
  cleanup_merr merr *err = NULL;
  cleanup_json json *config = NULL;
  struct hook_spec h = {.path = p->self,
                        .runtime = c->entry->name,
                        .owner = c->hook.owner,
                        .scope = c->hook.scope,
                        .since_us = c->t0_us,
                        .config = getenv("MEASURED_CONFIG")};
  h.before_us = mono_us() - c->t0_us;
  if (spec_load(p->bundle, &config, &err) < 0 || hook_spec_add(config, &h, &err) < 0 ||
      spec_save(p->bundle, config, &err) < 0) {
    ocilog_write(c->log, "warning", "container %s is not measured: %s", c->call->id, merr_msg(err));
    return 1;
  }
  return 0;
}

/* The real shim, with the same arguments and environment: its own run. */
__attribute__((noreturn)) static void exec_real_shim(const char *name, char *shim, char **argv)
{
  argv[0] = shim;
  execv(shim, argv);
  cleanup_free char *why = xasprintf("exec %s: %s", shim, strerror(errno));
  shim_fail(name, why);
}

/* After a fault in the preparation the heap may be broken: the real shim at once, nothing
 * allocated (its own failure to start said without the heap either). */
__attribute__((noreturn)) static void exec_real_shim_after_fault(char *shim, char **argv)
{
  argv[0] = shim;
  execv(shim, argv);
  spawn_report_exec_failure(shim, errno);
  _exit(1);
}

static void prepare_start(const struct shim_call *sc, const struct runtime_table *table,
                          const struct runtime_entry *entry, char *shim, int64_t t0, char **argv)
{
  char cwd[PATH_MAX], self[PATH_MAX];
  const char *bundle = sc->bundle ? sc->bundle : getcwd(cwd, sizeof cwd);
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (bundle == NULL || bundle[0] != '/' || n <= 0)
    return; /* nowhere to log either: the container simply is not measured */
  self[n] = '\0';
  cleanup_free char *log_path = xasprintf("%s/log", bundle);
  struct ocilog log = {.path = log_path, .quiet = true};
  cleanup_free char *owner = xasprintf("shim-%d-%lld", (int)getpid(), (long long)t0);
  cleanup_free char *scope = call_shim_scope_key(sc->address, sc->namespace);
  struct oci_call call = {.sub = OCI_SUB_CREATE, .sub_index = -1, .id = sc->id, .bundle = bundle};
  struct call_ctx ctx = {
      .call = &call,
      .table = table,
      .entry = entry,
      .real_path = shim,
      .log = &log,
      .t0_us = t0,
      .hook = {.active = true, .owner = owner, .scope = scope, .shim_path = shim}};
  struct prepare p = {.ctx = &ctx, .self = self, .bundle = bundle};
  cleanup_free char *what = xasprintf("the shim's start for container %s", sc->id);
  if (guard_inline(prepare_bundle, &p, GUARD_MEASUREMENT_MS, &log, what) < 0)
    exec_real_shim_after_fault(shim, argv);
}

int shimv2_main(int argc, char **argv, int64_t t0)
{
  cleanup_free char *name = shim_name(argv[0]);
  if (name == NULL || !runtime_name_valid(name))
    shim_fail("?", "run me as containerd-shim-measured-<runtime>-v2 (a link `measured install` "
                   "makes)");
  struct runtime_table *table = NULL;
  merr *err = NULL;
  if (runtime_table_load(runtime_table_path(), &table, &err) < 0)
    shim_fail(name, merr_msg(err));
  const struct runtime_entry *entry = runtime_table_find(table, name);
  if (entry == NULL)
    shim_fail(name, "no such entry in the runtime table");
  if (entry->shim == NULL)
    shim_fail(name, "its runtime table entry names no \"shim\" to wrap");
  char *shim = NULL;
  if (runtime_resolve(entry->shim, &shim, &err) < 0)
    shim_fail(name, merr_msg(err));
  if (same_file(shim, "/proc/self/exe"))
    shim_fail(name, "the real shim is measured itself");

  struct shim_call sc;
  shim_args_parse(argc, argv, &sc);
  if (sc.action == SHIM_START && sc.id && oci_id_valid(sc.id) && sc.id[0] != '.')
    prepare_start(&sc, table, entry, shim, t0, argv);
  exec_real_shim(name, shim, argv);
}
