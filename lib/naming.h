/* The names measured goes by, in one place. For a runtime table entry X:
 *
 *   measured-X                       the OCI-CLI wrapper's link (Docker "path" runtimes, podman)
 *                                    and the daemon.json entry / CRI handler that names it
 *   containerd-shim-measured-X-v2    the shim-v2 wrapper's link, which containerd finds in PATH
 *   io.containerd.measured-X.v2      the runtime type containerd maps to that link
 *
 * A daemon.json entry measured-X-v2 asks for the shim-v2 form of X. */
#ifndef MEASURED_NAMING_H
#define MEASURED_NAMING_H

#include <stdbool.h>

#define NAMING_RUNTIME_PREFIX "measured-"
#define NAMING_SHIM_PREFIX "containerd-shim-measured-"
#define NAMING_SHIM_SUFFIX "-v2"
#define NAMING_TYPE_PREFIX "io.containerd.measured-"
#define NAMING_TYPE_SUFFIX ".v2"
#define NAMING_V2_SUFFIX "-v2"
/* The binary behind every link. */
#define NAMING_WRAPPER_BINARY "measured-wrapper"

/* New strings. */
char *naming_runtime(const char *name);      /* measured-X */
char *naming_shim_binary(const char *name);  /* containerd-shim-measured-X-v2 */
char *naming_runtime_type(const char *name); /* io.containerd.measured-X.v2 */

/* X of measured-X (a program name or a daemon.json key), NULL when it is not one. */
const char *naming_runtime_of(const char *word);

/* X of containerd-shim-measured-X-v2 as a new string, NULL when it is not one. */
char *naming_runtime_of_shim(const char *word);

/* X of io.containerd.measured-X.v2 as a new string, NULL when it is not one. */
char *naming_runtime_of_type(const char *type);

/* Whether a process name (/proc/<pid>/comm, cut at 15 bytes) is one of measured's wrappers. */
bool naming_is_wrapper_comm(const char *comm);

#endif
