/* Running a helper command and capturing its standard output, with a time limit. */
#ifndef MEASURED_CAPTURE_H
#define MEASURED_CAPTURE_H

#include "merr.h"

#include <stddef.h>

/* Runs argv[0] (an absolute path) with stdin and stderr on /dev/null, all other descriptors
 * closed, and the signal mask emptied. Collects at most max_out bytes of stdout (more is read
 * and dropped) and kills the command after timeout_ms. Fails unless it exits with status 0. */
int capture_output(char *const argv[], int timeout_ms, size_t max_out, char **out, merr **err);

#endif
