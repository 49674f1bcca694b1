/* The monitor's command line. The monitor is the wrapper's own program run again (monitor_start
 * execs /proc/self/exe under the name MONITOR_ARGV0), so its configuration travels as arguments:
 * written here by the wrapper, read back strictly by the monitor. Each argument is key=value in a
 * fixed order, which is also what `ps` shows an operator:
 *   measured-monitor container=ID dir=FD netns=FD lock=FD pid=PID interval_us=N flows=0|1
 *     netns_why=TEXT flows_why=TEXT probe_peer=IP:PORT
 * (FD -1: none; PID 0: unknown; an empty TEXT: no reason given; an empty peer: not probed). */
#ifndef MEASURED_MONITOR_ARGV_H
#define MEASURED_MONITOR_ARGV_H

#include "merr.h"
#include "monitor.h"

#define MONITOR_ARGV0 "measured-monitor"

enum { MONITOR_ARGC = 11 };

struct monitor_argv {
  char *argv[MONITOR_ARGC + 1]; /* NULL-terminated, each allocated */
};

/* Writes cfg (and the lock's descriptor) as the monitor's arguments. */
void monitor_argv_build(const struct monitor_config *cfg, int lockfd, struct monitor_argv *out);
void monitor_argv_clear(struct monitor_argv *a);

/* Reads them back: cfg's strings point into argv. An argument missing, out of order, unknown or
 * out of range is an error that names it. */
int monitor_argv_parse(int argc, char *const argv[], struct monitor_config *cfg, int *lockfd,
                       merr **err);

#endif
