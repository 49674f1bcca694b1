/* Least privilege for a process of ours that must not keep root's powers: the probe's measuring
 * child and the wrapper's long-lived monitor. One call sets no_new_privs, keeps only the given
 * capabilities (effective and permitted; every other one leaves every set, the bounding set
 * included) and installs a seccomp allowlist under which any other call fails with EPERM, so
 * that the caller can report it rather than die. */
#ifndef MEASURED_PRIVILEGES_H
#define MEASURED_PRIVILEGES_H

#include "merr.h"

#include <seccomp.h>
#include <stddef.h>
#include <sys/capability.h>

/* A system call allowed only when its argument number arg equals value. */
struct syscall_rule {
  int syscall;
  unsigned arg;
  scmp_datum_t value;
};

struct privileges {
  const cap_value_t *keep; /* capabilities kept (may be none) */
  size_t nkeep;
  const int *calls; /* allowed with any arguments; NULL: no system call filter at all */
  size_t ncalls;
  const struct syscall_rule *rules; /* allowed with one argument fixed */
  size_t nrules;
};

int privileges_confine(const struct privileges *p, merr **err);

#endif
