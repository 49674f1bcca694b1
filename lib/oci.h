/* The OCI runtime call as every part of measured names it: which subcommand, which container,
 * and the few values of its command line that measurement needs. The OCI-CLI front end
 * (shim/ociargs.c) fills it from a command line, the hooks of the shim-v2 front end from the
 * container's state. */
#ifndef MEASURED_OCI_H
#define MEASURED_OCI_H

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

/* True when the id can name a state directory: 1-256 of [A-Za-z0-9_+.-], not "." or "..". */
bool oci_id_valid(const char *id);

const char *oci_sub_name(enum oci_sub sub);

#endif
