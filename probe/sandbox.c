#include "sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>

static int drop_capabilities(merr **err)
{
  /* The bounding set first: dropping it needs CAP_SETPCAP, which goes with the rest. A process
   * that lacks CAP_SETPCAP has nothing in its permitted set to lose anyway. */
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    if (CAP_IS_SUPPORTED(c))
      cap_drop_bound(c);
  cap_reset_ambient();
  cap_t none = cap_init();
  if (none == NULL)
    return merr_set(err, errno, "cap_init");
  int r = cap_set_proc(none);
  cap_free(none);
  if (r < 0)
    return merr_set(err, errno, "drop capabilities");
  cap_t now = cap_get_proc();
  cap_t empty = cap_init();
  bool clean = now && empty && cap_compare(now, empty) == 0;
  cap_free(now);
  cap_free(empty);
  return clean ? 0 : merr_set(err, 0, "capabilities remain after dropping them");
}

static const int allowed[] = {
    /* network */
    SCMP_SYS(connect),
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(close),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(fcntl),
    /* time */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    /* memory and the C library's own needs */
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(getrandom),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(sigaltstack), /* harmless; sanitizer runtimes set one up at any time */
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    /* the end */
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

static int install_seccomp(merr **err)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (ctx == NULL)
    return merr_set(err, 0, "seccomp_init");
  int r = 0;
  for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof allowed[0]; i++)
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
  /* socket(): IPv4 and IPv6 only (spelled out: clang warns on SCMP_A0's partial initializer). */
  const struct scmp_arg_cmp inet = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_INET, .datum_b = 0};
  const struct scmp_arg_cmp inet6 = {
      .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_INET6, .datum_b = 0};
  if (r == 0)
    r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &inet);
  if (r == 0)
    r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &inet6);
  if (r == 0)
    r = seccomp_load(ctx);
  seccomp_release(ctx);
  return r < 0 ? merr_set(err, -r, "install the seccomp allowlist") : 0;
}

int probe_sandbox_enter(merr **err)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return merr_set(err, errno, "no_new_privs");
  if (drop_capabilities(err) < 0)
    return -1;
  return install_seccomp(err);
}
