#include "probe_contract.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool split_peer(const char *text, char *host, size_t size, int *port)
{
  const char *colon = strrchr(text, ':');
  *port = PROBE_DEFAULT_PORT;
  if (text[0] == '[') { /* [v6] or [v6]:port */
    const char *close = strchr(text, ']');
    if (close == NULL || (size_t)(close - text - 1) >= size)
      return false;
    snprintf(host, size, "%.*s", (int)(close - text - 1), text + 1);
    if (close[1] == '\0')
      return true;
    if (close[1] != ':')
      return false;
    colon = close + 1;
  } else if (colon && strchr(text, ':') == colon) { /* v4:port */
    if ((size_t)(colon - text) >= size)
      return false;
    snprintf(host, size, "%.*s", (int)(colon - text), text);
  } else { /* v4, or a bare v6 */
    if (strlen(text) >= size)
      return false;
    snprintf(host, size, "%s", text);
    return true;
  }
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (colon[1] == '\0' || *end || p < 1 || p > 65535)
    return false;
  *port = (int)p;
  return true;
}

int probe_peer_parse(const char *text, struct sockaddr_storage *peer, socklen_t *len, char *canon,
                     size_t canon_size)
{
  char host[64];
  int port;
  if (!split_peer(text, host, sizeof host, &port))
    return -1;
  memset(peer, 0, sizeof *peer);
  struct sockaddr_in *s4 = (struct sockaddr_in *)peer;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)peer;
  if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *len = sizeof *s4;
    snprintf(canon, canon_size, "%s:%d", host, port);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    *len = sizeof *s6;
    snprintf(canon, canon_size, "[%s]:%d", host, port);
    return 0;
  }
  return -1;
}
