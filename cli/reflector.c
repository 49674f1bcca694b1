/* measured reflector: the probe's peer, on a host (see probe/reflector.h). */
#include "reflector.h"
#include "commands.h"

int cmd_reflector(int argc, char **argv)
{
  struct reflector_opts o;
  int status;
  if (reflector_parse_args(argc, argv, &o, &status) < 0)
    return status;
  return reflector_serve(&o);
}
