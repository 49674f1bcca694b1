/* File access that never follows symlinks in the last component and never half-writes. */
#ifndef MEASURED_FILEIO_H
#define MEASURED_FILEIO_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads the regular file dirfd/path (AT_FDCWD for plain paths) without following a symlink in
 * its last component and without blocking on a FIFO. Fails when it holds more than max bytes.
 * The result is NUL-terminated. */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, merr **err);

/* Reads fd to its end (at most max bytes, NUL-terminated; hint: the expected size). With
 * timeout_ms >= 0 the whole read must end within that time. `what` names it in errors. */
int read_fd_bounded(int fd, const char *what, size_t max, size_t hint, int timeout_ms, char **out,
                    size_t *len, merr **err);

/* Replaces dirfd/name atomically: a temporary file in the same directory, fsync, rename, and
 * fsync of the directory. Readers see the old content or the new one, never a mix. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         merr **err);

/* The same for a file someone else owns and labels (an engine's configuration): the new file
 * gets like_fd's mode, owner, group and extended attributes (SELinux labels, ACLs) before it
 * takes the old one's place; like_fd -1: `mode`, and root's. */
int write_file_atomic_like(const char *path, const void *data, size_t len, mode_t mode, int like_fd,
                           merr **err);

/* The same without the syncs: readers still see the old content or the new, never a mix, but a
 * crash may lose the change. For per-boot state (under /run, which is not always a tmpfs). */
int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                          merr **err);

/* Writes all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len, merr **err);

/* Opens (creating it, mode 0700, when missing) a directory that only root may use, at an
 * absolute path whose parents are created 0755 when missing. Refuses a symlink, a non-directory,
 * or a directory owned by someone else; tightens a looser mode. Returns an O_PATH-free O_RDONLY
 * directory fd. */
int open_private_dir(const char *path, merr **err);

/* Removes dirfd/name and everything below it, never following symlinks. ENOENT is success. */
int remove_tree_at(int dirfd, const char *name, merr **err);

/* Whether both paths name the same file (following symlinks): false when either is missing. */
bool same_file(const char *a, const char *b);

/* Directory part and last component of a path (new strings). */
/* Makes the directories above path that are missing (0755), as `mkdir -p` of its parent. */
int mkdir_parents(const char *path, merr **err);

char *path_dirname(const char *path);
const char *path_basename(const char *path);

#endif
