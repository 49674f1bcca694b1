#include "hostctx.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

json *host_identity(void)
{
  json *o = json_new(JSON_OBJECT);
  char name[256] = "";
  gethostname(name, sizeof name - 1);
  json_set(o, "hostname", json_new_text(name));
  struct utsname u;
  if (uname(&u) == 0) {
    json_set(o, "kernel", json_new_text(u.release));
    json_set(o, "arch", json_new_text(u.machine));
  }
  json_set(o, "cpus", json_new_int(sysconf(_SC_NPROCESSORS_ONLN)));
  return o;
}

static json *psi_line(const char *line)
{
  double a10, a60, a300;
  uint64_t total;
  if (sscanf(line, "avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64, &a10, &a60, &a300, &total) != 4)
    return NULL;
  json *o = json_new(JSON_OBJECT);
  json_set(o, "avg10", json_new_double(a10));
  json_set(o, "avg60", json_new_double(a60));
  json_set(o, "avg300", json_new_double(a300));
  json_set(o, "total_us", json_new_uint(total));
  return o;
}

json *host_parse_psi(const char *text)
{
  json *o = json_new(JSON_OBJECT);
  for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    const char *kind = strncmp(p, "some ", 5) == 0   ? "some"
                       : strncmp(p, "full ", 5) == 0 ? "full"
                                                     : NULL;
    json *v = kind ? psi_line(p + 5) : NULL;
    if (v)
      json_set(o, kind, v);
  }
  if (json_get(o, "some") == NULL) {
    json_free(o);
    return NULL;
  }
  return o;
}

json *host_load(void)
{
  json *o = json_new(JSON_OBJECT);
  double l[3];
  if (getloadavg(l, 3) == 3) {
    json *a = json_new(JSON_ARRAY);
    for (int i = 0; i < 3; i++)
      json_append(a, json_new_double(l[i]));
    json_set(o, "loadavg", a);
  }
  cleanup_free char *text = NULL;
  json *psi = NULL;
  if (read_file_at(AT_FDCWD, "/proc/pressure/cpu", 4096, &text, NULL, NULL) == 0)
    psi = host_parse_psi(text);
  json_set(o, "psi_cpu", psi ? psi : json_new(JSON_NULL));
  return o;
}
