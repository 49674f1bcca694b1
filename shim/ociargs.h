/* Reading an OCI runtime command line (runc, crun, runsc, kata-runtime) without changing it.
 *
 * The wrapper must find the subcommand and a few of its values (container id, bundle, pid file,
 * log file) while passing every argument through untouched, including flags it has never heard
 * of. Value-taking flags are known per runtime family; an unknown global flag without "=" takes
 * the next word as its value unless that word is a subcommand or another flag; an unknown
 * subcommand flag without "=" is taken as boolean. A command line this parser cannot make sense
 * of is passed through unmeasured, never rejected. */
#ifndef MEASURED_OCIARGS_H
#define MEASURED_OCIARGS_H

#include "oci.h"

/* Fills call from argv (argv[0] is the program). Never fails: what it cannot find stays NULL. */
void oci_args_parse(int argc, char *const *argv, struct oci_call *call);

#endif
