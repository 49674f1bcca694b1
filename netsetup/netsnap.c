#include "netsnap.h"
#include "clock.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/gen_stats.h>
#include <linux/if_arp.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vxlan.h>
#include <stdio.h>
#include <string.h>

static int nl_error(merr **err, int nlerr, const char *what)
{
  /* libnl errors are negative NLE_* codes; keep the text, and map "no such device". */
  return merr_set(err, nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV ? ENODEV : 0, "%s: %s",
                  what, nl_geterror(nlerr));
}

static void copy_str(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

static void read_counters(struct rtnl_link *l, struct net_counters *c)
{
  c->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
  c->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
  c->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
  c->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
  c->rx_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
  c->tx_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS);
  c->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
  c->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
}

static void read_kind_details(struct rtnl_link *l, struct net_link *out)
{
  if (strcmp(out->kind, "vxlan") == 0) {
    uint32_t id;
    if (rtnl_link_vxlan_get_id(l, &id) == 0) {
      out->has_vxlan_id = true;
      out->vxlan_id = id;
    }
  } else if (strcmp(out->kind, "macvlan") == 0 || strcmp(out->kind, "macvtap") == 0) {
    char buf[16];
    copy_str(out->mode, sizeof out->mode,
             rtnl_link_macvlan_mode2str((int)rtnl_link_macvlan_get_mode(l), buf, sizeof buf));
  }
  out->tap = strcmp(out->kind, "tun") == 0 && rtnl_link_get_arptype(l) == ARPHRD_ETHER;
}

static void link_from_rtnl(struct rtnl_link *l, struct net_link *out)
{
  memset(out, 0, sizeof *out);
  out->ifindex = rtnl_link_get_ifindex(l);
  copy_str(out->name, sizeof out->name, rtnl_link_get_name(l));
  copy_str(out->kind, sizeof out->kind, rtnl_link_get_type(l));
  char buf[64];
  copy_str(out->operstate, sizeof out->operstate,
           rtnl_link_operstate2str(rtnl_link_get_operstate(l), buf, sizeof buf));
  struct nl_addr *mac = rtnl_link_get_addr(l);
  if (mac && nl_addr_get_len(mac) == 6)
    copy_str(out->mac, sizeof out->mac, nl_addr2str(mac, buf, sizeof buf));
  out->mtu = rtnl_link_get_mtu(l);
  out->flags = rtnl_link_get_flags(l);
  out->master = rtnl_link_get_master(l);
  out->link = rtnl_link_get_link(l);
  int32_t nsid;
  out->link_netnsid = rtnl_link_get_link_netnsid(l, &nsid) == 0 ? nsid : -1;
  out->loopback = rtnl_link_get_arptype(l) == ARPHRD_LOOPBACK;
  read_kind_details(l, out);
  read_counters(l, &out->c);
}

static void add_addr(struct net_link *l, const char *text)
{
  l->addrs = xreallocarray(l->addrs, l->naddrs + 1, sizeof *l->addrs);
  l->addrs[l->naddrs++] = xstrdup(text);
}

static struct net_link *link_slot(struct net_snapshot *s)
{
  s->links = xreallocarray(s->links, s->nlinks + 1, sizeof *s->links);
  return &s->links[s->nlinks++];
}

void net_snapshot_add_link(struct net_snapshot *s, const struct net_link *l)
{
  struct net_link *copy = link_slot(s);
  *copy = *l;
  copy->addrs = NULL;
  copy->naddrs = 0;
  for (size_t i = 0; i < l->naddrs; i++)
    add_addr(copy, l->addrs[i]);
}

static int dump_links(struct nl_sock *sk, struct net_snapshot *s, merr **err)
{
  struct nl_cache *cache = NULL;
  int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
  if (r < 0)
    return nl_error(err, r, "dump links");
  for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
    link_from_rtnl((struct rtnl_link *)o, link_slot(s));
  nl_cache_free(cache);
  return 0;
}

static int dump_addrs(struct nl_sock *sk, struct net_snapshot *s, merr **err)
{
  struct nl_cache *cache = NULL;
  int r = rtnl_addr_alloc_cache(sk, &cache);
  if (r < 0)
    return nl_error(err, r, "dump addresses");
  for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    struct rtnl_addr *a = (struct rtnl_addr *)o;
    struct net_link *l = (struct net_link *)net_snapshot_link(s, rtnl_addr_get_ifindex(a));
    struct nl_addr *local = rtnl_addr_get_local(a);
    char buf[128];
    if (l && local)
      add_addr(l, nl_addr2str(local, buf, sizeof buf));
  }
  nl_cache_free(cache);
  return 0;
}

/* Qdiscs and filters are read from raw dumps parsed here with libnl's attribute helpers, not
 * through libnl-route's tc objects: those rely on constructor order between libnl's objects,
 * which a static link (the wrapper's) does not keep, and libnl 3.7 drops action counters. */
