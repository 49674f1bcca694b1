#include "ociargs.h"

#include <string.h>

/* Subcommands of runc, crun, runsc and kata-runtime; a word in this list ends the global flags. */
static const char *const known_subcommands[] = {
    "checkpoint", "create", "delete", "events", "exec", "features", "help", "init", "kill", "list",
    "pause", "ps", "restore", "resume", "run", "spec", "start", "state", "update",
    /* crun */
    "mounts",
    /* runsc */
    "boot", "debug", "do", "flags", "gofer", "install", "port-forward", "symbolize", "syscalls",
    "uninstall", "wait", "metric-metadata", "metric-export", "metric-server", "tar", "trace",
    /* kata-runtime */
    "check", "env", "kata-check", "kata-env", "kata-overhead", "version", NULL};

/* Global flags that take a value (runc, crun, runsc, kata-runtime). Only flags known to take a
 * value belong here: a boolean listed here would swallow the subcommand after it. */
static const char *const global_value_flags[] = {
    "log", "log-format", "root", "criu", "rootless", "cgroup-manager", "log-level",
    /* runsc */
    "debug-log", "panic-log", "debug-log-format", "network", "platform", "file-access", "overlay2",
    "strace-syscalls", "strace-log-size", "watchdog-action", "panic-signal", "profile-block",
    "profile-cpu", "profile-heap", "profile-mutex", "coverage-report", "host-uds", "host-fifo",
    "num-network-channels", "nvproxy-driver-version", "pod-init-config", "ref-leak-mode",
    "fd-limit", "dcache",
    /* kata-runtime */
    "kata-config", NULL};

/* Subcommand flags that take a value, for the subcommands the wrapper measures. */
static const char *const create_value_flags[] = {
    "bundle", "b", "console-socket", "pid-file",          "preserve-fds",
    "config", "f", "user-log",       "internal-pid-file", NULL};
static const char *const exec_value_flags[] = {"console-socket",
                                               "cwd",
                                               "env",
                                               "e",
                                               "user",
                                               "u",
                                               "additional-gids",
                                               "g",
                                               "process",
                                               "p",
                                               "pid-file",
                                               "process-label",
                                               "apparmor",
                                               "cap",
                                               "c",
                                               "preserve-fds",
                                               "cgroup",
                                               "internal-pid-file",
                                               "exec-fifo",
                                               NULL};
static const char *const kill_value_flags[] = {"pid", NULL};
static const char *const no_value_flags[] = {NULL};

/* Global value flags may also appear after the subcommand (crun and runsc accept some there);
 * they are recognized in both places so that their value is never taken for the container id. */
static bool in_list(const char *const *list, const char *name, size_t len)
{
  for (; *list; list++)
    if (strlen(*list) == len && strncmp(*list, name, len) == 0)
      return true;
  return false;
}

struct flag {
  const char *name; /* without leading dashes */
  size_t name_len;
  const char *inline_value; /* after "=", or NULL */
};

/* Splits "--name=value" / "-name" into its parts; false when arg is not a flag. */
static bool split_flag(const char *arg, struct flag *f)
{
  if (arg[0] != '-' || arg[1] == '\0')
    return false;
  const char *name = arg + (arg[1] == '-' ? 2 : 1);
  if (*name == '\0') /* "--" */
    return false;
  const char *eq = strchr(name, '=');
  f->name = name;
  f->name_len = eq ? (size_t)(eq - name) : strlen(name);
  f->inline_value = eq ? eq + 1 : NULL;
  return true;
}

static bool flag_is(const struct flag *f, const char *name)
{
  return strlen(name) == f->name_len && strncmp(f->name, name, f->name_len) == 0;
}

static enum oci_sub classify(const char *word)
{
  static const struct {
    const char *name;
    enum oci_sub sub;
  } measured[] = {{"create", OCI_SUB_CREATE},
                  {"start", OCI_SUB_START},
                  {"exec", OCI_SUB_EXEC},
                  {"kill", OCI_SUB_KILL},
                  {"delete", OCI_SUB_DELETE}};
  for (size_t i = 0; i < sizeof measured / sizeof measured[0]; i++)
    if (strcmp(word, measured[i].name) == 0)
      return measured[i].sub;
  return OCI_SUB_OTHER;
}

