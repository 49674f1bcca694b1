/* One line of a store, reduced to what a report uses: who (runtime, driver, labels), when, and
 * the metrics. Lines come from measured records, and from the experiment harness's tool lines
 * ("kind": "tool" with iperf3 and sockperf figures; "kind": "unsupported" for a runtime and
 * driver that cannot go together; "kind": "failed" for a repetition that did not complete). */
#ifndef MEASURED_REPORT_SAMPLE_H
#define MEASURED_REPORT_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>

enum metric {
  M_BANDWIDTH,
  M_TCP_P50,
  M_TCP_P99,
  M_UDP_P50,
  M_UDP_P99,
  M_READY,
  M_CREATE,
  M_START,
  M_DELETE,
  M_WRAPPER,
  M_TX_MB,
  M_RX_MB,
  M_IPERF3,
  M_SOCKPERF_P50,
  M_SOCKPERF_P99,
  /* the workload's own connections (record schema 2) */
  M_CONNECTIONS,
  M_CONN_RTT_P50,
  M_CONN_RTT_P99,
  M_PKT_OUTSIDE_P50,
  M_PKT_INSIDE_P50,
  M_HS_INSIDE_P50,
  M_CONN_DURATION_P50,
  M_GOODPUT_P50,
  M_RETRANS_RATE,
  M_COUNT
};

struct metric_def {
  const char *name;  /* in --format csv/json and figure names */
  const char *label; /* in the table and on figures */
  const char *unit;
  bool higher_is_better;
};

extern const struct metric_def metric_defs[M_COUNT];

/* The index of the metric of that name, -1 when there is none. */
int metric_index(const char *name);

enum {
  SAMPLE_MAX_LABELS = 16,
  SAMPLE_TEXT = 64
}; /* per line, on the stack: nothing is kept per record */

/* The calls whose wrapper time a record gives, in the order of their paths in sample.c. */
enum sample_call { CALL_CREATE, CALL_START, CALL_DELETE, CALL_EXEC, CALL_KILL, CALL_KINDS };

/* The wrapper's own time of each call, at most this many per line (execs and kills beyond it are
 * in M_WRAPPER's sum only: an exporter's histogram takes the first ones). */
enum { SAMPLE_MAX_CALL_TIMES = 16 };

struct call_time {
  enum sample_call call;
  double seconds;
};

enum sample_kind { KIND_RECORD, KIND_TOOL, KIND_UNSUPPORTED, KIND_FAILED, KIND_OTHER };

struct sample {
  enum sample_kind kind;
  char runtime[SAMPLE_TEXT];
  char driver[SAMPLE_TEXT];
  char created[40]; /* RFC 3339, "" when absent */
  char outcome[24];
  char reason[128]; /* unsupported: why */
  size_t nlabels;
  char label_key[SAMPLE_MAX_LABELS][SAMPLE_TEXT];
  char label_val[SAMPLE_MAX_LABELS][SAMPLE_TEXT];
  double value[M_COUNT];
  bool has[M_COUNT];
  size_t ncall_times;
  struct call_time call_times[SAMPLE_MAX_CALL_TIMES];
};

/* Reads one line (strictly: it must be one whole JSON object with a schema). false when the line
 * is malformed or not a record of a known schema. */
bool sample_parse(const char *line, size_t len, struct sample *out);

/* The same on the line that starts buf (of JSON Lines); *next: where the following line
 * starts. A blank line is reported through *blank. */
bool sample_parse_next(const char *buf, size_t len, struct sample *out, size_t *next, bool *blank);

const char *sample_label(const struct sample *s, const char *key);

#endif
