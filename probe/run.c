#include "run.h"
#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "proc.h"
#include "sandbox.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RESULT_MAX = 64 * 1024, GRACE_MS = 300 };

static int parse_num(const char *s, int lo, int hi, int *out)
{
  char *end;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : 0;
  if (!s || errno || *end || *s == '\0' || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

static int parse_tests(const char *s, struct probe_config *c)
{
  c->latency = c->bandwidth = false;
  cleanup_free char *copy = xstrdup(s ? s : "");
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "latency") == 0)
      c->latency = true;
    else if (strcmp(t, "bandwidth") == 0)
      c->bandwidth = true;
    else if (strcmp(t, "all") == 0)
      c->latency = c->bandwidth = true;
    else
      return -1;
  }
  return c->latency || c->bandwidth ? 0 : -1;
}

/* One option; its value (when it takes one) is argv[*i + 1]. -1 when not valid. */
static int parse_option(const char *name, const char *value, struct probe_options *o, int *used)
{
  struct probe_config *c = &o->cfg;
  *used = 1;
  if (strcmp(name, "--reverse") == 0) {
    c->reverse = true;
    *used = 0;
    return 0;
  }
  if (strcmp(name, "--peer") == 0)
    return value ? probe_parse_peer(value, c, o->error, sizeof o->error) : -1;
  if (strcmp(name, "--tests") == 0)
    return parse_tests(value, c);
  if (strcmp(name, "--out") == 0) {
    o->out_dir = value;
    return value && value[0] == '/' ? 0 : -1;
  }
  static const struct {
    const char *name;
    int lo, hi;
    size_t off;
  } nums[] = {
      {"--budget-ms", 100, 600000, offsetof(struct probe_config, budget_ms)},
      {"--msg-size", PROBE_MIN_MSG, 65000, offsetof(struct probe_config, msg_size)},
      {"--latency-ms", 1, 600000, offsetof(struct probe_config, latency_ms)},
      {"--bandwidth-ms", 10, 600000, offsetof(struct probe_config, bandwidth_ms)},
      {"--warmup", 0, 100000, offsetof(struct probe_config, warmup)},
      {"--latency-max", 1, 10000000, offsetof(struct probe_config, latency_max)},
  };
  for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
    if (strcmp(name, nums[k].name) == 0)
      return parse_num(value, nums[k].lo, nums[k].hi, (int *)((char *)c + nums[k].off));
  return -1;
}

void probe_options_parse(int argc, char **argv, int *i, struct probe_options *o)
{
  memset(o, 0, sizeof *o);
  probe_config_defaults(&o->cfg);
  o->out_dir = PROBE_DEFAULT_OUT;
  bool have_peer = false;
  for (; *i < argc; (*i)++) {
    const char *a = argv[*i];
    if (strcmp(a, "--") == 0) {
      (*i)++;
      break;
    }
    int used = 0;
    const char *value = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (parse_option(a, value, o, &used) < 0) {
      if (o->error[0] == '\0')
        snprintf(o->error, sizeof o->error, "bad probe option %s%s%s", a, value ? " " : "",
                 value && used ? value : "");
      /* keep going to find "--": the workload must still start */
    }
    have_peer |= strcmp(a, "--peer") == 0;
    *i += used;
  }
  if (!have_peer && o->error[0] == '\0')
    snprintf(o->error, sizeof o->error, "no peer given (MEASURED_PEER)");
}

/* ---- the measuring child ---- */

static void child_main(const struct probe_options *o, int64_t start_us, int wfd)
{
  cleanup_json json *res = NULL;
  merr *err = NULL;
  if (probe_sandbox_enter(&err) < 0) {
    res = json_new(JSON_OBJECT);
    json *errors = json_new(JSON_ARRAY);
    cleanup_free char *m = xasprintf("sandbox: %s; nothing measured", merr_msg(err));
    json_append(errors, json_new_text(m));
    json_set(res, "errors", errors);
  } else {
    res = probe_measure(&o->cfg, start_us);
  }
  char *text = NULL;
  size_t len = 0;
  if (json_serialize(res, false, &text, &len, NULL) == 0) {
    size_t done = 0;
    while (done < len) {
      ssize_t w = write(wfd, text + done, len - done);
      if (w <= 0)
        break;
      done += (size_t)w;
    }
  }
  _exit(0);
}

