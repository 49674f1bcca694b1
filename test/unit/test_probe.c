/* The probe's pieces that need no network: the wire format, the peer syntax, the statistics,
 * the sandbox, and the host's strict reading of a result a container wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "probe_result.h"
#include "protocol.h"
#include "sandbox.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void hello_round_trip_and_rejects(void **state)
{
  (void)state;
  unsigned char buf[PROBE_HELLO_SIZE];
  struct probe_hello h = {.mode = PROBE_MODE_ECHO, .msg_size = 64}, back;
  probe_hello_encode(&h, buf);
  assert_null(probe_hello_decode(buf, &back));
  assert_int_equal(back.mode, PROBE_MODE_ECHO);
  assert_int_equal(back.msg_size, 64);
  unsigned char bad[PROBE_HELLO_SIZE];
  memcpy(bad, buf, sizeof bad);
  bad[0] ^= 1;
  assert_non_null(probe_hello_decode(bad, &back)); /* magic */
  memcpy(bad, buf, sizeof bad);
  bad[4] = 9;
  assert_non_null(probe_hello_decode(bad, &back)); /* version */
  memcpy(bad, buf, sizeof bad);
  bad[5] = 7;
  assert_non_null(probe_hello_decode(bad, &back)); /* mode */
  h.msg_size = 70000;
  probe_hello_encode(&h, bad);
  assert_non_null(probe_hello_decode(bad, &back)); /* echo size */
  h = (struct probe_hello){.mode = PROBE_MODE_SOURCE, .duration_ms = 0};
  probe_hello_encode(&h, bad);
  assert_non_null(probe_hello_decode(bad, &back)); /* source duration */
  unsigned char dgram[64];
  probe_udp_fill(dgram, sizeof dgram, 42);
  assert_true(probe_udp_valid(dgram, sizeof dgram));
  assert_int_equal(probe_udp_seq(dgram), 42);
  assert_false(probe_udp_valid(dgram, 4));
}

static void peers(void **state)
{
  (void)state;
  struct sockaddr_storage ss;
  socklen_t len;
  char canon[80];
  assert_int_equal(probe_peer_parse("10.0.0.1", &ss, &len, canon, sizeof canon), 0);
  assert_string_equal(canon, "10.0.0.1:7447");
  assert_int_equal(probe_peer_parse("10.0.0.1:9000", &ss, &len, canon, sizeof canon), 0);
  assert_string_equal(canon, "10.0.0.1:9000");
  assert_int_equal(probe_peer_parse("[fd00::1]:9", &ss, &len, canon, sizeof canon), 0);
  assert_string_equal(canon, "[fd00::1]:9");
  assert_int_equal(probe_peer_parse("fd00::1", &ss, &len, canon, sizeof canon), 0);
  const char *bad[] = {"reflector",  "10.0.0.1:", "10.0.0.1:0",  "10.0.0.1:65536", "[fd00::1",
                       "[fd00::1]x", "",          "1.2.3.4:5:6", "10.0.0.1:80x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(probe_peer_parse(bad[i], &ss, &len, canon, sizeof canon), -1);
}

static void percentiles(void **state)
{
  (void)state;
  double v[] = {5, 1, 4, 2, 3};
  struct latency_stats s;
  latency_stats_compute(v, 5, &s);
  assert_true(s.min == 1 && s.max == 5 && s.mean == 3 && s.p50 == 3 && s.p90 == 5);
  double one[] = {7};
  latency_stats_compute(one, 1, &s);
  assert_true(s.p50 == 7 && s.p999 == 7);
  double *many = malloc(1000 * sizeof *many);
  for (int i = 0; i < 1000; i++)
    many[i] = 1000 - i; /* 1..1000 */
  latency_stats_compute(many, 1000, &s);
  assert_true(s.p50 == 500 && s.p90 == 900 && s.p99 == 990 && s.p999 == 999);
  free(many);
  latency_stats_compute(NULL, 0, &s);
  assert_int_equal(s.count, 0);
}

/* The line "Name:\tvalue" of /proc/<pid>/status. */
static void status_field(pid_t pid, const char *name, char *out, size_t size)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  out[0] = '\0';
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == ':') {
      snprintf(out, size, "%s", line + strlen(name) + 2);
      out[strcspn(out, "\n")] = '\0';
    }
  if (f)
    fclose(f);
}

