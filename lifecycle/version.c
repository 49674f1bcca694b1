#include "version.h"
#include "capture.h"
#include "cleanup.h"
#include "fileio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { VERSION_TIMEOUT_MS = 3000, VERSION_MAX_OUT = 4096 };

static json *binary_identity(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return NULL;
  json *o = json_new(JSON_OBJECT);
  json_set(o, "path", json_new_text(path));
  json_set(o, "dev", json_new_uint(st.st_dev));
  json_set(o, "ino", json_new_uint(st.st_ino));
  json_set(o, "size", json_new_int(st.st_size));
  json_set(o, "mtime_ns",
           json_new_int((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec));
  return o;
}

static bool same_identity(const json *a, const json *b)
{
  static const char *const keys[] = {"path", "dev", "ino", "size", "mtime_ns"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const json *x = json_get(a, keys[i]), *y = json_get(b, keys[i]);
    if (!x || !y || x->type != y->type || x->len != y->len || memcmp(x->text, y->text, x->len))
      return false;
  }
  return true;
}

static char *cache_name(const char *runtime_name)
{
  return xasprintf(".cache/version-%s.json", runtime_name);
}

char *version_cached(int rootfd, const char *runtime_name, const char *path)
{
  cleanup_free char *name = cache_name(runtime_name);
  cleanup_free char *buf = NULL;
  size_t len;
  if (read_file_at(rootfd, name, 64 << 10, &buf, &len, NULL) < 0)
    return NULL;
  cleanup_json json *cached = NULL;
  cleanup_json json *now = binary_identity(path);
  if (now == NULL || json_parse(buf, len, NULL, name, &cached, NULL) < 0 ||
      !same_identity(cached, now))
    return NULL;
  const char *v = json_string(json_get(cached, "version"));
  return v ? xstrdup(v) : NULL;
}

char *version_from_output(const char *out)
{
  size_t line = strcspn(out, "\n");
  cleanup_free char *first = xstrndup(out, line);
  const char *v = strstr(first, "version ");
  v = v ? v + strlen("version ") : first;
  while (*v == ' ')
    v++;
  size_t n = strlen(v);
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\r'))
    n--;
  return xstrndup(v, n > 128 ? 128 : n);
}

int version_query(int rootfd, const char *runtime_name, const char *path, char **version,
                  merr **err)
{
  cleanup_free char *out = NULL;
  char *argv[] = {(char *)path, "--version", NULL};
  if (capture_output(argv, VERSION_TIMEOUT_MS, VERSION_MAX_OUT, &out, err) < 0)
    return -1;
  *version = version_from_output(out);
  cleanup_json json *entry = binary_identity(path);
  if (entry == NULL)
    return 0;
  json_set(entry, "version", json_new_text(*version));
  cleanup_free char *text = NULL;
  size_t len;
  if (mkdirat(rootfd, ".cache", 0700) < 0 && errno != EEXIST)
    return 0; /* the version is known; only caching failed */
  cleanup_free char *name = cache_name(runtime_name);
  if (json_serialize(entry, false, &text, &len, NULL) == 0)
    write_file_replace_at(rootfd, name, text, len, 0600, NULL);
  return 0;
}
