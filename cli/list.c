/* measured list: what is registered, and what it wraps. */
#include "cleanup.h"
#include "commands.h"
#include "install_docker.h"
#include "install_podman.h"
#include "register_args.h"

#include <stdio.h>

static void help(void)
{
  printf("usage: measured list [--docker-config PATH] [--engine docker|podman]\n"
         "                     [--podman-config-dir DIR]\n\n"
         "Lists the measured runtimes registered in daemon.json, the real runtime each one\n"
         "wraps, whether that exists, and whether the running engine lists the runtime; then\n"
         "those in podman's drop-in (when podman is installed or the drop-in exists), and\n"
         "which one is podman's default. --engine: only that engine's.\n");
}

int cmd_list(int argc, char **argv)
{
  struct register_args a;
  int status;
  if (register_args_parse("list", ACCEPT_ENGINES, argc, argv, help, &a, &status) < 0)
    return status;
  if (a.engine == ENGINE_CONTAINERD) {
    fprintf(stderr, "measured list: --engine is docker or podman (containerd's drop-in is "
                    "listed by reading it)\n");
    return 2;
  }
  cleanup_merr merr *err = NULL;
  struct docker_opts d = {.config = a.docker_config};
  struct podman_opts p = {.dir = a.podman_dir};
  bool docker = !a.engine_given || a.engine == ENGINE_DOCKER;
  bool podman =
      a.engine == ENGINE_PODMAN || (!a.engine_given && (podman_installed() || a.podman_dir));
  if ((docker && docker_list(&d, &err) < 0) || (podman && podman_list(&p, &err) < 0)) {
    fprintf(stderr, "measured list: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
