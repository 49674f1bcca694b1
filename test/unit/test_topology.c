/* Classification and counting over hand-made namespace snapshots: every driver, Kata's tc
 * mirroring, and what cannot be followed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "series.h"
#include "taprelay.h"
#include "topology.h"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/tc_act/tc_mirred.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct net_link mk(int ifindex, const char *name, const char *kind)
{
  struct net_link l;
  memset(&l, 0, sizeof l);
  l.ifindex = ifindex;
  snprintf(l.name, sizeof l.name, "%s", name);
  snprintf(l.kind, sizeof l.kind, "%s", kind);
  l.link_netnsid = -1;
  return l;
}

static void add(struct net_nsview *ns, struct net_link l)
{
  net_snapshot_add_link(&ns->snap, &l);
}

static struct net_nsview *ns_at(struct net_view *v, size_t i, const char *label, int nsid,
                                bool host)
{
  struct net_nsview *ns = &v->ns[i];
  snprintf(ns->label, sizeof ns->label, "%s", label);
  ns->nsid = nsid;
  ns->is_host = host;
  if (v->nns <= i)
    v->nns = i + 1;
  return ns;
}

static struct net_link veth_to(int ifindex, const char *name, int peer, int nsid)
{
  struct net_link l = mk(ifindex, name, "veth");
  l.link = peer;
  l.link_netnsid = nsid;
  return l;
}

static struct net_link slave(struct net_link l, int master)
{
  l.master = master;
  return l;
}

static struct net_link loopback(void)
{
  struct net_link l = mk(1, "lo", "");
  l.loopback = true;
  return l;
}

static char *text0(const struct net_view *v, const struct net_topology *t, size_t i)
{
  return net_path_text(v, &t->paths[i]);
}

static void bridge(void **state)
{
  (void)state;
  struct net_view v = {0};
  struct net_nsview *c = ns_at(&v, 0, "container", -1, false);
  add(c, loopback());
  add(c, veth_to(20, "eth0", 21, 0));
  struct net_nsview *h = ns_at(&v, 1, "host", 0, true);
  add(h, slave(veth_to(21, "veth1a2b", 20, 5), 3));
  add(h, mk(3, "docker0", "bridge"));
  struct net_topology t;
  net_classify(&v, &t);
  assert_string_equal(t.driver, "bridge");
  assert_int_equal(t.npaths, 1);
  char *s = text0(&v, &t, 0);
  assert_string_equal(s, "container eth0 -> host veth1a2b -> bridge docker0");
  free(s);
  assert_string_equal(t.note, "");
  net_view_clear(&v);
}

static void overlay_with_gateway_bridge(void **state)
{
  (void)state;
  struct net_view v = {0};
  struct net_nsview *c = ns_at(&v, 0, "container", -1, false);
  add(c, loopback());
  add(c, veth_to(30, "eth0", 31, 1));
  add(c, veth_to(32, "eth1", 33, 0));
  struct net_nsview *h = ns_at(&v, 1, "host", 0, true);
  add(h, slave(veth_to(33, "vethgw", 32, 4), 10));
  add(h, mk(10, "docker_gwbridge", "bridge"));
  struct net_nsview *o = ns_at(&v, 2, "docker:1-abc", 1, false);
  add(o, slave(veth_to(31, "veth1", 30, 2), 2));
  add(o, mk(2, "br0", "bridge"));
  struct net_link vx = slave(mk(4, "vxlan0", "vxlan"), 2);
  vx.has_vxlan_id = true;
  vx.vxlan_id = 4097;
  add(o, vx);
  struct net_topology t;
  net_classify(&v, &t);
  assert_string_equal(t.driver, "overlay"); /* not "bridge": overlay is the more specific */
  assert_int_equal(t.npaths, 2);
  char *s = text0(&v, &t, 0);
  assert_string_equal(
      s, "container eth0 -> docker:1-abc veth1 -> bridge br0 -> vxlan vxlan0 (vni 4097)");
  free(s);
  s = text0(&v, &t, 1);
  assert_string_equal(s, "container eth1 -> host vethgw -> bridge docker_gwbridge");
  free(s);
  net_view_clear(&v);
}

