/* Registering the measured runtimes with the Docker engine (daemon.json): what `measured
 * install`, `uninstall` and `list` do for Docker (cli/ parses their options). */
#ifndef MEASURED_INSTALL_DOCKER_H
#define MEASURED_INSTALL_DOCKER_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

struct docker_opts {
  const char *config; /* daemon.json */
  const char *const *names;
  size_t nnames;
  const char *bindir;         /* NULL: next to this program */
  const char *docker_version; /* instead of asking the engine */
  bool set_default, dry_run, no_reload;
};

int docker_install(const struct docker_opts *o, merr **err);
int docker_uninstall(const struct docker_opts *o, merr **err);
int docker_list(const struct docker_opts *o, merr **err);

#endif
