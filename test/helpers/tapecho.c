/* Stands in for a Kata VM on the far side of a tap device, for tests: attaches to an existing
 * tap (as the hypervisor does), then counts the frames that arrive for a while, and/or writes
 * frames of a fixed size. Prints "read N frames B bytes" / "wrote N frames B bytes".
 * With --guest, it is the VM's virtual NIC instead: it makes a tap of that name in the network
 * namespace given (the "guest", whose own kernel then answers TCP, as a VM's does) and relays
 * frames both ways between the two taps until it is killed.
 *
 *   tapecho --dev tap0_kata [--read-ms MS] [--write N --size S --src MAC --dst MAC]
 *           [--guest NETNS_PATH --guest-dev NAME]
 *           [--ready FILE]   (touched once attached, so a test knows when to send)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int parse_mac(const char *s, unsigned char mac[6])
{
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                &mac[5]) == 6
             ? 0
             : -1;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int attach(const char *dev)
{
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* A tap on a bridge only forwards once its port, which comes up with the carrier our attach
 * brings, is in the forwarding state (3): frames written before are dropped. */
static void wait_bridge_port(const char *dev)
{
  char path[128];
  snprintf(path, sizeof path, "/sys/class/net/%s/brport/state", dev);
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
      return; /* not on a bridge */
    int state = -1;
    int got = fscanf(f, "%d", &state);
    fclose(f);
    if (got == 1 && state == 3)
      return;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

static void write_frames(int fd, long n, size_t size, const unsigned char src[6],
                         const unsigned char dst[6])
{
  unsigned char frame[9000] = {0};
  memcpy(frame, dst, 6);
  memcpy(frame + 6, src, 6);
  frame[12] = 0x88, frame[13] = 0xb5; /* local experimental ethertype: no stack answers it */
  long done = 0, bytes = 0;
  for (; done < n; done++) {
    ssize_t w = write(fd, frame, size);
    if (w != (ssize_t)size)
      break;
    bytes += w;
  }
  printf("wrote %ld frames %ld bytes\n", done, bytes);
}

static void read_frames(int fd, long ms)
{
  long frames = 0, bytes = 0;
  long long end = now_ms() + ms;
  unsigned char buf[65536];
  for (long long left; (left = end - now_ms()) > 0;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)left) <= 0)
      continue;
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
      frames++;
      bytes += r;
    }
  }
  printf("read %ld frames %ld bytes\n", frames, bytes);
}

/* The guest's NIC: a tap made in the namespace at path, its frames relayed to and from fd. */
static int guest_nic(const char *netns, const char *dev)
{
  int ns = open(netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    fprintf(stderr, "tapecho: enter %s: %s\n", netns, strerror(errno));
    return -1;
  }
  close(ns);
  int fd = attach(dev);
  if (fd < 0)
    fprintf(stderr, "tapecho: make %s in %s: %s\n", dev, netns, strerror(errno));
  return fd;
}

static void relay(int a, int b)
{
  unsigned char buf[65536];
  for (;;) {
    struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      return;
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & POLLIN))
        continue;
      ssize_t r = read(p[i].fd, buf, sizeof buf);
      if (r > 0 && write(p[1 - i].fd, buf, (size_t)r) < 0 && errno != EIO)
        return; /* (EIO: the other tap is down for a moment) */
    }
  }
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
      {"dev", required_argument, NULL, 'd'},       {"read-ms", required_argument, NULL, 'r'},
      {"write", required_argument, NULL, 'w'},     {"size", required_argument, NULL, 's'},
      {"src", required_argument, NULL, 'S'},       {"dst", required_argument, NULL, 'D'},
      {"ready", required_argument, NULL, 'R'},     {"guest", required_argument, NULL, 'g'},
      {"guest-dev", required_argument, NULL, 'G'}, {NULL, 0, NULL, 0}};
  const char *dev = NULL, *ready = NULL, *guest = NULL, *guest_dev = "eth0";
  long read_ms = 0, nwrite = 0, size = 0;
  unsigned char src[6] = {0}, dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'd':
      dev = optarg;
      break;
    case 'r':
      read_ms = atol(optarg);
      break;
    case 'w':
      nwrite = atol(optarg);
      break;
    case 's':
      size = atol(optarg);
      break;
    case 'R':
      ready = optarg;
      break;
    case 'g':
      guest = optarg;
      break;
    case 'G':
      guest_dev = optarg;
      break;
    case 'S':
    case 'D':
      if (parse_mac(optarg, c == 'S' ? src : dst) < 0) {
        fprintf(stderr, "tapecho: bad MAC %s\n", optarg);
        return 2;
      }
      break;
    default:
      return 2;
    }
  }
  if (dev == NULL || (nwrite && (size < 60 || size > 9000))) {
    fprintf(stderr, "usage: tapecho --dev TAP [--read-ms MS] [--write N --size 60..9000 "
                    "--src MAC [--dst MAC]] [--guest NETNS_PATH [--guest-dev NAME]] "
                    "[--ready FILE]\n");
    return 2;
  }
  int fd = attach(dev);
  if (fd < 0) {
    fprintf(stderr, "tapecho: attach %s: %s\n", dev, strerror(errno));
    return 1;
  }
  int guest_fd = guest ? guest_nic(guest, guest_dev) : -1;
  if (guest && guest_fd < 0)
    return 1;
  if (ready)
    close(open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (guest) {
    relay(fd, guest_fd);
    return 0;
  }
  if (read_ms)
    read_frames(fd, read_ms);
  if (nwrite) {
    wait_bridge_port(dev);
    write_frames(fd, nwrite, (size_t)size, src, dst);
  }
  close(fd);
  return 0;
}
