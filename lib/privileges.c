#include "privileges.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <sys/prctl.h>

static bool kept(const struct privileges *p, cap_value_t c)
{
  for (size_t i = 0; i < p->nkeep; i++)
    if (p->keep[i] == c)
      return true;
  return false;
}

static int keep_capabilities(const struct privileges *p, merr **err)
{
  /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes with the rest. A
   * process without CAP_SETPCAP (EPERM) has nothing in its permitted set to lose anyway. */
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    if (CAP_IS_SUPPORTED(c) && !kept(p, c) && cap_drop_bound(c) < 0 && errno != EPERM)
      return merr_set(err, errno, "drop capability %d from the bounding set", (int)c);
  cap_reset_ambient();
  cap_t want = cap_init(); /* everything clear, inheritable included */
  if (want == NULL)
    return merr_set(err, errno, "cap_init");
  int r = 0;
  if (p->nkeep) {
    r = cap_set_flag(want, CAP_EFFECTIVE, (int)p->nkeep, p->keep, CAP_SET);
    if (r == 0)
      r = cap_set_flag(want, CAP_PERMITTED, (int)p->nkeep, p->keep, CAP_SET);
  }
  if (r == 0)
    r = cap_set_proc(want);
  int saved = errno;
  cap_t now = r == 0 ? cap_get_proc() : NULL;
  bool as_asked = now && cap_compare(now, want) == 0;
  cap_free(now);
  cap_free(want);
  if (r < 0)
    return merr_set(err, saved, "drop capabilities");
  return as_asked ? 0 : merr_set(err, 0, "capabilities remain after dropping them");
}

static int install_allowlist(const struct privileges *p, merr **err)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (ctx == NULL)
    return merr_set(err, 0, "seccomp_init");
  int r = 0;
  for (size_t i = 0; r == 0 && i < p->ncalls; i++)
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, p->calls[i], 0);
  for (size_t i = 0; r == 0 && i < p->nrules; i++) {
    /* Spelled out: clang warns on SCMP_A0's partial initializer. */
    const struct scmp_arg_cmp cmp = {
        .arg = p->rules[i].arg, .op = SCMP_CMP_EQ, .datum_a = p->rules[i].value, .datum_b = 0};
    r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, p->rules[i].syscall, 1, &cmp);
  }
  if (r == 0)
    r = seccomp_load(ctx);
  seccomp_release(ctx);
  return r < 0 ? merr_set(err, -r, "install the seccomp allowlist") : 0;
}

int privileges_confine(const struct privileges *p, merr **err)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return merr_set(err, errno, "no_new_privs");
  if (keep_capabilities(p, err) < 0)
    return -1;
  return p->calls ? install_allowlist(p, err) : 0;
}
