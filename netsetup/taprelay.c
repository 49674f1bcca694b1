#include "taprelay.h"
#include "cleanup.h"
#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const relays[] = {"slirp4netns", "pasta", "passt"};

static bool is_relay_name(const char *comm)
{
  for (size_t i = 0; i < sizeof relays / sizeof relays[0]; i++)
    if (strcmp(comm, relays[i]) == 0)
      return true;
  return false;
}

int net_tap_relay_arg_names(const char *arg, dev_t dev, ino_t ino)
{
  const char *eq = arg[0] == '-' ? strchr(arg, '=') : NULL;
  const char *v = eq ? eq + 1 : arg;
  char path[64];
  if (strncmp(v, "/proc/", 6) == 0)
    return 0;        /* "/proc/self/...": whose namespace depends on who looks */
  if (v[0] != '/') { /* a pid whose namespace it is */
    if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 10)
      return 0;
    snprintf(path, sizeof path, "/proc/%s/ns/net", v);
    v = path;
  }
  struct stat st;
  return stat(v, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Whether process `pid` lives outside the namespace (dev, ino), as a relay does (a process of
 * the container that takes a relay's name does not), and its command line names it. */
static bool names_namespace(int pid, dev_t dev, ino_t ino)
{
  char path[64];
  struct stat own;
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  if (stat(path, &own) < 0 || (own.st_dev == dev && own.st_ino == ino))
    return false;
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  cleanup_free char *args = NULL;
  size_t len = 0;
  if (read_file_at(AT_FDCWD, path, 16384, &args, &len, NULL) < 0)
    return false;
  for (size_t i = 0; i < len; i += strlen(args + i) + 1)
    if (net_tap_relay_arg_names(args + i, dev, ino))
      return true;
  return false;
}

pid_t net_tap_relay(int ctrfd, char name[TAP_RELAY_NAME_MAX])
{
  struct stat ns;
  if (fstat(ctrfd, &ns) < 0)
    return 0;
  DIR *proc = opendir("/proc");
  pid_t found = 0;
  size_t seen = 0;
  for (struct dirent *d; proc && found == 0 && seen < TAP_RELAY_MAX_PROCS && (d = readdir(proc));
       seen++) {
    char *end = NULL;
    long pid = strtol(d->d_name, &end, 10);
    if (d->d_name[0] < '1' || d->d_name[0] > '9' || *end != '\0' || pid > 0x7fffffff)
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    cleanup_free char *comm = NULL;
    if (read_file_at(AT_FDCWD, path, 64, &comm, NULL, NULL) < 0)
      continue;
    comm[strcspn(comm, "\n")] = '\0';
    if (is_relay_name(comm) && names_namespace((int)pid, ns.st_dev, ns.st_ino)) {
      snprintf(name, TAP_RELAY_NAME_MAX, "%s", comm);
      found = (pid_t)pid;
    }
  }
  if (proc)
    closedir(proc);
  return found;
}
