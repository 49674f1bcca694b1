#include "protocol.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put32(unsigned char *p, uint32_t v)
{
  v = htonl(v);
  memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return ntohl(v);
}

void probe_hello_encode(const struct probe_hello *h, unsigned char out[PROBE_HELLO_SIZE])
{
  memset(out, 0, PROBE_HELLO_SIZE);
  put32(out, PROBE_MAGIC);
  out[4] = PROBE_VERSION;
  out[5] = h->mode;
  put32(out + 8, h->msg_size);
  put32(out + 12, h->duration_ms);
}

const char *probe_hello_decode(const unsigned char in[PROBE_HELLO_SIZE], struct probe_hello *h)
{
  if (get32(in) != PROBE_MAGIC)
    return "not a measured probe hello (bad magic)";
  if (in[4] != PROBE_VERSION)
    return "unsupported protocol version";
  if (in[6] || in[7])
    return "reserved bytes are not zero";
  h->mode = in[5];
  h->msg_size = get32(in + 8);
  h->duration_ms = get32(in + 12);
  switch (h->mode) {
  case PROBE_MODE_ECHO:
    if (h->msg_size < PROBE_MIN_MSG || h->msg_size > PROBE_MAX_MSG)
      return "echo message size out of range";
    return NULL;
  case PROBE_MODE_SINK:
    return NULL;
  case PROBE_MODE_SOURCE:
    if (h->duration_ms == 0 || h->duration_ms > PROBE_MAX_DURATION_MS)
      return "source duration out of range";
    return NULL;
  default:
    return "unknown mode";
  }
}

const char *probe_mode_name(uint8_t mode)
{
  switch (mode) {
  case PROBE_MODE_ECHO:
    return "echo";
  case PROBE_MODE_SINK:
    return "sink";
  case PROBE_MODE_SOURCE:
    return "source";
  default:
    return "?";
  }
}

void probe_udp_fill(unsigned char *buf, size_t size, uint32_t seq)
{
  memset(buf, 0x5a, size);
  put32(buf, PROBE_MAGIC);
  put32(buf + 4, seq);
}

bool probe_udp_valid(const unsigned char *buf, size_t len)
{
  return len >= PROBE_MIN_MSG && len <= PROBE_MAX_MSG && get32(buf) == PROBE_MAGIC;
}

uint32_t probe_udp_seq(const unsigned char *buf)
{
  return get32(buf + 4);
}

/* Splits text into host and port; false when it is not one of the accepted shapes. */
void probe_fill_bulk(unsigned char *buf, size_t len)
{
  uint32_t x = 2463534242u; /* xorshift32 */
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    buf[i] = (unsigned char)x;
  }
}
