/* A file's lines read in parallel: the byte range is split into one part per thread at line
 * boundaries, and each part is read through a bounded buffer with pread (never mmap: a writer
 * cutting back a short write would fault a mapping). The report and the exporter read stores
 * this way. */
#ifndef MEASURED_REPORT_LINES_H
#define MEASURED_REPORT_LINES_H

#include <stddef.h>
#include <sys/types.h>

enum { LINES_MAX_THREADS = 64 };

/* Called for each line (without its newline) with the part's own context; line NULL for a line
 * longer than a store line may be (it is skipped). A last line without a newline is passed too. */
typedef void (*line_fn)(void *ctx, const char *line, size_t len);

/* Reads the lines that start in [begin, end) of fd, begin being the start of a line, with up to
 * `threads` threads; part i calls fn with ctxs[i] (ctxs has `threads` entries; the number of parts
 * used is returned, the others' contexts untouched). */
int lines_read(int fd, off_t begin, off_t end, int threads, line_fn fn, void *const *ctxs);

#endif
