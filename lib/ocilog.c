#include "ocilog.h"
#include "cleanup.h"
#include "clock.h"
#include "json.h"
#include "xalloc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* logrus' text formatter quotes values that need it; do the same with Go-style escapes. */
static char *quote_text(const char *s)
{
  size_t n = strlen(s);
  char *out = xmalloc(n * 4 + 3), *w = out;
  *w++ = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      *w++ = '\\';
      *w++ = (char)c;
    } else if (c == '\n') {
      *w++ = '\\', *w++ = 'n';
    } else if (c < 0x20) {
      w += sprintf(w, "\\x%02x", c);
    } else {
      *w++ = (char)c;
    }
  }
  *w++ = '"';
  *w = '\0';
  return out;
}

char *ocilog_format(bool json_format, const char *level, const char *msg, long long ns)
{
  char ts[48];
  format_rfc3339(ns, ts, sizeof ts);
  if (!json_format) {
    cleanup_free char *q = quote_text(msg);
    return xasprintf("time=\"%s\" level=%s msg=%s\n", ts, level, q);
  }
  /* logrus' JSON formatter: keys level, msg, time. */
  cleanup_json json *o = json_new(JSON_OBJECT);
  json_set(o, "level", json_new_string(level));
  json_set(o, "msg", json_new_text(msg));
  json_set(o, "time", json_new_string(ts));
  char *line = NULL;
  size_t len;
  if (json_serialize(o, false, &line, &len, NULL) < 0)
    return xasprintf("{\"level\":\"%s\",\"msg\":\"measured: unprintable message\"}\n", level);
  line = xrealloc(line, len + 2);
  line[len] = '\n';
  line[len + 1] = '\0';
  return line;
}

void ocilog_write(const struct ocilog *log, const char *level, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *body = xvasprintf(fmt, ap);
  va_end(ap);
  cleanup_free char *msg = xasprintf("measured: %s", body);
  if (log->path) {
    cleanup_free char *line = ocilog_format(log->json, level, msg, real_ns());
    int fd =
        open(log->path,
             O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (log->quiet ? 0 : O_CREAT),
             0644);
    if (fd >= 0) {
      ssize_t ignored = write(fd, line, strlen(line));
      (void)ignored;
      close(fd);
    }
  }
  if (!log->quiet && (log->to_stderr || log->path == NULL))
    dprintf(STDERR_FILENO, "%s\n", msg);
}
