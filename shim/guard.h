/* Measurement work runs in a forked child with a time limit, so that nothing it does (a crash,
 * an abort on memory exhaustion, a hang on a lock or a netlink socket) can change what the real
 * runtime's caller sees: the wrapper's exit status is always the runtime's. */
#ifndef MEASURED_GUARD_H
#define MEASURED_GUARD_H

#include "merr.h"

/* How long measurement around one call may take (the wrapper's calls, the shim wrapper's
 * preparation, the hooks). */
enum { GUARD_MEASUREMENT_MS = 10000 };

/* Runs fn(arg) in a child and waits at most timeout_ms. fn reports its own failures (a line in
 * the runtime's log): 0 when it ran to its end, whatever it returned; -1 with an error when the
 * child crashed, timed out (it is then killed) or could not be started. */
int guard_run(int (*fn)(void *), void *arg, int timeout_ms, merr **err);

#endif
