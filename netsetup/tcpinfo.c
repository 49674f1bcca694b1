#include "tcpinfo.h"

#include <linux/tcp.h>
#include <string.h>

void tcpinfo_copy(const void *data, size_t len, struct tcp_sock *s)
{
  struct tcp_info ti;
  memset(&ti, 0, sizeof ti);
  memcpy(&ti, data, len < sizeof ti ? len : sizeof ti);
  s->has_info = true;
  s->rtt_us = ti.tcpi_rtt;
  s->rttvar_us = ti.tcpi_rttvar;
  s->min_rtt_us = ti.tcpi_min_rtt;
  s->snd_mss = ti.tcpi_snd_mss;
  s->segs_out = ti.tcpi_segs_out;
  s->segs_in = ti.tcpi_segs_in;
  s->total_retrans = ti.tcpi_total_retrans;
  s->bytes_acked = ti.tcpi_bytes_acked;
  s->bytes_received = ti.tcpi_bytes_received;
  s->bytes_sent = ti.tcpi_bytes_sent;
  s->bytes_retrans = ti.tcpi_bytes_retrans;
  s->delivery_rate = ti.tcpi_delivery_rate;
}
