/* The topology part of a record: driver, paths, and every link, qdisc and filter seen. */
#ifndef MEASURED_NETJSON_H
#define MEASURED_NETJSON_H

#include "json.h"
#include "topology.h"

json *net_topology_json(const struct net_view *v, const struct net_topology *t);

/* "ffff:", "1:2", "root", "none" */
void net_tc_handle_str(uint32_t h, char *buf, size_t size);

#endif
