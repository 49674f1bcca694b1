#include "table_cache.h"
#include "cleanup.h"
#include "fileio.h"
#include "places.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { TABLE_CACHE_MAX = 1 << 20 };

static char *cache_name(const char *path)
{
  uint64_t h = 14695981039346656037ULL; /* FNV-1a: a short, stable name for any path */
  for (const char *s = path; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return xasprintf("table-%016llx.json", (unsigned long long)h);
}

static int cache_dir_open(merr **err)
{
  const char *state_dir = measured_places()->state_dir;
  if (state_dir == NULL)
    return merr_set(err, ENOENT, "%s", measured_places()->why);
  cleanup_free char *dir = xasprintf("%s/.cache", state_dir);
  return open_private_dir(dir, err);
}

/* The table's bytes, or ENOENT. */
static int read_table(const char *path, char **text, size_t *len, merr **err)
{
  return read_file_at(AT_FDCWD, path, TABLE_CACHE_MAX, text, len, err);
}

static void remember(const char *path, const char *text, size_t len)
{
  cleanup_close int dirfd = cache_dir_open(NULL);
  if (dirfd < 0)
    return;
  cleanup_free char *name = cache_name(path);
  cleanup_free char *old = NULL;
  size_t old_len = 0;
  if (read_file_at(dirfd, name, TABLE_CACHE_MAX, &old, &old_len, NULL) == 0 && old_len == len &&
      memcmp(old, text, len) == 0)
    return; /* the usual case: nothing changed */
  write_file_replace_at(dirfd, name, text, len, 0600, NULL);
}

int runtime_table_load_and_remember(const char *path, struct runtime_table **out, merr **err)
{
  cleanup_free char *text = NULL;
  size_t len;
  cleanup_merr merr *rerr = NULL;
  if (read_table(path, &text, &len, &rerr) < 0)
    return runtime_table_load(path, out, err); /* absent: the built-in entries; else its error */
  if (runtime_table_parse(text, len, path, out, err) < 0)
    return -1;
  remember(path, text, len);
  return 0;
}

static int load_last_good(const char *path, struct runtime_table **out)
{
  cleanup_close int dirfd = cache_dir_open(NULL);
  cleanup_free char *name = cache_name(path);
  cleanup_free char *text = NULL;
  size_t len;
  if (dirfd < 0 || read_file_at(dirfd, name, TABLE_CACHE_MAX, &text, &len, NULL) < 0)
    return -1;
  cleanup_free char *what = xasprintf("%s (the last good copy)", path);
  return runtime_table_parse(text, len, what, out, NULL);
}

int runtime_table_load_or_last_good(const char *path, struct runtime_table **out, char **warning,
                                    merr **err)
{
  *warning = NULL;
  cleanup_merr merr *lerr = NULL;
  if (runtime_table_load(path, out, &lerr) == 0)
    return 0;
  if (load_last_good(path, out) == 0) {
    *warning = xasprintf("%s; using the last runtime table that parsed", merr_msg(lerr));
    return 0;
  }
  if (runtime_table_parse("{}", 2, "built-in defaults", out, err) < 0)
    return -1;
  *warning =
      xasprintf("%s; using the built-in entries (no earlier table was kept)", merr_msg(lerr));
  return 0;
}
