/* Per-connection round-trip distributions, exact to the histogram's 2.2 % (histogram.h), for a
 * bounded number of connections at once. Every connection keeps a P-square median of each of its
 * series (20 bytes); it drifts on a series whose level changes over the connection's life (up to
 * 15 % against tcpdump's median in kata_qemu.sh, where round trips come in spells), and a
 * histogram each (6 KB for both series) cannot be given to the 4,096 connections the table
 * follows. A connection takes one of RTT_POOL_SLOTS when it times its first round trip, if one
 * is free, and gives it back when it is folded: the long-lived connections a record's `top`
 * shows are the ones that keep theirs. The slots are allocated when first taken (a monitor
 * whose container makes no connection has none), at most RTT_POOL_SLOTS * 6 KB. */
#ifndef MEASURED_RTT_POOL_H
#define MEASURED_RTT_POOL_H

#include "histogram.h"

#include <stdbool.h>
#include <stdint.h>

enum { RTT_POOL_SLOTS = 16 };

struct rtt_pool;

struct rtt_pool *rtt_pool_new(void);
void rtt_pool_free(struct rtt_pool *p);

/* A free slot, its series emptied: its number (1 to RTT_POOL_SLOTS), 0 when every one is taken. */
uint8_t rtt_pool_take(struct rtt_pool *p);
void rtt_pool_give_back(struct rtt_pool *p, uint8_t slot);

/* One of a taken slot's two series: outside the container, or inside. */
struct histogram *rtt_pool_series(struct rtt_pool *p, uint8_t slot, bool inside);

#endif
