#include "checkpoint.h"
#include "cleanup.h"
#include "fileio.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHECKPOINT_VERSION = 1, CHECKPOINT_MAX_BYTES = 64 << 20 };

/* What the buckets and labels were when the numbers were counted: a checkpoint of another
 * layout cannot be added to. */
static char *layout(const struct aggregate *a)
{
  char buf[1024];
  size_t used = 0;
  for (size_t k = 0; k < a->nlabels; k++)
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s,", a->label_name[k]);
  for (int f = 0; f < F_FAMILIES && used < sizeof buf; f++) {
    double b[AGG_MAX_BUCKETS];
    size_t n = hist_bounds((enum hist_family_id)f, b, AGG_MAX_BUCKETS - 1);
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s:%zu:%g:%g;", hist_families[f].name,
                             n, b[0], b[n - 1]);
  }
  return strdup(buf);
}

static json *store_json(const struct follower *f)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "path", json_new_string(f->path));
  json_set(o, "known", json_new_bool(f->known));
  json_set(o, "live", json_new_bool(f->live));
  json_set(o, "dev", json_new_uint(f->dev));
  json_set(o, "ino", json_new_uint(f->ino));
  json_set(o, "offset", json_new_int(f->offset));
  json_set(o, "rotations", json_new_uint(f->rotations));
  json_set(o, "unread", json_new_uint(f->unread));
  json_set(o, "truncated", json_new_uint(f->truncated));
  return o;
}

static json *hist_json_of(const struct histogram_counts *h, size_t nb)
{
  if (h->count == 0)
    return json_new(JSON_NULL);
  json *o = json_new(JSON_OBJECT);
  json_set(o, "sum", json_new_double(h->sum));
  json *b = json_new(JSON_ARRAY);
  for (size_t i = 0; i <= nb; i++)
    json_append(b, json_new_uint(h->bucket[i]));
  json_set(o, "buckets", b);
  return o;
}

static json *series_json(const struct aggregate *a, const struct series *x)
{
  json *o = json_new(JSON_OBJECT), *labels = json_new(JSON_ARRAY), *out = json_new(JSON_OBJECT);
  for (size_t k = 0; k < a->nlabels; k++)
    json_append(labels, json_new_string(x->label[k]));
  json_set(o, "labels", labels);
  for (size_t i = 0; i < x->noutcomes; i++)
    json_set(out, x->outcomes[i].outcome, json_new_uint(x->outcomes[i].n));
  json_set(o, "outcomes", out);
  json_set(o, "outcome_other", json_new_uint(x->outcome_other));
  json_set(o, "tx_bytes", json_new_double(x->tx_bytes));
  json_set(o, "rx_bytes", json_new_double(x->rx_bytes));
  json_set(o, "connections", json_new_double(x->connections));
  json *hist = json_new(JSON_ARRAY);
  double bounds[AGG_MAX_BUCKETS];
  for (int s = 0; s < H_SLOTS; s++)
    json_append(hist, hist_json_of(&x->hist[s], hist_bounds(hist_slot_family((enum hist_slot)s),
                                                            bounds, AGG_MAX_BUCKETS - 1)));
  json_set(o, "hist", hist);
  return o;
}

int checkpoint_save(const char *path, const struct aggregate *a, const struct follower *stores,
                    size_t nstores, merr **err)
{
  cleanup_json json *doc = json_new(JSON_OBJECT);
  json_set(doc, "measured_exporter_checkpoint", json_new_int(CHECKPOINT_VERSION));
  cleanup_free char *lay = layout(a);
  json_set(doc, "layout", json_new_string(lay));
  json_set(doc, "records", json_new_uint(a->records));
  json_set(doc, "malformed", json_new_uint(a->malformed));
  json_set(doc, "other_kinds", json_new_uint(a->other_kinds));
  json_set(doc, "series_overflow", json_new_uint(a->series_overflow));
  json *st = json_new(JSON_ARRAY), *se = json_new(JSON_ARRAY);
  for (size_t i = 0; i < nstores; i++)
    json_append(st, store_json(&stores[i]));
  json_set(doc, "stores", st);
  for (size_t i = 0; i < a->nseries; i++)
    json_append(se, series_json(a, &a->series[i]));
  json_set(doc, "series", se);
  cleanup_free char *text = NULL;
  size_t len;
  if (json_serialize(doc, false, &text, &len, err) < 0)
    return -1;
  cleanup_free char *dir = path_dirname(path);
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return merr_set(err, errno, "open %s", dir);
  return write_file_atomic_at(dirfd, path_basename(path), text, len, 0600, err);
}

/* ---- loading: every number checked, anything unexpected refuses the whole file ---- */

static bool get_u64(const json *o, const char *key, uint64_t *out)
{
  int64_t v;
  if (!json_int64(json_get(o, key), &v) || v < 0)
    return false;
  *out = (uint64_t)v;
  return true;
}

static bool get_nonneg(const json *o, const char *key, double *out)
{
  return json_double(json_get(o, key), out) && *out >= 0;
}

static bool load_hist(const json *h, struct histogram_counts *out, size_t nb)
{
  if (json_is(h, JSON_NULL))
    return true;
  const json *b = json_get(h, "buckets");
  if (!get_nonneg(h, "sum", &out->sum) || !json_is(b, JSON_ARRAY) || b->n != nb + 1)
    return false;
  for (size_t i = 0; i <= nb; i++) {
    int64_t v;
    if (!json_int64(b->items[i], &v) || v < 0)
      return false;
    out->bucket[i] = (uint64_t)v;
    out->count += (uint64_t)v;
  }
  return true;
}

