/* The user-space process behind a container's TAP (rootless podman's slirp4netns, or pasta):
 * it opened the TAP in the container's namespace and relays its frames through its own sockets.
 * Found by name among the processes, and by its command line, which names the container's
 * namespace (a path, as podman passes it, or a pid whose namespace it is). */
#ifndef MEASURED_TAPRELAY_H
#define MEASURED_TAPRELAY_H

#include <stddef.h>
#include <sys/types.h>

enum { TAP_RELAY_NAME_MAX = 16, TAP_RELAY_MAX_PROCS = 65536 };

/* The relay of the TAP in namespace ctrfd: its pid, with its name in `name`; 0 when no known
 * relay names that namespace. Reads /proc (at most TAP_RELAY_MAX_PROCS entries). */
pid_t net_tap_relay(int ctrfd, char name[TAP_RELAY_NAME_MAX]);

/* Whether one argument of a relay's command line ("/run/user/1000/netns/x", "--netns=/x",
 * "12345") names the namespace whose fstat is (dev, ino). */
int net_tap_relay_arg_names(const char *arg, dev_t dev, ino_t ino);

#endif
