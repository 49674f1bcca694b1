/* `measured install --engine containerd` and `measured uninstall --engine containerd`: the
 * shim-v2 runtimes as CRI runtime handlers (see containerd_config.h). */
#ifndef MEASURED_INSTALL_CONTAINERD_H
#define MEASURED_INSTALL_CONTAINERD_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

struct containerd_opts {
  const char *config; /* config.toml */
  const char *const *names;
  size_t nnames;
  const char *bindir; /* NULL: next to this program */
  bool dry_run;
};

int containerd_install(const struct containerd_opts *o, merr **err);
int containerd_uninstall(const struct containerd_opts *o, merr **err);

#endif
