#include "merr.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int merr_set(merr **err, int errnum, const char *fmt, ...)
{
  if (err == NULL || *err != NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *base = xvasprintf(fmt, ap);
  va_end(ap);
  merr *e = xmalloc(sizeof *e);
  e->errnum = errnum;
  if (errnum != 0) {
    e->msg = xasprintf("%s: %s", base, strerror(errnum));
    free(base);
  } else {
    e->msg = base;
  }
  *err = e;
  return -1;
}

int merr_wrap(merr **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = xvasprintf(fmt, ap);
  va_end(ap);
  char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
  free(ctx);
  free((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void merr_free(merr *e)
{
  if (e == NULL)
    return;
  free(e->msg);
  free(e);
}

int merr_pass(merr **err, merr **from)
{
  if (err && *err == NULL)
    *err = *from;
  else
    merr_free(*from);
  *from = NULL;
  return -1;
}
