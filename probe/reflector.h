/* The probe's peer: TCP echo, sink and source and UDP echo on one port number, many clients at
 * once, one log line per session. Runs on a host or in a container. */
#ifndef MEASURED_REFLECTOR_H
#define MEASURED_REFLECTOR_H

#include <stdio.h>

struct reflector_opts {
  const char *bind; /* address to listen on, NULL: all (IPv6 and IPv4) */
  int port;
  int max_sessions; /* concurrent TCP sessions */
  int idle_ms;      /* a session silent this long is closed */
  /* Test knobs: a slow peer, a peer that answers garbage. */
  int delay_ms; /* before every echo */
  int garbage;  /* echo with every byte flipped */
};

/* `reflector [--port P] [--bind ADDR] ...`, the one command two programs offer (`measured
 * reflector` on a host, `measured-probe reflector` inside a container): 0 to serve; -1 to end now
 * with *status (0 after --help, 2 after a usage error, said on stderr). */
int reflector_parse_args(int argc, char **argv, struct reflector_opts *o, int *status);
void reflector_usage(FILE *out);

/* Serves until killed; returns an exit status only when it cannot start. */
int reflector_serve(const struct reflector_opts *o);

#endif
