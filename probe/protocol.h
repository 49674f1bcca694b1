/* The probe's wire protocol, spoken by measured-probe and the reflector.
 *
 * TCP: the client opens with a 16-byte hello (network byte order):
 *   magic "MSRD" | version 1 | mode | 2 reserved zero bytes | msg_size | duration_ms
 * then, by mode:
 *   ECHO    the client sends msg_size-byte messages, each returned whole (ping-pong latency)
 *   SINK    the client sends bytes until it shuts down its side; the reflector answers with
 *           the count it received (8 bytes) and closes (bulk bandwidth, client -> peer)
 *   SOURCE  the reflector sends for duration_ms and closes (bulk bandwidth, peer -> client)
 * UDP (same port number): a datagram of at least 8 bytes starting with the magic is returned
 * as it is; anything else is dropped.
 * A hello that is malformed, or a message cut short, ends that session only. */
#ifndef MEASURED_PROBE_PROTOCOL_H
#define MEASURED_PROBE_PROTOCOL_H

#include "probe_contract.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PROBE_MAGIC 0x4d535244u /* "MSRD" */
#define PROBE_VERSION 1
#define PROBE_HELLO_SIZE 16
#define PROBE_MAX_DURATION_MS 60000

enum probe_mode { PROBE_MODE_ECHO = 1, PROBE_MODE_SINK = 2, PROBE_MODE_SOURCE = 3 };

struct probe_hello {
  uint8_t mode;
  uint32_t msg_size;    /* ECHO: message size; others: ignored (0) */
  uint32_t duration_ms; /* SOURCE: how long to send */
};

void probe_hello_encode(const struct probe_hello *h, unsigned char out[PROBE_HELLO_SIZE]);

/* NULL when valid, else why not (a static string). */
const char *probe_hello_decode(const unsigned char in[PROBE_HELLO_SIZE], struct probe_hello *h);

const char *probe_mode_name(uint8_t mode);

/* Fills a bulk-transfer buffer as iperf3 does, with varied bytes over its whole length: a
 * zeroed buffer is the kernel's shared zero page, cache-hot on every copy, and made the rate
 * come out half again above iperf3's on the same path. */
void probe_fill_bulk(unsigned char *buf, size_t len);

/* A UDP probe datagram: magic, then a sequence number, then padding up to size. */
void probe_udp_fill(unsigned char *buf, size_t size, uint32_t seq);
bool probe_udp_valid(const unsigned char *buf, size_t len);
uint32_t probe_udp_seq(const unsigned char *buf);

#endif
