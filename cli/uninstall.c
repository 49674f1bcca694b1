/* measured uninstall: removes measured's own registrations, nothing else. */
#include "cleanup.h"
#include "commands.h"
#include "install_containerd.h"
#include "install_docker.h"
#include "register_args.h"

#include <stdio.h>

static void help(void)
{
  printf("usage: measured uninstall [--docker-config PATH] [--runtime NAME]... [--dry-run]\n"
         "                          [--no-reload]\n"
         "       measured uninstall --engine containerd [--containerd-config PATH] [--dry-run]\n\n"
         "Removes measured's own runtime entries (all, or the ones named) from daemon.json,\n"
         "and \"default-runtime\" when it named one of them. With --engine containerd: the\n"
         "import of measured's drop-in from config.toml (byte for byte the file as before),\n"
         "and the drop-in.\n");
}

int cmd_uninstall(int argc, char **argv)
{
  struct register_args a;
  int status;
  if (register_args_parse("uninstall", ACCEPT_RUNTIMES | ACCEPT_CHANGES | ACCEPT_ENGINES, argc,
                          argv, help, &a, &status) < 0)
    return status;
  cleanup_merr merr *err = NULL;
  int ret;
  if (a.engine == ENGINE_CONTAINERD) {
    struct containerd_opts o = {
        .config = a.containerd_config, .names = a.names, .nnames = a.nnames, .dry_run = a.dry_run};
    ret = containerd_uninstall(&o, &err);
  } else {
    struct docker_opts o = {.config = a.docker_config,
                            .names = a.names,
                            .nnames = a.nnames,
                            .dry_run = a.dry_run,
                            .no_reload = a.no_reload};
    ret = docker_uninstall(&o, &err);
  }
  if (ret < 0) {
    fprintf(stderr, "measured uninstall: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
