/* The per-container state between the separate wrapper invocations of one lifecycle, and the
 * one module that knows its layout. Every other part of measured goes through these verbs.
 *
 *   <state_dir>/                 0700 root (default /run/measured, a tmpfs)
 *     .scope-<hash>/             the lifecycles of one runtime root: a container id is unique
 *                                only within its runtime's --root (and, under a containerd shim,
 *                                within its containerd and namespace), so two engines on one host
 *                                never mix; <hash> is of the scope's key, which `key` holds
 *       <id>/                    a lifecycle (its container id)
 *       owner                    the wrapper invocation that made it (see state_create)
 *       events                   JSON Lines: one event per wrapper call or monitor finding,
 *                                appended with single O_APPEND writes (concurrent calls such as
 *                                exec and kill never clobber each other)
 *       net.json                 the monitor's network summary so far (state_write_net_summary)
 *       monitor.lock             held by the monitor until the exit status is written
 *       wake                     the FIFO `start` wakes the monitor through
 *       probe/                   the probe's result channel (a tmpfs mount), probe-plan.json
 *       events-full              some event was refused: the events reached their cap
 *       store-offset             in a claimed lifecycle: the store's size just before its delete
 *                                appended the record (state_note_store_offset)
 *       record.json              in an unstored one: the record that could not be stored
 *       .claimed-<id>-<pid>/     a lifecycle being turned into its record by `delete`
 *       .recorded-<id>-<pid>/    its record stored, being removed
 *       .stale-<id>-<n>/         a lifecycle replaced by a new one of the same id
 *       .unstored-<id>-<pid>/    a record that could not be stored (record.json)
 *     .gc-stamp                  when the last opportunistic `measured gc` ran
 *     .cache/                    runtime versions, keyed by the binary's identity
 *
 * The lifecycle verbs below take a scope's fd ("rootfd"); gc also visits lifecycles directly in
 * the state directory, which measured before scopes made there. Container ids starting with "."
 * are never measured, so these names cannot collide. Every
 * access is relative to a directory fd, with O_NOFOLLOW (and O_NONBLOCK where a FIFO could be
 * planted). */
#ifndef MEASURED_STATE_H
#define MEASURED_STATE_H

#include "json.h"
#include "merr.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum {
  /* A lifecycle's events stay under STATE_EVENTS_CAP, whatever the container does (exec and kill
   * in a loop, links flapping); the events a record cannot do without (create, create_done,
   * start, exit, version) may use STATE_EVENTS_RESERVE more. A lifecycle's state is bounded by
   * these, the network summary and the probe's channel. */
  STATE_EVENTS_CAP = 1 << 20,
  STATE_EVENTS_RESERVE = 64 << 10,
  STATE_MAX_EVENTS_BYTES = STATE_EVENTS_CAP + STATE_EVENTS_RESERVE,
  STATE_MAX_FILE_BYTES = 4 << 20, /* net.json, record.json */
  STATE_NET_MAX_MISSED = 32,      /* lines of "missed" a network summary holds at most */
  STATE_MAX_UNSTORED = 64,        /* records waiting for a store that refuses them, per scope */
};

/* Files of a lifecycle that their owners open themselves (the monitor its lock and FIFO, the
 * probe's host side its channel and plan). */
#define STATE_MONITOR_LOCK "monitor.lock"
#define STATE_WAKE_FIFO "wake"
#define STATE_MONITOR_READY "ready" /* made by the monitor once the counters' baseline is taken */
#define STATE_PROBE_DIR "probe"
#define STATE_PROBE_PLAN "probe-plan.json"
/* Files of the state directory itself. */
#define STATE_CACHE_DIR ".cache"
#define STATE_GC_STAMP ".gc-stamp"

int state_root_open(const char *state_dir, merr **err);

/* The scope a call's lifecycles live in. */
struct state_scope {
  int topfd;  /* the state directory */
  int fd;     /* the scope's directory: what the lifecycle verbs call rootfd */
  char *path; /* its absolute path */
};

/* Opens (making it when needed) the state directory and the scope of `key` (the runtime's real
 * path and --root, or the containerd address and namespace of a shim). */
int state_scope_open(const char *state_dir, const char *key, struct state_scope *s, merr **err);

/* Opens an existing entry of the state directory as a scope (gc); "." is the state directory
 * itself. */
int state_scope_open_name(int topfd, const char *state_dir, const char *name, struct state_scope *s,
                          merr **err);

void state_scope_close(struct state_scope *s);
#define cleanup_scope __attribute__((cleanup(state_scope_close)))

/* "<dir>/<name>": an absolute path, for what needs one (mounts). */
char *state_item_path(const char *dir, const char *name);

/* ---- a lifecycle's directory ---- */

