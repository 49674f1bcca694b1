/* `measured install`, `measured uninstall`, `measured list`: registering the measured runtimes
 * with the Docker engine. Each returns the process exit status (0 ok, 1 failure, 2 usage). */
#ifndef MEASURED_COMMANDS_H
#define MEASURED_COMMANDS_H

int cmd_install(int argc, char **argv);
int cmd_uninstall(int argc, char **argv);
int cmd_list(int argc, char **argv);

#endif
