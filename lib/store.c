#include "store.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { LOCK_WAIT_MS = 3000 };

static int lock_bounded(int fd, const char *path, merr **err)
{
  for (int waited = 0;; waited++) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      return 0;
    if (errno != EWOULDBLOCK && errno != EINTR)
      return merr_set(err, errno, "lock %s", path);
    if (waited >= LOCK_WAIT_MS)
      return merr_set(err, 0, "%s: still locked by another writer after %d ms", path, LOCK_WAIT_MS);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
}

static int ensure_parent(const char *path, merr **err)
{
  cleanup_free char *dir = path_dirname(path);
  struct stat st;
  if (stat(dir, &st) == 0)
    return S_ISDIR(st.st_mode) ? 0 : merr_set(err, ENOTDIR, "%s", dir);
  int fd = open_private_dir(dir, err);
  if (fd < 0)
    return -1;
  close(fd);
  return 0;
}

int store_append(const char *path, const char *line, size_t len, merr **err)
{
  if (memchr(line, '\n', len))
    return merr_set(err, 0, "store record contains a newline");
  if (path[0] != '/')
    return merr_set(err, 0, "store path %s is not absolute", path);
  if (ensure_parent(path, err) < 0)
    return merr_wrap(err, "store %s", path);
  cleanup_close int fd =
      open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0)
    return merr_set(err, errno, "open store %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return merr_set(err, errno, "stat store %s", path);
  if (!S_ISREG(st.st_mode))
    return merr_set(err, 0, "store %s is not a regular file", path);
  if (lock_bounded(fd, path, err) < 0)
    return -1;
  off_t before = lseek(fd, 0, SEEK_END);
  cleanup_free char *buf = xmalloc(len + 1);
  memcpy(buf, line, len);
  buf[len] = '\n';
  ssize_t w;
  do
    w = write(fd, buf, len + 1);
  while (w < 0 && errno == EINTR);
  if (w != (ssize_t)(len + 1)) {
    int saved = w < 0 ? errno : ENOSPC;
    /* Never leave a partial line behind: cut the file back to where it was. */
    if (before >= 0 && ftruncate(fd, before) < 0)
      return merr_set(err, errno, "store %s: partial write could not be undone", path);
    return merr_set(err, saved, "append to store %s", path);
  }
  /* The lock guards the write and its undo, not the sync: concurrent deletes then sync together
   * (the journal commits them as one) instead of queueing one sync each behind the lock. */
  flock(fd, LOCK_UN);
  if (fdatasync(fd) < 0)
    return merr_set(err, errno, "sync store %s", path);
  return 0;
}

int store_size(const char *path, int64_t *size, merr **err)
{
  struct stat st;
  *size = 0;
  if (stat(path, &st) < 0)
    return errno == ENOENT ? 0 : merr_set(err, errno, "stat store %s", path);
  *size = (int64_t)st.st_size;
  return 0;
}

int store_has_line_after(const char *path, int64_t offset, const char *prefix, size_t len,
                         size_t window, bool *found, merr **err)
{
  *found = false;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return errno == ENOENT ? 0 : merr_set(err, errno, "open store %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return merr_set(err, errno, "store %s is not a regular file", path);
  if (offset < 0 || offset >= st.st_size)
    return 0;
  size_t want = (size_t)(st.st_size - offset) < window ? (size_t)(st.st_size - offset) : window;
  cleanup_free char *buf = xmalloc(want + 1);
  size_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd, buf + got, want - got, offset + (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return merr_set(err, errno, "read store %s", path);
    if (n == 0)
      break;
    got += (size_t)n;
  }
  /* A match counts only at the start of a line: the append began at offset or after a newline. */
  for (size_t at = 0; at + len <= got;) {
    if (memcmp(buf + at, prefix, len) == 0) {
      *found = true;
      return 0;
    }
    const char *nl = memchr(buf + at, '\n', got - at);
    if (nl == NULL)
      break;
    at = (size_t)(nl - buf) + 1;
  }
  return 0;
}
