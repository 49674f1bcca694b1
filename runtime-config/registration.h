/* How a runtime table entry is registered with Docker: through the OCI-CLI wrapper (a "path" to
 * the link measured-<name>) or through the shim-v2 wrapper (a "runtimeType" naming
 * io.containerd.measured-<name>.v2, which containerd runs as containerd-shim-measured-<name>-v2).
 *
 * An entry whose runtime answers the OCI command line (runc, crun, runsc, Kata 1.x) gets the
 * path form, which every engine takes. An entry that is a shim only (Kata 2.x/3.x: kata-runtime,
 * if present, has no `create`) gets the runtimeType form, which needs Docker >= 23. Asking for
 * <name>-v2 gets the runtimeType form of an entry that has both, under that key. */
#ifndef MEASURED_REGISTRATION_H
#define MEASURED_REGISTRATION_H

#include "engine.h"
#include "merr.h"
#include "table.h"

enum reg_form { REG_OCI, REG_SHIM };

struct registration {
  const struct runtime_entry *entry;
  enum reg_form form;
  char *key;          /* the daemon.json entry: measured-<requested> */
  char *link;         /* the link to make next to the wrapper */
  char *runtime_type; /* REG_SHIM only */
  char *why;          /* the choice, in one sentence */
};

/* ev: the engine's version, NULL when unknown (ev_why says why); needed for the shim form only.
 * Fails, saying why, when the entry cannot be registered with this engine. */
int registration_choose(const struct runtime_table *t, const char *requested,
                        const struct engine_version *ev, const char *ev_why,
                        struct registration *out, merr **err);
void registration_clear(struct registration *r);

/* Whether the program answers the OCI runtime command line (its --help lists `create`). */
bool oci_cli_capable(const char *path);

#endif