static void macvlan_and_ipvlan(void **state)
{
  (void)state;
  const char *kinds[] = {"macvlan", "ipvlan"};
  for (int i = 0; i < 2; i++) {
    struct net_view v = {0};
    struct net_nsview *c = ns_at(&v, 0, "container", -1, false);
    struct net_link l = mk(40, "eth0", kinds[i]);
    l.link = 7;
    l.link_netnsid = 0;
    add(c, l);
    add(ns_at(&v, 1, "host", 0, true), mk(7, "mvp0", "veth"));
    struct net_topology t;
    net_classify(&v, &t);
    assert_string_equal(t.driver, kinds[i]);
    char *s = text0(&v, &t, 0);
    assert_string_equal(s, "container eth0 -> host parent mvp0");
    free(s);
    net_view_clear(&v);
  }
}

/* Kata's tcfilter: a u32 filter on each ingress, mirred egress redirect to the other. */
static void add_redirect(struct net_nsview *ns, int from, int to, uint32_t index, int eaction)
{
  struct net_snapshot *s = &ns->snap;
  s->filters = realloc(s->filters, (s->nfilters + 1) * sizeof *s->filters);
  struct net_filter *f = &s->filters[s->nfilters++];
  memset(f, 0, sizeof *f);
  f->ifindex = from;
  f->parent = 0xffff0000;
  f->protocol = ETH_P_ALL;
  snprintf(f->kind, sizeof f->kind, "u32");
  f->actions = calloc(1, sizeof *f->actions);
  f->nactions = 1;
  snprintf(f->actions[0].kind, sizeof f->actions[0].kind, "mirred");
  f->actions[0].index = index;
  f->actions[0].mirred_eaction = eaction;
  f->actions[0].mirred_ifindex = to;
  f->actions[0].has_stats = true;
}

static struct net_view kata_view(bool both_ways)
{
  struct net_view v = {0};
  struct net_nsview *c = ns_at(&v, 0, "container", -1, false);
  add(c, loopback());
  add(c, veth_to(50, "eth0", 51, 0));
  struct net_link tap = mk(52, "tap0_kata", "tun");
  tap.tap = true;
  add(c, tap);
  add_redirect(c, 50, 52, 1, TCA_EGRESS_REDIR);
  if (both_ways)
    add_redirect(c, 52, 50, 2, TCA_EGRESS_REDIR);
  struct net_nsview *h = ns_at(&v, 1, "host", 0, true);
  add(h, slave(veth_to(51, "vethk", 50, 3), 3));
  add(h, mk(3, "docker0", "bridge"));
  return v;
}

static void kata_tcfilter(void **state)
{
  (void)state;
  struct net_view v = kata_view(true);
  struct net_topology t;
  net_classify(&v, &t);
  assert_string_equal(t.driver, "kata-tcfilter");
  assert_string_equal(t.underlay, "bridge");
  assert_int_equal(t.npaths, 1); /* the tap is part of eth0's path, not a path of its own */
  char *s = text0(&v, &t, 0);
  assert_string_equal(
      s, "container tap0_kata =mirred=> container eth0 -> host vethk -> bridge docker0");
  free(s);
  assert_int_equal(t.nmirred, 2);
  assert_string_equal(t.mirred[0].dev, "eth0");
  assert_string_equal(t.mirred[0].target, "tap0_kata");
  assert_string_equal(net_mirred_direction(t.mirred[0].eaction), "egress");
  assert_string_equal(net_mirred_mode(t.mirred[0].eaction), "redirect");
  net_view_clear(&v);
}

static void half_kata_is_not_kata(void **state)
{
  (void)state;
  struct net_view v = kata_view(false);
  struct net_topology t;
  net_classify(&v, &t);
  assert_string_equal(t.driver, "bridge"); /* one redirect alone is not Kata's pairing */
  assert_int_equal(t.npaths, 2);
  assert_non_null(strstr(t.note, "tap0_kata: a link of kind \"tun\""));
  net_view_clear(&v);
}

/* Rootless podman: the container's only link is a TAP whose frames slirp4netns (or pasta) reads
 * in user space; no redirect joins it to anything. */
static void user_space_tap(void **state)
{
  (void)state;
  struct net_view v = {0};
  struct net_nsview *c = ns_at(&v, 0, "container", -1, false);
  add(c, loopback());
  struct net_link tap = mk(2, "tap0", "tun");
  tap.tap = true;
  add(c, tap);
  struct net_topology t;
  net_classify(&v, &t);
  assert_string_equal(t.driver, "tap");
  assert_int_equal(t.npaths, 1);
  char *s = text0(&v, &t, 0);
  assert_string_equal(s, "container tap0");
  free(s);
  assert_string_equal(t.note, "");
  net_view_clear(&v);
}

