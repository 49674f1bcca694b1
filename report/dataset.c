#include "dataset.h"
#include "cleanup.h"
#include "lines.h"
#include "store.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { KEY_SEP = '\x1f' };

int group_by_parse(const char *spec, struct group_by *out, merr **err)
{
  memset(out, 0, sizeof *out);
  cleanup_free char *copy = xstrdup(spec);
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    bool ok = strcmp(t, "runtime") == 0 || strcmp(t, "driver") == 0 || strcmp(t, "load") == 0 ||
              strcmp(t, "pair") == 0 || strcmp(t, "outcome") == 0 ||
              (strncmp(t, "label:", 6) == 0 && t[6]);
    if (!ok || out->n == MAX_KEYS)
      return merr_set(err, 0,
                      "--by %s: fields are runtime, driver, load, pair, outcome, label:NAME "
                      "(at most %d)",
                      spec, MAX_KEYS);
    out->fields[out->n++] = xstrdup(t);
  }
  return out->n ? 0 : merr_set(err, 0, "--by needs at least one field");
}

int since_parse(const char *text, char *out, size_t size, merr **err)
{
  char unit = 0;
  long v = 0;
  int used = 0;
  if (sscanf(text, "%ld%c%n", &v, &unit, &used) == 2 && text[used] == '\0' && v >= 0 &&
      strchr("smhd", unit)) {
    long mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
    time_t t = time(NULL) - v * mult;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    return 0;
  }
  /* YYYY-MM-DD[THH:MM[:SS]][Z]: compared as a prefix of created_at (UTC, same shape). */
  size_t n = strlen(text);
  if (n && text[n - 1] == 'Z')
    n--;
  static const char shape[] = "dddd-dd-ddTdd:dd:dd";
  bool ok = n == 10 || n == 16 || n == 19;
  for (size_t i = 0; ok && i < n; i++)
    ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
  if (!ok)
    return merr_set(err, 0,
                    "--since %s: a UTC time (2026-11-23, 2026-11-23T10:00) or a duration back "
                    "from now (90m, 6h, 7d)",
                    text);
  snprintf(out, size, "%.*s", (int)n, text);
  return 0;
}

/* ---- grouping ---- */

struct table {
  struct group *g;
  size_t n, cap;
  char **keys;   /* joined key of each group, for lookup */
  size_t *slots; /* open addressing: index + 1, 0 empty */
  size_t nslots;
};

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void rehash(struct table *t)
{
  size_t nslots = t->nslots ? t->nslots * 2 : 64;
  size_t *slots = xzalloc(nslots * sizeof *slots);
  for (size_t i = 0; i < t->n; i++) {
    size_t s = hash(t->keys[i]) & (nslots - 1);
    while (slots[s])
      s = (s + 1) & (nslots - 1);
    slots[s] = i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = nslots;
}

static struct group *find_or_add(struct table *t, const char *joined, const struct group_by *by,
                                 char vals[][SAMPLE_TEXT])
{
  if (t->nslots == 0 || t->n * 2 >= t->nslots)
    rehash(t);
  size_t s = hash(joined) & (t->nslots - 1);
  while (t->slots[s]) {
    size_t i = t->slots[s] - 1;
    if (strcmp(t->keys[i], joined) == 0)
      return &t->g[i];
    s = (s + 1) & (t->nslots - 1);
  }
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 16;
    t->g = xreallocarray(t->g, t->cap, sizeof *t->g);
    t->keys = xreallocarray(t->keys, t->cap, sizeof *t->keys);
  }
  struct group *g = &t->g[t->n];
  memset(g, 0, sizeof *g);
  for (size_t k = 0; k < by->n; k++)
    g->key[k] = xstrdup(vals[k]);
  t->keys[t->n] = xstrdup(joined);
  t->slots[s] = ++t->n;
  return g;
}

static void push(struct values *v, double x)
{
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 8;
    v->v = xreallocarray(v->v, v->cap, sizeof *v->v);
  }
  v->v[v->n++] = x;
}

static const char *key_value(const struct sample *s, const char *field)
{
  if (strcmp(field, "runtime") == 0)
    return s->runtime[0] ? s->runtime : "?";
  if (strcmp(field, "driver") == 0)
    return s->driver[0] ? s->driver : "?";
  if (strcmp(field, "outcome") == 0)
    return s->outcome[0] ? s->outcome : (s->kind == KIND_TOOL ? "tool" : "?");
  const char *label = strcmp(field, "load") == 0   ? "load"
                      : strcmp(field, "pair") == 0 ? "pair"
                                                   : field + 6;
  const char *v = sample_label(s, label);
  if (v)
    return v;
  return strcmp(field, "load") == 0   ? "none"
         : strcmp(field, "pair") == 0 ? key_value(s, "driver")
                                      : "-";
}

static bool in_list(const char *v, const char **list, size_t n)
{
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (strcmp(v, list[i]) == 0)
      return true;
  return false;
}

