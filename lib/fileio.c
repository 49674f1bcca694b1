#include "fileio.h"
#include "cleanup.h"
#include "clock.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t len, merr **err)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return merr_set(err, errno, "write");
    if (w == 0)
      return merr_set(err, EIO, "write made no progress");
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int read_fd_bounded(int fd, const char *what, size_t max, size_t hint, int timeout_ms, char **out,
                    size_t *len, merr **err)
{
  int64_t deadline = timeout_ms >= 0 ? mono_us() + (int64_t)timeout_ms * 1000 : 0;
  size_t cap = hint, n = 0;
  if (cap < 4096) /* /proc files report size 0 */
    cap = max + 1 < 4096 ? max + 1 : 4096;
  cleanup_free char *buf = xmalloc(cap + 1);
  for (;;) {
    if (n == cap) {
      if (cap > max)
        return merr_set(err, 0, "%s: more than the limit of %zu bytes", what, max);
      cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      buf = xrealloc(buf, cap + 1);
    }
    if (timeout_ms >= 0) {
      int64_t left = deadline - mono_us();
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int ready = left > 0 ? poll(&p, 1, (int)((left + 999) / 1000)) : 0;
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready <= 0)
        return merr_set(err, ready < 0 ? errno : ETIMEDOUT, "read %s", what);
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return merr_set(err, errno, "read %s", what);
    if (r == 0)
      break;
    n += (size_t)r;
  }
  if (n > max)
    return merr_set(err, 0, "%s: more than the limit of %zu bytes", what, max);
  buf[n] = '\0';
  *out = steal_pointer(&buf);
  if (len)
    *len = n;
  return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, merr **err)
{
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return merr_set(err, errno, "open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return merr_set(err, errno, "stat %s", path);
  if (!S_ISREG(st.st_mode))
    return merr_set(err, 0, "%s: not a regular file", path);
  if ((size_t)st.st_size > max)
    return merr_set(err, 0, "%s: %lld bytes, more than the limit of %zu", path,
                    (long long)st.st_size, max);
  /* Read to EOF rather than trusting st_size: the file may grow while we read it. */
  return read_fd_bounded(fd, path, max, (size_t)st.st_size + 1, -1, out, len, err);
}

/* Owner, group, mode and extended attributes of `from` onto `to`. */
static int copy_meta(int from, int to, mode_t *mode, merr **err)
{
  struct stat st;
  if (fstat(from, &st) < 0)
    return merr_set(err, errno, "stat");
  *mode = st.st_mode & 07777;
  if (fchown(to, st.st_uid, st.st_gid) < 0)
    return merr_set(err, errno, "chown");
  char names[8192];
  ssize_t n = flistxattr(from, names, sizeof names);
  for (ssize_t at = 0; n > 0 && at < n; at += (ssize_t)strlen(names + at) + 1) {
    char value[8192];
    ssize_t v = fgetxattr(from, names + at, value, sizeof value);
    if (v >= 0 && fsetxattr(to, names + at, value, (size_t)v, 0) < 0 && errno != ENOTSUP)
      return merr_set(err, errno, "copy extended attribute %s", names + at);
  }
  return 0;
}

static int replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      bool durable, int like_fd, merr **err)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const char *base = path_basename(name);
  cleanup_free char *dir = path_dirname(name);
  cleanup_free char *tmp =
      xasprintf("%s/.%s.tmp-%d-%ld", dir, base, (int)getpid(), (long)ts.tv_nsec);
  cleanup_close int fd =
      openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return merr_set(err, errno, "create %s", tmp);
  int ret = write_all(fd, data, len, err);
  if (ret == 0 && like_fd >= 0 && copy_meta(like_fd, fd, &mode, err) < 0)
    ret = merr_wrap(err, "%s", tmp);
  if (ret == 0 && fchmod(fd, mode) < 0)
    ret = merr_set(err, errno, "chmod %s", tmp);
  if (ret == 0 && durable && fsync(fd) < 0)
    ret = merr_set(err, errno, "fsync %s", tmp);
  if (ret == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
    ret = merr_set(err, errno, "rename %s to %s", tmp, name);
  if (ret < 0) {
    unlinkat(dirfd, tmp, 0);
    return merr_wrap(err, "write %s", name);
  }
  if (!durable)
    return 0;
  /* Make the rename itself durable. */
  cleanup_close int dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    fsync(dfd);
  return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         merr **err)
{
  return replace_at(dirfd, name, data, len, mode, true, -1, err);
}

int write_file_atomic_like(const char *path, const void *data, size_t len, mode_t mode, int like_fd,
                           merr **err)
{
  return replace_at(AT_FDCWD, path, data, len, mode, true, like_fd, err);
}

int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                          merr **err)
{
  return replace_at(dirfd, name, data, len, mode, false, -1, err);
}

char *path_dirname(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    return xstrdup(".");
  if (slash == path)
    return xstrdup("/");
  return xstrndup(path, (size_t)(slash - path));
}

const char *path_basename(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

int mkdir_parents(const char *path, merr **err)
{
  cleanup_free char *p = xstrdup(path);
  for (char *s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
    *s = '\0';
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
      return merr_set(err, errno, "mkdir %s", p);
    *s = '/';
  }
  return 0;
}

int open_private_dir(const char *path, merr **err)
{
  if (path[0] != '/')
    return merr_set(err, 0, "%s: not an absolute path", path);
  if (mkdir_parents(path, err) < 0)
    return -1;
  if (mkdir(path, 0700) < 0 && errno != EEXIST)
    return merr_set(err, errno, "mkdir %s", path);
  cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return merr_set(err, errno, "open directory %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return merr_set(err, errno, "stat %s", path);
  if (st.st_uid != geteuid())
    return merr_set(err, 0, "%s: owned by uid %u, not by us (uid %u): refusing to use it", path,
                    (unsigned)st.st_uid, (unsigned)geteuid());
  if ((st.st_mode & 077) != 0 && fchmod(fd, 0700) < 0)
    return merr_set(err, errno, "chmod 0700 %s", path);
  return steal_fd(&fd);
}

int remove_tree_at(int parent, const char *name, merr **err)
{
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return merr_set(err, errno, "unlink %s", name);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : merr_set(err, errno, "open %s", name);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return merr_set(err, errno, "fdopendir %s", name);
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    ret = remove_tree_at(dirfd(d), de->d_name, err);
  }
  closedir(d);
  if (ret == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    ret = merr_set(err, errno, "rmdir %s", name);
  return ret;
}

bool same_file(const char *a, const char *b)
{
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}
