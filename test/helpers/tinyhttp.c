/* A server that accepts connections as fast as the machine lets it, for benchmarks: every
 * connection gets one fixed HTTP response to whatever it sends first, and is closed (as busybox
 * httpd does, which forks per connection and so manages some hundreds a second here). One
 * thread, epoll, non-blocking. Static, so that it runs in any container image (bind-mounted).
 *
 *   tinyhttp PORT */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n"
                               "hello\n";

static int listen_on(int port)
{
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1, off = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) {
    perror("tinyhttp: listen");
    exit(1);
  }
  return fd;
}

static void accept_all(int lfd, int ep)
{
  for (;;) {
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
      return; /* EAGAIN: all taken; anything else: the next wake-up tries again */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
      close(c);
  }
}

static void answer(int c)
{
  char buf[4096];
  ssize_t n = read(c, buf, sizeof buf);
  if (n < 0 && errno == EAGAIN)
    return; /* nothing yet */
  if (n > 0 && write(c, response, sizeof response - 1) < 0)
    perror("tinyhttp: write");
  close(c); /* answered, or the peer went away: done (closing removes it from epoll) */
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: tinyhttp PORT\n");
    return 2;
  }
  int lfd = listen_on(atoi(argv[1]));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event ready[256];
  for (;;) {
    int n = epoll_wait(ep, ready, 256, -1);
    for (int i = 0; i < n; i++) {
      if (ready[i].data.fd == lfd)
        accept_all(lfd, ep);
      else
        answer(ready[i].data.fd);
    }
  }
}
