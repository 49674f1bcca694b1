#include "follow.h"
#include "cleanup.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opened {
  int fd;
  struct stat st;
};

enum { SNAPSHOT_TRIES = 8 };

static void close_files(struct opened *files, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (files[i].fd >= 0)
      close(files[i].fd);
}

/* Whether the store's names still lead to the files opened, and to no other (no rotation ran
 * between the listing and the opening: a file moved on from a name not yet opened would be
 * missed, and what it held beyond the offset lost). */
static bool still_the_same(const char *path, const struct opened *files, size_t k)
{
  size_t n;
  char **names = store_files(path, &n);
  bool same = true;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    bool there = fstatat(AT_FDCWD, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (i == 0 && !there)
      same = same && files[j++].fd < 0;
    else if (there)
      same = same && j < k && files[j].fd >= 0 && files[j].st.st_ino == st.st_ino &&
             files[j++].st.st_dev == st.st_dev;
    free(names[i]);
  }
  free(names);
  return same && j == k;
}

/* The store's files, newest first (files[0] the live one, -1 when absent), opened without
 * following a link: the stores live in shared places. */
static size_t open_listed(const char *path, struct opened *out, size_t max)
{
  size_t n;
  char **names = store_files(path, &n);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int fd = k < max ? open(names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) : -1;
    if (fd >= 0 && (fstat(fd, &out[k].st) < 0 || !S_ISREG(out[k].st.st_mode))) {
      close(fd);
      fd = -1;
    }
    if (i == 0 || fd >= 0) /* a rotated file that is not there is not a place */
      out[k++].fd = fd;
    free(names[i]);
  }
  free(names);
  return k;
}

/* open_listed, again while a rotation moves the files under it (a few times at most: a store
 * that rotates without pause is read as last found). */
static size_t open_files(const char *path, struct opened *out, size_t max)
{
  size_t k = open_listed(path, out, max);
  for (int t = 1; t < SNAPSHOT_TRIES && !still_the_same(path, out, k); t++) {
    close_files(out, k);
    k = open_listed(path, out, max);
  }
  return k;
}

static bool is_followed(const struct follower *f, const struct opened *o)
{
  return f->known && o->fd >= 0 && (uint64_t)o->st.st_dev == f->dev &&
         (uint64_t)o->st.st_ino == f->ino;
}

/* The end of the last whole line of the live file at or after from (from when there is none). */
static off_t whole_lines_end(int fd, off_t from, off_t size)
{
  char buf[64 << 10];
  for (off_t end = size; end > from;) {
    off_t begin = end - (off_t)sizeof buf > from ? end - (off_t)sizeof buf : from;
    ssize_t n = pread(fd, buf, (size_t)(end - begin), begin);
    if (n <= 0)
      return from;
    for (ssize_t i = n - 1; i >= 0; i--)
      if (buf[i] == '\n')
        return begin + i + 1;
    end = begin;
  }
  return from;
}

void follower_catch_up(struct follower *f, range_fn read_range, void *arg)
{
  struct opened files[STORE_MAX_KEEP + 1];
  size_t n = open_files(f->path, files, STORE_MAX_KEEP + 1);
  size_t mine = n; /* the index of the file followed; n: not among them */
  for (size_t i = 0; i < n && mine == n; i++)
    if (is_followed(f, &files[i]))
      mine = i;
  if (mine == 0) {
    if (files[0].st.st_size < f->offset) { /* cut back by someone: read again, as a new file */
      f->truncated++;
      f->offset = 0;
    }
  } else {
    if (mine < n) { /* rotated since: the rest of it, then those between */
      read_range(arg, files[mine].fd, f->offset, files[mine].st.st_size);
      f->rotations += f->live;
    } else if (f->known) {
      f->unread++; /* gone past the files kept: what it held beyond the offset is lost */
      f->rotations++;
    }
    for (size_t i = mine < n ? mine - 1 : n - 1; i >= 1 && i < n; i--)
      read_range(arg, files[i].fd, 0, files[i].st.st_size);
    /* Follow the live file from its start; while there is none (a rotation under way), the
     * newest rotated one from its end, so that nothing is read twice when the live one comes. */
    size_t next = files[0].fd >= 0 ? 0 : n > 1 ? 1 : n;
    f->known = next < n;
    f->live = next == 0;
    if (f->known) {
      f->dev = (uint64_t)files[next].st.st_dev;
      f->ino = (uint64_t)files[next].st.st_ino;
      f->offset = next == 0 ? 0 : files[next].st.st_size;
    }
  }
  if (files[0].fd >= 0) {
    off_t end = whole_lines_end(files[0].fd, f->offset, files[0].st.st_size);
    read_range(arg, files[0].fd, f->offset, end);
    f->offset = end;
  }
  close_files(files, n);
}
