/* measured discover: the network path of a running container (or any namespace), as measured
 * records it, without running anything through the wrapper. */
#include "discover.h"
#include "cleanup.h"
#include "netjson.h"
#include "netns.h"

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

int cmd_discover(int argc, char **argv)
{
  static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
                                       {"netns", required_argument, NULL, 'n'},
                                       {"repeat", required_argument, NULL, 'r'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  long pid = 0, repeat = 1;
  const char *path = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    char *end = NULL;
    if (c == 'p')
      pid = strtol(optarg, &end, 10);
    else if (c == 'r')
      repeat = strtol(optarg, &end, 10);
    else if (c == 'n')
      path = optarg;
    else if (c == 'h')
      return usage(0);
    else
      return usage(2);
    if (end && (*end || (c == 'p' && pid <= 0) || (c == 'r' && (repeat < 1 || repeat > 10000))))
      return usage(2);
  }
  if ((pid == 0) == (path == NULL) || optind < argc)
    return usage(2);
  cleanup_merr merr *err = NULL;
  int ctr = pid ? netns_open_pid((pid_t)pid, &err) : netns_open_path(path, &err);
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  struct net_watch w;
  if (ctr < 0 || home < 0 || net_watch_open(&w, ctr, home, &err) < 0) {
    fprintf(stderr, "measured discover: %s\n", merr_msg(err));
    return 1;
  }
  cleanup_free int64_t *times = calloc((size_t)repeat, sizeof *times);
  for (long i = 0; i < repeat; i++) {
    if (net_discover(&w, &err) < 0) {
      fprintf(stderr, "measured discover: %s\n", merr_msg(err));
      net_watch_close(&w);
      return 1;
    }
    times[i] = w.discovery_us;
  }
  cleanup_json json *out = net_topology_json(&w.view, &w.topo);
  qsort(times, (size_t)repeat, sizeof *times, cmp_i64);
  json_set(out, "discovery_us", json_new_int(times[repeat / 2]));
  cleanup_free char *text = NULL;
  if (json_serialize(out, true, &text, NULL, &err) < 0) {
    fprintf(stderr, "measured discover: %s\n", merr_msg(err));
    net_watch_close(&w);
    return 1;
  }
  puts(text);
  net_watch_close(&w);
  close(home);
  return 0;
}
