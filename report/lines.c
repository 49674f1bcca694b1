#include "lines.h"
#include "cleanup.h"
#include "store.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

enum { READ_BLOCK = 4 << 20, SMALL = 1 << 20 };

struct part {
  int fd;
  off_t begin, end; /* the lines that start in [begin, end) are this part's */
  bool at_line;     /* begin is known to start a line */
  line_fn fn;
  void *ctx;
};

/* Where this part's first line starts: at begin when a line ends just before it. */
static off_t first_line(const struct part *p, char *buf, size_t size)
{
  off_t at = p->begin;
  if (p->at_line)
    return at;
  for (at--; at < p->end;) {
    ssize_t n = pread(p->fd, buf, size, at);
    if (n <= 0)
      return p->end;
    const char *nl = memchr(buf, '\n', (size_t)n);
    if (nl)
      return at + (nl - buf) + 1;
    at += n;
  }
  return p->end;
}

static void *read_part(void *arg)
{
  struct part *p = arg;
  size_t size = READ_BLOCK + STORE_MAX_LINE + 1;
  cleanup_free char *buf = xmalloc(size);
  off_t pos = first_line(p, buf, size); /* the file offset of buf[0] */
  size_t have = 0;
  bool skipping = false;             /* inside an overlong line */
  while (pos < p->end || skipping) { /* a line that starts before end is this part's */
    ssize_t n;
    do
      n = pread(p->fd, buf + have, size - have, pos + (off_t)have);
    while (n < 0 && errno == EINTR);
    if (n > 0)
      have += (size_t)n;
    size_t used = 0;
    const char *nl;
    while ((skipping || pos + (off_t)used < p->end) &&
           (nl = memchr(buf + used, '\n', have - used)) != NULL) {
      size_t len = (size_t)(nl - (buf + used));
      if (!skipping)
        p->fn(p->ctx, buf + used, len);
      skipping = false;
      used += len + 1;
    }
    if (!skipping && pos + (off_t)used >= p->end)
      break;      /* the next line is the next part's */
    if (n <= 0) { /* the end of the file (or of what a writer left): no newline at its end */
      if (!skipping && have > used)
        p->fn(p->ctx, buf + used, have - used);
      break;
    }
    if (used == 0 && have == size) { /* no newline in a whole buffer */
      p->fn(p->ctx, NULL, 0);
      skipping = true;
      used = have;
    }
    memmove(buf, buf + used, have - used);
    have -= used;
    pos += (off_t)used;
  }
  return NULL;
}

int lines_read(int fd, off_t begin, off_t end, int threads, line_fn fn, void *const *ctxs)
{
  if (end <= begin)
    return 0;
  if (threads < 1 || end - begin < SMALL)
    threads = 1; /* not worth the threads */
  if (threads > LINES_MAX_THREADS)
    threads = LINES_MAX_THREADS;
  struct part parts[LINES_MAX_THREADS];
  pthread_t tid[LINES_MAX_THREADS];
  bool started[LINES_MAX_THREADS] = {false};
  for (int i = 0; i < threads; i++) {
    parts[i] =
        (struct part){.fd = fd,
                      .begin = begin + (end - begin) * i / threads,
                      .end = i == threads - 1 ? end : begin + (end - begin) * (i + 1) / threads,
                      .at_line = i == 0,
                      .fn = fn,
                      .ctx = ctxs[i]};
    if (i > 0)
      started[i] = pthread_create(&tid[i], NULL, read_part, &parts[i]) == 0;
  }
  read_part(&parts[0]);
  for (int i = 1; i < threads; i++) {
    if (started[i])
      pthread_join(tid[i], NULL);
    else
      read_part(&parts[i]); /* no thread to be had: read it here */
  }
  return threads;
}