static bool load_series(struct aggregate *a, const json *o)
{
  const json *labels = json_get(o, "labels"), *outcomes = json_get(o, "outcomes"),
             *hist = json_get(o, "hist");
  if (!json_is(labels, JSON_ARRAY) || labels->n != a->nlabels || !json_is(outcomes, JSON_OBJECT) ||
      outcomes->n > AGG_MAX_OUTCOMES || !json_is(hist, JSON_ARRAY) || hist->n != H_SLOTS)
    return false;
  char values[AGG_MAX_LABELS][SAMPLE_TEXT];
  for (size_t k = 0; k < a->nlabels; k++) {
    const char *v = json_string(labels->items[k]);
    if (v == NULL || strlen(v) >= SAMPLE_TEXT)
      return false;
    snprintf(values[k], SAMPLE_TEXT, "%s", v);
  }
  bool folded;
  struct series *x = aggregate_series(a, values, &folded);
  if (folded || x->noutcomes) /* more series than fit, or the same twice */
    return false;
  for (size_t i = 0; i < outcomes->n; i++) {
    int64_t n;
    if (strlen(outcomes->keys[i]) >= sizeof x->outcomes[0].outcome ||
        !json_int64(outcomes->items[i], &n) || n < 0)
      return false;
    snprintf(x->outcomes[i].outcome, sizeof x->outcomes[0].outcome, "%s", outcomes->keys[i]);
    x->outcomes[i].n = (uint64_t)n;
    x->noutcomes++;
  }
  double bounds[AGG_MAX_BUCKETS];
  for (int s = 0; s < H_SLOTS; s++)
    if (!load_hist(hist->items[s], &x->hist[s],
                   hist_bounds(hist_slot_family((enum hist_slot)s), bounds, AGG_MAX_BUCKETS - 1)))
      return false;
  return get_u64(o, "outcome_other", &x->outcome_other) &&
         get_nonneg(o, "tx_bytes", &x->tx_bytes) && get_nonneg(o, "rx_bytes", &x->rx_bytes) &&
         get_nonneg(o, "connections", &x->connections);
}

static bool load_store(const json *o, struct follower *stores, size_t nstores)
{
  const char *path = json_string(json_get(o, "path"));
  const json *known = json_get(o, "known"), *live = json_get(o, "live");
  struct follower f = {0};
  int64_t offset;
  if (path == NULL || !(json_is(known, JSON_TRUE) || json_is(known, JSON_FALSE)) ||
      !(json_is(live, JSON_TRUE) || json_is(live, JSON_FALSE)) || !get_u64(o, "dev", &f.dev) ||
      !get_u64(o, "ino", &f.ino) || !json_int64(json_get(o, "offset"), &offset) || offset < 0 ||
      !get_u64(o, "rotations", &f.rotations) || !get_u64(o, "unread", &f.unread) ||
      !get_u64(o, "truncated", &f.truncated))
    return false;
  for (size_t i = 0; i < nstores; i++)
    if (strcmp(stores[i].path, path) == 0) { /* a store no longer followed is forgotten */
      f.path = stores[i].path;
      f.known = json_is(known, JSON_TRUE);
      f.live = json_is(live, JSON_TRUE);
      f.offset = offset;
      stores[i] = f;
    }
  return true;
}

static int load_doc(const json *doc, struct aggregate *a, struct follower *stores, size_t nstores,
                    const char *path, merr **err)
{
  int64_t version;
  cleanup_free char *lay = layout(a);
  const char *theirs = json_string(json_get(doc, "layout"));
  if (!json_int64(json_get(doc, "measured_exporter_checkpoint"), &version) ||
      version != CHECKPOINT_VERSION)
    return merr_set(err, 0, "%s: not a checkpoint of this version", path);
  if (theirs == NULL || strcmp(theirs, lay) != 0)
    return merr_set(err, 0, "%s: made with other labels or buckets", path);
  const json *st = json_get(doc, "stores"), *se = json_get(doc, "series");
  if (!json_is(st, JSON_ARRAY) || !json_is(se, JSON_ARRAY) || se->n > AGG_MAX_SERIES ||
      !get_u64(doc, "records", &a->records) || !get_u64(doc, "malformed", &a->malformed) ||
      !get_u64(doc, "other_kinds", &a->other_kinds) ||
      !get_u64(doc, "series_overflow", &a->series_overflow))
    return merr_set(err, 0, "%s: malformed", path);
  for (size_t i = 0; i < se->n; i++)
    if (!load_series(a, se->items[i]))
      return merr_set(err, 0, "%s: series %zu is malformed", path, i);
  for (size_t i = 0; i < st->n; i++)
    if (!load_store(st->items[i], stores, nstores))
      return merr_set(err, 0, "%s: store %zu is malformed", path, i);
  return 0;
}

int checkpoint_parse(const char *buf, size_t len, const char *what, struct aggregate *a,
                     struct follower *stores, size_t nstores, merr **err)
{
  const struct json_limits lim = {
      .max_bytes = CHECKPOINT_MAX_BYTES, .max_depth = 8, .max_nodes = 8u << 20};
  cleanup_json json *doc = NULL;
  if (json_parse(buf, len, &lim, what, &doc, err) < 0)
    return -1;
  struct follower saved[nstores ? nstores : 1];
  memcpy(saved, stores, nstores * sizeof *stores);
  if (load_doc(doc, a, stores, nstores, what, err) == 0)
    return 0;
  memcpy(stores, saved, nstores * sizeof *stores); /* nothing of it is kept */
  aggregate_reset(a);
  return -1;
}

int checkpoint_load(const char *path, struct aggregate *a, struct follower *stores, size_t nstores,
                    merr **err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, path, CHECKPOINT_MAX_BYTES, &buf, &len, err) < 0)
    return -1;
  return checkpoint_parse(buf, len, path, a, stores, nstores, err);
}
