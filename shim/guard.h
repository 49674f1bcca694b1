/* Measurement work runs in a forked child (or, after the real call, in-process with signal
 * handlers, guard_inline) with a time limit, so that nothing it does (a crash,
 * an abort on memory exhaustion, a hang on a lock or a netlink socket) can change what the real
 * runtime's caller sees: the wrapper's exit status is always the runtime's. */
#ifndef MEASURED_GUARD_H
#define MEASURED_GUARD_H

#include "merr.h"
#include "ocilog.h"

/* How long measurement around one call may take (the wrapper's calls, the shim wrapper's
 * preparation, the hooks). */
enum { GUARD_MEASUREMENT_MS = 10000 };

/* Runs fn(arg) in a child and waits at most timeout_ms. fn reports its own failures (a line in
 * the runtime's log): 0 when it ran to its end, whatever it returned; -1 with an error when the
 * child crashed, timed out (it is then killed) or could not be started. */
int guard_run(int (*fn)(void *), void *arg, int timeout_ms, merr **err);

/* The same guarantee without a child, for the measurement after the real call, when the wrapper
 * has nothing left to do but exit as the runtime did: a fork costs more than that work (about
 * 1 ms here with the other core busy, docs/performance.md). fn(arg) runs in this process; a
 * crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS; a stack overflow included: the handler has a
 * stack of its own), an abort (xalloc's on exhausted memory) or timeout_ms passing (SIGALRM)
 * brings control back here. Returns 0 when fn ran to its end, whatever it returned; otherwise
 * writes one warning to log, naming `what` ("start of container X"), and returns -1: the
 * process may then hold a lock that will never be released (malloc's, stdio's) and must only
 * exit (runner_mirror_exit). It reports by itself, not through a merr, for the same reason: the
 * heap is not to be used after a fault. Not reentrant; signals other than these stay as the
 * caller blocked them. */
int guard_inline(int (*fn)(void *), void *arg, int timeout_ms, const struct ocilog *log,
                 const char *what);

#endif
