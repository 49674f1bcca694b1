#include "lifecycle.h"
#include "calls.h"
#include "create.h"
#include "delete.h"

int lifecycle_before_create(void *arg)
{
  return create_before(arg);
}

void lifecycle_before_start(struct call_ctx *c)
{
  calls_before_start(c);
}

int lifecycle_after(void *arg)
{
  const struct call_ctx *c = arg;
  switch (c->call->sub) {
  case OCI_SUB_CREATE:
    return create_after(c);
  case OCI_SUB_START:
  case OCI_SUB_EXEC:
  case OCI_SUB_KILL:
    return calls_after(c);
  case OCI_SUB_DELETE:
    return delete_after(c);
  default:
    return 0;
  }
}
