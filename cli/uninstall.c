/* measured uninstall: removes measured's own registrations, nothing else. */
#include "cleanup.h"
#include "commands.h"
#include "install_containerd.h"
#include "install_docker.h"
#include "install_podman.h"
#include "register_args.h"

#include <stdio.h>

static void help(void)
{
  printf("usage: measured uninstall [--docker-config PATH] [--runtime NAME]... [--dry-run]\n"
         "                          [--no-reload]\n"
         "       measured uninstall --engine containerd [--containerd-config PATH] [--dry-run]\n"
         "       measured uninstall --engine podman [--podman-config-dir DIR]\n"
         "                          [--runtime NAME]... [--dry-run]\n\n"
         "Removes measured's own runtime entries (all, or the ones named) from daemon.json,\n"
         "and \"default-runtime\" when it named one of them. With --engine containerd: the\n"
         "import of measured's drop-in from config.toml (byte for byte the file as before),\n"
         "and the drop-in. With --engine podman: measured's drop-in in containers.conf.d (or,\n"
         "with --runtime, those runtimes from it, and its default when it named one of them).\n");
}

static int uninstall(const struct register_args *a, merr **err)
{
  if (a->engine == ENGINE_CONTAINERD) {
    struct containerd_opts o = {.config = a->containerd_config,
                                .names = a->names,
                                .nnames = a->nnames,
                                .dry_run = a->dry_run};
    return containerd_uninstall(&o, err);
  }
  if (a->engine == ENGINE_PODMAN) {
    struct podman_opts o = {
        .dir = a->podman_dir, .names = a->names, .nnames = a->nnames, .dry_run = a->dry_run};
    return podman_uninstall(&o, err);
  }
  struct docker_opts o = {.config = a->docker_config,
                          .names = a->names,
                          .nnames = a->nnames,
                          .dry_run = a->dry_run,
                          .no_reload = a->no_reload};
  return docker_uninstall(&o, err);
}

int cmd_uninstall(int argc, char **argv)
{
  struct register_args a;
  int status;
  if (register_args_parse("uninstall", ACCEPT_RUNTIMES | ACCEPT_CHANGES | ACCEPT_ENGINES, argc,
                          argv, help, &a, &status) < 0)
    return status;
  cleanup_merr merr *err = NULL;
  if (uninstall(&a, &err) < 0) {
    fprintf(stderr, "measured uninstall: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