static void note_global(struct oci_call *c, const struct flag *f, const char *value)
{
  if (flag_is(f, "log"))
    c->log_path = value;
  else if (flag_is(f, "log-format"))
    c->log_format = value;
  else if (flag_is(f, "root"))
    c->root = value;
}

static bool is_subcommand_word(const char *w)
{
  return in_list(known_subcommands, w, strlen(w));
}

/* Parses global flags; returns the index of the first non-flag word (argc when none). */
static int parse_globals(int argc, char *const *argv, struct oci_call *c)
{
  int i = 1;
  while (i < argc) {
    struct flag f;
    if (strcmp(argv[i], "--") == 0)
      return i + 1;
    if (!split_flag(argv[i], &f))
      return i;
    const char *value = f.inline_value;
    if (value == NULL && i + 1 < argc) {
      bool known = in_list(global_value_flags, f.name, f.name_len);
      const char *next = argv[i + 1];
      bool next_is_word = next[0] != '-' && !is_subcommand_word(next);
      if (known || next_is_word)
        value = argv[++i];
    }
    if (value)
      note_global(c, &f, value);
    i++;
  }
  return i;
}

static const char *const *value_flags_for(enum oci_sub sub)
{
  switch (sub) {
  case OCI_SUB_CREATE:
    return create_value_flags;
  case OCI_SUB_EXEC:
    return exec_value_flags;
  case OCI_SUB_KILL:
    return kill_value_flags;
  default:
    return no_value_flags;
  }
}

static void note_sub_flag(struct oci_call *c, const struct flag *f, const char *value)
{
  if (c->sub == OCI_SUB_CREATE && (flag_is(f, "bundle") || flag_is(f, "b")))
    c->bundle = value;
  else if (flag_is(f, "pid-file"))
    c->pid_file = value;
  else if (c->sub == OCI_SUB_DELETE && (flag_is(f, "force") || flag_is(f, "f")))
    c->force = value == NULL || strcmp(value, "true") == 0;
  else if (c->sub == OCI_SUB_EXEC && (flag_is(f, "detach") || flag_is(f, "d")))
    c->detach = value == NULL || strcmp(value, "true") == 0;
  else
    note_global(c, f, value);
}

static void parse_sub_args(int argc, char *const *argv, int i, struct oci_call *c)
{
  const char *const *value_flags = value_flags_for(c->sub);
  int positional = 0;
  bool flags_done = false;
  for (; i < argc; i++) {
    struct flag f;
    if (!flags_done && strcmp(argv[i], "--") == 0) {
      flags_done = true;
      continue;
    }
    if (!flags_done && split_flag(argv[i], &f)) {
      const char *value = f.inline_value;
      bool takes_value = in_list(value_flags, f.name, f.name_len) ||
                         in_list(global_value_flags, f.name, f.name_len);
      if (value == NULL && takes_value && i + 1 < argc)
        value = argv[++i];
      note_sub_flag(c, &f, value);
      continue;
    }
    /* urfave/cli (runc) stops reading flags at the first positional argument; for exec what
     * follows the id is the command to run, never ours to interpret. */
    if (positional == 0)
      c->id = argv[i];
    else if (positional == 1 && c->sub == OCI_SUB_KILL)
      c->signal = argv[i];
    positional++;
    if (c->sub == OCI_SUB_EXEC)
      return;
    flags_done = true;
  }
}

void oci_args_parse(int argc, char *const *argv, struct oci_call *c)
{
  memset(c, 0, sizeof *c);
  c->sub_index = -1;
  int i = parse_globals(argc, argv, c);
  if (i >= argc) {
    c->sub = OCI_SUB_NONE;
    return;
  }
  c->sub_index = i;
  c->sub_name = argv[i];
  c->sub = classify(argv[i]);
  if (c->sub != OCI_SUB_OTHER)
    parse_sub_args(argc, argv, i + 1, c);
}