static bool passes(const struct sample *s, const struct filters *f)
{
  if (f->since && (s->created[0] == '\0' || strncmp(s->created, f->since, strlen(f->since)) < 0))
    return false;
  if (!in_list(s->runtime, f->runtimes, f->nruntimes) ||
      !in_list(s->driver, f->drivers, f->ndrivers))
    return false;
  for (size_t i = 0; i < f->nlabels; i++) {
    const char *eq = strchr(f->labels[i], '=');
    char key[SAMPLE_TEXT];
    snprintf(key, sizeof key, "%.*s", (int)(eq - f->labels[i]), f->labels[i]);
    const char *v = sample_label(s, key);
    if (v == NULL || strcmp(v, eq + 1) != 0)
      return false;
  }
  return true;
}

/* ---- reading ---- */

/* What one part of a file's lines makes: its own groups, merged afterwards. */
struct chunk {
  const struct group_by *by;
  const struct filters *f;
  struct table t;
  size_t lines, malformed, filtered;
};

static void add_sample(struct chunk *c, const struct sample *s)
{
  char vals[MAX_KEYS][SAMPLE_TEXT];
  char joined[MAX_KEYS * (SAMPLE_TEXT + 1)] = "";
  size_t used = 0;
  for (size_t k = 0; k < c->by->n; k++) {
    snprintf(vals[k], SAMPLE_TEXT, "%s", key_value(s, c->by->fields[k]));
    used += (size_t)snprintf(joined + used, sizeof joined - used, "%s%c", vals[k], KEY_SEP);
  }
  struct group *g = find_or_add(&c->t, joined, c->by, vals);
  if (s->kind == KIND_UNSUPPORTED) {
    g->unsupported = true;
    if (!g->reason && s->reason[0])
      g->reason = xstrdup(s->reason);
    return;
  }
  if (s->kind == KIND_FAILED || (s->kind == KIND_RECORD && strcmp(s->outcome, "completed") != 0)) {
    g->failed++;
    return;
  }
  if (s->kind == KIND_RECORD)
    g->records++;
  for (int m = 0; m < M_COUNT; m++)
    if (s->has[m])
      push(&g->metric[m], s->value[m]);
}

/* One line (without its newline); NULL: a line too long to be a record. */
static void take_line(void *ctx, const char *line, size_t len)
{
  struct chunk *c = ctx;
  if (line == NULL) {
    c->lines++;
    c->malformed++;
    return;
  }
  struct sample s;
  size_t next;
  bool blank;
  bool ok = sample_parse_next(line, len, &s, &next, &blank);
  if (blank)
    return;
  c->lines++;
  if (!ok || s.kind == KIND_OTHER)
    c->malformed++;
  else if (!passes(&s, c->f))
    c->filtered++;
  else
    add_sample(c, &s);
}

static void merge(struct table *into, struct table *from, const struct group_by *by)
{
  for (size_t i = 0; i < from->n; i++) {
    struct group *src = &from->g[i];
    char vals[MAX_KEYS][SAMPLE_TEXT];
    for (size_t k = 0; k < by->n; k++)
      snprintf(vals[k], SAMPLE_TEXT, "%s", src->key[k]);
    struct group *dst = find_or_add(into, from->keys[i], by, vals);
    dst->records += src->records;
    dst->failed += src->failed;
    dst->unsupported |= src->unsupported;
    if (!dst->reason && src->reason)
      dst->reason = steal_pointer(&src->reason);
    for (int m = 0; m < M_COUNT; m++)
      for (size_t k = 0; k < src->metric[m].n; k++)
        push(&dst->metric[m], src->metric[m].v[k]);
  }
}

static void group_release(struct group *g)
{
  for (size_t k = 0; k < MAX_KEYS; k++)
    free(g->key[k]);
  free(g->reason);
  for (int m = 0; m < M_COUNT; m++)
    free(g->metric[m].v);
}

static void table_free_index(struct table *t, bool groups_too)
{
  for (size_t i = 0; i < t->n; i++) {
    free(t->keys[i]);
    if (groups_too)
      group_release(&t->g[i]);
  }
  free(t->keys);
  free(t->slots);
  if (groups_too)
    free(t->g);
}

