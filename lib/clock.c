#include "clock.h"

#include <stdio.h>
#include <time.h>

int64_t mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t real_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The civil date of a day count since 1970-01-01 (Howard Hinnant's days-to-civil algorithm):
 * plain arithmetic, where gmtime_r takes glibc's time zone lock. */
static void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void format_rfc3339(int64_t ns, char *buf, unsigned size)
{
  int64_t sec = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0)
    frac += 1000000000, sec--;
  int64_t days = sec / 86400, rest = sec % 86400;
  if (rest < 0)
    rest += 86400, days--;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u.%09lldZ", (long long)y, m, d,
           (unsigned)(rest / 3600), (unsigned)(rest / 60 % 60), (unsigned)(rest % 60),
           (long long)frac);
}
