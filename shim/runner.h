/* Running the real runtime as a child: every signal the wrapper receives while it waits is
 * forwarded to the child, and the child's exit (status or death by signal) is reproduced as the
 * wrapper's own, so the caller cannot tell the wrapper was there. */
#ifndef MEASURED_RUNNER_H
#define MEASURED_RUNNER_H

#include "call.h"
#include "merr.h"

#include <stdint.h>
#include <sys/types.h>

/* Blocks all signals for the rest of the wrapper's life (they are forwarded or dropped, never
 * acted on), remembering the caller's mask for the child. Call once, before runner_run. */
void runner_block_signals(void);

/* Runs path with argv (environment and file descriptors inherited) and waits for it. The child
 * is killed (SIGKILL) when the wrapper dies, as the real runtime would have been in its place. */
int runner_run(const char *path, char *const argv[], struct run_result *res, merr **err);

/* Exits the way the child did: same exit code, or death by the same signal (without a core
 * dump of the wrapper). */
__attribute__((noreturn)) void runner_mirror_exit(int wait_status);

/* Unblocks the caller's original mask and replaces this process with path (for pass-through). */
int runner_exec(const char *path, char *const argv[], merr **err);

#endif
