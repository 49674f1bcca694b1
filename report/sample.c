#include "sample.h"
#include "record_schema.h"
#include "scan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

const struct metric_def metric_defs[M_COUNT] = {
    [M_BANDWIDTH] = {"bandwidth", "bandwidth", "Gbit/s", true},
    [M_TCP_P50] = {"tcp_p50", "TCP RTT p50", "us", false},
    [M_TCP_P99] = {"tcp_p99", "TCP RTT p99", "us", false},
    [M_UDP_P50] = {"udp_p50", "UDP RTT p50", "us", false},
    [M_UDP_P99] = {"udp_p99", "UDP RTT p99", "us", false},
    [M_READY] = {"net_ready", "net ready", "ms", false},
    [M_CREATE] = {"create", "create", "ms", false},
    [M_START] = {"start", "start", "ms", false},
    [M_DELETE] = {"delete", "delete", "ms", false},
    [M_WRAPPER] = {"wrapper", "wrapper time", "ms", false},
    [M_TX_MB] = {"tx", "sent", "MB", true},
    [M_RX_MB] = {"rx", "received", "MB", true},
    [M_IPERF3] = {"iperf3", "iperf3", "Gbit/s", true},
    [M_SOCKPERF_P50] = {"sockperf_p50", "sockperf p50", "us", false},
    [M_SOCKPERF_P99] = {"sockperf_p99", "sockperf p99", "us", false},
    [M_CONNECTIONS] = {"connections", "connections", "count", true},
    [M_CONN_RTT_P50] = {"conn_rtt_p50", "conn RTT p50", "us", false},
    [M_CONN_RTT_P99] = {"conn_rtt_p99", "conn RTT p99", "us", false},
    [M_PKT_OUTSIDE_P50] = {"pkt_rtt_outside_p50", "RTT outside", "us", false},
    [M_PKT_INSIDE_P50] = {"pkt_rtt_inside_p50", "RTT inside", "us", false},
    [M_HS_INSIDE_P50] = {"handshake_inside_p50", "SYN inside", "us", false},
    [M_CONN_DURATION_P50] = {"conn_duration_p50", "conn time", "ms", false},
    [M_GOODPUT_P50] = {"conn_goodput_p50", "goodput p50", "Mbit/s", true},
    [M_RETRANS_RATE] = {"retransmit_rate", "retransmits", "%", false},
};

int metric_index(const char *name)
{
  for (int m = 0; name && m < M_COUNT; m++)
    if (strcmp(metric_defs[m].name, name) == 0)
      return m;
  return -1;
}

/* Paths (dot-separated, "[]" for array items) to numbers, with their scale to the unit. */
static const struct {
  const char *path;
  enum metric m;
  double scale;
} number_paths[] = {
    {"probe.result.bandwidth.bits_per_s", M_BANDWIDTH, 1e-9},
    {"probe.result.latency.tcp.p50_us", M_TCP_P50, 1},
    {"probe.result.latency.tcp.p99_us", M_TCP_P99, 1},
    {"probe.result.latency.udp.p50_us", M_UDP_P50, 1},
    {"probe.result.latency.udp.p99_us", M_UDP_P99, 1},
    {"probe.result.ready_us", M_READY, 1e-3},
    {"calls.create.us", M_CREATE, 1e-3},
    {"calls.start.us", M_START, 1e-3},
    {"calls.delete.us", M_DELETE, 1e-3},
    {"tool.iperf3_bits_per_s", M_IPERF3, 1e-9},
    {"tool.sockperf_p50_us", M_SOCKPERF_P50, 1},
    {"tool.sockperf_p99_us", M_SOCKPERF_P99, 1},
    {"flows.connections.total", M_CONNECTIONS, 1},
    {"flows.rtt_us.p50", M_CONN_RTT_P50, 1},
    {"flows.rtt_us.p99", M_CONN_RTT_P99, 1},
    {"flows.packet_rtt_us.outside.p50", M_PKT_OUTSIDE_P50, 1},
    {"flows.packet_rtt_us.inside.p50", M_PKT_INSIDE_P50, 1},
    {"flows.handshake_us.inside.p50", M_HS_INSIDE_P50, 1},
    {"flows.duration_us.p50", M_CONN_DURATION_P50, 1e-3},
    {"flows.goodput_bps.p50", M_GOODPUT_P50, 1e-6},
    {"flows.retransmit_rate", M_RETRANS_RATE, 100},
};

/* Every call's wrapper time adds up into M_WRAPPER, and is kept per call (enum sample_call's
 * order). */
