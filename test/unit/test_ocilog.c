/* Messages in runc's log format, which Docker shows to the user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "json.h"
#include "ocilog.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_format),
      cmocka_unit_test(text_format),
      cmocka_unit_test(appends_one_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
