/* containerd's configuration, edited the way its own docs suggest for additions: measured's
 * runtimes go into a drop-in file of measured's own (whole, rewritten at will), and the user's
 * config.toml only gains that file in its root "imports" array. Every other byte of config.toml
 * (tables, keys, comments, layout) is kept; a malformed config.toml is refused, untouched.
 *
 * Each runtime becomes a CRI runtime handler (containerd 1.x, config version 2):
 *   [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.measured-kata]
 *     runtime_type = "io.containerd.measured-kata.v2"
 * which Kubernetes selects with a RuntimeClass whose handler is "measured-kata". */
#ifndef MEASURED_CONTAINERD_CONFIG_H
#define MEASURED_CONTAINERD_CONFIG_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

#define CONTAINERD_CONFIG_DEFAULT "/etc/containerd/config.toml"
#define CONTAINERD_DROPIN_NAME "measured-runtimes.toml"

struct containerd_runtime {
  const char *handler;      /* measured-<name> */
  const char *runtime_type; /* io.containerd.measured-<name>.v2 */
};

/* The drop-in file's whole text. */
char *containerd_dropin_text(const struct containerd_runtime *rt, size_t n);

/* The config.toml text with `path` in its root "imports" (added when missing: *changed). text
 * NULL: there is no file yet, and a minimal one is made. */
int containerd_add_import(const char *text, size_t len, const char *what, const char *path,
                          char **out, bool *changed, merr **err);

/* The same with `path` taken out of "imports" again. */
int containerd_remove_import(const char *text, size_t len, const char *what, const char *path,
                             char **out, bool *changed, merr **err);

#endif
