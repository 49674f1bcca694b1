/* __attribute__((cleanup)) helpers, as in crun: resources released when the variable leaves
 * scope, ownership handed on explicitly with steal_pointer / steal_fd. */
#ifndef MEASURED_CLEANUP_H
#define MEASURED_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
  free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
  if (*fd >= 0)
    close(*fd);
}
static inline void cleanup_fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))

#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__(*(pp)) _stolen = *(pp);                                                             \
    *(pp) = NULL;                                                                                  \
    _stolen;                                                                                       \
  })

#define steal_fd(fdp)                                                                              \
  ({                                                                                               \
    int _stolen = *(fdp);                                                                          \
    *(fdp) = -1;                                                                                   \
    _stolen;                                                                                       \
  })

#endif
