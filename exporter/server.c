#include "server.h"
#include "cleanup.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MAX_CONNECTIONS = 32, CONNECTION_TIMEOUT_S = 10 };

struct server {
  int fd;
  struct MHD_Daemon *daemon;
  struct exporter *x;
};

static const char landing[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>measured exporter</title></head>"
    "<body><h1>measured exporter</h1><p>The container lifecycles measured on this host, and the "
    "containers running now: <a href=\"/metrics\">/metrics</a> (OpenMetrics, or Prometheus' text "
    "format).</p></body></html>\n";

/* "HOST:PORT" or "[V6]:PORT", numeric only: a name to resolve has no place in a listen address. */
static int parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, merr **err)
{
  cleanup_free char *copy = xstrdup(text);
  char *colon = strrchr(copy, ':'), *host = copy;
  if (colon == NULL || colon[1] == '\0')
    return merr_set(err, 0, "--listen %s: ADDRESS:PORT, e.g. 127.0.0.1:19447", text);
  *colon = '\0';
  if (host[0] == '[') {
    size_t n = strlen(host);
    if (n < 2 || host[n - 1] != ']')
      return merr_set(err, 0, "--listen %s: an IPv6 address goes in brackets", text);
    host[n - 1] = '\0';
    host++;
  }
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                           .ai_socktype = SOCK_STREAM},
                  *res = NULL;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535)
    return merr_set(err, 0, "--listen %s: the port must be a number up to 65535", text);
  int r = getaddrinfo(host, colon + 1, &hints, &res);
  if (r != 0)
    return merr_set(err, 0, "--listen %s: %s", text, gai_strerror(r));
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

int server_bind(const char *addr, struct server **out, int *port, merr **err)
{
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if (parse_addr(addr, &ss, &len, err) < 0)
    return -1;
  cleanup_close int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return merr_set(err, errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0)
    return merr_set(err, errno, "bind %s", addr);
  if (listen(fd, 64) < 0)
    return merr_set(err, errno, "listen %s", addr);
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                            : ((struct sockaddr_in *)&bound)->sin_port);
  struct server *s = xzalloc(sizeof *s);
  s->fd = fd;
  fd = -1;
  *out = s;
  return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body, size_t len,
                             bool owned, const char *type)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (r == NULL) {
    if (owned)
      free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
  (void)version;
  (void)upload;
  struct server *s = cls;
  if (*state == NULL) { /* the headers: answer once the whole request is in */
    *state = s;
    return MHD_YES;
  }
  if (*upload_size != 0) { /* no request here has a body: it is dropped */
    *upload_size = 0;
    return MHD_YES;
  }
  static char not_allowed[] = "only GET and HEAD\n", not_found[] = "not found: try /metrics\n";
  const char *text = "text/plain; charset=utf-8";
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, sizeof not_allowed - 1, false, text);
  if (strcmp(url, "/") == 0)
    return reply(c, MHD_HTTP_OK, (char *)landing, sizeof landing - 1, false,
                 "text/html; charset=utf-8");
  if (strcmp(url, "/metrics") != 0)
    return reply(c, MHD_HTTP_NOT_FOUND, not_found, sizeof not_found - 1, false, text);
  enum exposition_format fmt =
      exposition_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
  size_t len;
  char *body = exporter_render(s->x, fmt, &len);
  return reply(c, MHD_HTTP_OK, body, len, true, exposition_content_type(fmt));
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  fputs("measured exporter: ", stderr);
  vfprintf(stderr, fmt, ap);
}

int server_start(struct server *s, struct exporter *x, merr **err)
{
  s->x = x;
  s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG,
                               0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, log_mhd,
                               NULL, MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT,
                               (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                               (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
  if (s->daemon == NULL)
    return merr_set(err, 0, "libmicrohttpd did not start");
  return 0;
}

void server_stop(struct server *s)
{
  if (s == NULL)
    return;
  if (s->daemon)
    MHD_stop_daemon(s->daemon); /* closes the listening socket it was given */
  else
    close(s->fd);
  free(s);
}
