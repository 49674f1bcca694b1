/* Podman's configuration (containers.conf), read the way podman reads it and added to the way
 * its documentation suggests: a drop-in file of measured's own in containers.conf.d, which podman
 * reads after the main files, in name order, each one overriding what came before. Tables merge
 * key by key (measured's [engine.runtimes] entries join the others); an array replaces the whole
 * value before it.
 *
 * The drop-in registers each runtime as `measured-<x> = ["<bindir>/measured-<x>"]` under
 * [engine.runtimes]. Podman passes --log-format=json to a runtime only when its name is in
 * runtime_supports_json (and treats runtime_supports_kvm and runtime_supports_nocgroups alike),
 * so the drop-in also sets those three arrays: their values in the files read before it (or
 * podman's defaults), plus measured-<x> wherever <x> stands. With --default, [engine] runtime
 * names one of them.
 *
 * Files (podman 4.3, containers/common 0.50):
 *   /usr/share/containers/containers.conf, /etc/containers/containers.conf,
 *   /etc/containers/containers.conf.d/ *.conf; for a user (rootless) also
 *   $XDG_CONFIG_HOME (or ~/.config)/containers/containers.conf and its containers.conf.d.
 *   CONTAINERS_CONF, when set, is the one file podman reads: a drop-in cannot work then. */
#ifndef MEASURED_PODMAN_CONFIG_H
#define MEASURED_PODMAN_CONFIG_H

#include "merr.h"

#include <stdbool.h>
#include <stddef.h>

#define PODMAN_DROPIN_NAME "measured.conf"
#define PODMAN_SYSTEM_DIR "/etc/containers/containers.conf.d"

enum { PODMAN_MAX_FILES = 64, PODMAN_MAX_LIST = 64 };

/* The three arrays the drop-in keeps in step with the runtimes it adds. */
enum podman_list { PODMAN_JSON, PODMAN_KVM, PODMAN_NOCGROUPS, PODMAN_NLISTS };
const char *podman_list_key(enum podman_list l); /* "runtime_supports_json", ... */

struct podman_strings {
  char *item[PODMAN_MAX_LIST];
  size_t n;
};
void podman_strings_clear(struct podman_strings *s);

/* The drop-in directory podman reads for this user: PODMAN_SYSTEM_DIR for root of the host, the
 * user's own otherwise. NULL (with err) when it cannot be known. */
char *podman_dropin_dir(bool rootless, merr **err);

/* The files podman reads, in its order, for a drop-in directory `dir` (measured's drop-in left
 * out): the main files, then dir's *.conf sorted by name. A file that does not exist is left
 * out. */
int podman_config_files(const char *dir, bool rootless, char ***files, size_t *n, merr **err);
void podman_config_files_free(char **files, size_t n);

/* The value of each of the three arrays after those files (podman's defaults where none sets
 * it). A file that is not valid TOML is refused, with where. */
int podman_effective_lists(char *const *files, size_t n, struct podman_strings lists[PODMAN_NLISTS],
                           merr **err);

struct podman_runtime {
  const char *name;    /* the table entry's name: the runtime is measured-<name> */
  const char *real;    /* the real runtime's file name (runc), for the supports lists */
  const char *wrapper; /* the path podman runs */
};

/* Whether measured-<name> can be a key of [engine.runtimes]: a valid runtime name without '.'
 * (which TOML readers, this one included, take for a table when the key is dotted). */
bool podman_name_ok(const char *name);

/* The drop-in's whole text. default_name: the runtime [engine] runtime names, NULL: none. */
char *podman_dropin_text(const struct podman_runtime *rt, size_t n,
                         const struct podman_strings lists[PODMAN_NLISTS],
                         const char *default_name);

/* The measured runtimes a file registers: keys "engine.runtimes.measured-*" and the first path
 * of each; *default_name gets [engine] runtime when it is a measured one (else NULL). */
struct podman_registered {
  char *key;  /* measured-<x> */
  char *path; /* its first path, NULL when it lists none */
};
int podman_read_registrations(const char *text, size_t len, const char *what,
                              struct podman_registered **out, size_t *n, char **default_name,
                              merr **err);
void podman_registered_free(struct podman_registered *r, size_t n);

#endif
