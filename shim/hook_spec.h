/* Putting measured's OCI hooks into a container's config.json (the shim-v2 wrapper's edit). */
#ifndef MEASURED_HOOK_SPEC_H
#define MEASURED_HOOK_SPEC_H

#include "json.h"
#include "merr.h"

#include <stdint.h>

enum { HOOK_TIMEOUT_S = 30 }; /* the hook bounds its own work well below this */

struct hook_spec {
  const char *path;    /* the program (absolute): measured-wrapper */
  const char *runtime; /* the runtime table entry */
  const char *owner;   /* the state owner token of this shim start */
  const char *scope;   /* the state scope's key (containerd's address and namespace) */
  int64_t since_us;    /* when the shim wrapper started (monotonic) */
  int64_t before_us;   /* the shim wrapper's own time */
  const char *config;  /* $MEASURED_CONFIG to pass on, NULL: none */
};

/* Appends one hook to each of hooks.createRuntime, hooks.poststart and hooks.poststop (after the
 * ones already there: Docker's own network hook runs first). An earlier measured hook is
 * replaced, so the edit can be made twice. Refuses a "hooks" that is not an object of arrays. */
int hook_spec_add(json *config, const struct hook_spec *h, merr **err);

#endif
