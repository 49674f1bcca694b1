#include "state.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int state_root_open(const char *state_dir, merr **err)
{
  int fd = open_private_dir(state_dir, err);
  if (fd < 0)
    return merr_wrap(err, "state directory");
  return fd;
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
    cleanup_free char *aside = xasprintf(STATE_STALE_PREFIX "%s-%d", id, n);
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

json *state_event(const char *name)
{
  json *ev = json_new(JSON_OBJECT);
  json_set(ev, "ev", json_new_string(name));
  json_set(ev, "mono_us", json_new_int(mono_us()));
  json_set(ev, "real_ns", json_new_int(real_ns()));
  return ev;
}

int state_append_event(int dirfd, const json *event, merr **err)
{
  cleanup_free char *line = NULL;
  size_t len;
  if (json_serialize(event, false, &line, &len, err) < 0)
    return -1;
  line = xrealloc(line, len + 1);
  line[len] = '\n';
  cleanup_close int fd = openat(
      dirfd, "events", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0)
    return merr_set(err, errno, "open events");
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
  merr *rerr = NULL;
  if (read_file_at(dirfd, "events", STATE_MAX_EVENTS_BYTES, &buf, &len, &rerr) < 0) {
    if (!merr_is(rerr, ENOENT)) {
      *err = rerr;
      return -1;
    }
    merr_free(rerr);
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
  cleanup_free char *name = xasprintf(STATE_CLAIMED_PREFIX "%s-%d", id, (int)getpid());
  if (renameat2(rootfd, id, rootfd, name, RENAME_NOREPLACE) < 0)
    return merr_set(err, errno, "claim state %s", id);
  int fd = open_dir_at(rootfd, name, err);
  if (fd >= 0)
    *claimed_name = steal_pointer(&name);
  return fd;
}
