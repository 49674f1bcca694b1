/* Messages in runc's log format, which Docker shows to the user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "clock.h"
#include "json.h"
#include "ocilog.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void json_format(void **state)
{
  (void)state;
  char *line = ocilog_format(true, "error", "measured: bad \"thing\"\n", 1700000000123456789LL);
  assert_string_equal(line, "{\"level\":\"error\",\"msg\":\"measured: bad \\\"thing\\\"\\n\","
                            "\"time\":\"2023-11-14T22:13:20.123456789Z\"}\n");
  free(line);
  /* Invalid UTF-8 from a path or a container never makes the line unwritable. */
  line = ocilog_format(true, "warning", "x\xff", 0);
  json *j = NULL;
  assert_int_equal(json_parse(line, strlen(line), NULL, "line", &j, NULL), 0);
  json_free(j);
  free(line);
}

static void text_format(void **state)
{
  (void)state;
  char *line = ocilog_format(false, "warning", "measured: a \"b\"\tc", 0);
  assert_string_equal(line,
                      "time=\"1970-01-01T00:00:00.000000000Z\" level=warning msg=\"measured: a "
                      "\\\"b\\\"\\x09c\"\n");
  free(line);
}

static void appends_one_line(void **state)
{
  (void)state;
  char path[] = "/tmp/measured-log-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *runc_line = "{\"level\":\"info\",\"msg\":\"runc\"}\n";
  assert_int_equal(write(fd, runc_line, strlen(runc_line)), (ssize_t)strlen(runc_line));
  close(fd);
  struct ocilog log = {.path = path, .json = true};
  ocilog_write(&log, "warning", "store %s not writable", "/x");
  FILE *f = fopen(path, "r");
  char buf[512];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *second = strchr(buf, '\n') + 1;
  assert_non_null(strstr(second, "\"msg\":\"measured: store /x not writable\""));
  assert_int_equal(strchr(second, '\n') - second + 1, (long)strlen(second));
  unlink(path);
}

/* The timestamp is made without gmtime_r (whose time zone lock a fault could leave held): the
 * same text as gmtime_r and strftime give, over two centuries and every fraction's digits. */
static void timestamps_as_gmtime(void **state)
{
  (void)state;
  for (int64_t sec = -86400LL * 366; sec < 4102444800LL; sec += 86399LL * 3 + 7) {
    int64_t ns = sec * 1000000000LL + (sec & 1 ? 999999999 : 123);
    char ours[48], want[48], base[32];
    format_rfc3339(ns, ours, sizeof ours);
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(want, sizeof want, "%s.%09lldZ", base, (long long)(sec & 1 ? 999999999 : 123));
    if (strcmp(ours, want) != 0)
      fail_msg("%lld s: %s, gmtime_r says %s", (long long)sec, ours, want);
  }
}

/* A message past the line's room is cut, and the line still ends with its newline. */
static void long_message_cut(void **state)
{
  (void)state;
  size_t n = 100000;
  char *msg = malloc(n + 1);
  memset(msg, '\x01', n); /* six bytes each in JSON */
  msg[n] = '\0';
  for (int json = 0; json <= 1; json++) {
    char *line = ocilog_format(json, "warning", msg, 0);
    size_t len = strlen(line);
    assert_true(len > 4096);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));
    free(line);
  }
  free(msg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_format),      cmocka_unit_test(text_format),
      cmocka_unit_test(appends_one_line), cmocka_unit_test(timestamps_as_gmtime),
      cmocka_unit_test(long_message_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
