/* Reading a containerd shim's command line (runtime v2) without changing it.
 *
 * containerd runs `containerd-shim-<name>-v2 [flags] start|delete` with Go-style flags
 * (-flag value, -flag=value, one or two dashes): -namespace, -address, -publish-binary, -id,
 * -bundle, -socket, and the booleans -debug and -v. A command line with anything else is passed
 * through unmeasured, never rejected. */
#ifndef MEASURED_SHIMARGS_H
#define MEASURED_SHIMARGS_H

enum shim_action {
  SHIM_OTHER, /* not understood, or nothing to measure: passed through */
  SHIM_START, /* start a shim for a container (prints its address) */
  SHIM_DELETE,
};

struct shim_call {
  enum shim_action action;
  const char *id;        /* -id */
  const char *namespace; /* -namespace */
  const char *address;   /* -address: containerd's socket */
  const char *bundle;    /* -bundle (delete); start runs in the bundle */
};

void shim_args_parse(int argc, char *const *argv, struct shim_call *call);

#endif
