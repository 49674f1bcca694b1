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

/* The store at path, opened and locked, still the file the path names (a writer may have
 * rotated it while we waited for the lock). */
static int open_locked(const char *path, merr **err)
{
  for (int attempt = 0; attempt < 5; attempt++) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd < 0)
      return merr_set(err, errno, "open store %s", path);
    struct stat st, now;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return merr_set(err, 0, "store %s is not a regular file", path);
    }
    if (lock_bounded(fd, path, err) < 0) {
      close(fd);
      return -1;
    }
    if (stat(path, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino)
      return fd;
    close(fd); /* rotated under us: the new file is the store */
  }
  return merr_set(err, 0, "store %s keeps being replaced", path);
}

static char *rotated_name(const char *path, int n)
{
  return xasprintf("%s.%d", path, n);
}

/* path.(keep-1) -> path.keep, ..., path -> path.1 (the oldest beyond keep is replaced). */
static void rotate(const char *path, int keep)
{
  for (int n = keep - 1; n >= 1; n--) {
    cleanup_free char *from = rotated_name(path, n), *to = rotated_name(path, n + 1);
    rename(from, to);
  }
  cleanup_free char *first = rotated_name(path, 1);
  rename(path, first);
}

/* The last byte of the file, or '\n' when it is empty (or unreadable). */
static char last_byte(const char *path, off_t size)
{
  char c = '\n';
  cleanup_close int rd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (size > 0 && rd >= 0 && pread(rd, &c, 1, size - 1) != 1)
    c = '\n';
  return c;
}

int store_append(const char *path, const struct store_policy *policy, const char *line, size_t len,
                 merr **err)
{
  if (memchr(line, '\n', len))
    return merr_set(err, 0, "store record contains a newline");
  if (len > STORE_MAX_LINE)
    return merr_set(err, 0, "a record of %zu bytes is more than a store line may hold (%d)", len,
                    STORE_MAX_LINE);
  if (path[0] != '/')
    return merr_set(err, 0, "store path %s is not absolute", path);
  if (ensure_parent(path, err) < 0)
    return merr_wrap(err, "store %s", path);
  cleanup_close int fd = open_locked(path, err);
  if (fd < 0)
    return -1;
  off_t before = lseek(fd, 0, SEEK_END);
  if (policy && policy->max_bytes > 0 && before > 0 &&
      before + (off_t)len + 1 > policy->max_bytes) {
    int keep = policy->keep < 1 ? 1 : policy->keep > STORE_MAX_KEEP ? STORE_MAX_KEEP : policy->keep;
    rotate(path, keep); /* under our lock: the others find a new file behind the path */
    close(fd);
    fd = open_locked(path, err);
    if (fd < 0)
      return -1;
    before = lseek(fd, 0, SEEK_END);
  }
  /* After a torn last line, ours starts on a line of its own rather than glued to it. */
  bool newline_first = before > 0 && last_byte(path, before) != '\n';
  cleanup_free char *buf = xmalloc(len + 2);
  size_t n = 0;
  if (newline_first)
    buf[n++] = '\n';
  memcpy(buf + n, line, len);
  n += len;
  buf[n++] = '\n';
  ssize_t w;
  do
    w = write(fd, buf, n);
  while (w < 0 && errno == EINTR);
  if (w != (ssize_t)n) {
    int saved = w < 0 ? errno : ENOSPC;
    /* Never leave a partial line behind: cut the file back to where it was. */
    if (before >= 0 && ftruncate(fd, before) < 0)
      return merr_set(err, errno, "store %s: partial write could not be undone", path);
    return merr_set(err, saved, "append to store %s", path);
  }
  /* The lock guards the write and its undo, not the sync: concurrent deletes then sync together
   * (the journal commits them as one) instead of queueing one sync each behind the lock. The
   * line is in: a failed sync is no reason to append it again. */
  flock(fd, LOCK_UN);
  fdatasync(fd);
  return 0;
}

char **store_files(const char *path, size_t *n)
{
  char **out = xzalloc((STORE_MAX_KEEP + 2) * sizeof *out);
  *n = 0;
  out[(*n)++] = xstrdup(path);
  /* A rotation under way (each file renamed to the next number, the newest last) leaves one
   * number free for a moment: only two missing in a row end the files. */
  int missing = 0;
  for (int k = 1; k <= STORE_MAX_KEEP && missing < 2; k++) {
    char *name = rotated_name(path, k);
    if (access(name, F_OK) < 0) {
      free(name);
      missing++;
      continue;
    }
    missing = 0;
    out[(*n)++] = name;
  }
  return out;
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

static int has_line_after(const char *path, int64_t offset, const char *prefix, size_t len,
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

int store_has_line_after(const char *path, int64_t offset, const char *prefix, size_t len,
                         size_t window, bool *found, merr **err)
{
  if (has_line_after(path, offset, prefix, len, window, found, err) < 0 || *found)
    return *found ? 0 : -1;
  cleanup_free char *first = rotated_name(path, 1); /* rotated since the offset was noted */
  return has_line_after(first, offset, prefix, len, window, found, err);
}
