#include "confine.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>

static int keep_only_sys_admin(merr **err)
{
  /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes with the rest. */
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    if (CAP_IS_SUPPORTED(c) && c != CAP_SYS_ADMIN && cap_drop_bound(c) < 0)
      return merr_set(err, errno, "drop capability %d from the bounding set", (int)c);
  cap_reset_ambient();
  cap_t caps = cap_init(); /* everything clear, inheritable included */
  if (caps == NULL)
    return merr_set(err, errno, "cap_init");
  const cap_value_t keep[] = {CAP_SYS_ADMIN};
  int r = cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET);
  if (r == 0)
    r = cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET);
  if (r == 0)
    r = cap_set_proc(caps);
  int saved = errno;
  cap_free(caps);
  return r < 0 ? merr_set(err, saved, "drop capabilities") : 0;
}

static const int allowed[] = {
    /* descriptors and the state files */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(pread64),
    SCMP_SYS(close),
    SCMP_SYS(openat),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(lseek),
    SCMP_SYS(fcntl),
    SCMP_SYS(flock),
    SCMP_SYS(fchmod),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(getdents64),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(unlinkat),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    /* netlink: route sockets in the namespaces, the process-events connector */
    SCMP_SYS(bind),
    SCMP_SYS(getsockname),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    /* time, the sampler's own cost */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getrusage),
    /* memory and the C library's (and sanitizer runtimes') own needs */
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
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(sched_yield),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    /* the end */
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

static int rule_with_arg(scmp_filter_ctx ctx, int syscall, unsigned arg, scmp_datum_t value)
{
  /* Spelled out: clang warns on SCMP_A0's partial initializer. */
  const struct scmp_arg_cmp cmp = {.arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0};
  return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, syscall, 1, &cmp);
}

static int install_allowlist(merr **err)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (ctx == NULL)
    return merr_set(err, 0, "seccomp_init");
  int r = 0;
  for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof allowed[0]; i++)
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
  if (r == 0)
    r = rule_with_arg(ctx, SCMP_SYS(socket), 0, AF_NETLINK);
  if (r == 0)
    r = rule_with_arg(ctx, SCMP_SYS(setns), 1, CLONE_NEWNET);
  if (r == 0)
    r = seccomp_load(ctx);
  seccomp_release(ctx);
  return r < 0 ? merr_set(err, -r, "install the seccomp allowlist") : 0;
}

int monitor_confine(merr **err)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return merr_set(err, errno, "no_new_privs");
  if (keep_only_sys_admin(err) < 0)
    return -1;
  return install_allowlist(err);
}
