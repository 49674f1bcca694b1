/* The exit status of a process we are not the parent of, from the kernel's process events
 * connector (NETLINK_CONNECTOR, CN_IDX_PROC; needs CAP_NET_ADMIN). A socket filter lets through
 * only the exit event of the one watched process, so a busy host does not wake the monitor. */
#ifndef MEASURED_PROCEXIT_H
#define MEASURED_PROCEXIT_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Opens, filters and subscribes a socket for the exit of pid. Subscribe before the process can
 * exit: events are not replayed. */
int procexit_open(pid_t pid, merr **err);

/* Reads pending messages without blocking; returns 1 and the wait status (as waitpid reports
 * it) once the exit of pid was seen, 0 when not (yet). */
int procexit_poll(int fd, pid_t pid, int *wait_status);

/* Waits up to timeout_ms for the exit event of pid. Needed after the pidfd says the process is
 * gone: the kernel notifies pidfd waiters before it sends the connector's exit event. */
int procexit_wait(int fd, pid_t pid, int *wait_status, int timeout_ms);

/* Finds the exit of pid in a received datagram; exposed for tests. */
bool procexit_parse(const void *buf, size_t len, pid_t pid, int *wait_status);

/* Unsubscribes and closes. */
void procexit_close(int fd);

#endif
