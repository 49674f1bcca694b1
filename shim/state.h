/* Per-container state between the separate wrapper invocations of one lifecycle.
 *
 *   <state_dir>/                 0700 root (default /run/measured, a tmpfs)
 *     <id>/events                JSON Lines: one event per wrapper call or monitor finding,
 *                                appended with single O_APPEND writes (concurrent calls such as
 *                                exec and kill never clobber each other)
 *     <id>/monitor.lock          held by the monitor until the exit status is written
 *     .claimed-<id>-<pid>/       a lifecycle being turned into its record by `delete`
 *     .recorded-<id>-<pid>/      its record stored, being removed
 *     .stale-<id>-<n>/           a lifecycle replaced by a new one of the same id
 *     .unstored-<id>-<pid>/      a record that could not be stored (record.json)
 *     .gc-stamp                  when the last opportunistic `measured gc` ran
 *     .cache/                    runtime versions, keyed by the binary's identity
 *
 * Container ids starting with "." are never measured, so these names cannot collide. Every
 * access is relative to a directory fd, with O_NOFOLLOW. */
#ifndef MEASURED_STATE_H
#define MEASURED_STATE_H

#include "json.h"
#include "merr.h"

#include <stdbool.h>

enum { STATE_MAX_EVENTS_BYTES = 4 << 20 };

/* The names above, as `delete`, `create` and `measured gc` make and read them. */
#define STATE_CLAIMED_PREFIX ".claimed-"
#define STATE_RECORDED_PREFIX ".recorded-"
#define STATE_STALE_PREFIX ".stale-"
#define STATE_UNSTORED_PREFIX ".unstored-"
/* In a claimed lifecycle: the store's size just before its delete appended the record, so that
 * `measured gc` can tell whether a delete killed after its append had stored it already. */
#define STATE_STORE_OFFSET "store-offset"

int state_root_open(const char *state_dir, merr **err);

/* Creates <id>/ for a new lifecycle, owned by `token` (see call_owner_token). A directory of the
 * same id made by the same owner (a pre-create step) is taken over; any other leftover (a
 * lifecycle whose delete was never seen) is moved aside as .stale-<id>-<n>, reported through
 * *stale. */
int state_create(int rootfd, const char *id, const char *token, bool *stale, merr **err);

/* Opens <id>/ when `token` owns it; -1 otherwise. */
int state_adopt(int rootfd, const char *id, const char *token);

/* Opens <id>/; fails with ENOENT when this lifecycle has no state. */
int state_open(int rootfd, const char *id, merr **err);

/* A new event object {"ev": name, "mono_us": now, "real_ns": now}. */
json *state_event(const char *name);

/* Appends one event (a JSON object) as a line of <dir>/events. */
int state_append_event(int dirfd, const json *event, merr **err);

/* Reads <dir>/events into an array of objects; lines that do not parse are skipped and
 * counted in *bad_lines. */
int state_read_events(int dirfd, json **events, unsigned *bad_lines, merr **err);

/* Atomically takes <id>/ for record writing (rename to .claimed-<id>-<pid>): of several
 * concurrent deletes exactly one succeeds. Returns the claimed directory fd, ENOENT when there is
 * nothing to claim; *claimed_name receives the new name. */
int state_claim(int rootfd, const char *id, char **claimed_name, merr **err);

#endif
