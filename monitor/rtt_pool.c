#include "rtt_pool.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct rtt_series {
  struct histogram outside, inside;
};

struct rtt_pool {
  struct rtt_series *slot[RTT_POOL_SLOTS]; /* NULL until first taken */
  bool taken[RTT_POOL_SLOTS];
};

struct rtt_pool *rtt_pool_new(void)
{
  return xzalloc(sizeof(struct rtt_pool));
}

void rtt_pool_free(struct rtt_pool *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < RTT_POOL_SLOTS; i++)
    free(p->slot[i]);
  free(p);
}

static void empty(struct histogram *h)
{
  if (h->n) /* (a fresh slot is zeroed already) */
    memset(h, 0, sizeof *h);
}

uint8_t rtt_pool_take(struct rtt_pool *p)
{
  for (size_t i = 0; i < RTT_POOL_SLOTS; i++) {
    if (p->taken[i])
      continue;
    if (p->slot[i] == NULL)
      p->slot[i] = xzalloc(sizeof *p->slot[i]);
    empty(&p->slot[i]->outside);
    empty(&p->slot[i]->inside);
    p->taken[i] = true;
    return (uint8_t)(i + 1);
  }
  return 0;
}

void rtt_pool_give_back(struct rtt_pool *p, uint8_t slot)
{
  if (slot >= 1 && slot <= RTT_POOL_SLOTS)
    p->taken[slot - 1] = false;
}

struct histogram *rtt_pool_series(struct rtt_pool *p, uint8_t slot, bool inside)
{
  struct rtt_series *s = p->slot[slot - 1];
  return inside ? &s->inside : &s->outside;
}
