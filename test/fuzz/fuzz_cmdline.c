/* Command lines: the OCI runtime's (every call Docker makes), containerd's for a shim. The input
 * is the arguments, separated by NUL bytes. */
#include "ociargs.h"
#include "shimargs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  char *copy = malloc(size + 1);
  memcpy(copy, data, size);
  copy[size] = '\0';
  char *argv[258];
  int argc = 0;
  argv[argc++] = "measured-runc";
  for (char *p = copy; p <= copy + size && argc < 257; p += strlen(p) + 1)
    argv[argc++] = p;
  argv[argc] = NULL;
  struct oci_call call;
  oci_args_parse(argc, argv, &call);
  if (call.id)
    (void)oci_id_valid(call.id);
  (void)oci_sub_name(call.sub);
  struct shim_call sc;
  shim_args_parse(argc, argv, &sc);
  free(copy);
  return 0;
}