static const char *const overhead_paths[CALL_KINDS] = {
    "calls.create.overhead_us", "calls.start.overhead_us", "calls.delete.overhead_us",
    "calls.exec[].overhead_us", "calls.kill[].overhead_us"};

#define LINK "network.counters.links[]"
#define LINK_LEN (sizeof LINK - 1)

/* Subtrees worth entering: everything else is skipped without looking. */
#define W(path)                                                                                    \
  {                                                                                                \
    path, sizeof path - 1                                                                          \
  }
static const struct {
  const char *path;
  size_t len;
} wanted[] = {W("schema"),
              W("kind"),
              W("outcome"),
              W("created_at"),
              W("runtime.name"),
              W("network.driver"),
              W("labels"),
              W("reason"),
              W("tool"),
              W("calls"),
              W("probe.result.bandwidth.bits_per_s"),
              W("probe.result.latency"),
              W("probe.result.ready_us"),
              W(LINK ".role"),
              W(LINK ".delta.tx_bytes"),
              W(LINK ".delta.rx_bytes"),
              W("flows.connections.total"),
              W("flows.rtt_us"),
              W("flows.packet_rtt_us"),
              W("flows.handshake_us.inside"),
              W("flows.duration_us"),
              W("flows.goodput_bps"),
              W("flows.retransmit_rate")};
#undef W
enum { WANTED_COUNT = sizeof wanted / sizeof wanted[0] };
typedef uint32_t wanted_set; /* bit i: wanted[i] */
_Static_assert(WANTED_COUNT <= 32, "wanted_set has a bit per wanted subtree");
#define ALL_WANTED ((wanted_set)((1ull << WANTED_COUNT) - 1))

enum { MAX_DEPTH = 24, PATH_MAX_LEN = 256 };

struct ctx {
  struct sample *s;
  char path[PATH_MAX_LEN];
  size_t plen; /* strlen(path), kept up to date: this runs for every key of every line */
  size_t mark[MAX_DEPTH + 1]; /* path length when each level was entered */
  bool is_array[MAX_DEPTH + 1];
  wanted_set within[MAX_DEPTH + 1]; /* the wanted subtrees each open level may lead to */
  wanted_set key_leads_to;          /* the same for the value of the key just read */
  int depth;
  int skip_from;    /* depth at which skipping began, 0: not skipping */
  bool pending_key; /* a map key was read: the next value is under path */
  int schema;
  bool in_link; /* inside a network.counters.links[] element */
  char link_role[16];
  double link_tx, link_rx;
  bool link_has_tx, link_has_rx, link_taken;
};

/* Of the wanted subtrees in candidates (those the first `from` bytes of path, its parent's path,
 * may lead to), the ones this path may lead to: only the part past the parent is compared, and
 * only against the parent's few candidates. */
static wanted_set wanted_among(const char *path, size_t n, size_t from, wanted_set candidates)
{
  wanted_set found = 0;
  for (wanted_set left = candidates; left; left &= left - 1) {
    unsigned i = (unsigned)__builtin_ctz(left);
    size_t w = wanted[i].len;
    const char *x = wanted[i].path;
    if (w <= from) { /* the parent lies below this wanted subtree: so does everything under it */
      found |= (wanted_set)1 << i;
      continue;
    }
    size_t common = w < n ? w : n, k = from;
    while (k < common && x[k] == path[k]) /* a few bytes: a call to memcmp costs more */
      k++;
    if (k < common)
      continue;
    if (w == n || (w > n ? (x[n] == '.' || x[n] == '[') : (path[w] == '.' || path[w] == '[')))
      found |= (wanted_set)1 << i;
  }
  return found;
}

static void truncate_path(struct ctx *c, size_t len)
{
  c->plen = len;
  c->path[len] = '\0';
}