/* Which arguments of a relay's command line name a namespace: a path (bare or after '='), a pid;
 * never a /proc/self path, whose namespace depends on who looks. */
static void relay_arguments(void **state)
{
  (void)state;
  struct stat own;
  assert_int_equal(stat("/proc/self/ns/net", &own), 0);
  char pid[16], opt[32];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  snprintf(opt, sizeof opt, "--netns=%d", (int)getpid());
  assert_true(net_tap_relay_arg_names(pid, own.st_dev, own.st_ino));
  assert_true(net_tap_relay_arg_names(opt, own.st_dev, own.st_ino));
  assert_false(net_tap_relay_arg_names("/proc/self/ns/net", own.st_dev, own.st_ino));
  assert_false(net_tap_relay_arg_names("tap0", own.st_dev, own.st_ino));
  assert_false(net_tap_relay_arg_names("12345678901234", own.st_dev, own.st_ino));
  assert_false(net_tap_relay_arg_names("/nonexistent", own.st_dev, own.st_ino));
}

/* A process named slirp4netns outside a namespace, naming it by pid, is its relay; one inside
 * it is not (a container's process may take any name). Root only: it makes a namespace. */
static void relay_found_outside_only(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip();
  int hold[2];
  assert_int_equal(pipe(hold), 0);
  pid_t ns_owner = fork();
  if (ns_owner == 0) { /* the "container": a namespace of its own */
    close(hold[1]);
    if (unshare(CLONE_NEWNET) < 0)
      _exit(1);
    char c;
    (void)!read(hold[0], &c, 1);
    _exit(0);
  }
  char dir[] = "/tmp/measured-relay-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char link[64], target[16];
  snprintf(link, sizeof link, "%s/slirp4netns", dir);
  assert_int_equal(symlink("/bin/sh", link), 0);
  char ns_path[64];
  snprintf(ns_path, sizeof ns_path, "/proc/%d/ns/net", (int)ns_owner);
  struct stat own, theirs;
  assert_int_equal(stat("/proc/self/ns/net", &own), 0);
  for (int i = 0; i < 500 && (stat(ns_path, &theirs) < 0 || theirs.st_ino == own.st_ino); i++)
    usleep(10000); /* until the child has its namespace */
  snprintf(target, sizeof target, "%d", (int)ns_owner);
  pid_t relay = fork();
  if (relay == 0) { /* comm is the name it was run by; it waits on the pipe */
    close(hold[1]);
    dup2(hold[0], 0);
    execl(link, "slirp4netns", "-c", "read x", "slirp4netns", "--netns-type=pid", target,
          (char *)NULL);
    _exit(127);
  }
  char comm_path[64], comm[32] = "";
  snprintf(comm_path, sizeof comm_path, "/proc/%d/comm", (int)relay);
  for (int i = 0; i < 500 && strcmp(comm, "slirp4netns\n") != 0; i++) { /* until it execs */
    usleep(10000);
    FILE *f = fopen(comm_path, "re");
    if (f && fgets(comm, sizeof comm, f) == NULL)
      comm[0] = '\0';
    if (f)
      fclose(f);
  }
  int ctrfd = open(ns_path, O_RDONLY | O_CLOEXEC);
  assert_true(ctrfd >= 0);
  char name[TAP_RELAY_NAME_MAX] = "";
  pid_t found = net_tap_relay(ctrfd, name);
  int ownfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  char none[TAP_RELAY_NAME_MAX] = "";
  pid_t not_for_ours = net_tap_relay(ownfd, none); /* it runs in ours: not our relay */
  close(hold[1]);
  waitpid(relay, NULL, 0);
  waitpid(ns_owner, NULL, 0);
  close(ctrfd);
  close(ownfd);
  unlink(link);
  rmdir(dir);
  assert_int_equal(found, relay);
  assert_string_equal(name, "slirp4netns");
  assert_int_equal(not_for_ours, 0);
}

