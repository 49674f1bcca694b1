#include "oci.h"

#include <string.h>

const char *oci_sub_name(enum oci_sub sub)
{
  switch (sub) {
  case OCI_SUB_CREATE:
    return "create";
  case OCI_SUB_START:
    return "start";
  case OCI_SUB_EXEC:
    return "exec";
  case OCI_SUB_KILL:
    return "kill";
  case OCI_SUB_DELETE:
    return "delete";
  case OCI_SUB_OTHER:
    return "other";
  case OCI_SUB_NONE:
    break;
  }
  return "none";
}

bool oci_id_valid(const char *id)
{
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > 256 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return false;
  return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-") == n;
}
