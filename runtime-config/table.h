/* The runtime table: which real runtime each `measured-<name>` wraps, with what extra arguments,
 * and where its records go. Read from /etc/measured/measured.json (or $MEASURED_CONFIG; a rootless
 * caller's own file, places.h); built-in
 * entries for runc, crun, runsc, kata-runtime (Kata 1.x) and kata (Kata 2.x/3.x, a shim only)
 * apply when the file is absent, and the file's entries replace built-in ones of the same name.
 * `shim` names the containerd shim that containerd-shim-measured-<name>-v2 wraps.
 *
 *   {
 *     "store": "/var/lib/measured/samples.jsonl",      optional
 *     "state_dir": "/run/measured",                    optional
 *     "sample_interval_ms": 1000,                      optional, also per runtime
 *     "store_max_bytes": 268435456,                    optional: rotate past it (0: never)
 *     "store_keep": 4,                                 optional: rotated files kept
 *     "flows": true,                                   optional, also per runtime: measure the
 *                                                      workload's own connections
 *     "probe_binary": "/usr/local/libexec/measured/measured-probe",   optional
 *     "export_labels": ["workload"],                   optional: the MEASURED_LABEL_* keys
 *                                                      `measured exporter` makes labels of
 *     "runtimes": {
 *       "runsc": {"path": "runsc", "args": ["--network=host"], "store": "/x.jsonl"},
 *       "kata": {"path": "kata-runtime", "shim": "containerd-shim-kata-v2"},
 *       "runc-probe": {"path": "runc", "probe": {"tests": "latency,bandwidth",
 *                      "peer": "172.17.0.1:7447", "mode": "prelude", "budget_ms": 2000}}
 *     }
 *   }
 *
 * Parsing is strict: an unknown key is an error (a typo must not silently change what runs). */
#ifndef MEASURED_TABLE_H
#define MEASURED_TABLE_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEASURED_DEFAULT_CONFIG "/etc/measured/measured.json"
#define MEASURED_DEFAULT_STORE "/var/lib/measured/samples.jsonl"
#define MEASURED_DEFAULT_STATE_DIR "/run/measured"
#define MEASURED_DEFAULT_SAMPLE_INTERVAL_MS 1000
#define MEASURED_DEFAULT_STORE_MAX_BYTES (256LL << 20)
#define MEASURED_DEFAULT_STORE_KEEP 4
#define MEASURED_MIN_SAMPLE_INTERVAL_MS 10
/* The shortest interval a container may ask for (MEASURED_SAMPLE_INTERVAL_MS): the table's
 * administrator may go lower, a container may not make the monitor work harder than this. */
#define MEASURED_MIN_CONTAINER_INTERVAL_MS 100
#define MEASURED_MAX_SAMPLE_INTERVAL_MS 3600000
/* Each exported label multiplies the exporter's series: few, and their values are bounded there. */
#define TABLE_MAX_EXPORT_LABELS 4

/* The probe settings of a runtime entry, as strings and numbers the container's
 * MEASURED_PROBE* variables can override (0 / NULL: not set). */
struct probe_settings {
  char *tests; /* "latency", "bandwidth", "latency,bandwidth" */
  char *peer;  /* "IP[:PORT]" */
  char *mode;  /* "prelude" or "exec" */
  int budget_ms, msg_size, latency_ms, bandwidth_ms;
  int reverse; /* 1 when set */
};

struct runtime_entry {
  char *name;  /* what follows "measured-" */
  char *path;  /* absolute path, or a name searched in PATH */
  char *shim;  /* the containerd shim it runs under (containerd-shim-<x>-v2), NULL: none */
  char **args; /* extra global arguments put before the caller's */
  size_t nargs;
  char *store;            /* NULL: the table's store */
  int sample_interval_ms; /* 0: the table's */
  struct probe_settings probe;
  int flows; /* measure the workload's connections: 1, 0, or -1 for the table's */
  bool builtin;
};

struct runtime_table {
  char *source; /* the file read, or "built-in defaults" */
  char *store;
  char *state_dir;
  int sample_interval_ms;  /* network counter sampling interval */
  int64_t store_max_bytes; /* a store is rotated past this size; 0: never */
  int store_keep;          /* rotated files kept (store.1 ... store.N) */
  int flows;               /* 1: measure the workload's connections (the default), 0: not */
  char *probe_binary;      /* NULL: next to the wrapper, ../libexec/measured/measured-probe */
  char **export_labels;    /* record label keys the exporter keeps as Prometheus labels */
  size_t nexport_labels;   /* at most TABLE_MAX_EXPORT_LABELS */
  struct runtime_entry *entries;
  size_t n;
};

/* The table file to use: $MEASURED_CONFIG when set, else MEASURED_DEFAULT_CONFIG for root of the
 * host and the user's own for anyone else (places.h). */
const char *runtime_table_path(void);

/* Loads the table from path; a missing file gives the built-in defaults. */
int runtime_table_load(const char *path, struct runtime_table **out, merr **err);
/* Parses a table document (the built-in entries included); `what` names it in errors. */
int runtime_table_parse(const char *buf, size_t len, const char *what, struct runtime_table **out,
                        merr **err);
void runtime_table_free(struct runtime_table *t);

const struct runtime_entry *runtime_table_find(const struct runtime_table *t, const char *name);
const char *runtime_entry_store(const struct runtime_table *t, const struct runtime_entry *e);
int runtime_entry_sample_interval_ms(const struct runtime_table *t, const struct runtime_entry *e);
bool runtime_entry_flows(const struct runtime_table *t, const struct runtime_entry *e);

/* A runtime name is 1-64 of [a-z0-9._-], starting with a letter or digit, and not "wrapper"
 * (the name of the binary behind the links). */
bool runtime_name_valid(const char *name);

/* Resolves an entry's path to an absolute executable: used as is when absolute, searched in
 * $PATH (or the standard system directories) when a plain name. */
int runtime_resolve(const char *path, char **out, merr **err);

#endif