static void sandbox_holds(void **state)
{
  (void)state;
  int ready[2], go[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(go), 0);
  pid_t pid = fork();
  if (pid == 0) {
    merr *err = NULL;
    if (probe_sandbox_enter(&err) < 0)
      _exit(10);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
      _exit(11);
    if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EPERM)
      _exit(12); /* files are out of reach */
    if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EPERM)
      _exit(13); /* only IP sockets */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0)
      _exit(14); /* what the probe needs still works */
    close(s);
    _exit(0);
  }
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  char v[64];
  const char *zero = "0000000000000000";
  const char *fields[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (strcmp(fields[i], "CapBnd") == 0 && geteuid() != 0)
      continue; /* dropping the bounding set needs CAP_SETPCAP; without it nothing can be gained
                   anyway (no_new_privs, empty permitted set) */
    status_field(pid, fields[i], v, sizeof v);
    if (strcmp(v, zero) != 0)
      fail_msg("%s is %s after the sandbox", fields[i], v);
  }
  status_field(pid, "NoNewPrivs", v, sizeof v);
  assert_string_equal(v, "1");
  status_field(pid, "Seccomp", v, sizeof v);
  assert_string_equal(v, "2"); /* filter mode */
  assert_int_equal(write(go[1], "g", 1), 1);
  int st;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

static const char *good_result =
    "{\"schema\":1,\"mode\":\"prelude\",\"peer\":\"10.0.0.1:7447\",\"budget_ms\":2000,"
    "\"elapsed_us\":1500000,\"ready_us\":3000,\"ready_attempts\":1,"
    "\"latency\":{\"tcp\":{\"count\":10,\"min_us\":1.5,\"mean_us\":2,\"p50_us\":2,\"p90_us\":3,"
    "\"p99_us\":3,\"p999_us\":3,\"max_us\":3,\"msg_size\":64},"
    "\"udp\":{\"count\":10,\"min_us\":1,\"mean_us\":2,\"p50_us\":2,\"p90_us\":3,\"p99_us\":3,"
    "\"p999_us\":3,\"max_us\":3,\"msg_size\":64,\"lost\":0}},"
    "\"bandwidth\":{\"direction\":\"send\",\"bytes\":100,\"seconds\":1,\"bits_per_s\":800,"
    "\"retransmits\":null},\"budget_exceeded\":false,\"errors\":[]}";

static void rejected(const char *text, const char *needle)
{
  char *why = NULL;
  json *j = probe_result_validate(text, strlen(text), &why);
  assert_null(j);
  if (why == NULL || strstr(why, needle) == NULL)
    fail_msg("\"%s\" does not mention \"%s\"", why ? why : "(null)", needle);
  free(why);
}

static void result_strictness(void **state)
{
  (void)state;
  char *why = NULL;
  json *j = probe_result_validate(good_result, strlen(good_result), &why);
  assert_non_null(j);
  assert_null(why);
  json_free(j);
  rejected("{\"schema\":1,\"extra\":1}", "result.extra: unknown key");
  rejected("{\"schema\":2}", "result.schema");
  rejected("{\"mode\":\"other\"}", "result.mode");
  rejected("{\"latency\":{\"tcp\":{\"p50_us\":-1}}}", "result.latency.tcp.p50_us");
  rejected("{\"latency\":{\"tcp\":{\"p50_us\":\"fast\"}}}", "result.latency.tcp.p50_us");
  rejected("{\"latency\":{\"icmp\":{}}}", "result.latency.icmp: unknown key");
  rejected("{\"bandwidth\":{\"bits_per_s\":1e400}}", "result.bandwidth.bits_per_s");
  rejected("{\"errors\":[1]}", "result.errors");
  rejected("{\"schema\":1,\"schema\":1}", "duplicate key");
  rejected("[1]", "not an object");
  rejected("{\"peer\":\"\\u0000x\"}", "result.peer");
  rejected("\"\xff\"", "invalid JSON");
  rejected("{\"latency\":{\"tcp\":{\"x\":[[[[[1]]]]]}}}", "nested too deeply");
  char big[70000];
  memset(big, ' ', sizeof big - 1);
  big[0] = '{';
  big[sizeof big - 2] = '}';
  big[sizeof big - 1] = '\0';
  rejected(big, "limit");
  char errors[4000] = "{\"errors\":[";
  for (int i = 0; i < 20; i++)
    strcat(errors, i ? ",\"e\"" : "\"e\"");
  strcat(errors, "]}");
  rejected(errors, "result.errors");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hello_round_trip_and_rejects),
      cmocka_unit_test(peers),
      cmocka_unit_test(percentiles),
      cmocka_unit_test(sandbox_holds),
      cmocka_unit_test(result_strictness),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
