/* Measurement work runs in a forked child with a time limit, so that nothing it does (a crash,
 * an abort on memory exhaustion, a hang on a lock or a netlink socket) can change what the real
 * runtime's caller sees: the wrapper's exit status is always the runtime's. */
#ifndef MEASURED_GUARD_H
#define MEASURED_GUARD_H

#include "merr.h"

/* Runs fn(arg) in a child and waits at most timeout_ms. Returns 0 when fn returned 0, 1 when fn
 * returned non-zero (fn reports its own failures), and -1 with an error when the child crashed,
 * timed out (it is then killed) or could not be started. */
int guard_run(int (*fn)(void *), void *arg, int timeout_ms, merr **err);

#endif
