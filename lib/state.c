#include "state.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int state_root_open(const char *state_dir, merr **err)
{
  int fd = open_private_dir(state_dir, err);
  if (fd < 0)
    return merr_wrap(err, "state directory");
  return fd;
}

#define EVENTS_FILE "events"
#define EVENTS_FULL_FILE "events-full"
#define NET_SUMMARY_FILE "net.json"
#define RECORD_FILE "record.json"
#define STORE_OFFSET_FILE "store-offset"
#define CLAIMED_PREFIX ".claimed-"
#define RECORDED_PREFIX ".recorded-"
#define STALE_PREFIX ".stale-"
#define UNSTORED_PREFIX ".unstored-"
#define SCOPE_PREFIX ".scope-"
#define SCOPE_KEY_FILE "key"

char *state_item_path(const char *dir, const char *name)
{
  return xasprintf("%s/%s", dir, name);
}

/* FNV-1a, 64 bits: a stable, short name for a key of any length (a path may be long). */
static uint64_t fnv1a64(const char *s)
{
  uint64_t h = 14695981039346656037ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static int scope_at(int topfd, const char *state_dir, const char *name, bool make,
                    struct state_scope *s, merr **err)
{
  *s = (struct state_scope){.topfd = -1, .fd = -1};
  if (make && mkdirat(topfd, name, 0700) < 0 && errno != EEXIST)
    return merr_set(err, errno, "create state scope %s", name);
  s->fd = openat(topfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->fd < 0)
    return merr_set(err, errno, "open state scope %s", name);
  s->topfd = dup(topfd);
  s->path = strcmp(name, ".") == 0 ? xstrdup(state_dir) : state_item_path(state_dir, name);
  return 0;
}

int state_scope_open(const char *state_dir, const char *key, struct state_scope *s, merr **err)
{
  *s = (struct state_scope){.topfd = -1, .fd = -1}; /* closable whatever fails below */
  cleanup_close int topfd = state_root_open(state_dir, err);
  if (topfd < 0)
    return -1;
  char name[40];
  snprintf(name, sizeof name, SCOPE_PREFIX "%016llx", (unsigned long long)fnv1a64(key));
  if (scope_at(topfd, state_dir, name, true, s, err) < 0)
    return -1;
  /* For people reading the directory; nothing depends on it. */
  if (faccessat(s->fd, SCOPE_KEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    write_file_replace_at(s->fd, SCOPE_KEY_FILE, key, strlen(key), 0600, NULL);
  return 0;
}

int state_scope_open_name(int topfd, const char *state_dir, const char *name, struct state_scope *s,
                          merr **err)
{
  return scope_at(topfd, state_dir, name, false, s, err);
}

void state_scope_close(struct state_scope *s)
{
  if (s->fd >= 0)
    close(s->fd);
  if (s->topfd >= 0)
    close(s->topfd);
  free(s->path);
  *s = (struct state_scope){.topfd = -1, .fd = -1};
}

static int open_dir_at(int rootfd, const char *name, merr **err)
{
  int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return merr_set(err, errno, "open state %s", name);
  return fd;
}

#define OWNER_FILE "owner"

int state_adopt(int rootfd, const char *id, const char *token)
{
  int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  cleanup_free char *owner = NULL;
  if (read_file_at(fd, OWNER_FILE, 256, &owner, NULL, NULL) == 0 && strcmp(owner, token) == 0)
    return fd;
  close(fd);
  return -1;
}

static int move_aside(int rootfd, const char *id, merr **err)
{
  for (int n = 0; n < 1000; n++) {
    cleanup_free char *aside = xasprintf(STALE_PREFIX "%s-%d", id, n);
    if (renameat2(rootfd, id, rootfd, aside, RENAME_NOREPLACE) == 0)
      return 0;
    if (errno != EEXIST)
      return merr_set(err, errno, "move aside stale state %s", id);
  }
  return merr_set(err, 0, "move aside stale state %s: too many", id);
}

int state_create(int rootfd, const char *id, const char *token, bool *stale, merr **err)
{
  *stale = false;
  int fd = state_adopt(rootfd, id, token);
  if (fd >= 0)
    return fd;
  if (mkdirat(rootfd, id, 0700) < 0) {
    if (errno != EEXIST)
      return merr_set(err, errno, "create state %s", id);
    if (move_aside(rootfd, id, err) < 0)
      return -1;
    *stale = true;
    if (mkdirat(rootfd, id, 0700) < 0)
      return merr_set(err, errno, "create state %s", id);
  }
  fd = open_dir_at(rootfd, id, err);
  if (fd >= 0 && write_file_replace_at(fd, OWNER_FILE, token, strlen(token), 0600, err) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int state_open(int rootfd, const char *id, merr **err)
{
  return open_dir_at(rootfd, id, err);
}

int state_open_item(int rootfd, const char *name, merr **err)
{
  return open_dir_at(rootfd, name, err);
}

json *state_event(const char *name)
{
  json *ev = json_new(JSON_OBJECT);
  json_set(ev, "ev", json_new_string(name));
  json_set(ev, "mono_us", json_new_int(mono_us()));
  json_set(ev, "real_ns", json_new_int(real_ns()));
  return ev;
}

/* The events a record cannot do without. */
static bool essential(const json *event)
{
  static const char *const names[] = {"create", "create_done", "start", "exit", "version"};
  const char *ev = json_string(json_get(event, "ev"));
  for (size_t i = 0; ev && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(ev, names[i]) == 0)
      return true;
  return false;
}

bool state_events_full(int dirfd)
{
  return faccessat(dirfd, EVENTS_FULL_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int state_append_event(int dirfd, const json *event, merr **err)
{
  cleanup_free char *line = NULL;
  size_t len;
  if (json_serialize(event, false, &line, &len, err) < 0)
    return -1;
  line = xrealloc(line, len + 1);
  line[len] = '\n';
  cleanup_close int fd =
      openat(dirfd, EVENTS_FILE,
             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0)
    return merr_set(err, errno, "open events");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return merr_set(err, errno, "events");
  size_t cap = STATE_EVENTS_CAP + (essential(event) ? STATE_EVENTS_RESERVE : 0);
  if ((size_t)st.st_size + len + 1 > cap) {
    write_file_replace_at(dirfd, EVENTS_FULL_FILE, "", 0, 0600, NULL);
    return merr_set(err, ENOSPC, "the lifecycle's events reached their cap of %d bytes",
                    STATE_EVENTS_CAP);
  }
  /* One write: appends of separate processes never interleave within a line. */
  ssize_t w = write(fd, line, len + 1);
  if (w != (ssize_t)(len + 1))
    return merr_set(err, w < 0 ? errno : EIO, "append event");
  return 0;
}

int state_read_events(int dirfd, json **events, unsigned *bad_lines, merr **err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  *bad_lines = 0;
  cleanup_merr merr *rerr = NULL;
  if (read_file_at(dirfd, EVENTS_FILE, STATE_MAX_EVENTS_BYTES, &buf, &len, &rerr) < 0) {
    if (!merr_is(rerr, ENOENT))
      return merr_pass(err, &rerr);
  }
  json *arr = json_new(JSON_ARRAY);
  for (char *line = buf; line && line < buf + len;) {
    char *nl = memchr(line, '\n', (size_t)(buf + len - line));
    size_t n = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);
    json *ev = NULL;
    if (n > 0 && json_parse(line, n, NULL, "event", &ev, NULL) == 0 && json_is(ev, JSON_OBJECT))
      json_append(arr, ev);
    else if (n > 0) {
      json_free(ev);
      (*bad_lines)++;
    }
    line = nl ? nl + 1 : NULL;
  }
  *events = arr;
  return 0;
}

int state_claim(int rootfd, const char *id, char **claimed_name, merr **err)
{
  cleanup_free char *name = xasprintf(CLAIMED_PREFIX "%s-%d", id, (int)getpid());
  if (renameat2(rootfd, id, rootfd, name, RENAME_NOREPLACE) < 0)
    return merr_set(err, errno, "claim state %s", id);
  int fd = open_dir_at(rootfd, name, err);
  if (fd >= 0)
    *claimed_name = steal_pointer(&name);
  return fd;
}

const json *state_first_event(const json *events, const char *name)
{
  for (size_t i = 0; json_is(events, JSON_ARRAY) && i < events->n; i++) {
    const char *ev = json_string(json_get(events->items[i], "ev"));
    if (ev && strcmp(ev, name) == 0)
      return events->items[i];
  }
  return NULL;
}

int64_t state_first_event_int(int dirfd, const char *name, const char *key)
{
  cleanup_json json *events = NULL;
  unsigned bad;
  int64_t v;
  if (state_read_events(dirfd, &events, &bad, NULL) < 0 ||
      !json_int64(json_get(state_first_event(events, name), key), &v))
    return -1;
  return v;
}

int state_write_net_summary(int dirfd, const json *summary, merr **err)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (json_serialize(summary, false, &text, &len, err) < 0)
    return -1;
  return write_file_replace_at(dirfd, NET_SUMMARY_FILE, text, len, 0600, err);
}

/* A JSON document of ours in the state directory (parsed strictly all the same). */
static int read_json_file(int dirfd, const char *name, json **out, merr **err)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(dirfd, name, STATE_MAX_FILE_BYTES, &text, &len, err) < 0)
    return -1;
  return json_parse(text, len, NULL, name, out, err);
}

int state_read_net_summary(int dirfd, json **summary, merr **err)
{
  return read_json_file(dirfd, NET_SUMMARY_FILE, summary, err);
}

bool state_has_net_summary(int dirfd)
{
  return faccessat(dirfd, NET_SUMMARY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void state_note_store_offset(int dirfd, int64_t offset)
{
  char text[32];
  int n = snprintf(text, sizeof text, "%lld", (long long)offset);
  write_file_replace_at(dirfd, STORE_OFFSET_FILE, text, (size_t)n, 0600, NULL);
}

int state_read_store_offset(int dirfd, int64_t *offset)
{
  cleanup_free char *text = NULL;
  if (read_file_at(dirfd, STORE_OFFSET_FILE, 32, &text, NULL, NULL) < 0)
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (*end == '\n')
    end++;
  if (errno || *end || end == text || v < 0)
    return -1;
  *offset = v;
  return 0;
}

int state_remove(int rootfd, const char *name, merr **err)
{
  return remove_tree_at(rootfd, name, err);
}

int state_finish_recorded(int rootfd, const char *name, const char *id, merr **err)
{
  cleanup_free char *done = xasprintf(RECORDED_PREFIX "%s-%d", id, (int)getpid());
  const char *gone = renameat(rootfd, name, rootfd, done) == 0 ? done : name;
  return state_remove(rootfd, gone, err);
}

static size_t count_kind(int rootfd, enum state_item_kind kind)
{
  struct state_item *items;
  size_t n, count = 0;
  if (state_list(rootfd, &items, &n, NULL) < 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    count += items[i].kind == kind;
  state_items_free(items, n);
  return count;
}

int state_keep_unstored(int rootfd, int dirfd, const char *name, const char *id, const json *rec,
                        merr **err)
{
  size_t waiting = count_kind(rootfd, STATE_UNSTORED);
  if (waiting >= STATE_MAX_UNSTORED)
    return merr_set(err, ENOSPC, "%zu records wait for the store already", waiting);
  cleanup_free char *text = NULL;
  size_t len;
  cleanup_free char *aside = xasprintf(UNSTORED_PREFIX "%s-%d", id, (int)getpid());
  if (json_serialize(rec, false, &text, &len, err) < 0 ||
      write_file_atomic_at(dirfd, RECORD_FILE, text, len, 0600, err) < 0)
    return -1;
  if (strcmp(name, aside) != 0 && renameat(rootfd, name, rootfd, aside) < 0)
    return merr_set(err, errno, "keep the record in %s", aside);
  return 0;
}

int state_read_unstored(int dirfd, json **rec, merr **err)
{
  return read_json_file(dirfd, RECORD_FILE, rec, err);
}

static const struct {
  const char *prefix;
  enum state_item_kind kind;
} prefixed[] = {{CLAIMED_PREFIX, STATE_CLAIMED},
                {STALE_PREFIX, STATE_STALE},
                {UNSTORED_PREFIX, STATE_UNSTORED},
                {RECORDED_PREFIX, STATE_RECORDED}};

/* <prefix><id>-<number>: the id, and the number. */
static char *split_suffix(const char *name, size_t prefix_len, long *number)
{
  const char *dash = strrchr(name, '-');
  if (dash == NULL || dash <= name + prefix_len)
    return NULL;
  char *end;
  errno = 0;
  *number = strtol(dash + 1, &end, 10);
  if (errno || *end || end == dash + 1)
    return NULL;
  return xstrndup(name + prefix_len, (size_t)(dash - name - prefix_len));
}

void state_item_parse(const char *name, struct state_item *item)
{
  *item = (struct state_item){.name = xstrdup(name), .kind = STATE_OTHER};
  if (name[0] != '.') {
    item->kind = STATE_LIVE;
    item->id = xstrdup(name);
    return;
  }
  if (strncmp(name, SCOPE_PREFIX, strlen(SCOPE_PREFIX)) == 0) {
    item->kind = STATE_SCOPE;
    return;
  }
  for (size_t i = 0; i < sizeof prefixed / sizeof prefixed[0]; i++) {
    size_t plen = strlen(prefixed[i].prefix);
    if (strncmp(name, prefixed[i].prefix, plen) != 0)
      continue;
    item->id = split_suffix(name, plen, &item->number);
    if (item->id)
      item->kind = prefixed[i].kind;
    return;
  }
}

int state_list(int rootfd, struct state_item **items, size_t *n, merr **err)
{
  *items = NULL;
  *n = 0;
  int listfd = dup(rootfd);
  DIR *d = listfd >= 0 ? fdopendir(listfd) : NULL;
  if (d == NULL) {
    int e = errno;
    if (listfd >= 0)
      close(listfd);
    return merr_set(err, e, "list the state directory");
  }
  rewinddir(d);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
      continue;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    *items = xreallocarray(*items, *n + 1, sizeof **items);
    state_item_parse(e->d_name, &(*items)[(*n)++]);
  }
  closedir(d);
  return 0;
}

void state_items_free(struct state_item *items, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(items[i].name);
    free(items[i].id);
  }
  free(items);
}

int64_t state_age_s(int rootfd, const char *name)
{
  struct stat st, ev;
  if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  time_t newest = st.st_mtime;
  cleanup_free char *events = xasprintf("%s/" EVENTS_FILE, name);
  if (fstatat(rootfd, events, &ev, AT_SYMLINK_NOFOLLOW) == 0 && ev.st_mtime > newest)
    newest = ev.st_mtime;
  return (int64_t)(time(NULL) - newest);
}