/* Collects the child's answer until it closes the pipe, the deadline passes, or an interrupt. */
static char *collect(int rfd, int interrupt_fd, int64_t deadline_us, const char **why)
{
  size_t n = 0;
  char *buf = xmalloc(RESULT_MAX + 1);
  for (;;) {
    int64_t left = (deadline_us - probe_now_us()) / 1000;
    if (left <= 0) {
      *why = "the measuring process was stopped at the end of the time budget";
      break;
    }
    struct pollfd p[2] = {{.fd = rfd, .events = POLLIN}, {.fd = interrupt_fd, .events = POLLIN}};
    int r = poll(p, 2, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (p[1].revents & POLLIN) {
      *why = "interrupted by a signal: the workload starts at once";
      break;
    }
    if (r <= 0)
      continue;
    ssize_t got = read(rfd, buf + n, RESULT_MAX - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0 || (n += (size_t)got) >= RESULT_MAX)
      break;
  }
  buf[n] = '\0';
  return buf;
}

static json *measure_in_child(const struct probe_options *o, int64_t start_us, int interrupt_fd)
{
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return NULL;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child_main(o, start_us, fds[1]);
  }
  close(fds[1]);
  const char *why = NULL;
  cleanup_free char *text =
      pid < 0 ? NULL
              : collect(fds[0], interrupt_fd,
                        start_us + (int64_t)(o->cfg.budget_ms + GRACE_MS) * 1000, &why);
  close(fds[0]);
  int status = 0;
  if (pid > 0) {
    kill(pid, SIGKILL); /* gone already, or late: either way reaped below, never left behind */
    proc_wait(pid, &status);
  }
  json *res = NULL;
  if (text == NULL || json_parse(text, strlen(text), NULL, "measurement", &res, NULL) < 0 ||
      !json_is(res, JSON_OBJECT)) {
    json_free(res);
    res = json_new(JSON_OBJECT);
    json *errors = json_new(JSON_ARRAY);
    json_append(errors,
                json_new_text(why                   ? why
                              : pid < 0             ? "fork of the measuring process failed"
                              : WIFSIGNALED(status) ? "the measuring process died"
                                                    : "the measuring process gave no result"));
    json_set(res, "errors", errors);
    json_set(res, "budget_exceeded", json_new_bool(why && strstr(why, "budget")));
  }
  return res;
}

static void write_result(const char *dir, const json *res)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (json_serialize(res, false, &text, &len, NULL) < 0)
    return;
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return;
  /* The host reads it whole or not at all (a tmpfs: nothing to sync). */
  write_file_replace_at(dfd, PROBE_RESULT_FILE, text, len, 0644, NULL);
}

void probe_run(const struct probe_options *o, const char *mode, int64_t start_us, int interrupt_fd)
{
  json *res = NULL;
  if (o->error[0]) {
    res = json_new(JSON_OBJECT);
    json *errors = json_new(JSON_ARRAY);
    json_append(errors, json_new_text(o->error));
    json_set(res, "errors", errors);
  } else {
    res = measure_in_child(o, start_us, interrupt_fd);
  }
  if (res == NULL)
    return;
  /* Identity first, so that a reader sees what it holds before the figures. */
  json *out = json_new(JSON_OBJECT);
  json_set(out, "schema", json_new_int(PROBE_RESULT_SCHEMA));
  json_set(out, "mode", json_new_string(mode));
  json_set(out, "peer",
           o->cfg.peer_text[0] ? json_new_text(o->cfg.peer_text) : json_new(JSON_NULL));
  json_set(out, "budget_ms", json_new_int(o->cfg.budget_ms));
  json_set(out, "elapsed_us", json_new_int(probe_now_us() - start_us));
  for (size_t i = 0; i < res->n; i++)
    json_set(out, res->keys[i], json_clone(res->items[i]));
  json_free(res);
  write_result(o->out_dir, out);
  json_free(out);
}
