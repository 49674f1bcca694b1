/* What the host side of the probe (lifecycle/probe_*) and the probe program (probe/) agree on:
 * where the wrapper puts the probe in a container, where the probe writes its result and in which
 * schema, the limits of its settings, and the syntax of the peer's address. Both sides include
 * this header; neither includes the other's internals. */
#ifndef MEASURED_PROBE_CONTRACT_H
#define MEASURED_PROBE_CONTRACT_H

#include <stddef.h>
#include <sys/socket.h>

/* In the container (under the runtime's own /dev tmpfs: nothing lands in its filesystem). */
#define PROBE_BIN_DEST "/dev/.measured-probe"
#define PROBE_DEFAULT_OUT "/dev/.measured-out"
#define PROBE_RESULT_FILE "result.json"
#define PROBE_RESULT_SCHEMA 1

/* The variables a container sets to ask for a probe all begin with this. */
#define PROBE_ENV_PREFIX "MEASURED_PROBE"

#define PROBE_DEFAULT_PORT 7447
#define PROBE_MIN_MSG 8
#define PROBE_MAX_MSG 65000 /* fits one UDP datagram */

/* Parses "IP", "IP:PORT", "[IPv6]:PORT" (numeric only: nothing resolves names inside a
 * container's probe). canon gets "IP:PORT" / "[IPv6]:PORT". 0 when valid. */
int probe_peer_parse(const char *text, struct sockaddr_storage *peer, socklen_t *len, char *canon,
                     size_t canon_size);

#endif