static int on_qdisc(struct nl_msg *msg, void *arg)
{
  struct net_snapshot *s = arg;
  struct nlmsghdr *nh = nlmsg_hdr(msg);
  struct nlattr *tb[TCA_MAX + 1];
  if (nh->nlmsg_type != RTM_NEWQDISC ||
      nlmsg_parse(nh, sizeof(struct tcmsg), tb, TCA_MAX, NULL) < 0)
    return NL_SKIP;
  struct tcmsg *tcm = nlmsg_data(nh);
  s->qdiscs = xreallocarray(s->qdiscs, s->nqdiscs + 1, sizeof *s->qdiscs);
  struct net_qdisc *q = &s->qdiscs[s->nqdiscs++];
  memset(q, 0, sizeof *q);
  q->ifindex = tcm->tcm_ifindex;
  q->handle = tcm->tcm_handle;
  q->parent = tcm->tcm_parent;
  if (tb[TCA_KIND])
    nla_strlcpy(q->kind, tb[TCA_KIND], sizeof q->kind);
  return NL_OK;
}

static int dump_tc(struct nl_sock *sk, int type, int ifindex, uint32_t parent,
                   nl_recvmsg_msg_cb_t on_msg, struct net_snapshot *s, const char *what, merr **err)
{
  struct tcmsg tcm = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent};
  int r = nl_send_simple(sk, type, NLM_F_DUMP, &tcm, sizeof tcm);
  if (r < 0)
    return nl_error(err, r, what);
  struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
  if (cb == NULL)
    return merr_set(err, ENOMEM, "netlink callbacks");
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_msg, s);
  r = nl_recvmsgs(sk, cb);
  nl_cb_put(cb);
  return r < 0 ? nl_error(err, r, what) : 0;
}

static int dump_qdiscs(struct nl_sock *sk, struct net_snapshot *s, merr **err)
{
  return dump_tc(sk, RTM_GETQDISC, 0, 0, on_qdisc, s, "dump qdiscs", err);
}

/* ---- filters and actions: parsed from the raw dump, since libnl 3.7 keeps no action
 * counters ---- */

/* Copies an attribute's payload into a fixed struct, zero-filling what the kernel left out. */
static void attr_copy(void *dst, size_t size, const struct nlattr *a)
{
  memset(dst, 0, size);
  size_t n = (size_t)nla_len(a);
  memcpy(dst, nla_data(a), n < size ? n : size);
}

static void parse_action_stats(struct nlattr *stats, struct net_action *act)
{
  struct nlattr *tb[TCA_STATS_MAX + 1];
  if (nla_parse_nested(tb, TCA_STATS_MAX, stats, NULL) < 0)
    return;
  if (tb[TCA_STATS_BASIC]) {
    struct gnet_stats_basic basic;
    attr_copy(&basic, sizeof basic, tb[TCA_STATS_BASIC]);
    act->bytes = basic.bytes;
    act->packets = basic.packets;
    act->has_stats = true;
  }
  if (tb[TCA_STATS_QUEUE]) {
    struct gnet_stats_queue q;
    attr_copy(&q, sizeof q, tb[TCA_STATS_QUEUE]);
    act->drops = q.drops;
  }
}

static void parse_action(struct nlattr *attr, struct net_action *act)
{
  struct nlattr *tb[TCA_ACT_MAX + 1];
  memset(act, 0, sizeof *act);
  if (nla_parse_nested(tb, TCA_ACT_MAX, attr, NULL) < 0)
    return;
  if (tb[TCA_ACT_KIND])
    nla_strlcpy(act->kind, tb[TCA_ACT_KIND], sizeof act->kind);
  if (tb[TCA_ACT_STATS])
    parse_action_stats(tb[TCA_ACT_STATS], act);
  if (tb[TCA_ACT_OPTIONS] && strcmp(act->kind, "mirred") == 0) {
    struct nlattr *opt[TCA_MIRRED_MAX + 1];
    if (nla_parse_nested(opt, TCA_MIRRED_MAX, tb[TCA_ACT_OPTIONS], NULL) == 0 &&
        opt[TCA_MIRRED_PARMS]) {
      struct tc_mirred p;
      attr_copy(&p, sizeof p, opt[TCA_MIRRED_PARMS]);
      act->index = p.index;
      act->mirred_eaction = p.eaction;
      act->mirred_ifindex = (int)p.ifindex;
    }
  }
}

static void parse_actions(struct nlattr *list, struct net_filter *f)
{
  struct nlattr *prio[TCA_ACT_MAX_PRIO + 1];
  if (nla_parse_nested(prio, TCA_ACT_MAX_PRIO, list, NULL) < 0)
    return;
  for (int i = 1; i <= TCA_ACT_MAX_PRIO; i++) {
    if (prio[i] == NULL)
      continue;
    f->actions = xreallocarray(f->actions, f->nactions + 1, sizeof *f->actions);
    parse_action(prio[i], &f->actions[f->nactions++]);
  }
}

