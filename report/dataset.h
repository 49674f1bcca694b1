/* Reading stores into groups: every line is parsed (in parallel, one chunk of the files per
 * CPU), filtered, and its metrics appended to its group. Nothing is kept per record, so memory
 * grows with the number of values, not with the size of the store. */
#ifndef MEASURED_REPORT_DATASET_H
#define MEASURED_REPORT_DATASET_H

#include "merr.h"
#include "sample.h"

#include <stdbool.h>
#include <stddef.h>

enum { MAX_KEYS = 6 };

/* What a group is made of: runtime, driver, load (label "load", "none" when unset), pair
 * (label "pair", else the driver), outcome, or label:NAME. */
struct group_by {
  char *fields[MAX_KEYS];
  size_t n;
};

int group_by_parse(const char *spec, struct group_by *out, merr **err);

struct filters {
  const char *since; /* RFC 3339 prefix, compared with created_at */
  const char **runtimes;
  size_t nruntimes;
  const char **drivers;
  size_t ndrivers;
  const char **labels; /* "KEY=VALUE" */
  size_t nlabels;
};

/* Parses --since: an RFC 3339 date/time (UTC), or a duration back from now ("90m", "6h",
 * "7d"), into the prefix-comparable form "YYYY-MM-DDTHH:MM:SS". */
int since_parse(const char *text, char *out, size_t size, merr **err);

struct values {
  double *v;
  size_t n, cap;
};

struct group {
  char *key[MAX_KEYS];
  size_t records; /* completed lifecycles: their metrics are the group's */
  size_t failed;  /* lifecycles that did not complete (a failed create): counted, not measured */
  bool unsupported;
  char *reason;
  struct values metric[M_COUNT];
};

struct dataset {
  struct group_by by;
  struct group *groups; /* sorted by key */
  size_t ngroups;
  size_t lines, malformed, filtered;
};

int dataset_load(const char *const *files, size_t nfiles, const struct group_by *by,
                 const struct filters *f, int threads, struct dataset *out, merr **err);

/* The same data grouped more coarsely: every field of `by` must be a field of d's grouping.
 * Lets one pass over the stores serve the table and the figures. */
int dataset_regroup(const struct dataset *d, const struct group_by *by, struct dataset *out,
                    merr **err);

/* The union of two groupings' fields, in order of appearance. */
int group_by_union(const struct group_by *a, const struct group_by *b, struct group_by *out,
                   merr **err);

/* Groups equal on every key but `field` (for the comparison with a baseline). */
bool groups_match_except(const struct dataset *d, const struct group *a, const struct group *b,
                         size_t field);

void dataset_clear(struct dataset *d);

#endif
