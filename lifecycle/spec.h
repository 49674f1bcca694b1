/* What the record says about a container, read from its OCI bundle's config.json (untrusted:
 * written from the image and the user's command line; size-capped and strictly parsed). */
#ifndef MEASURED_SPEC_H
#define MEASURED_SPEC_H

#include "json.h"
#include "merr.h"

enum {
  SPEC_MAX_BYTES = 8 << 20,
  SPEC_MAX_ARGS = 64,
  SPEC_MAX_ARG_BYTES = 1024,
  SPEC_MAX_LABELS = 32,
  SPEC_MAX_LABEL_KEY = 64,
  SPEC_MAX_LABEL_VALUE = 256,
};

#define SPEC_LABEL_PREFIX "MEASURED_LABEL_"

/* Reads and parses <bundle>/config.json (bundle NULL: the current directory). */
int spec_load(const char *bundle, json **config, merr **err);

/* Replaces <bundle>/config.json with config, atomically (temp file, fsync, rename), keeping its
 * mode. */
int spec_save(const char *bundle, const json *config, merr **err);

/* {"args":[...],"args_truncated":bool,"hostname":..,"netns":{"mode":"host|new|path","path":..}}
 * Args beyond SPEC_MAX_ARGS, or longer than SPEC_MAX_ARG_BYTES, are cut and flagged. */
json *spec_container_summary(const json *config);

/* The value of variable `name` in process.env (the last one set), NULL when absent. */
const char *spec_env(const json *config, const char *name);

/* The labels set with MEASURED_LABEL_<KEY>=<value> in process.env, as {"KEY":"value"}; keys of
 * [A-Za-z0-9_.-] only; malformed or excess entries are counted in *rejected. */
json *spec_labels(const json *config, unsigned *rejected);

#endif
