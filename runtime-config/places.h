/* Where measured keeps its own files, for whoever runs it.
 *
 * Root of the host (the initial user namespace): the system's places,
 *   /etc/measured/measured.json, /run/measured, /var/lib/measured/samples.jsonl.
 * Anyone else is rootless: a user running measured, or rootless podman, which runs the runtime
 * (and so the wrapper) as uid 0 of a user namespace that maps it to the user. Root's places are
 * not theirs to write, so they get their own, in the places the XDG base directories name by
 * default:
 *   ~/.config/measured/measured.json
 *   $XDG_RUNTIME_DIR/measured                 (podman sets it for every call)
 *   ~/.local/share/measured/samples.jsonl
 * where ~ is the home of the user the caller maps to, from /etc/passwd. Not $HOME, nor
 * $XDG_CONFIG_HOME or $XDG_DATA_HOME: podman passes them to the runtime's create but not to its
 * start or delete, and every call of a lifecycle must find the same files.
 * The system's table is not read by a rootless caller: it names root's store and state.
 * A place that cannot be known (no XDG_RUNTIME_DIR, no HOME) is NULL, with the reason. */
#ifndef MEASURED_PLACES_H
#define MEASURED_PLACES_H

#include <stdbool.h>

struct measured_places {
  bool rootless;
  const char *config;    /* the runtime table's file */
  const char *state_dir; /* NULL: unknown (why) */
  const char *store;     /* NULL: unknown (why) */
  const char *why;       /* what is missing, when something is NULL */
};

/* Worked out once per process, from the user namespace and the environment. */
const struct measured_places *measured_places(void);

#endif
