/* measured: the user's command. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#ifndef MEASURED_VERSION
#define MEASURED_VERSION "unknown"
#endif

static const struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"install", cmd_install, "register the measured runtimes with the Docker engine"},
    {"uninstall", cmd_uninstall, "remove measured's runtime entries from the engine"},
    {"list", cmd_list, "show the registered measured runtimes and their real runtimes"},
    {"discover", cmd_discover, "print the network path of a running container"},
    {"report", cmd_report, "statistics, comparisons and figures from the stores"},
    {"gc", cmd_gc, "record and remove state that no delete will come for"},
    {"top", cmd_top, "the running measured containers, live: path, rates, connections"},
    {"exporter", cmd_exporter, "serve the records and running containers to Prometheus"},
    {"reflector", cmd_reflector, "serve as the peer of measured-probe (TCP and UDP)"},
};

static void usage(FILE *out)
{
  fprintf(out, "usage: measured COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "  %-10s %s\n", "version", "print the version");
  fprintf(out, "\n`measured COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("measured %s\n", MEASURED_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "measured: unknown command \"%s\"\n\n", cmd);
  usage(stderr);
  return 2;
}
