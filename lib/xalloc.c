#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void oom(void)
{
  static const char msg[] = "measured: out of memory\n";
  fwrite(msg, 1, sizeof msg - 1, stderr);
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xzalloc(size_t n)
{
  void *p = calloc(1, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
  p = reallocarray(p, n ? n : 1, size ? size : 1);
  if (p == NULL)
    oom();
  return p;
}

char *xstrdup(const char *s)
{
  char *r = strdup(s);
  if (r == NULL)
    oom();
  return r;
}

char *xstrndup(const char *s, size_t n)
{
  char *r = strndup(s, n);
  if (r == NULL)
    oom();
  return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
  char *r;
  if (vasprintf(&r, fmt, ap) < 0)
    oom();
  return r;
}

char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *r = xvasprintf(fmt, ap);
  va_end(ap);
  return r;
}

void *xmap_zeroed(size_t n)
{
  void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    oom();
  return p;
}

void xunmap(void *p, size_t n)
{
  if (p != NULL)
    munmap(p, n ? n : 1);
}
