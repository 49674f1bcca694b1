#include "engine.h"
#include "capture.h"
#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "table.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { API_MAX_RESPONSE = 8 << 20, API_TIMEOUT_MS = 5000 };

pid_t engine_pid(void)
{
  cleanup_free char *text = NULL;
  if (read_file_at(AT_FDCWD, ENGINE_PID_FILE, 64, &text, NULL, NULL) < 0)
    return 0;
  long pid = strtol(text, NULL, 10);
  if (pid <= 0)
    return 0;
  cleanup_free char *comm_path = xasprintf("/proc/%ld/comm", pid);
  cleanup_free char *comm = NULL;
  if (read_file_at(AT_FDCWD, comm_path, 64, &comm, NULL, NULL) < 0)
    return 0;
  return strncmp(comm, "dockerd", 7) == 0 ? (pid_t)pid : 0;
}

char *engine_config_file(pid_t pid)
{
  cleanup_free char *path = xasprintf("/proc/%d/cmdline", (int)pid);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, NULL) == 0) {
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
      const char *arg = buf + i;
      static const char flag_eq[] = "--config-file=";
      if (strncmp(arg, flag_eq, sizeof flag_eq - 1) == 0)
        return xstrdup(arg + sizeof flag_eq - 1);
      if (strcmp(arg, "--config-file") == 0 && i + strlen(arg) + 1 < len)
        return xstrdup(arg + strlen(arg) + 1);
    }
  }
  return xstrdup("/etc/docker/daemon.json");
}

int engine_reload(pid_t pid, merr **err)
{
  if (kill(pid, SIGHUP) < 0)
    return merr_set(err, errno, "signal dockerd (pid %d) to reload", (int)pid);
  return 0;
}

static const char *socket_path(void)
{
  const char *host = getenv("DOCKER_HOST");
  if (host && strncmp(host, "unix://", 7) == 0)
    return host + 7;
  return ENGINE_SOCKET;
}

static int connect_engine(merr **err)
{
  const char *path = socket_path();
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return merr_set(err, 0, "engine socket path too long: %s", path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return merr_set(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    merr_set(err, errno, "connect to the engine at %s", path);
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads until EOF (HTTP/1.0: the server closes), bounded in size and time. */
static int read_response(int fd, char **out, size_t *len, merr **err)
{
  size_t cap = 65536, n = 0;
  cleanup_free char *buf = xmalloc(cap + 1);
  int64_t deadline = mono_us() + API_TIMEOUT_MS * 1000LL;
  for (;;) {
    int left = (int)((deadline - mono_us()) / 1000);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, left) == 0)
      return merr_set(err, 0, "the engine did not answer within %d ms", API_TIMEOUT_MS);
    if (n == cap) {
      if (cap >= API_MAX_RESPONSE)
        return merr_set(err, 0, "the engine's answer exceeds %d bytes", API_MAX_RESPONSE);
      cap *= 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return merr_set(err, errno, "read from the engine");
    if (r == 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = steal_pointer(&buf);
  *len = n;
  return 0;
}

int engine_get(const char *path, json **body, merr **err)
{
  cleanup_close int fd = connect_engine(err);
  if (fd < 0)
    return -1;
  cleanup_free char *req = xasprintf("GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path);
  if (write_all(fd, req, strlen(req), err) < 0)
    return merr_wrap(err, "engine request");
  cleanup_free char *resp = NULL;
  size_t len = 0;
  if (read_response(fd, &resp, &len, err) < 0)
    return -1;
  int status = 0;
  if (sscanf(resp, "HTTP/%*s %d", &status) != 1 || status != 200)
    return merr_set(err, 0, "engine API %s: HTTP status %d", path, status);
  char *sep = strstr(resp, "\r\n\r\n");
  if (sep == NULL)
    return merr_set(err, 0, "engine API %s: malformed response", path);
  sep += 4;
  return json_parse(sep, len - (size_t)(sep - resp), NULL, "engine API response", body, err);
}

static bool all_match(const json *runtimes, const char *const *names, bool want)
{
  for (; names && *names; names++)
    if ((json_get(runtimes, *names) != NULL) != want)
      return false;
  return true;
}

int engine_wait_runtimes(const char *const *present, const char *const *absent, int timeout_ms,
                         merr **err)
{
  int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
  for (;;) {
    cleanup_json json *info = NULL;
    cleanup_merr merr *e = NULL;
    if (engine_get("/info", &info, &e) == 0) {
      const json *rt = json_get(info, "Runtimes");
      if (all_match(rt, present, true) && all_match(rt, absent, false))
        return 0;
    }
    if (mono_us() > deadline) {
      if (e) {
        merr_pass(err, &e);
        return merr_wrap(err, "the engine's runtime list");
      }
      return merr_set(err, 0, "the engine's runtime list did not change within %d ms", timeout_ms);
    }
    nanosleep(&(struct timespec){0, 100000000}, NULL);
  }
}

bool engine_version_parse(const char *s, struct engine_version *v)
{
  memset(v, 0, sizeof *v);
  if (s == NULL)
    return false;
  if (*s == 'v')
    s++;
  char *end;
  long major = strtol(s, &end, 10);
  if (end == s || *end != '.' || major <= 0 || major > 999)
    return false;
  const char *m = end + 1;
  long minor = strtol(m, &end, 10);
  if (end == m || minor < 0 || minor > 999)
    return false;
  v->major = (int)major;
  v->minor = (int)minor;
  snprintf(v->text, sizeof v->text, "%.*s", (int)strcspn(s, " ,\n"), s);
  return true;
}

bool engine_has_runtime_type(const struct engine_version *v)
{
  return v->major >= 23;
}

/* `dockerd --version`: "Docker version 20.10.24+dfsg1, build 297e128" */
static int version_from_binary(struct engine_version *v, merr **err)
{
  cleanup_free char *dockerd = NULL;
  if (runtime_resolve("dockerd", &dockerd, err) < 0)
    return merr_wrap(err, "no running engine and no dockerd to ask");
  char *argv[] = {dockerd, "--version", NULL};
  cleanup_free char *out = NULL;
  if (capture_output(argv, API_TIMEOUT_MS, 4096, &out, err) < 0)
    return merr_wrap(err, "dockerd --version");
  const char *p = strstr(out, "version ");
  if (p == NULL || !engine_version_parse(p + 8, v))
    return merr_set(err, 0, "dockerd --version: no version in \"%.80s\"", out);
  v->source = "dockerd --version";
  return 0;
}

int engine_version_detect(struct engine_version *v, merr **err)
{
  cleanup_json json *body = NULL;
  if (engine_pid() != 0 && engine_get("/version", &body, NULL) == 0 &&
      engine_version_parse(json_string(json_get(body, "Version")), v)) {
    v->source = "the running engine";
    return 0;
  }
  return version_from_binary(v, err);
}