/* Creates <id>/ for a new lifecycle, owned by `token` (see call_owner_token). A directory of the
 * same id made by the same owner (a pre-create step) is taken over; any other leftover (a
 * lifecycle whose delete was never seen) is moved aside as .stale-<id>-<n>, reported through
 * *stale. */
int state_create(int rootfd, const char *id, const char *token, bool *stale, merr **err);

/* Opens <id>/ when `token` owns it; -1 otherwise. */
int state_adopt(int rootfd, const char *id, const char *token);

/* Opens <id>/; fails with ENOENT when this lifecycle has no state. */
int state_open(int rootfd, const char *id, merr **err);

/* Opens any entry of the state directory by name (gc). */
int state_open_item(int rootfd, const char *name, merr **err);

/* Atomically takes <id>/ for record writing (rename to .claimed-<id>-<pid>): of several
 * concurrent deletes exactly one succeeds. Returns the claimed directory fd, ENOENT when there is
 * nothing to claim; *claimed_name receives the new name. */
int state_claim(int rootfd, const char *id, char **claimed_name, merr **err);

/* ---- events ---- */

/* A new event object {"ev": name, "mono_us": now, "real_ns": now}. */
json *state_event(const char *name);

/* Appends one event (a JSON object) as a line of <dir>/events; fails with ENOSPC when that
 * would take the events past their cap (see STATE_EVENTS_CAP). */
int state_append_event(int dirfd, const json *event, merr **err);

/* Whether some event was refused for the cap (the record says so). */
bool state_events_full(int dirfd);

/* Reads <dir>/events into an array of objects; lines that do not parse are skipped and
 * counted in *bad_lines. */
int state_read_events(int dirfd, json **events, unsigned *bad_lines, merr **err);

/* The first event named `name` in an array of events, NULL when there is none. */
const json *state_first_event(const json *events, const char *name);

/* The integer `key` of the first event named `name` in dirfd's events, -1 when absent. */
int64_t state_first_event_int(int dirfd, const char *name, const char *key);

/* ---- the monitor's network summary ---- */

int state_write_net_summary(int dirfd, const json *summary, merr **err);

/* Fails with ENOENT when the monitor left none. */
int state_read_net_summary(int dirfd, json **summary, merr **err);

bool state_has_net_summary(int dirfd);

/* ---- the end of a lifecycle ---- */

/* Notes where the record will land in the store, at the earliest, before it is appended: a
 * delete killed between its append and state_finish_recorded leaves a claimed lifecycle whose
 * record `measured gc` finds after that offset, and does not store twice. */
void state_note_store_offset(int dirfd, int64_t offset);
int state_read_store_offset(int dirfd, int64_t *offset);

/* The record is stored: .recorded-<id>-<pid> first (so that a wrapper killed while removing it
 * leaves nothing gc would record again), then removed. `name` is the claimed (or gc's) entry. */
int state_finish_recorded(int rootfd, const char *name, const char *id, merr **err);

/* The record could not be stored: kept as .unstored-<id>-<pid>/record.json for gc, unless
 * STATE_MAX_UNSTORED records wait already (a store full for long must not fill /run): ENOSPC. */
int state_keep_unstored(int rootfd, int dirfd, const char *name, const char *id, const json *rec,
                        merr **err);

/* The waiting record of an .unstored entry. */
int state_read_unstored(int dirfd, json **rec, merr **err);

/* Removes an entry and everything in it (ENOENT is success). */
int state_remove(int rootfd, const char *name, merr **err);

/* ---- listing (gc) ---- */

enum state_item_kind {
  STATE_LIVE,     /* <id>/ */
  STATE_CLAIMED,  /* .claimed-<id>-<pid>/ */
  STATE_STALE,    /* .stale-<id>-<n>/ */
  STATE_UNSTORED, /* .unstored-<id>-<pid>/ */
  STATE_RECORDED, /* .recorded-<id>-<pid>/ */
  STATE_SCOPE,    /* .scope-<hash>/: lifecycles of one runtime root (in the state directory) */
  STATE_OTHER,    /* .cache, the gc stamp, anything else: not a lifecycle */
};

struct state_item {
  char *name;
  enum state_item_kind kind;
  char *id;    /* the container id, NULL for STATE_SCOPE and STATE_OTHER */
  long number; /* the pid (claimed, unstored, recorded) or n (stale) */
};

/* What a directory entry name stands for (item->name is a copy of name). */
void state_item_parse(const char *name, struct state_item *item);

/* The directories of the state directory, in no particular order (read whole before any is
 * touched: removing entries while reading a directory may skip some). */
int state_list(int rootfd, struct state_item **items, size_t *n, merr **err);
void state_items_free(struct state_item *items, size_t n);

/* Seconds since the newest change of an entry (its own mtime or its events'). */
int64_t state_age_s(int rootfd, const char *name);

#endif
