/* Putting the probe into a container, and getting its result out.
 *
 * At create (before the real create): a per-container tmpfs (256 KiB, 32 inodes, nosuid,
 * nodev, noexec, owned by the container's user) is mounted at <state>/<id>/probe; config.json
 * gains two bind mounts, the probe binary read-only at /dev/.measured-probe and that tmpfs at
 * PROBE_DEFAULT_OUT, /dev/.measured-out (both under /dev, the runtime's own tmpfs, so that nothing
 * is created in the container's filesystem), and in prelude mode process.args becomes
 *   /dev/.measured-probe prelude <options> -- <the original args>
 * The edit is lossless (every other key kept) and atomic. The size cap bounds what a container
 * can write into the channel; what it writes is read back as untrusted input (probe_result.c). */
#ifndef MEASURED_PROBE_INJECT_H
#define MEASURED_PROBE_INJECT_H

#include "json.h"
#include "merr.h"
#include "probe_plan.h"

#include "probe_contract.h"

#define PROBE_OUT_DIR "probe"
#define PROBE_PLAN_FILE "probe-plan.json"

/* The probe binary: the table's probe_binary, else ../libexec/measured/measured-probe next to
 * this program. NULL (with err) when it is not a regular executable file. */
char *probe_binary_path(const char *table_value, merr **err);

/* Injects the probe. dirfd/state_path: the container's state directory (fd and absolute
 * path); config: the parsed config.json of bundle (edited in place). On failure the spec on
 * disk is untouched and nothing stays mounted. */
int probe_inject(int dirfd, const char *state_path, const char *bundle, json *config,
                 const struct probe_plan *p, const char *probe_bin, merr **err);

/* Records the plan in the state directory: injected, or why not. */
int probe_save_plan(int dirfd, const struct probe_plan *p, bool injected, const char *why_not,
                    merr **err);

/* The plan saved for this lifecycle, when it was injected (the caller clears it); -1 if not. */
int probe_load_injected_plan(int dirfd, struct probe_plan *p);

/* Whether the container's args[0] can be found in its root filesystem (as the runtime would
 * look it up): a prelude must not turn the runtime's "not found" error into an exit of the
 * container. */
bool probe_args0_resolvable(const char *bundle, const json *config);

/* Whether the root filesystem is in place yet. A containerd shim mounts it only when it creates
 * the container, after the shim wrapper has edited the spec: args[0] cannot be looked up then,
 * and the prelude reports a missing program itself, as a shell would (exit 127). */
bool probe_root_ready(const char *bundle, const json *config);

/* Whether the spec bind-mounts something at /dev (a privileged container given the host's /dev):
 * the probe's mount points go under /dev, and must not be made in a directory shared with the
 * host. */
bool probe_dev_is_bound(const json *config);

/* Undoes a prelude in a parsed spec (args after "--"), for the record: it shows the container's
 * own command. */
void probe_strip_prelude(json *config);

/* The probe's part of the record: the plan, the validated result or why there is none. Then
 * unmounts the channel. NULL when this lifecycle was not probed. */
json *probe_collect(int dirfd, const char *state_path);

/* Unmounts the channel (failed create, gc). */
void probe_release(const char *state_path);

#endif
