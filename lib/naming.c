#include "naming.h"
#include "xalloc.h"

#include <string.h>

char *naming_runtime(const char *name)
{
  return xasprintf(NAMING_RUNTIME_PREFIX "%s", name);
}

char *naming_shim_binary(const char *name)
{
  return xasprintf(NAMING_SHIM_PREFIX "%s" NAMING_SHIM_SUFFIX, name);
}

char *naming_runtime_type(const char *name)
{
  return xasprintf(NAMING_TYPE_PREFIX "%s" NAMING_TYPE_SUFFIX, name);
}

static bool has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *naming_runtime_of(const char *word)
{
  return has_prefix(word, NAMING_RUNTIME_PREFIX) ? word + strlen(NAMING_RUNTIME_PREFIX) : NULL;
}

/* The part between prefix and suffix, when word has both around a non-empty middle. */
static char *between(const char *word, const char *prefix, const char *suffix)
{
  size_t n = strlen(word), p = strlen(prefix), s = strlen(suffix);
  if (n <= p + s || !has_prefix(word, prefix) || strcmp(word + n - s, suffix) != 0)
    return NULL;
  return xstrndup(word + p, n - p - s);
}

char *naming_runtime_of_shim(const char *word)
{
  return between(word, NAMING_SHIM_PREFIX, NAMING_SHIM_SUFFIX);
}

char *naming_runtime_of_type(const char *type)
{
  return between(type, NAMING_TYPE_PREFIX, NAMING_TYPE_SUFFIX);
}

bool naming_is_wrapper_comm(const char *comm)
{
  /* "containerd-shim-measured-X-v2" is cut to "containerd-shim" by the kernel's 15 bytes: only
   * the OCI-CLI wrapper and the hook claim lifecycles, and both begin with "measured-". */
  return has_prefix(comm, NAMING_RUNTIME_PREFIX);
}
