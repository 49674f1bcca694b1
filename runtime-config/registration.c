#include "registration.h"
#include "capture.h"
#include "cleanup.h"
#include "daemon_json.h"
#include "naming.h"
#include "xalloc.h"

#include <string.h>

enum { HELP_TIMEOUT_MS = 3000, HELP_MAX = 64 << 10 };

/* A command named "create" at the start of an indented line of the help text. */
static bool lists_create(const char *help)
{
  for (const char *p = help; (p = strstr(p, "create")) != NULL; p += 6) {
    const char *q = p;
    while (q > help && (q[-1] == ' ' || q[-1] == '\t'))
      q--;
    bool line_start = q < p && (q == help || q[-1] == '\n');
    char after = p[6];
    if (line_start && (after == ' ' || after == '\t' || after == ',' || after == '\n'))
      return true;
  }
  return false;
}

static bool help_lists_create(const char *path, const char *how)
{
  char *argv[] = {(char *)path, (char *)how, NULL};
  cleanup_free char *out = NULL;
  return capture_output(argv, HELP_TIMEOUT_MS, HELP_MAX, &out, NULL) == 0 && lists_create(out);
}

/* runc, crun and Kata answer --help on stdout; runsc answers it on stderr, `help` on stdout. */
bool oci_cli_capable(const char *path)
{
  return help_lists_create(path, "--help") || help_lists_create(path, "help");
}

static void fill(struct registration *r, const struct runtime_entry *e, const char *requested,
                 enum reg_form form)
{
  r->entry = e;
  r->form = form;
  r->key = naming_runtime(requested);
  if (form == REG_OCI) {
    r->link = xstrdup(r->key);
  } else {
    r->link = naming_shim_binary(e->name);
    r->runtime_type = naming_runtime_type(e->name);
  }
}

static int need_runtime_type(const struct runtime_entry *e, const struct engine_version *ev,
                             const char *ev_why, merr **err)
{
  if (ev == NULL)
    return merr_set(err, 0,
                    "%s: the shim-v2 form needs Docker >= 23, and the engine's version is unknown "
                    "(%s); say it with --docker-version",
                    e->name, ev_why ? ev_why : "not asked");
  if (!engine_has_runtime_type(ev))
    return merr_set(err, 0,
                    "%s: Docker %s (from %s) is too old for a shim-v2 runtime: Docker reaches "
                    "containerd shims (\"runtimeType\") from 23.0 on",
                    e->name, ev->text, ev->source);
  return 0;
}

int registration_choose(const struct runtime_table *t, const char *requested,
                        const struct engine_version *ev, const char *ev_why,
                        struct registration *out, merr **err)
{
  memset(out, 0, sizeof *out);
  size_t n = strlen(requested), sl = strlen(NAMING_V2_SUFFIX);
  const struct runtime_entry *e = runtime_table_find(t, requested);
  bool v2 = false;
  cleanup_free char *base = NULL;
  if (e == NULL && n > sl && strcmp(requested + n - sl, NAMING_V2_SUFFIX) == 0) {
    base = xstrndup(requested, n - sl);
    e = runtime_table_find(t, base);
    v2 = true;
  }
  if (e == NULL)
    return merr_set(err, 0, "unknown runtime \"%s\": not in the runtime table (%s)", requested,
                    t->source);
  cleanup_free char *real = NULL, *shim = NULL;
  bool has_cli = runtime_resolve(e->path, &real, NULL) == 0 && oci_cli_capable(real);
  bool has_shim = e->shim && runtime_resolve(e->shim, &shim, NULL) == 0;
  if (v2 && e->shim == NULL)
    return merr_set(err, 0, "%s: its table entry names no \"shim\"", requested);
  if (!v2 && has_cli) {
    fill(out, e, requested, REG_OCI);
    out->why = xasprintf("%s answers the OCI command line: the OCI-CLI wrapper (any engine)", real);
    return 0;
  }
  if (!has_shim) {
    if (e->shim == NULL)
      return merr_set(err, 0, "%s: its runtime \"%s\" is not installed (or has no OCI `create`)",
                      requested, e->path);
    return merr_set(err, 0, "%s: neither %s with an OCI command line nor the shim %s is installed",
                    requested, e->path, e->shim);
  }
  if (need_runtime_type(e, ev, ev_why, err) < 0)
    return -1;
  fill(out, e, requested, REG_SHIM);
  out->why = v2 ? xasprintf("the shim-v2 form, as asked: %s under %s; Docker %s takes runtimeType",
                            out->runtime_type, shim, ev->text)
                : xasprintf("%s is a containerd shim only (%s has no OCI `create`): %s; Docker %s "
                            "takes runtimeType",
                            shim, e->path, out->runtime_type, ev->text);
  return 0;
}

void registration_clear(struct registration *r)
{
  free(r->key);
  free(r->link);
  free(r->runtime_type);
  free(r->why);
  memset(r, 0, sizeof *r);
}
