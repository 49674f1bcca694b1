/* The exporter's HTTP side, on libmicrohttpd: GET (or HEAD) /metrics, with the format the
 * scraper's Accept header asks for, and a small landing page at /; 404 for anything else, 405
 * for other methods. One thread serves the requests one after the other (a scrape takes the
 * exporter's lock anyway), with a bounded number of connections and a timeout. */
#ifndef MEASURED_EXPORTER_SERVER_H
#define MEASURED_EXPORTER_SERVER_H

#include "exporter.h"
#include "merr.h"

struct server;

/* Binds addr ("127.0.0.1:19447", "[::1]:19447", "0.0.0.0:19447"; port 0: any, then *port says
 * which). Binding happens here, before the caller confines itself; serving starts with
 * server_start. */
int server_bind(const char *addr, struct server **out, int *port, merr **err);
int server_start(struct server *s, struct exporter *x, merr **err);
void server_stop(struct server *s);

#endif
