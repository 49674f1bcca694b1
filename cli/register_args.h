/* The options `measured install`, `uninstall` and `list` share: which engine, which
 * configuration file, which runtimes. Each command says which of them it takes. */
#ifndef MEASURED_REGISTER_ARGS_H
#define MEASURED_REGISTER_ARGS_H

#include <stdbool.h>
#include <stddef.h>

enum { REGISTER_MAX_NAMES = 64 };

enum register_engine { ENGINE_DOCKER, ENGINE_CONTAINERD, ENGINE_PODMAN };

/* What a command accepts beyond --docker-config. */
enum {
  ACCEPT_RUNTIMES = 1 << 0, /* --runtime NAME... */
  ACCEPT_INSTALL = 1 << 1,  /* --default, --bindir, --docker-version */
  ACCEPT_CHANGES = 1 << 2,  /* --dry-run, --no-reload */
  ACCEPT_ENGINES = 1 << 3,  /* --engine, --containerd-config, --podman-config-dir */
};

struct register_args {
  enum register_engine engine;
  const char *docker_config, *containerd_config, *podman_dir, *bindir, *docker_version;
  const char *names[REGISTER_MAX_NAMES + 1];
  size_t nnames;
  bool set_default, dry_run, no_reload;
  bool engine_given; /* --engine was said */
};

/* Parses argv (argv[0] is the command's name): 0 when the command is to run; -1 when it is to
 * end now with *status (0 after --help, which calls help(); 2 after a usage error, said on
 * stderr). */
int register_args_parse(const char *cmd, unsigned accept, int argc, char **argv, void (*help)(void),
                        struct register_args *a, int *status);

#endif