static void none_and_unfollowable(void **state)
{
  (void)state;
  struct net_view v = {0};
  add(ns_at(&v, 0, "container", -1, false), loopback());
  struct net_topology t;
  net_classify(&v, &t);
  assert_string_equal(t.driver, "none");
  char *s = text0(&v, &t, 0);
  assert_string_equal(s, "container lo");
  free(s);
  /* A peer in a namespace nobody could open: the path stops, and says why. */
  add(&v.ns[0], veth_to(60, "eth0", 61, 7));
  net_classify(&v, &t);
  assert_string_equal(t.driver, "veth");
  assert_int_equal(t.paths[0].nhops, 1);
  assert_non_null(strstr(t.note, "eth0: the namespace of its peer (id 7) was not found"));
  net_view_clear(&v);
}

static void set_counters(struct net_view *v, size_t ns, int ifindex, uint64_t tx, uint64_t rx,
                         int64_t at_us)
{
  for (size_t i = 0; i < v->ns[ns].snap.nlinks; i++)
    if (v->ns[ns].snap.links[i].ifindex == ifindex) {
      v->ns[ns].snap.links[i].c.tx_bytes = tx;
      v->ns[ns].snap.links[i].c.tx_packets = tx / 100;
      v->ns[ns].snap.links[i].c.rx_bytes = rx;
      v->ns[ns].snap.links[i].c.rx_packets = rx / 100;
    }
  v->ns[ns].snap.mono_us = at_us;
}

static void series_counts_and_checks(void **state)
{
  (void)state;
  struct net_view v = {0};
  struct net_nsview *c = ns_at(&v, 0, "container", -1, false);
  add(c, loopback());
  add(c, veth_to(20, "eth0", 21, 0));
  struct net_nsview *h = ns_at(&v, 1, "host", 0, true);
  add(h, slave(veth_to(21, "vethx", 20, 5), 3));
  add(h, mk(3, "docker0", "bridge"));
  struct net_topology t;
  net_classify(&v, &t);
  struct net_series s;
  memset(&s, 0, sizeof s);
  net_series_track(&s, &v, &t);
  assert_int_equal(s.nlinks, 3);
  /* t=0: 1000/500; t=1s: +2000 tx; t=1.5s: +3000 tx (6000 B/s, the peak) */
  uint64_t tx[] = {1000, 3000, 6000}, rx[] = {500, 500, 700};
  int64_t at[] = {0, 1000000, 1500000};
  for (int i = 0; i < 3; i++) {
    set_counters(&v, 0, 20, tx[i], rx[i], at[i]);
    set_counters(&v, 1, 21, rx[i], tx[i], at[i]);
    net_series_add(&s, &v);
  }
  json *j = net_series_json(&s, &t);
  const json *l0 = json_get(j, "links")->items[0];
  int64_t d;
  assert_true(json_int64(json_get_path(l0, (const char *const[]){"delta", "tx_bytes", NULL}), &d));
  assert_int_equal(d, 5000);
  double peak;
  assert_true(
      json_double(json_get_path(l0, (const char *const[]){"peak", "tx_bytes_per_s", NULL}), &peak));
  assert_true(peak > 5999 && peak < 6001);
  assert_int_equal(json_get(j, "consistent")->type, JSON_TRUE);
  json_free(j);
  /* The host end loses 100 bytes it should have received: no longer consistent. */
  set_counters(&v, 1, 21, 700, 5900, 2000000);
  set_counters(&v, 0, 20, 6000, 700, 2000000);
  net_series_add(&s, &v);
  j = net_series_json(&s, &t);
  assert_int_equal(json_get(j, "consistent")->type, JSON_FALSE);
  json_free(j);
  /* eth0 disappears: counted as gone, the last counters stay. */
  v.ns[0].snap.nlinks = 1;
  net_series_add(&s, &v);
  assert_true(s.links[0].gone);
  assert_int_equal(s.links[0].gone_at_sample, 5);
  assert_int_equal(s.links[0].last.tx_bytes, 6000);
  v.ns[0].snap.nlinks = 2;
  net_view_clear(&v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bridge),
      cmocka_unit_test(overlay_with_gateway_bridge),
      cmocka_unit_test(macvlan_and_ipvlan),
      cmocka_unit_test(kata_tcfilter),
      cmocka_unit_test(half_kata_is_not_kata),
      cmocka_unit_test(user_space_tap),
      cmocka_unit_test(relay_arguments),
      cmocka_unit_test(relay_found_outside_only),
      cmocka_unit_test(none_and_unfollowable),
      cmocka_unit_test(series_counts_and_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