static void copy_text(char *dst, size_t size, const unsigned char *s, size_t len)
{
  size_t n = len < size - 1 ? len : size - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

static void append_items(struct ctx *c)
{
  if (c->plen + 3 <= sizeof c->path) {
    memcpy(c->path + c->plen, "[]", 3);
    c->plen += 2;
  }
}

/* The path of the value being read, for a scalar that stands as an array item or map value. */
static const char *value_path(struct ctx *c)
{
  if (c->depth > 0 && c->is_array[c->depth])
    append_items(c);
  return c->path;
}

static void restore_path(struct ctx *c)
{
  if (c->depth > 0 && c->is_array[c->depth])
    truncate_path(c, c->mark[c->depth]);
}

static double number_of(const char *s, size_t len)
{
  char buf[64];
  copy_text(buf, sizeof buf, (const unsigned char *)s, len);
  return strtod(buf, NULL);
}

/* Finds where a number goes before converting it: most numbers in a record go nowhere. */
static void set_number(struct ctx *c, const char *path, const char *s, size_t len)
{
  for (size_t i = 0; i < sizeof number_paths / sizeof number_paths[0]; i++)
    if (number_paths[i].path[0] == path[0] && strcmp(path, number_paths[i].path) == 0) {
      double v = number_of(s, len);
      if (isfinite(v)) {
        c->s->value[number_paths[i].m] = v * number_paths[i].scale;
        c->s->has[number_paths[i].m] = true;
      }
      return;
    }
  if (path[0] == 'c') {
    for (size_t i = 0; i < sizeof overhead_paths / sizeof overhead_paths[0]; i++)
      if (strcmp(path, overhead_paths[i]) == 0) {
        double v = number_of(s, len);
        if (isfinite(v)) {
          c->s->value[M_WRAPPER] += v * 1e-3;
          c->s->has[M_WRAPPER] = true;
          if (c->s->ncall_times < SAMPLE_MAX_CALL_TIMES)
            c->s->call_times[c->s->ncall_times++] =
                (struct call_time){.call = (enum sample_call)i, .seconds = v * 1e-6};
        }
        return;
      }
  } else if (c->in_link && strcmp(path, LINK ".delta.tx_bytes") == 0) {
    c->link_tx = number_of(s, len);
    c->link_has_tx = isfinite(c->link_tx);
  } else if (c->in_link && strcmp(path, LINK ".delta.rx_bytes") == 0) {
    c->link_rx = number_of(s, len);
    c->link_has_rx = isfinite(c->link_rx);
  } else if (strcmp(path, "schema") == 0) {
    double v = number_of(s, len);
    c->schema = v >= RECORD_SCHEMA_OLDEST && v <= RECORD_SCHEMA && v == (int)v ? (int)v : -1;
  }
}

static void set_string(struct ctx *c, const char *path, const unsigned char *s, size_t len)
{
  struct sample *out = c->s;
  if (strcmp(path, "runtime.name") == 0)
    copy_text(out->runtime, sizeof out->runtime, s, len);
  else if (strcmp(path, "network.driver") == 0)
    copy_text(out->driver, sizeof out->driver, s, len);
  else if (strcmp(path, "created_at") == 0)
    copy_text(out->created, sizeof out->created, s, len);
  else if (strcmp(path, "outcome") == 0)
    copy_text(out->outcome, sizeof out->outcome, s, len);
  else if (strcmp(path, "reason") == 0)
    copy_text(out->reason, sizeof out->reason, s, len);
  else if (strcmp(path, LINK ".role") == 0)
    copy_text(c->link_role, sizeof c->link_role, s, len);
  else if (strcmp(path, "kind") == 0) {
    char k[16];
    copy_text(k, sizeof k, s, len);
    out->kind = strcmp(k, "tool") == 0          ? KIND_TOOL
                : strcmp(k, "unsupported") == 0 ? KIND_UNSUPPORTED
                : strcmp(k, "failed") == 0      ? KIND_FAILED
                                                : KIND_OTHER;
  } else if (strncmp(path, "labels.", 7) == 0 && out->nlabels < SAMPLE_MAX_LABELS &&
             strchr(path + 7, '.') == NULL) {
    copy_text(out->label_key[out->nlabels], SAMPLE_TEXT, (const unsigned char *)path + 7,
              strlen(path + 7));
    copy_text(out->label_val[out->nlabels], SAMPLE_TEXT, s, len);
    out->nlabels++;
  }
}

static bool skipping(const struct ctx *c)
{
  return c->skip_from > 0;
}

static int on_scalar_done(struct ctx *c)
{
  c->pending_key = false;
  return 1;
}

static int on_number(void *ctx, const char *s, size_t len)
{
  struct ctx *c = ctx;
  if (!skipping(c)) {
    set_number(c, value_path(c), s, len);
    restore_path(c);
  }
  return on_scalar_done(c);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
  struct ctx *c = ctx;
  if (!skipping(c)) {
    set_string(c, value_path(c), s, len);
    restore_path(c);
  }
  return on_scalar_done(c);
}

static int on_other(void *ctx)
{
  return on_scalar_done(ctx);
}
static int on_bool(void *ctx, int b)
{
  (void)b;
  return on_scalar_done(ctx);
}

static int open_level(struct ctx *c, bool array)
{
  if (c->depth >= MAX_DEPTH)
    return 0;
  /* An array item gets "[]" in its path; a map value already has its key. */
  wanted_set within = c->depth == 0 ? ALL_WANTED : c->key_leads_to;
  if (!skipping(c) && c->depth > 0 && c->is_array[c->depth]) {
    size_t parent = c->plen;
    append_items(c);
    within = wanted_among(c->path, c->plen, parent, c->within[c->depth]);
  }
  c->depth++;
  c->within[c->depth] = within;
  c->is_array[c->depth] = array;
  c->mark[c->depth] = c->plen;
  c->pending_key = false;
  if (!skipping(c) && !array && c->plen == LINK_LEN && memcmp(c->path, LINK, LINK_LEN) == 0) {
    c->in_link = true;
    c->link_role[0] = '\0';
    c->link_has_tx = c->link_has_rx = false;
  }
  return 1;
}

static void take_link(struct ctx *c)
{
  /* The container's own end of the first path. */
  if (c->link_taken || strcmp(c->link_role, "container") != 0)
    return;
  c->link_taken = true;
  if (c->link_has_tx) {
    c->s->value[M_TX_MB] = c->link_tx / 1e6;
    c->s->has[M_TX_MB] = true;
  }
  if (c->link_has_rx) {
    c->s->value[M_RX_MB] = c->link_rx / 1e6;
    c->s->has[M_RX_MB] = true;
  }
}

static int close_level(struct ctx *c)
{
  /* A map whose last key was skipped: that key's value is over, the map itself is read. */
  if (c->skip_from == c->depth)
    c->skip_from = 0;
  if (!skipping(c)) {
    truncate_path(c, c->mark[c->depth]); /* the closing container's own path */
    if (c->in_link && !c->is_array[c->depth] && c->plen == LINK_LEN &&
        memcmp(c->path, LINK, LINK_LEN) == 0) {
      take_link(c);
      c->in_link = false;
    }
  }
  c->depth--;
  /* In an array, the next item starts again from the array's own path. */
  if (c->depth >= 1 && c->is_array[c->depth] && !skipping(c))
    truncate_path(c, c->mark[c->depth]);
  return 1;
}

static int on_start_map(void *ctx)
{
  return open_level(ctx, false);
}
static int on_start_array(void *ctx)
{
  return open_level(ctx, true);
}
static int on_end(void *ctx)
{
  return close_level(ctx);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
  struct ctx *c = ctx;
  if (skipping(c) && c->skip_from < c->depth)
    return 1;
  c->skip_from = 0;
  size_t n = c->mark[c->depth];
  if (n + len + 2 >= sizeof c->path) {
    c->skip_from = c->depth;
    return JSON_SCAN_SKIP_VALUE;
  }
  if (n)
    c->path[n++] = '.';
  memcpy(c->path + n, key, len);
  truncate_path(c, n + len);
  c->pending_key = true;
  c->key_leads_to = wanted_among(c->path, c->plen, c->mark[c->depth], c->within[c->depth]);
  if (!c->key_leads_to) {
    c->skip_from = c->depth; /* this key's value is not read */
    return JSON_SCAN_SKIP_VALUE;
  }
  return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_other,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

bool sample_parse(const char *line, size_t len, struct sample *out)
{
  memset(out, 0, sizeof *out);
  struct ctx c = {.s = out, .schema = -1};
  if (len == 0 || line[0] != '{')
    return false;
  return json_scan(line, len, &callbacks, &c, MAX_DEPTH) && c.schema >= RECORD_SCHEMA_OLDEST;
}

bool sample_parse_next(const char *buf, size_t len, struct sample *out, size_t *next, bool *blank)
{
  memset(out, 0, sizeof *out);
  *blank = len == 0 || buf[0] == '\n';
  if (*blank) {
    *next = len ? 1 : 0;
    return false;
  }
  struct ctx c = {.s = out, .schema = -1};
  bool ok = buf[0] == '{' && json_scan_line(buf, len, &callbacks, &c, MAX_DEPTH, next);
  if (buf[0] != '{') {
    const char *nl = memchr(buf, '\n', len);
    *next = nl ? (size_t)(nl - buf) + 1 : len;
  }
  return ok && c.schema >= RECORD_SCHEMA_OLDEST;
}

const char *sample_label(const struct sample *s, const char *key)
{
  for (size_t i = 0; i < s->nlabels; i++)
    if (strcmp(s->label_key[i], key) == 0)
      return s->label_val[i];
  return NULL;
}
