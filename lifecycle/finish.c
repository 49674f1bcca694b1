#include "finish.h"
#include "cleanup.h"
#include "probe_inject.h"
#include "state.h"
#include "store.h"
#include "xalloc.h"

#include <errno.h>
#include <string.h>

/* Bytes of the store searched for a record its delete may have stored (appends after it are
 * other records, a few KB each). */
enum { STORED_SEARCH_WINDOW = 8 << 20 };

const char *lifecycle_store_of(const struct runtime_table *t, const char *runtime_name)
{
  const struct runtime_entry *e = runtime_name ? runtime_table_find(t, runtime_name) : NULL;
  return e ? runtime_entry_store(t, e) : t->store;
}

static const char *record_runtime(const json *rec)
{
  return json_string(json_get_path(rec, (const char *const[]){"runtime", "name", NULL}));
}

int lifecycle_store_record(const struct runtime_table *t, const json *rec, merr **err)
{
  cleanup_free char *line = NULL;
  size_t len;
  if (json_serialize(rec, false, &line, &len, err) < 0)
    return -1;
  struct store_policy policy = {.max_bytes = t->store_max_bytes, .keep = t->store_keep};
  return store_append(lifecycle_store_of(t, record_runtime(rec)), &policy, line, len, err);
}

static void add_missed(json *missed, const char *what, const merr *err)
{
  cleanup_free char *m = xasprintf("%s: %s", what, merr_msg(err));
  json_append(missed, json_new_text(m));
}

/* What the lifecycle left: events, the monitor's summary, the probe's result (which also
 * releases the probe's channel). What cannot be read goes into `missed`. */
static void gather(const struct finish *f, json *missed, struct record_inputs *in)
{
  memset(in, 0, sizeof *in);
  cleanup_merr merr *err = NULL;
  if (state_read_events(f->dirfd, &in->events, &in->bad_event_lines, &err) < 0) {
    add_missed(missed, "state events", err);
    in->events = json_new(JSON_ARRAY);
  }
  merr_freep(&err);
  if (state_events_full(f->dirfd)) {
    cleanup_free char *m =
        xasprintf("state: the lifecycle's events reached their cap of %d bytes; later exec, "
                  "kill and network change events were not kept",
                  STATE_EVENTS_CAP);
    json_append(missed, json_new_text(m));
  }
  if (state_read_net_summary(f->dirfd, &in->net, &err) < 0 && !merr_is(err, ENOENT))
    add_missed(missed, "network counters", err);
  cleanup_free char *path = state_item_path(f->scope_path, f->name);
  in->probe = probe_collect(f->dirfd, path);
}

/* A delete killed after its append but before its rename left a claimed lifecycle whose record
 * is stored: its line begins as ours does (schema, id, outcome, created_at: the same events
 * give the same), at or after the offset the delete noted. */
static bool stored_by_its_delete(const struct finish *f, const json *rec)
{
  int64_t offset;
  cleanup_free char *line = NULL;
  size_t len;
  if (state_read_store_offset(f->dirfd, &offset) < 0 ||
      json_serialize(rec, false, &line, &len, NULL) < 0)
    return false;
  const char *cut = strstr(line, ",\"deleted_at\":");
  bool found = false;
  if (cut == NULL)
    return false;
  store_has_line_after(lifecycle_store_of(f->table, record_runtime(rec)), offset, line,
                       (size_t)(cut - line), STORED_SEARCH_WINDOW, &found, NULL);
  return found;
}

static json *build(const struct finish *f)
{
  cleanup_json json *missed = f->missed ? json_clone(f->missed) : json_new(JSON_ARRAY);
  struct record_inputs in;
  gather(f, missed, &in);
  struct delete_info del = f->del;
  if (f->overhead_now)
    del.overhead_us = f->overhead_now(f->overhead_arg);
  json *rec = record_build(f->id, &in, &del, missed);
  record_inputs_clear(&in);
  return rec;
}

int lifecycle_finish(const struct finish *f, enum finish_outcome *outcome, merr **err)
{
  if (f->skip_without_create && state_first_event_int(f->dirfd, "create", "mono_us") < 0) {
    *outcome = FINISH_NOTHING;
    cleanup_free char *path = state_item_path(f->scope_path, f->name);
    probe_release(path); /* a channel left mounted would keep the directory */
    return state_remove(f->rootfd, f->name, err);
  }
  cleanup_json json *rec = build(f);
  if (f->maybe_stored && stored_by_its_delete(f, rec)) {
    *outcome = FINISH_ALREADY_STORED;
    return state_remove(f->rootfd, f->name, err);
  }
  int64_t offset;
  if (store_size(lifecycle_store_of(f->table, record_runtime(rec)), &offset, NULL) == 0)
    state_note_store_offset(f->dirfd, offset);
  if (lifecycle_store_record(f->table, rec, err) < 0) {
    *outcome = FINISH_UNSTORED;
    cleanup_merr merr *kerr = NULL;
    if (state_keep_unstored(f->rootfd, f->dirfd, f->name, f->id, rec, &kerr) < 0) {
      *outcome = FINISH_LOST;
      merr_wrap(err, "and it could not be kept either (%s)", merr_msg(kerr));
    }
    return -1;
  }
  *outcome = FINISH_STORED;
  return state_finish_recorded(f->rootfd, f->name, f->id, err);
}
