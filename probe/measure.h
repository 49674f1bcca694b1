/* The measurements, run by the probe from inside the container so that they take its real
 * network path: network-ready time, TCP and UDP ping-pong latency, TCP bulk bandwidth. Only
 * plain socket calls (socket, connect, read, write, poll, getsockopt): gVisor's 2022 netstack
 * fails recvfrom with EINVAL on some sockets, and a failing call is named in the result. */
#ifndef MEASURED_PROBE_MEASURE_H
#define MEASURED_PROBE_MEASURE_H

#include "json.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct probe_config {
  struct sockaddr_storage peer;
  socklen_t peer_len;
  char peer_text[72];
  bool latency, bandwidth, reverse;
  int budget_ms;    /* everything, from the probe's start */
  int msg_size;     /* ping-pong message bytes */
  int latency_ms;   /* per protocol, after warm-up */
  int latency_max;  /* round trips per protocol at most */
  int warmup;       /* round trips not counted */
  int bandwidth_ms; /* bulk transfer duration */
};

/* Defaults: latency and bandwidth, budget 2000 ms, 64-byte messages, 250 ms per protocol
 * (at most 20000 round trips) after 50 of warm-up, 1000 ms of bandwidth. */
void probe_config_defaults(struct probe_config *c);

/* "IP", "IP:PORT", "[IPv6]:PORT" (numeric only: the probe does not resolve names). */
int probe_parse_peer(const char *text, struct probe_config *c, char *err, size_t errsize);

/* Runs every test the config asks for, stopping at start_us + budget; returns the result:
 * {"ready_us","latency":{"tcp","udp"},"bandwidth","errors":[..],"budget_exceeded"}. */
json *probe_measure(const struct probe_config *c, int64_t start_us);

int64_t probe_now_us(void);

#endif
