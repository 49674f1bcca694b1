/* Messages to the user through the runtime's log.
 *
 * Docker reads what a runtime says only from the `--log` file it passes (runc's logrus format,
 * `--log-format json` or `text`); it shows the last error line when a call fails. Each message
 * is one line, appended with a single write so that it never interleaves with runc's own. A
 * containerd shim has no --log: its messages go to the "log" FIFO of its bundle, which
 * containerd copies into its own log. */
#ifndef MEASURED_OCILOG_H
#define MEASURED_OCILOG_H

#include <stdbool.h>

struct ocilog {
  const char *path; /* NULL: no --log given */
  bool json;        /* --log-format json (default text, as runc) */
  bool to_stderr;   /* also print to stderr */
  bool quiet;       /* never stderr, never create the file: a containerd shim's "log" FIFO,
                       whose stdout and stderr containerd reads as the shim's answer */
};

/* level: "error" or "warning". The message is prefixed with "measured: ". */
void ocilog_write(const struct ocilog *log, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats one log line (without writing it); exposed for tests. */
char *ocilog_format(bool json, const char *level, const char *msg, long long real_ns);

#endif
