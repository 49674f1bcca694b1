/* The probe's peer: TCP echo, sink and source and UDP echo on one port number, many clients at
 * once, one log line per session. Runs on a host or in a container. */
#ifndef MEASURED_REFLECTOR_H
#define MEASURED_REFLECTOR_H

struct reflector_opts {
  const char *bind; /* address to listen on, NULL: all (IPv6 and IPv4) */
  int port;
  int max_sessions; /* concurrent TCP sessions */
  int idle_ms;      /* a session silent this long is closed */
  /* Test knobs: a slow peer, a peer that answers garbage. */
  int delay_ms; /* before every echo */
  int garbage;  /* echo with every byte flipped */
};

/* Parses `reflector [--port P] [--bind ADDR] ...` and runs until SIGINT/SIGTERM. Returns the
 * exit status. */
int reflector_main(int argc, char **argv);

#endif
