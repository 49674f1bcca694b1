/* measured list: what is registered, and what it wraps. */
#include "cleanup.h"
#include "commands.h"
#include "install_docker.h"
#include "register_args.h"

#include <stdio.h>

static void help(void)
{
  printf("usage: measured list [--docker-config PATH]\n\n"
         "Lists the measured runtimes registered in daemon.json, the real runtime each one\n"
         "wraps, whether that exists, and whether the running engine lists the runtime.\n");
}

int cmd_list(int argc, char **argv)
{
  struct register_args a;
  int status;
  if (register_args_parse("list", 0, argc, argv, help, &a, &status) < 0)
    return status;
  cleanup_merr merr *err = NULL;
  struct docker_opts o = {.config = a.docker_config};
  if (docker_list(&o, &err) < 0) {
    fprintf(stderr, "measured list: %s\n", merr_msg(err));
    return 1;
  }
  return 0;
}
