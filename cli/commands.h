/* The commands of `measured`, one file each in cli/: each parses its own options and calls the
 * library that does the work. Each returns the process exit status (0 ok, 1 failure, 2 usage). */
#ifndef MEASURED_COMMANDS_H
#define MEASURED_COMMANDS_H

int cmd_install(int argc, char **argv);   /* install.c: runtime-config/ */
int cmd_uninstall(int argc, char **argv); /* uninstall.c */
int cmd_list(int argc, char **argv);      /* list.c */
int cmd_discover(int argc, char **argv);  /* discover.c: netsetup/ */
int cmd_report(int argc, char **argv);    /* report.c: report/ */
int cmd_gc(int argc, char **argv);        /* gc.c: lifecycle/gc */
int cmd_reflector(int argc, char **argv); /* reflector.c: probe/reflector */
int cmd_top(int argc, char **argv);       /* top.c: the state the monitors keep */
int cmd_exporter(int argc, char **argv);  /* exporter.c: exporter/ */

#endif