#define ACT_ATTR_MAX 16
_Static_assert((int)TCA_U32_ACT <= ACT_ATTR_MAX && (int)TCA_MATCHALL_ACT <= ACT_ATTR_MAX &&
                   (int)TCA_FLOWER_ACT <= ACT_ATTR_MAX && (int)TCA_BASIC_ACT <= ACT_ATTR_MAX &&
                   (int)TCA_BPF_ACT <= ACT_ATTR_MAX,
               "classifier action attributes fit the parse table");

/* Where each classifier keeps its action list. */
static int actions_attr_of(const char *kind)
{
  if (strcmp(kind, "u32") == 0)
    return TCA_U32_ACT;
  if (strcmp(kind, "matchall") == 0)
    return TCA_MATCHALL_ACT;
  if (strcmp(kind, "flower") == 0)
    return TCA_FLOWER_ACT;
  if (strcmp(kind, "basic") == 0)
    return TCA_BASIC_ACT;
  if (strcmp(kind, "bpf") == 0)
    return TCA_BPF_ACT;
  return -1;
}

static int on_filter(struct nl_msg *msg, void *arg)
{
  struct net_snapshot *s = arg;
  struct nlmsghdr *nh = nlmsg_hdr(msg);
  struct nlattr *tb[TCA_MAX + 1];
  if (nh->nlmsg_type != RTM_NEWTFILTER ||
      nlmsg_parse(nh, sizeof(struct tcmsg), tb, TCA_MAX, NULL) < 0)
    return NL_SKIP;
  struct tcmsg *tcm = nlmsg_data(nh);
  struct net_filter f = {.ifindex = tcm->tcm_ifindex,
                         .parent = tcm->tcm_parent,
                         .handle = tcm->tcm_handle,
                         .protocol = ntohs((uint16_t)(tcm->tcm_info & 0xffff)),
                         .prio = (uint16_t)(tcm->tcm_info >> 16)};
  if (tb[TCA_KIND])
    nla_strlcpy(f.kind, tb[TCA_KIND], sizeof f.kind);
  int act_attr = actions_attr_of(f.kind);
  if (tb[TCA_OPTIONS] && act_attr > 0) {
    struct nlattr *opt[ACT_ATTR_MAX + 1];
    if (nla_parse_nested(opt, act_attr, tb[TCA_OPTIONS], NULL) == 0 && opt[act_attr])
      parse_actions(opt[act_attr], &f);
  }
  s->filters = xreallocarray(s->filters, s->nfilters + 1, sizeof *s->filters);
  s->filters[s->nfilters++] = f;
  return NL_OK;
}

int net_filters_read(struct nl_sock *sk, int ifindex, uint32_t parent, struct net_snapshot *into,
                     merr **err)
{
  return dump_tc(sk, RTM_GETTFILTER, ifindex, parent, on_filter, into, "dump filters", err);
}

static int dump_filters(struct nl_sock *sk, struct net_snapshot *s, merr **err)
{
  for (size_t i = 0; i < s->nqdiscs; i++) {
    const struct net_qdisc *q = &s->qdiscs[i];
    if (strcmp(q->kind, "noqueue") == 0 || q->handle == 0)
      continue; /* the default qdisc holds no filters */
    if (net_filters_read(sk, q->ifindex, q->handle, s, err) < 0)
      return -1;
  }
  return 0;
}

int net_snapshot_take(struct nl_sock *sk, unsigned what, struct net_snapshot *out, merr **err)
{
  memset(out, 0, sizeof *out);
  out->mono_us = mono_us();
  int r = dump_links(sk, out, err);
  if (r == 0 && (what & NET_SNAP_ADDRS))
    r = dump_addrs(sk, out, err);
  if (r == 0 && (what & NET_SNAP_TC))
    r = dump_qdiscs(sk, out, err);
  if (r == 0 && (what & NET_SNAP_TC))
    r = dump_filters(sk, out, err);
  if (r < 0)
    net_snapshot_clear(out);
  return r;
}

int net_link_read(struct nl_sock *sk, int ifindex, struct net_link *out, merr **err)
{
  struct rtnl_link *l = NULL;
  int r = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
  if (r < 0)
    return nl_error(err, r, "read link");
  link_from_rtnl(l, out);
  rtnl_link_put(l);
  return 0;
}

const struct net_link *net_snapshot_link(const struct net_snapshot *s, int ifindex)
{
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].ifindex == ifindex)
      return &s->links[i];
  return NULL;
}

void net_link_clear(struct net_link *l)
{
  for (size_t i = 0; i < l->naddrs; i++)
    free(l->addrs[i]);
  free(l->addrs);
  l->addrs = NULL;
  l->naddrs = 0;
}

void net_snapshot_clear(struct net_snapshot *s)
{
  for (size_t i = 0; i < s->nlinks; i++)
    net_link_clear(&s->links[i]);
  for (size_t i = 0; i < s->nfilters; i++)
    free(s->filters[i].actions);
  free(s->links);
  free(s->qdiscs);
  free(s->filters);
  memset(s, 0, sizeof *s);
}
