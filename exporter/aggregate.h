/* What the exporter keeps of the stores: aggregates only, whatever their size. Records are
 * counted into series, one per (runtime, driver, load, the table's export labels); each series
 * has its lifecycle counts by outcome, byte and connection counters, and fixed-bucket histograms
 * of the figures a record gives once (the real runtime's and the wrapper's time per call, the
 * probe's round trips and bandwidth, the lifecycle's median connection round trip and duration).
 * Bounded: at most AGG_MAX_SERIES series (later ones fold into one whose labels are all
 * "_other"), AGG_MAX_OUTCOMES outcomes per series, label values of at most 63 bytes. */
#ifndef MEASURED_EXPORTER_AGGREGATE_H
#define MEASURED_EXPORTER_AGGREGATE_H

#include "sample.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  AGG_MAX_SERIES = 500,
  AGG_MAX_OUTCOMES = 8,
  AGG_MAX_LABELS = 3 + 4, /* runtime, driver, load and TABLE_MAX_EXPORT_LABELS */
  AGG_MAX_BUCKETS = 64
};

/* One histogram family: its name without the unit suffix, the unit, one label that sets its
 * instances apart (or none), and its bucket bounds: {1, 1.5, 2, 3, 5, 7} x 10^e for e in
 * [lo_exp, hi_exp), then 10^hi_exp (and +Inf). */
struct hist_family {
  const char *name; /* "measured_runtime_call", rendered as name_unit */
  const char *unit; /* "seconds" */
  const char *help;
  const char *label; /* "call", or NULL */
  int lo_exp, hi_exp;
};

/* The histograms every series has, each a family and its label's value. */
enum hist_slot {
  H_RUNTIME_CREATE,
  H_RUNTIME_START,
  H_RUNTIME_DELETE,
  H_WRAPPER_CREATE,
  H_WRAPPER_START,
  H_WRAPPER_DELETE,
  H_WRAPPER_EXEC,
  H_WRAPPER_KILL,
  H_PROBE_TCP_P50,
  H_PROBE_UDP_P50,
  H_PROBE_TCP_P99,
  H_PROBE_UDP_P99,
  H_PROBE_BANDWIDTH,
  H_CONN_RTT_P50,
  H_CONN_DURATION_P50,
  H_SLOTS
};

enum hist_family_id {
  F_RUNTIME_CALL,
  F_WRAPPER_CALL,
  F_PROBE_RTT_P50,
  F_PROBE_RTT_P99,
  F_PROBE_BANDWIDTH,
  F_CONN_RTT_P50,
  F_CONN_DURATION_P50,
  F_FAMILIES
};

extern const struct hist_family hist_families[F_FAMILIES];

/* A slot's family and its label value (NULL: the family has no label). */
enum hist_family_id hist_slot_family(enum hist_slot s);
const char *hist_slot_label(enum hist_slot s);

/* The upper bounds of a family's buckets (+Inf not included): their number. */
size_t hist_bounds(enum hist_family_id f, double *bounds, size_t max);

struct histogram_counts {
  uint64_t count;
  double sum;
  uint64_t bucket[AGG_MAX_BUCKETS]; /* not cumulative: observations <= bound[i] and > bound[i-1];
                                       bucket[nbounds] holds those above the last bound */
};

struct outcome_count {
  char outcome[24];
  uint64_t n;
};

struct series {
  char label[AGG_MAX_LABELS][SAMPLE_TEXT]; /* values, in the aggregate's label order */
  struct outcome_count outcomes[AGG_MAX_OUTCOMES];
  size_t noutcomes;
  uint64_t outcome_other; /* outcomes beyond AGG_MAX_OUTCOMES */
  double tx_bytes, rx_bytes, connections;
  struct histogram_counts hist[H_SLOTS];
};

struct aggregate {
  size_t nlabels; /* label names: runtime, driver, load, then the table's */
  char label_name[AGG_MAX_LABELS][40];
  struct series *series; /* in the order they were first seen; the overflow one is among them */
  size_t nseries, cap;
  size_t *slots; /* open addressing over series: index + 1, 0 empty */
  size_t nslots;
  uint64_t series_overflow; /* records counted into the "_other" series */
  /* what the lines were */
  uint64_t records, malformed, other_kinds;
};

/* An empty aggregate whose series carry the export labels given (record label keys). */
void aggregate_init(struct aggregate *a, const char *const *export_labels, size_t n);
/* An empty aggregate with the labels of another. */
void aggregate_init_like(struct aggregate *a, const struct aggregate *like);
/* Empties it, its labels kept. */
void aggregate_reset(struct aggregate *a);
void aggregate_clear(struct aggregate *a);

/* Counts one store line (NULL: a line too long to be a record). */
void aggregate_line(struct aggregate *a, const char *line, size_t len);

/* Adds from into a (same labels), from left as it was. */
void aggregate_merge(struct aggregate *a, const struct aggregate *from);

/* The series of these label values, created when new; when the aggregate is full, the overflow
 * series (*folded true). */
struct series *aggregate_series(struct aggregate *a, char values[][SAMPLE_TEXT], bool *folded);

#endif
