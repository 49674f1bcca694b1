/* measured discover: the network path of a running container (or any namespace), as measured
 * records it, without running anything through the wrapper. */
#include "discover.h"
#include "cleanup.h"
#include "commands.h"
#include "netjson.h"
#include "netns.h"
#include "proc.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(int status)
{
  fprintf(status ? stderr : stdout,
          "usage: measured discover (--pid PID | --netns PATH) [--repeat N]\n\n"
          "Prints the network path of the namespace of PID (a container's init: docker inspect\n"
          "-f '{{.State.Pid}}' NAME) or of the namespace file PATH, as JSON: driver, paths,\n"
          "links, qdiscs and filters. --repeat N discovers N times and adds the median time.\n");
  return status;
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

struct discover_args {
  long pid, repeat;
  const char *path;
};

/* 0 to run; -1 to end now with *status. */
static int parse(int argc, char **argv, struct discover_args *a, int *status)
{
  static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
                                       {"netns", required_argument, NULL, 'n'},
                                       {"repeat", required_argument, NULL, 'r'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  *a = (struct discover_args){.repeat = 1};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "+h", opts, NULL)) != -1;) {
    char *end = NULL;
    if (c == 'p')
      a->pid = strtol(optarg, &end, 10);
    else if (c == 'r')
      a->repeat = strtol(optarg, &end, 10);
    else if (c == 'n')
      a->path = optarg;
    else {
      *status = usage(c == 'h' ? 0 : 2);
      return -1;
    }
    if (end && (end == optarg || *end || (c == 'p' && !proc_pid_valid(a->pid)) ||
                (c == 'r' && (a->repeat < 1 || a->repeat > 10000)))) {
      *status = usage(2);
      return -1;
    }
  }
  if ((a->pid == 0) == (a->path == NULL) || optind < argc) {
    *status = usage(2);
    return -1;
  }
  return 0;
}

/* Discovers `repeat` times; the last topology, with the median time, as JSON text. */
static int discover(struct net_watch *w, long repeat, char **text, merr **err)
{
  cleanup_free int64_t *times = xreallocarray(NULL, (size_t)repeat, sizeof *times);
  for (long i = 0; i < repeat; i++) {
    if (net_discover(w, err) < 0)
      return -1;
    times[i] = w->discovery_us;
  }
  cleanup_json json *out = net_topology_json(&w->view, &w->topo);
  qsort(times, (size_t)repeat, sizeof *times, cmp_i64);
  json_set(out, "discovery_us", json_new_int(times[repeat / 2]));
  return json_serialize(out, true, text, NULL, err);
}

int cmd_discover(int argc, char **argv)
{
  struct discover_args a;
  int status;
  if (parse(argc, argv, &a, &status) < 0)
    return status;
  cleanup_merr merr *err = NULL;
  cleanup_close int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    fprintf(stderr, "measured discover: /proc/self/ns/net: %s\n", strerror(errno));
    return 1;
  }
  int ctr = a.pid ? netns_open_pid((pid_t)a.pid, &err) : netns_open_path(a.path, &err);
  struct net_watch w;
  if (ctr < 0 || net_watch_open(&w, ctr, home, &err) < 0) { /* the watch owns ctr */
    fprintf(stderr, "measured discover: %s\n", merr_msg(err));
    return 1;
  }
  cleanup_free char *text = NULL;
  int ret = discover(&w, a.repeat, &text, &err);
  net_watch_close(&w);
  if (ret < 0) {
    fprintf(stderr, "measured discover: %s\n", merr_msg(err));
    return 1;
  }
  puts(text);
  return 0;
}
