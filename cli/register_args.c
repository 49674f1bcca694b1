#include "register_args.h"
#include "containerd_config.h"
#include "daemon_json.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int usage_error(const char *cmd, const char *msg, int *status)
{
  fprintf(stderr, "measured %s: %s (see `measured %s --help`)\n", cmd, msg, cmd);
  *status = 2;
  return -1;
}

/* The option `c` is one this command takes. */
static bool accepted(int c, unsigned accept)
{
  switch (c) {
  case 'r':
    return accept & ACCEPT_RUNTIMES;
  case 'd':
  case 'b':
  case 'V':
    return accept & ACCEPT_INSTALL;
  case 'n':
  case 'R':
    return accept & ACCEPT_CHANGES;
  case 'e':
  case 'C':
  case 'P':
    return accept & ACCEPT_ENGINES;
  default:
    return true;
  }
}

static int take(int c, const char *cmd, struct register_args *a, int *status)
{
  switch (c) {
  case 'c':
    a->docker_config = optarg;
    break;
  case 'r':
    if (a->nnames == REGISTER_MAX_NAMES)
      return usage_error(cmd, "too many --runtime options", status);
    a->names[a->nnames++] = optarg;
    break;
  case 'd':
    a->set_default = true;
    break;
  case 'b':
    a->bindir = optarg;
    break;
  case 'V':
    a->docker_version = optarg;
    break;
  case 'n':
    a->dry_run = true;
    break;
  case 'R':
    a->no_reload = true;
    break;
  case 'e':
    a->engine_given = true;
    if (strcmp(optarg, "docker") == 0)
      a->engine = ENGINE_DOCKER;
    else if (strcmp(optarg, "containerd") == 0)
      a->engine = ENGINE_CONTAINERD;
    else if (strcmp(optarg, "podman") == 0)
      a->engine = ENGINE_PODMAN;
    else
      return usage_error(cmd, "--engine is docker, containerd or podman", status);
    break;
  case 'C':
    a->containerd_config = optarg;
    break;
  case 'P':
    a->podman_dir = optarg;
    break;
  }
  return 0;
}

/* Combinations that make no sense. */
static int check(const char *cmd, struct register_args *a, bool docker_config_given, int *status)
{
  if (a->set_default && a->nnames != 1)
    return usage_error(cmd, "--default needs exactly one --runtime", status);
  bool containerd = a->engine == ENGINE_CONTAINERD, podman = a->engine == ENGINE_PODMAN;
  if (a->containerd_config && !containerd)
    return usage_error(cmd, "--containerd-config goes with --engine containerd", status);
  if (a->podman_dir && !podman && (a->engine_given || strcmp(cmd, "list") != 0))
    return usage_error(cmd, "--podman-config-dir goes with --engine podman", status);
  if (podman && (a->docker_version || docker_config_given))
    return usage_error(cmd,
                       "--docker-version and --docker-config are Docker's; not with --engine "
                       "podman",
                       status);
  if (containerd && (a->set_default || a->docker_version || a->no_reload || docker_config_given))
    return usage_error(cmd,
                       "--default, --docker-version, --no-reload and --docker-config are "
                       "Docker's; not with --engine containerd",
                       status);
  if (containerd && !a->containerd_config)
    a->containerd_config = CONTAINERD_CONFIG_DEFAULT;
  return 0;
}

int register_args_parse(const char *cmd, unsigned accept, int argc, char **argv, void (*help)(void),
                        struct register_args *a, int *status)
{
  static const struct option longopts[] = {{"docker-config", required_argument, NULL, 'c'},
                                           {"runtime", required_argument, NULL, 'r'},
                                           {"default", no_argument, NULL, 'd'},
                                           {"dry-run", no_argument, NULL, 'n'},
                                           {"no-reload", no_argument, NULL, 'R'},
                                           {"bindir", required_argument, NULL, 'b'},
                                           {"docker-version", required_argument, NULL, 'V'},
                                           {"engine", required_argument, NULL, 'e'},
                                           {"containerd-config", required_argument, NULL, 'C'},
                                           {"podman-config-dir", required_argument, NULL, 'P'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->docker_config = DAEMON_JSON_DEFAULT;
  bool docker_config_given = false;
  optind = 1;
  opterr = 0;
  int idx = 0;
  for (int c; (c = getopt_long(argc, argv, "+h", longopts, &idx)) != -1;) {
    if (c == 'h') {
      help();
      *status = 0;
      return -1;
    }
    if (c == '?' || c == ':')
      return usage_error(cmd, "unknown option or missing value", status);
    if (!accepted(c, accept)) {
      char msg[96];
      snprintf(msg, sizeof msg, "--%s is not an option of %s", longopts[idx].name, cmd);
      return usage_error(cmd, msg, status);
    }
    docker_config_given = docker_config_given || c == 'c';
    if (take(c, cmd, a, status) < 0)
      return -1;
  }
  if (optind < argc)
    return usage_error(cmd, "unexpected argument", status);
  return check(cmd, a, docker_config_given, status);
}
