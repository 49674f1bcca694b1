/* Following a store as records are appended: where the exporter has read up to (the file, by
 * device and inode, and the offset of the first line not yet read), across rotation (the file
 * read becomes <store>.1 and a new one begins: the rest of the old one is read, then the new
 * one) and across restarts (the position is saved with the aggregates, checkpoint.h). Only whole
 * lines are read from the live file; a line still without its newline waits for the next time. */
#ifndef MEASURED_EXPORTER_FOLLOW_H
#define MEASURED_EXPORTER_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct follower {
  char *path;
  bool known;         /* a file is being followed: dev, ino and offset hold */
  uint64_t dev, ino;  /* that file */
  int64_t offset;     /* the first byte not read */
  bool live;          /* that file was the live one (not a rotated one followed from its end
                         while the new one was not there yet) */
  uint64_t rotations; /* rotations followed */
  uint64_t unread;    /* files rotated away (past store_keep) before they were read to the end */
  uint64_t truncated; /* times the file was found shorter than the offset: read again from 0 */
};

/* Counts the lines in [begin, end) of fd (begin starts a line). */
typedef void (*range_fn)(void *arg, int fd, off_t begin, off_t end);

/* Reads what was appended since the last call, in order: the rest of the file followed, the files
 * rotated since, the live file's whole lines. */
void follower_catch_up(struct follower *f, range_fn read_range, void *arg);

#endif
