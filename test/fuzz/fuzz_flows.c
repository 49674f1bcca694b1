/* The flow table fed what a container chooses: its frames (through pktcap_parse) and the
 * sock_diag messages its sockets make (through sockdiag_parse), in any order and at any pace.
 * The input is a sequence of chunks, each [kind:1][length:2, little-endian][bytes]: kind's low
 * two bits say what the bytes are (0 a frame the container sent, 1 one it received, 2 a socket of
 * a dump, 3 a socket's destroy notification), its high six bits how far the clock moves first
 * (in units of 10 ms, so that grace periods and half-open timeouts pass). */
#include "flows.h"
#include "pktcap.h"
#include "sockdiag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void feed_socket(struct flows *f, const uint8_t *bytes, size_t n, int kind, int64_t now)
{
  /* Netlink messages are read into aligned buffers: so are these. */
  static _Alignas(8) uint8_t msg[65536];
  memcpy(msg, bytes, n);
  struct tcp_sock s;
  if (!sockdiag_parse(msg, n, &s))
    return;
  if (kind == 2) {
    flows_dump_begin(f);
    flows_socket(f, &s, now);
    flows_dump_end(f, now);
  } else {
    flows_destroyed(f, &s, now);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct flows *f = flows_new();
  if (f == NULL)
    return 0;
  int64_t now = 1000000000;
  size_t chunks = 0;
  while (size >= 3) {
    int kind = data[0] & 3;
    now += (int64_t)(data[0] >> 2) * 10000000;
    size_t n = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3, size -= 3;
    if (n > size)
      n = size;
    if (kind < 2) {
      struct tcp_pkt p;
      if (pktcap_parse(data, n, n, &p)) {
        p.ts_ns = now;
        p.outgoing = kind == 0;
        flows_packet(f, &p);
      }
    } else {
      feed_socket(f, data, n, kind, now);
    }
    data += n, size -= n;
    if (++chunks % 8 == 0)
      flows_tick(f, now);
  }
  flows_finish(f, now + 10000000000);
  json_free(flows_json(f));
  flows_free(f);
  return 0;
}
