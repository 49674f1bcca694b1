#include "places.h"
#include "cleanup.h"
#include "fileio.h"
#include "table.h"
#include "xalloc.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The initial user namespace maps every id to itself: "0 0 4294967295". A user namespace
 * (rootless podman's) maps a few ranges, and uid 0 to the user. */
static bool initial_user_namespace(void)
{
  cleanup_free char *map = NULL;
  if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &map, NULL, NULL) < 0)
    return true; /* no /proc: nothing says otherwise */
  unsigned long inside, outside, count;
  int n = 0;
  return sscanf(map, " %lu %lu %lu %n", &inside, &outside, &count, &n) == 3 && inside == 0 &&
         outside == 0 && count == 4294967295UL && map[n] == '\0';
}

/* Root of the host: uid 0 in the initial user namespace. */
static bool host_root(void)
{
  return geteuid() == 0 && initial_user_namespace();
}

/* The user the caller really is: uid 0 of a user namespace is whoever it maps to. */
static uid_t outside_uid(void)
{
  cleanup_free char *map = NULL;
  uid_t uid = geteuid();
  if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &map, NULL, NULL) < 0)
    return uid;
  unsigned long inside, outside, count;
  for (char *line = map; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (sscanf(line, " %lu %lu %lu", &inside, &outside, &count) == 3 && uid >= inside &&
        uid - inside < count)
      return (uid_t)(outside + (uid - inside));
  return uid;
}

/* The user's home from /etc/passwd (fgetpwent_r reads the file itself: no NSS module, which a
 * static binary cannot load), else $HOME. Not the environment first: podman gives HOME to the
 * runtime's create but not to its start or delete, and every call must find the same places. */
static char *home_of(uid_t uid)
{
  FILE *f = fopen("/etc/passwd", "re");
  char buf[4096];
  struct passwd pw, *found = NULL;
  char *home = NULL;
  while (f && home == NULL && fgetpwent_r(f, &pw, buf, sizeof buf, &found) == 0)
    if (found->pw_uid == uid && found->pw_dir[0] == '/')
      home = xstrdup(found->pw_dir);
  if (f)
    fclose(f);
  const char *env = getenv("HOME");
  return home ? home : env && env[0] == '/' ? xstrdup(env) : NULL;
}

static void work_out_rootless(struct measured_places *p)
{
  cleanup_free char *home = home_of(outside_uid());
  const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
  p->rootless = true;
  p->config = home ? xasprintf("%s/.config/measured/measured.json", home) : NULL;
  p->store = home ? xasprintf("%s/.local/share/measured/samples.jsonl", home) : NULL;
  p->state_dir =
      runtime_dir && runtime_dir[0] == '/' ? xasprintf("%s/measured", runtime_dir) : NULL;
  if (p->state_dir == NULL)
    p->why = "rootless, and XDG_RUNTIME_DIR is not set to an absolute path: no state directory";
  else if (home == NULL)
    p->why = "rootless, and the user has no home directory (/etc/passwd, HOME): no store";
}

const struct measured_places *measured_places(void)
{
  static struct measured_places places;
  static bool known;
  if (known)
    return &places;
  if (host_root())
    places = (struct measured_places){.config = MEASURED_DEFAULT_CONFIG,
                                      .state_dir = MEASURED_DEFAULT_STATE_DIR,
                                      .store = MEASURED_DEFAULT_STORE};
  else
    work_out_rootless(&places);
  known = true;
  return &places;
}
