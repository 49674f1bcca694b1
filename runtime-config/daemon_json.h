/* Editing Docker's daemon.json: measured's own runtime entries in, or out, with every other key
 * and value kept. Pure functions on a parsed tree (see json.h: order, duplicates and number
 * literals survive), so that they can be tested and fuzzed without touching a file. */
#ifndef MEASURED_DAEMON_JSON_H
#define MEASURED_DAEMON_JSON_H

#include "json.h"
#include "merr.h"

#include <stdbool.h>

#define DAEMON_JSON_DEFAULT "/etc/docker/daemon.json"

/* Sets runtimes.<key>.path = path (other keys of the entry are kept, but a "runtimeType" goes:
 * the engine refuses both in one entry). *changed tells whether the
 * document differs afterwards. Refuses a "runtimes" or an entry that is not an object. */
int daemon_json_add_runtime(json *doc, const char *key, const char *path, bool *changed,
                            merr **err);

/* Sets runtimes.<key>.runtimeType (the shim-v2 form, Docker >= 23), dropping a "path". */
int daemon_json_add_shim_runtime(json *doc, const char *key, const char *runtime_type,
                                 bool *changed, merr **err);

/* Sets "default-runtime" to key. */
int daemon_json_set_default(json *doc, const char *key, bool *changed, merr **err);

/* Removes runtimes.<key> when it is measured's own entry (daemon_json_is_own); drops
 * "default-runtime" when it named it, so the engine falls back to its own default (runc). */
int daemon_json_remove_runtime(json *doc, const char *key, bool *changed, merr **err);

/* An entry is measured's when its name is "measured-<x>" and either its path ends in
 * "/measured-<x>" or its runtimeType is "io.containerd.measured-<y>.v2" with x = y or y-v2: the
 * shapes `measured install` writes. Anything else is left alone. */
bool daemon_json_is_own(const char *key, const json *entry);

/* The runtimes object (NULL when absent). */
const json *daemon_json_runtimes(const json *doc);

#endif
