#include "ocilog.h"
#include "clock.h"
#include "json.h"
#include "xalloc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Lines are made in buffers on the stack, never on the heap: a warning may have to be written
 * after a measurement crashed inside malloc (shim/guard.c), and a line must stay one write. A
 * message longer than OCILOG_MSG_MAX bytes is cut. */
enum { OCILOG_MSG_MAX = 4096, OCILOG_LINE_MAX = 6 * OCILOG_MSG_MAX + 128 };

struct linebuf {
  char *p;
  size_t n, cap; /* cap includes the terminating NUL */
};

static void put(struct linebuf *b, const char *s, size_t n)
{
  size_t room = b->cap - 1 - b->n;
  if (n > room)
    n = room;
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(struct linebuf *b, const char *s)
{
  put(b, s, strlen(s));
}

static void put_hex_escape(struct linebuf *b, const char *prefix, unsigned char c)
{
  static const char hex[] = "0123456789abcdef";
  char e[8];
  size_t n = strlen(prefix);
  memcpy(e, prefix, n);
  e[n++] = hex[c >> 4];
  e[n++] = hex[c & 15];
  put(b, e, n);
}

/* logrus' text formatter quotes values that need it; do the same with Go-style escapes. */
static void put_quoted_text(struct linebuf *b, const char *s)
{
  put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      put(b, e, 2);
    } else if (c == '\n') {
      put(b, "\\n", 2);
    } else if (c < 0x20) {
      put_hex_escape(b, "\\x", c);
    } else {
      put(b, s, 1);
    }
  }
  put(b, "\"", 1);
}

/* A JSON string as yajl writes one; bytes that are not UTF-8 become U+FFFD (a line Docker cannot
 * parse would lose the message). */
static void put_json_string(struct linebuf *b, const char *s)
{
  put(b, "\"", 1);
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    size_t k = json_utf8_seq_len((const unsigned char *)s + i, n - i);
    const char *short_escape = c == '"'    ? "\\\""
                               : c == '\\' ? "\\\\"
                               : c == '\n' ? "\\n"
                               : c == '\r' ? "\\r"
                               : c == '\t' ? "\\t"
                               : c == '\b' ? "\\b"
                               : c == '\f' ? "\\f"
                                           : NULL;
    if (k == 0)
      put(b, "\xef\xbf\xbd", 3), k = 1;
    else if (short_escape)
      puts_(b, short_escape);
    else if (c < 0x20)
      put_hex_escape(b, "\\u00", c);
    else
      put(b, s + i, k);
    i += k;
  }
  put(b, "\"", 1);
}

static size_t format_line(char *buf, size_t cap, bool json_format, const char *level,
                          const char *msg, long long ns)
{
  char ts[48];
  format_rfc3339(ns, ts, sizeof ts);
  struct linebuf b = {.p = buf, .n = 0, .cap = cap};
  buf[0] = '\0';
  if (!json_format) {
    puts_(&b, "time=\"");
    puts_(&b, ts);
    puts_(&b, "\" level=");
    puts_(&b, level);
    puts_(&b, " msg=");
    put_quoted_text(&b, msg);
  } else { /* logrus' JSON formatter: keys level, msg, time */
    puts_(&b, "{\"level\":");
    put_json_string(&b, level);
    puts_(&b, ",\"msg\":");
    put_json_string(&b, msg);
    puts_(&b, ",\"time\":");
    put_json_string(&b, ts);
    puts_(&b, "}");
  }
  /* The newline always fits: a cut line still ends. */
  if (b.n == cap - 1)
    b.n--;
  buf[b.n++] = '\n';
  buf[b.n] = '\0';
  return b.n;
}

char *ocilog_format(bool json_format, const char *level, const char *msg, long long ns)
{
  char *line = xmalloc(OCILOG_LINE_MAX);
  format_line(line, OCILOG_LINE_MAX, json_format, level, msg, ns);
  return line;
}

void ocilog_write(const struct ocilog *log, const char *level, const char *fmt, ...)
{
  char msg[OCILOG_MSG_MAX];
  int k = snprintf(msg, sizeof msg, "measured: ");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
  va_end(ap);
  if (log->path) {
    char line[OCILOG_LINE_MAX];
    size_t len = format_line(line, sizeof line, log->json, level, msg, real_ns());
    int fd =
        open(log->path,
             O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (log->quiet ? 0 : O_CREAT),
             0644);
    if (fd >= 0) {
      ssize_t ignored = write(fd, line, len);
      (void)ignored;
      close(fd);
    }
  }
  if (!log->quiet && (log->to_stderr || log->path == NULL)) {
    size_t n = strlen(msg);
    struct iovec v[] = {{msg, n}, {(void *)"\n", 1}};
    ssize_t ignored = writev(STDERR_FILENO, v, 2);
    (void)ignored;
  }
}
