/* `measured install --engine podman`, `uninstall --engine podman` and podman's part of `list`:
 * the OCI-CLI wrappers as podman runtimes, in a drop-in of measured's own (podman_config.h). */
#ifndef MEASURED_INSTALL_PODMAN_H
#define MEASURED_INSTALL_PODMAN_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

struct podman_opts {
  const char *dir; /* the containers.conf.d directory; NULL: podman's for this user */
  const char *const *names;
  size_t nnames;
  const char *bindir; /* NULL: next to this program */
  bool set_default, dry_run;
  bool no_confirm; /* do not ask podman whether it finds the runtimes */
};

int podman_install(const struct podman_opts *o, merr **err);
int podman_uninstall(const struct podman_opts *o, merr **err);
int podman_list(const struct podman_opts *o, merr **err);

/* Whether podman is in PATH. */
bool podman_installed(void);

#endif
