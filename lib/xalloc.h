/* Allocation helpers that abort on exhaustion.
 *
 * Aborting is safe here by construction: the wrapper runs all measurement work in a forked,
 * time-bounded child (shim/guard.c), so an abort there can never change what the container or
 * Docker sees. The rest of the programs are user commands. */
#ifndef MEASURED_XALLOC_H
#define MEASURED_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* n bytes of zeroed pages that become resident only where they are written (calloc may clear
 * what it hands out itself, making all of it resident at once); freed with xunmap. */
void *xmap_zeroed(size_t n);
void xunmap(void *p, size_t n);

#endif
