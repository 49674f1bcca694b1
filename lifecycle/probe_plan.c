#include "probe_plan.h"
#include "cleanup.h"
#include "probe_contract.h"
#include "spec.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) static void refuse(struct probe_plan *p, const char *fmt, ...)
{
  if (p->why_not)
    return;
  va_list ap;
  va_start(ap, fmt);
  p->why_not = xvasprintf(fmt, ap);
  va_end(ap);
}

static bool tests_valid(const char *s)
{
  if (s == NULL || *s == '\0' || strlen(s) > 64)
    return false;
  cleanup_free char *copy = xstrdup(s);
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcmp(t, "latency") != 0 && strcmp(t, "bandwidth") != 0 && strcmp(t, "all") != 0)
      return false;
  return true;
}

/* An integer from the container's variable `name`, else the table's value, else the default. */
static int int_setting(struct probe_plan *p, const json *config, const char *name, int table,
                       int fallback, int lo, int hi)
{
  const char *env = spec_env(config, name);
  if (env == NULL)
    return table ? table : fallback;
  char *end;
  errno = 0;
  long v = strtol(env, &end, 10);
  if (errno || *end || *env == '\0' || v < lo || v > hi) {
    refuse(p, "%s=%s: not an integer from %d to %d", name, env, lo, hi);
    return fallback;
  }
  return (int)v;
}

static const char *str_setting(const json *config, const char *name, const char *table)
{
  const char *env = spec_env(config, name);
  return env ? env : table;
}

void probe_plan_make(const struct probe_settings *t, const json *config, struct probe_plan *p)
{
  memset(p, 0, sizeof *p);
  const char *tests = str_setting(config, "MEASURED_PROBE", t->tests);
  if (tests == NULL || *tests == '\0')
    return; /* nobody asked: nothing is injected, the spec stays byte-identical */
  p->requested = true;
  p->tests = xstrdup(tests);
  if (!tests_valid(tests))
    refuse(p, "MEASURED_PROBE=%s: the tests are latency, bandwidth (comma separated) or all",
           tests);
  const char *peer = str_setting(config, "MEASURED_PEER", t->peer);
  struct sockaddr_storage ss;
  socklen_t len;
  char canon[80];
  if (peer == NULL)
    refuse(p, "no peer: set MEASURED_PEER=IP[:PORT] (a `measured reflector`)");
  else if (probe_peer_parse(peer, &ss, &len, canon, sizeof canon) < 0)
    refuse(p, "MEASURED_PEER=%s: not IP[:PORT] or [IPv6]:PORT (names are not resolved)", peer);
  else
    p->peer = xstrdup(canon);
  const char *mode = str_setting(config, "MEASURED_PROBE_MODE", t->mode);
  if (mode && strcmp(mode, "exec") != 0 && strcmp(mode, "prelude") != 0)
    refuse(p, "MEASURED_PROBE_MODE=%s: prelude or exec", mode);
  p->exec_mode = mode && strcmp(mode, "exec") == 0;
  p->budget_ms =
      int_setting(p, config, "MEASURED_PROBE_BUDGET_MS", t->budget_ms, 2000, 100, 600000);
  p->msg_size = int_setting(p, config, "MEASURED_PROBE_MSG_SIZE", t->msg_size, 64, PROBE_MIN_MSG,
                            PROBE_MAX_MSG);
  p->latency_ms =
      int_setting(p, config, "MEASURED_PROBE_LATENCY_MS", t->latency_ms, 250, 1, 600000);
  p->bandwidth_ms =
      int_setting(p, config, "MEASURED_PROBE_BANDWIDTH_MS", t->bandwidth_ms, 1000, 10, 600000);
  p->reverse = int_setting(p, config, "MEASURED_PROBE_REVERSE", t->reverse, 0, 0, 1) == 1;
}

static void push(char **v, size_t *n, char *s)
{
  v[(*n)++] = s;
}

char **probe_plan_argv(const struct probe_plan *p, const char *subcommand, size_t *n)
{
  char **v = xzalloc(20 * sizeof *v);
  *n = 0;
  push(v, n, xstrdup(subcommand));
  push(v, n, xstrdup("--peer"));
  push(v, n, xstrdup(p->peer));
  push(v, n, xstrdup("--tests"));
  push(v, n, xstrdup(p->tests));
  push(v, n, xstrdup("--budget-ms"));
  push(v, n, xasprintf("%d", p->budget_ms));
  push(v, n, xstrdup("--msg-size"));
  push(v, n, xasprintf("%d", p->msg_size));
  push(v, n, xstrdup("--latency-ms"));
  push(v, n, xasprintf("%d", p->latency_ms));
  push(v, n, xstrdup("--bandwidth-ms"));
  push(v, n, xasprintf("%d", p->bandwidth_ms));
  if (p->reverse)
    push(v, n, xstrdup("--reverse"));
  return v;
}

json *probe_plan_json(const struct probe_plan *p)
{
  json *o = json_new(JSON_OBJECT);
  json_set(o, "mode", json_new_string(p->exec_mode ? "exec" : "prelude"));
  json_set(o, "tests", p->tests ? json_new_text(p->tests) : json_new(JSON_NULL));
  json_set(o, "peer", p->peer ? json_new_text(p->peer) : json_new(JSON_NULL));
  json_set(o, "budget_ms", json_new_int(p->budget_ms));
  json_set(o, "msg_size", json_new_int(p->msg_size));
  json_set(o, "latency_ms", json_new_int(p->latency_ms));
  json_set(o, "bandwidth_ms", json_new_int(p->bandwidth_ms));
  json_set(o, "reverse", json_new_bool(p->reverse));
  return o;
}

int probe_plan_from_json(const json *j, struct probe_plan *p)
{
  memset(p, 0, sizeof *p);
  const char *mode = json_string(json_get(j, "mode"));
  const char *tests = json_string(json_get(j, "tests"));
  const char *peer = json_string(json_get(j, "peer"));
  int64_t b, m, l, w;
  if (!mode || !tests || !peer || !json_int64(json_get(j, "budget_ms"), &b) ||
      !json_int64(json_get(j, "msg_size"), &m) || !json_int64(json_get(j, "latency_ms"), &l) ||
      !json_int64(json_get(j, "bandwidth_ms"), &w))
    return -1;
  p->requested = true;
  p->exec_mode = strcmp(mode, "exec") == 0;
  p->tests = xstrdup(tests);
  p->peer = xstrdup(peer);
  p->budget_ms = (int)b;
  p->msg_size = (int)m;
  p->latency_ms = (int)l;
  p->bandwidth_ms = (int)w;
  p->reverse = json_is(json_get(j, "reverse"), JSON_TRUE);
  return 0;
}

void probe_plan_clear(struct probe_plan *p)
{
  free(p->why_not);
  free(p->tests);
  free(p->peer);
  memset(p, 0, sizeof *p);
}
