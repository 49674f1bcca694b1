/* The running Docker engine: its pid, the daemon.json it reads, a reload, and its API (over the
 * unix socket, no docker CLI needed) to confirm what it knows. */
#ifndef MEASURED_ENGINE_H
#define MEASURED_ENGINE_H

#include "json.h"
#include "merr.h"

#include <stdbool.h>
#include <sys/types.h>

#define ENGINE_PID_FILE "/var/run/docker.pid"
#define ENGINE_SOCKET "/var/run/docker.sock"

/* The pid of a running dockerd (from its pid file, checked against /proc); 0 when none runs. */
pid_t engine_pid(void);

/* The daemon.json the engine with that pid reads (--config-file, else the default). */
char *engine_config_file(pid_t pid);

/* Asks the engine to reload its configuration (SIGHUP). */
int engine_reload(pid_t pid, merr **err);

/* GET path on the engine's API; the parsed JSON body. The socket is $DOCKER_HOST when it is a
 * unix:// address, else ENGINE_SOCKET. */
int engine_get(const char *path, json **body, merr **err);

/* Waits (at most timeout_ms) until the engine's runtime list contains every name in `present`
 * and none in `absent` (NULL-terminated lists). */
int engine_wait_runtimes(const char *const *present, const char *const *absent, int timeout_ms,
                         merr **err);

/* The engine's version ("26.1.5+dfsg1": major 26, minor 1). */
struct engine_version {
  int major, minor;
  char text[48];
  const char *source; /* "the running engine", "dockerd --version", "--docker-version" */
};

/* Reads "MAJOR.MINOR[.anything]" (after an optional "v"). */
bool engine_version_parse(const char *s, struct engine_version *v);

/* Asks the running engine's API; without one, runs `dockerd --version`. */
int engine_version_detect(struct engine_version *v, merr **err);

/* Docker reaches containerd shims ("runtimeType" in daemon.json) from 23.0 on. */
bool engine_has_runtime_type(const struct engine_version *v);

#endif
