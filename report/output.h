/* The report's three forms: an aligned table (80 columns), CSV and JSON; and the comparison
 * with a baseline runtime. */
#ifndef MEASURED_REPORT_OUTPUT_H
#define MEASURED_REPORT_OUTPUT_H

#include "dataset.h"
#include "json.h"

#include <stdio.h>

/* The comparisons with `baseline` (NULL: none), as JSON: one entry per group and metric where
 * both the runtime and the baseline have values. */
json *report_comparisons(const struct dataset *d, const char *baseline);

json *report_json(const struct dataset *d, const char *const *files, size_t nfiles,
                  const char *baseline);
void report_table(FILE *out, const struct dataset *d, const char *const *files, size_t nfiles,
                  const char *baseline);
void report_csv(FILE *out, const struct dataset *d);

/* A number as the table shows it: four significant figures, never an exponent. */
void format_value(double v, char *buf, size_t size);

#endif
