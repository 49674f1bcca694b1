#include "shimargs.h"

#include <stdbool.h>
#include <string.h>

static const char *const value_flags[] = {"namespace", "address", "publish-binary", "id", "bundle",
                                          "socket",    NULL};
static const char *const bool_flags[] = {"debug", "v", NULL};

static bool in(const char *const *list, const char *name, size_t len)
{
  for (; *list; list++)
    if (strlen(*list) == len && strncmp(*list, name, len) == 0)
      return true;
  return false;
}

static void keep(struct shim_call *call, const char *name, size_t len, const char *value)
{
  if (len == 2 && strncmp(name, "id", 2) == 0)
    call->id = value;
  else if (len == 9 && strncmp(name, "namespace", 9) == 0)
    call->namespace = value;
  else if (len == 6 && strncmp(name, "bundle", 6) == 0)
    call->bundle = value;
  else if (len == 7 && strncmp(name, "address", 7) == 0)
    call->address = value;
}

void shim_args_parse(int argc, char *const *argv, struct shim_call *call)
{
  memset(call, 0, sizeof *call);
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *flag = argv[i] + (argv[i][1] == '-' ? 2 : 1);
    if (*flag == '\0')
      return; /* "-" or "--": not something containerd writes */
    const char *eq = strchr(flag, '=');
    size_t len = eq ? (size_t)(eq - flag) : strlen(flag);
    if (in(bool_flags, flag, len))
      continue;
    if (!in(value_flags, flag, len))
      return; /* an unknown flag: its arity is unknown, so is the rest */
    if (eq) {
      keep(call, flag, len, eq + 1);
    } else {
      if (i + 1 >= argc)
        return;
      keep(call, flag, len, argv[++i]);
    }
  }
  if (i + 1 != argc) /* exactly one action, last */
    return;
  if (strcmp(argv[i], "start") == 0)
    call->action = SHIM_START;
  else if (strcmp(argv[i], "delete") == 0)
    call->action = SHIM_DELETE;
}
