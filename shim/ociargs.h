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

#include <stdbool.h>

enum oci_sub {
  OCI_SUB_NONE,  /* no subcommand (e.g. --version, --help) */
  OCI_SUB_OTHER, /* passed through without measuring */
  OCI_SUB_CREATE,
  OCI_SUB_START,
  OCI_SUB_EXEC,
  OCI_SUB_KILL,
  OCI_SUB_DELETE,
};

struct oci_call {
  enum oci_sub sub;
  int sub_index;          /* argv index of the subcommand, -1 when none */
  const char *sub_name;   /* argv[sub_index] */
  const char *id;         /* container id, NULL when not found */
  const char *log_path;   /* --log */
  const char *log_format; /* --log-format */
  const char *root;       /* --root */
  const char *bundle;     /* create: --bundle/-b, NULL = current directory */
  const char *pid_file;   /* create/exec: --pid-file */
  const char *signal;     /* kill: the signal argument, NULL = runtime default (SIGTERM) */
  bool force;             /* delete --force */
  bool detach;            /* exec --detach */
};

/* Fills call from argv (argv[0] is the program). Never fails: what it cannot find stays NULL. */
void oci_args_parse(int argc, char *const *argv, struct oci_call *call);

/* True when the id can name a state directory: 1-256 of [A-Za-z0-9_+.-], not "." or "..". */
bool oci_id_valid(const char *id);

const char *oci_sub_name(enum oci_sub sub);

#endif
