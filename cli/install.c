/* measured install: registers the measured runtimes with an engine. */
#include "cleanup.h"
#include "commands.h"
#include "containerd_config.h"
#include "daemon_json.h"
#include "install_containerd.h"
#include "install_docker.h"
#include "install_podman.h"
#include "podman_config.h"
#include "register_args.h"

#include <stdio.h>

static void help(void)
{
  printf("usage: measured install [--docker-config PATH] [--runtime NAME]... [--default]\n"
         "                        [--dry-run] [--no-reload] [--bindir DIR]\n"
         "                        [--docker-version VERSION]\n"
         "       measured install --engine containerd [--containerd-config PATH]\n"
         "                        [--runtime NAME]... [--dry-run] [--bindir DIR]\n"
         "       measured install --engine podman [--podman-config-dir DIR]\n"
         "                        [--runtime NAME]... [--default] [--dry-run] [--no-reload]\n"
         "                        [--bindir DIR]\n\n"
         "Registers measured-NAME runtimes in Docker's daemon.json (default %s),\n"
         "keeping every other setting, after a timestamped backup; then reloads the engine\n"
         "and confirms that it lists them. Without --runtime: every runtime of the table\n"
         "that is installed. A runtime with an OCI command line (runc, crun, runsc, Kata 1.x)\n"
         "goes through the OCI-CLI wrapper (\"path\"); one that is a containerd shim only\n"
         "(Kata 2.x/3.x) through the shim-v2 wrapper (\"runtimeType\", Docker >= 23);\n"
         "NAME-v2 asks for the shim-v2 form of a runtime that has both. The engine's version\n"
         "comes from the running engine or `dockerd --version`; --docker-version says it.\n"
         "--default makes the one runtime named the engine's default. --dry-run prints the\n"
         "result and changes nothing. --bindir: where the wrapper and its links are (default:\n"
         "next to this program).\n"
         "--engine containerd: every runtime of the table whose containerd shim is installed\n"
         "(or the ones named) becomes a CRI runtime handler measured-NAME in a drop-in file\n"
         "next to config.toml (default %s), which config.toml imports.\n"
         "--engine podman: every runtime of the table with an OCI command line (or the ones\n"
         "named, added to those registered before) goes into measured's own drop-in\n"
         "%s in podman's containers.conf.d (default %s for root, the\n"
         "user's ~/.config/containers/containers.conf.d otherwise), with podman's lists of\n"
         "runtimes that support JSON logs, KVM and running without cgroups extended to the\n"
         "measured runtimes of those that do; then podman is asked which file each name runs\n"
         "(--no-reload: not asked).\n",
         DAEMON_JSON_DEFAULT, CONTAINERD_CONFIG_DEFAULT, PODMAN_DROPIN_NAME, PODMAN_SYSTEM_DIR);
}

static int install(const struct register_args *a, merr **err)
{
  if (a->engine == ENGINE_CONTAINERD) {
    struct containerd_opts o = {.config = a->containerd_config,
                                .names = a->names,
                                .nnames = a->nnames,
                                .bindir = a->bindir,
                                .dry_run = a->dry_run};
    return containerd_install(&o, err);
  }
  if (a->engine == ENGINE_PODMAN) {
    struct podman_opts o = {.dir = a->podman_dir,
                            .names = a->names,
                            .nnames = a->nnames,
                            .bindir = a->bindir,
                            .set_default = a->set_default,
                            .dry_run = a->dry_run,
                            .no_confirm = a->no_reload};
    return podman_install(&o, err);
  }
  struct docker_opts o = {.config = a->docker_config,
                          .names = a->names,
                          .nnames = a->nnames,
                          .bindir = a->bindir,
                          .docker_version = a->docker_version,
                          .set_default = a->set_default,
                          .dry_run = a->dry_run,
                          .no_reload = a->no_reload};
  return docker_install(&o, err);
}

int cmd_install(int argc, char **argv)
{
  struct register_args a;
  int status;
  if (register_args_parse("install",
                          ACCEPT_RUNTIMES | ACCEPT_INSTALL | ACCEPT_CHANGES | ACCEPT_ENGINES, argc,
                          argv, help, &a, &status) < 0)
    return status;
  cleanup_merr merr *err = NULL;
  if (install(&a, &err) < 0) {
    fprintf(stderr, "measured install: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
