#include "confine.h"
#include "cleanup.h"
#include "landlock.h"
#include "privileges.h"

#include <fcntl.h>

#include <sched.h>
#include <sys/socket.h>

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
    SCMP_SYS(recvmmsg),
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
    SCMP_SYS(restart_syscall), /* a poll or sleep resumed after SIGSTOP/SIGCONT or a freeze */
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

/* socket() for netlink only; setns() into network namespaces only. */
static const struct syscall_rule rules[] = {{SCMP_SYS(socket), 0, AF_NETLINK},
                                            {SCMP_SYS(setns), 1, CLONE_NEWNET}};

static int confine_fs(int dirfd, merr **err)
{
  cleanup_close int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int run = open("/run", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const struct landlock_beneath allowed[] = {
      {dirfd, LANDLOCK_READ | LANDLOCK_WRITE}, {proc, LANDLOCK_READ}, {run, LANDLOCK_READ}};
  int abi;
  return landlock_confine(allowed, sizeof allowed / sizeof allowed[0], &abi, err);
}

int monitor_confine(int dirfd, merr **err)
{
  /* Landlock first: seccomp would refuse its calls. A kernel without it still gets the rest. */
  cleanup_merr merr *lerr = NULL;
  int fs = confine_fs(dirfd, &lerr);
  static const cap_value_t keep[] = {CAP_SYS_ADMIN};
  const struct privileges p = {.keep = keep,
                               .nkeep = 1,
                               .calls = allowed,
                               .ncalls = sizeof allowed / sizeof allowed[0],
                               .rules = rules,
                               .nrules = sizeof rules / sizeof rules[0]};
  if (privileges_confine(&p, err) < 0)
    return -1;
  if (fs < 0) {
    merr_pass(err, &lerr);
    return merr_wrap(err, "writes not confined to the state directory");
  }
  return 0;
}
