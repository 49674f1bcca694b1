#include "landlock.h"
#include "cleanup.h"

#include <errno.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The rights of later ABIs than Debian 12's headers know. */
#define ACCESS_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define ACCESS_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as ABI 6 has it; older kernels are given its first part. */
struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

static uint64_t fs_rights(int abi)
{
  uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0 to 12 */
  if (abi >= 2)
    all |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    all |= ACCESS_FS_TRUNCATE;
  if (abi >= 5)
    all |= ACCESS_FS_IOCTL_DEV;
  return all;
}

static uint64_t allowed_rights(unsigned right, int abi)
{
  uint64_t a = 0;
  if (right & LANDLOCK_READ)
    a |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  if (right & LANDLOCK_WRITE)
    a |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
         LANDLOCK_ACCESS_FS_REMOVE_FILE | (abi >= 3 ? ACCESS_FS_TRUNCATE : 0);
  return a;
}

int landlock_confine(const struct landlock_beneath *allowed, size_t n, int *abi, merr **err)
{
  *abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (*abi < 1)
    return merr_set(err, errno, "Landlock");
  struct ruleset_attr attr = {.handled_access_fs = fs_rights(*abi)};
  size_t size = sizeof attr.handled_access_fs;
  if (*abi >= 4) {
    attr.handled_access_net = ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP; /* no TCP at all */
    size += sizeof attr.handled_access_net;
  }
  if (*abi >= 6) {
    attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
    size += sizeof attr.scoped;
  }
  cleanup_close int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0)
    return merr_set(err, errno, "Landlock ruleset");
  for (size_t i = 0; i < n; i++) {
    struct landlock_path_beneath_attr rule = {
        .allowed_access = allowed_rights(allowed[i].right, *abi), .parent_fd = allowed[i].fd};
    if (allowed[i].fd >= 0 &&
        syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
      return merr_set(err, errno, "Landlock rule");
  }
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
    return merr_set(err, errno, "Landlock");
  return 0;
}
