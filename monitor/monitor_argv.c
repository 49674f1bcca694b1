#include "monitor_argv.h"
#include "proc.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[MONITOR_ARGC] = {
    NULL,           "container=", "dir=",       "netns=",     "lock=",       "pid=",
    "interval_us=", "flows=",     "netns_why=", "flows_why=", "probe_peer=",
};

enum {
  A_CONTAINER = 1,
  A_DIR,
  A_NETNS,
  A_LOCK,
  A_PID,
  A_INTERVAL,
  A_FLOWS,
  A_NETNS_WHY,
  A_FLOWS_WHY,
  A_PROBE_PEER
};

void monitor_argv_build(const struct monitor_config *cfg, int lockfd, struct monitor_argv *out)
{
  char **a = out->argv;
  a[0] = xstrdup(MONITOR_ARGV0);
  a[A_CONTAINER] = xasprintf("%s%s", keys[A_CONTAINER], cfg->container ? cfg->container : "");
  a[A_DIR] = xasprintf("%s%d", keys[A_DIR], cfg->dirfd);
  a[A_NETNS] = xasprintf("%s%d", keys[A_NETNS], cfg->netns_fd);
  a[A_LOCK] = xasprintf("%s%d", keys[A_LOCK], lockfd);
  a[A_PID] = xasprintf("%s%d", keys[A_PID], (int)cfg->init_pid);
  a[A_INTERVAL] = xasprintf("%s%" PRId64, keys[A_INTERVAL], cfg->interval_us);
  a[A_FLOWS] = xasprintf("%s%d", keys[A_FLOWS], cfg->flows ? 1 : 0);
  a[A_NETNS_WHY] = xasprintf("%s%s", keys[A_NETNS_WHY], cfg->netns_why ? cfg->netns_why : "");
  a[A_FLOWS_WHY] = xasprintf("%s%s", keys[A_FLOWS_WHY], cfg->flows_why ? cfg->flows_why : "");
  a[A_PROBE_PEER] = xasprintf("%s%s", keys[A_PROBE_PEER], cfg->probe_peer ? cfg->probe_peer : "");
  a[MONITOR_ARGC] = NULL;
}

void monitor_argv_clear(struct monitor_argv *a)
{
  for (size_t i = 0; i < MONITOR_ARGC; i++) {
    free(a->argv[i]);
    a->argv[i] = NULL;
  }
}

/* The value of argv[i] after its key, NULL when the key is not there. */
static const char *value_of(char *const argv[], int i)
{
  size_t n = strlen(keys[i]);
  return strncmp(argv[i], keys[i], n) == 0 ? argv[i] + n : NULL;
}

static int number(char *const argv[], int i, int64_t min, int64_t max, int64_t *out, merr **err)
{
  const char *v = value_of(argv, i);
  char *end = NULL;
  errno = 0;
  long long n = v && *v ? strtoll(v, &end, 10) : 0;
  if (v == NULL || *v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
    return merr_set(err, EINVAL,
                    "monitor argument %d: want %s<integer %" PRId64 "..%" PRId64 ">, got \"%s\"", i,
                    keys[i], min, max, argv[i]);
  *out = n;
  return 0;
}

static int text(char *const argv[], int i, const char **out, merr **err)
{
  const char *v = value_of(argv, i);
  if (v == NULL)
    return merr_set(err, EINVAL, "monitor argument %d: want %s..., got \"%s\"", i, keys[i],
                    argv[i]);
  *out = *v ? v : NULL;
  return 0;
}

int monitor_argv_parse(int argc, char *const argv[], struct monitor_config *cfg, int *lockfd,
                       merr **err)
{
  if (argc != MONITOR_ARGC)
    return merr_set(err, EINVAL, "the monitor takes %d arguments, not %d", MONITOR_ARGC - 1,
                    argc - 1);
  *cfg = (struct monitor_config){0};
  int64_t dir, netns, lock, pid, interval, flows;
  if (text(argv, A_CONTAINER, &cfg->container, err) < 0 ||
      number(argv, A_DIR, 0, INT_MAX, &dir, err) < 0 ||
      number(argv, A_NETNS, -1, INT_MAX, &netns, err) < 0 ||
      number(argv, A_LOCK, -1, INT_MAX, &lock, err) < 0 ||
      number(argv, A_PID, 0, INT_MAX, &pid, err) < 0 ||
      number(argv, A_INTERVAL, 1, INT64_MAX, &interval, err) < 0 ||
      number(argv, A_FLOWS, 0, 1, &flows, err) < 0 ||
      text(argv, A_NETNS_WHY, &cfg->netns_why, err) < 0 ||
      text(argv, A_FLOWS_WHY, &cfg->flows_why, err) < 0 ||
      text(argv, A_PROBE_PEER, &cfg->probe_peer, err) < 0)
    return -1;
  if (pid != 0 && !proc_pid_valid(pid))
    return merr_set(err, EINVAL, "monitor argument %d: %s is not a valid pid", A_PID, argv[A_PID]);
  cfg->dirfd = (int)dir;
  cfg->netns_fd = (int)netns;
  cfg->init_pid = (pid_t)pid;
  cfg->interval_us = interval;
  cfg->flows = flows == 1;
  *lockfd = (int)lock;
  return 0;
}