static int read_file(const char *path, const struct group_by *by, const struct filters *f,
                     int threads, struct table *into, struct dataset *out, merr **err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return merr_set(err, errno, "open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return merr_set(err, 0, "%s: not a regular file", path);
  if (st.st_size == 0)
    return 0;
  posix_fadvise(fd, 0, st.st_size, POSIX_FADV_SEQUENTIAL);
  struct chunk chunks[LINES_MAX_THREADS];
  void *ctxs[LINES_MAX_THREADS];
  memset(chunks, 0, sizeof chunks);
  for (int i = 0; i < LINES_MAX_THREADS; i++) {
    chunks[i].by = by;
    chunks[i].f = f;
    ctxs[i] = &chunks[i];
  }
  threads = lines_read(fd, 0, st.st_size, threads, take_line, ctxs);
  for (int i = 0; i < threads; i++) {
    merge(into, &chunks[i].t, by);
    table_free_index(&chunks[i].t, true);
    out->lines += chunks[i].lines;
    out->malformed += chunks[i].malformed;
    out->filtered += chunks[i].filtered;
  }
  return 0;
}

/* A store and the files it rotated into, the missing ones aside (a store that does not exist
 * yet is empty, but one named outright must be there). */
static int read_store(const char *path, const struct group_by *by, const struct filters *f,
                      int threads, struct table *into, struct dataset *out, merr **err)
{
  size_t n;
  char **files = store_files(path, &n);
  int ret = 0;
  for (size_t i = 0; i < n && ret == 0; i++)
    if (i == 0 || access(files[i], F_OK) == 0)
      ret = read_file(files[i], by, f, threads, into, out, err);
  for (size_t i = 0; i < n; i++)
    free(files[i]);
  free(files);
  return ret;
}

static int cmp_group(const void *a, const void *b, void *by)
{
  const struct group *x = a, *y = b;
  for (size_t k = 0; k < ((const struct group_by *)by)->n; k++) {
    int c = strcmp(x->key[k], y->key[k]);
    if (c)
      return c;
  }
  return 0;
}

/* The table's groups, sorted, become the dataset's (none at all is fine). */
static int table_to_groups(struct table *t, const struct group_by *by, struct dataset *out)
{
  if (t->n)
    qsort_r(t->g, t->n, sizeof *t->g, cmp_group, (void *)by);
  out->groups = t->g;
  out->ngroups = t->n;
  return 0;
}

int dataset_load(const char *const *files, size_t nfiles, const struct group_by *by,
                 const struct filters *f, int threads, struct dataset *out, merr **err)
{
  memset(out, 0, sizeof *out);
  out->by = *by;
  if (threads < 1)
    threads = 1;
  if (threads > LINES_MAX_THREADS)
    threads = LINES_MAX_THREADS;
  struct table t = {0};
  for (size_t i = 0; i < nfiles; i++)
    if (read_store(files[i], by, f, threads, &t, out, err) < 0) {
      table_free_index(&t, true);
      return -1;
    }
  table_free_index(&t, false);
  return table_to_groups(&t, by, out);
}

int group_by_union(const struct group_by *a, const struct group_by *b, struct group_by *out,
                   merr **err)
{
  memset(out, 0, sizeof *out);
  const struct group_by *both[] = {a, b};
  for (int w = 0; w < 2; w++)
    for (size_t k = 0; k < both[w]->n; k++) {
      bool seen = false;
      for (size_t j = 0; j < out->n && !seen; j++)
        seen = strcmp(out->fields[j], both[w]->fields[k]) == 0;
      if (seen)
        continue;
      if (out->n == MAX_KEYS)
        return merr_set(err, 0, "too many grouping fields (at most %d in all)", MAX_KEYS);
      out->fields[out->n++] = xstrdup(both[w]->fields[k]);
    }
  return 0;
}

int dataset_regroup(const struct dataset *d, const struct group_by *by, struct dataset *out,
                    merr **err)
{
  size_t map[MAX_KEYS];
  for (size_t k = 0; k < by->n; k++) {
    size_t j = 0;
    while (j < d->by.n && strcmp(d->by.fields[j], by->fields[k]) != 0)
      j++;
    if (j == d->by.n)
      return merr_set(err, 0, "cannot regroup by %s", by->fields[k]);
    map[k] = j;
  }
  memset(out, 0, sizeof *out);
  out->by = *by;
  out->lines = d->lines;
  out->malformed = d->malformed;
  out->filtered = d->filtered;
  struct table t = {0};
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct group *src = &d->groups[i];
    char vals[MAX_KEYS][SAMPLE_TEXT];
    char joined[MAX_KEYS * (SAMPLE_TEXT + 1)] = "";
    size_t used = 0;
    for (size_t k = 0; k < by->n; k++) {
      snprintf(vals[k], SAMPLE_TEXT, "%s", src->key[map[k]]);
      used += (size_t)snprintf(joined + used, sizeof joined - used, "%s%c", vals[k], KEY_SEP);
    }
    struct group *dst = find_or_add(&t, joined, by, vals);
    dst->records += src->records;
    dst->failed += src->failed;
    dst->unsupported |= src->unsupported;
    if (!dst->reason && src->reason)
      dst->reason = xstrdup(src->reason);
    for (int m = 0; m < M_COUNT; m++)
      for (size_t k = 0; k < src->metric[m].n; k++)
        push(&dst->metric[m], src->metric[m].v[k]);
  }
  table_free_index(&t, false);
  return table_to_groups(&t, by, out);
}

bool groups_match_except(const struct dataset *d, const struct group *a, const struct group *b,
                         size_t field)
{
  for (size_t k = 0; k < d->by.n; k++)
    if (k != field && strcmp(a->key[k], b->key[k]) != 0)
      return false;
  return true;
}

void dataset_clear(struct dataset *d)
{
  for (size_t i = 0; i < d->ngroups; i++)
    group_release(&d->groups[i]);
  free(d->groups);
  memset(d, 0, sizeof *d);
}
