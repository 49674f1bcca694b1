/* Clocks. Durations use CLOCK_MONOTONIC (shared by all processes of one boot, so spans across
 * separate wrapper invocations are valid); wall-clock time is only for timestamps. */
#ifndef MEASURED_CLOCK_H
#define MEASURED_CLOCK_H

#include <stdint.h>

int64_t mono_us(void);
int64_t real_ns(void);
/* RFC 3339 UTC with nanoseconds, e.g. 2026-11-23T19:37:18.123456789Z (buf >= 40 bytes). */
void format_rfc3339(int64_t real_ns, char *buf, unsigned size);

#endif
