/* Error objects, in the style of crun's libcrun_error_t.
 *
 * A function that can fail returns an int (negative on failure) and takes `merr **err` as its
 * last parameter. On failure it fills *err (once: the innermost failure wins, callers may add
 * context with merr_wrap) and returns -1. Callers propagate with `if (ret < 0) return ret;`. */
#ifndef MEASURED_MERR_H
#define MEASURED_MERR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct merr {
  int errnum; /* errno of the failing system call, 0 when it is not a system error */
  char *msg;  /* complete human-readable message, strerror included */
} merr;

/* Records an error and returns -1. When errnum is non-zero, ": strerror(errnum)" is appended.
 * Does nothing but return -1 when err is NULL or already set. */
int merr_set(merr **err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the message of an existing error with context ("context: message"); returns -1. */
int merr_wrap(merr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void merr_free(merr *e);
static inline void merr_freep(merr **e)
{
  merr_free(*e);
  *e = NULL;
}

static inline bool merr_is(const merr *e, int errnum)
{
  return e && e->errnum == errnum;
}
static inline const char *merr_msg(const merr *e)
{
  return e ? e->msg : "unknown error";
}

#define cleanup_merr __attribute__((cleanup(merr_freep)))

/* Hands the error in *from on to the caller's err (or frees it when err is NULL or already
 * set); *from is NULL afterwards. Returns -1. */
int merr_pass(merr **err, merr **from);

#endif
