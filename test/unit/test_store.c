/* The store: concurrent appenders produce whole lines only, nothing lost; a write that cannot
 * complete leaves no partial line behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WRITERS = 8, RECORDS_EACH = 200 };

static char tmpdir[64];

static int setup(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/measured-store-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  return remove_tree_at(AT_FDCWD, tmpdir, NULL);
}

/* A record big enough that a torn write would show: several KiB of padding. */
static void append_records(const char *path, int writer)
{
  char pad[6000];
  memset(pad, 'a' + writer, sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  for (int i = 0; i < RECORDS_EACH; i++) {
    char line[7000];
    int n =
        snprintf(line, sizeof line, "{\"writer\":%d,\"seq\":%d,\"pad\":\"%s\"}", writer, i, pad);
    merr *err = NULL;
    if (store_append(path, NULL, line, (size_t)n, &err) < 0) {
      fprintf(stderr, "append: %s\n", err->msg);
      _exit(1);
    }
  }
  _exit(0);
}

static void concurrent_appenders_whole_lines(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/sub/dir/samples.jsonl", tmpdir);
  pid_t pids[WRITERS];
  for (int w = 0; w < WRITERS; w++) {
    pids[w] = fork();
    if (pids[w] == 0)
      append_records(path, w);
  }
  for (int w = 0; w < WRITERS; w++) {
    int st;
    waitpid(pids[w], &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  char *buf = NULL;
  size_t len = 0;
  assert_int_equal(read_file_at(AT_FDCWD, path, 64 << 20, &buf, &len, NULL), 0);
  int seen[WRITERS][RECORDS_EACH] = {{0}};
  int lines = 0;
  for (char *line = buf; line < buf + len;) {
    char *nl = memchr(line, '\n', (size_t)(buf + len - line));
    assert_non_null(nl); /* the file ends with a complete line */
    json *j = NULL;
    assert_int_equal(json_parse(line, (size_t)(nl - line), NULL, "line", &j, NULL), 0);
    int64_t w, s;
    assert_true(json_int64(json_get(j, "writer"), &w));
    assert_true(json_int64(json_get(j, "seq"), &s));
    assert_int_equal(strlen(json_string(json_get(j, "pad"))), 5999);
    seen[w][s]++;
    json_free(j);
    lines++;
    line = nl + 1;
  }
  assert_int_equal(lines, WRITERS * RECORDS_EACH);
  for (int w = 0; w < WRITERS; w++)
    for (int s = 0; s < RECORDS_EACH; s++)
      assert_int_equal(seen[w][s], 1);
  struct stat st;
  stat(path, &st);
  assert_int_equal(st.st_mode & 0777, 0600);
  free(buf);
}

static void refuses_bad_input_and_targets(void **state)
{
  (void)state;
  char path[128];
  merr *err = NULL;
  assert_int_equal(store_append("relative.jsonl", NULL, "{}", 2, &err), -1);
  merr_freep(&err);
  snprintf(path, sizeof path, "%s/x.jsonl", tmpdir);
  assert_int_equal(store_append(path, NULL, "{}\n{}", 5, &err), -1);
  assert_non_null(strstr(err->msg, "newline"));
  merr_freep(&err);
  /* A symlink planted where the store should be is not followed. */
  char link[128];
  snprintf(link, sizeof link, "%s/link.jsonl", tmpdir);
  assert_int_equal(symlink("/etc/passwd", link), 0);
  assert_int_equal(store_append(link, NULL, "{}", 2, &err), -1);
  merr_freep(&err);
  /* A FIFO is not a store. */
  char fifo[128];
  snprintf(fifo, sizeof fifo, "%s/fifo.jsonl", tmpdir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  int keep = open(fifo, O_RDWR | O_NONBLOCK); /* so that opening for write does not block */
  assert_int_equal(store_append(fifo, NULL, "{}", 2, &err), -1);
  assert_non_null(strstr(err->msg, "not a regular file"));
  merr_freep(&err);
  close(keep);
}

static void full_filesystem_leaves_no_partial_line(void **state)
{
  (void)state;
  /* /dev/full fails every write with ENOSPC; the store cannot be a device, so emulate the
   * limit with RLIMIT_FSIZE in a child: the write of the second line is refused. */
  char path[128];
  snprintf(path, sizeof path, "%s/limited.jsonl", tmpdir);
  assert_int_equal(store_append(path, NULL, "{\"first\":1}", 11, NULL), 0);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {20, 20};
    setrlimit(RLIMIT_FSIZE, &lim);
    merr *err = NULL;
    _exit(store_append(path, NULL, "{\"second\":\"much longer than the limit\"}", 39, &err) < 0
              ? 0
              : 1);
  }
  int st;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char *buf = NULL;
  assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &buf, NULL, NULL), 0);
  assert_string_equal(buf, "{\"first\":1}\n");
  free(buf);
}

/* Finding a record appended after an offset: only at the start of a line, only after it. */
static void finds_a_line_after_an_offset(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/find.jsonl", tmpdir);
  int64_t size;
  bool found = true;
  assert_int_equal(store_size(path, &size, NULL), 0);
  assert_int_equal(size, 0);
  assert_int_equal(store_has_line_after(path, 0, "{\"a\"", 4, 1024, &found, NULL), 0);
  assert_false(found); /* no store yet */
  const char *first = "{\"a\":1,\"x\":2}";
  assert_int_equal(store_append(path, NULL, first, strlen(first), NULL), 0);
  assert_int_equal(store_size(path, &size, NULL), 0);
  assert_int_equal(store_append(path, NULL, "{\"b\":2}", 7, NULL), 0);
  assert_int_equal(store_has_line_after(path, size, "{\"b\"", 4, 1024, &found, NULL), 0);
  assert_true(found);
  assert_int_equal(store_has_line_after(path, size, "{\"a\"", 4, 1024, &found, NULL), 0);
  assert_false(found); /* before the offset */
  assert_int_equal(store_has_line_after(path, 0, "\"x\"", 3, 1024, &found, NULL), 0);
  assert_false(found); /* inside a line */
  assert_int_equal(store_has_line_after(path, size, "{\"b\"", 4, 3, &found, NULL), 0);
  assert_false(found); /* beyond the window */
}

static size_t count_lines(const char *path)
{
  cleanup_free char *text = NULL;
  size_t len = 0, n = 0;
  if (read_file_at(AT_FDCWD, path, 64 << 20, &text, &len, NULL) < 0)
    return 0;
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  return n;
}

/* Past max_bytes the store rotates: every line is in exactly one file, the newest in the store
 * itself, and no more than `keep` older files are kept. */
static void rotates_by_size(void **state)
{
  (void)state;
  char path[128], one[140], two[140], three[140];
  snprintf(path, sizeof path, "%s/rot.jsonl", tmpdir);
  snprintf(one, sizeof one, "%s.1", path);
  snprintf(two, sizeof two, "%s.2", path);
  snprintf(three, sizeof three, "%s.3", path);
  struct store_policy p = {.max_bytes = 1000, .keep = 2};
  char line[100];
  memset(line, 'x', sizeof line);
  memcpy(line, "{\"a\":\"", 6);
  memcpy(line + sizeof line - 2, "\"}", 2);
  for (int i = 0; i < 25; i++) /* 101 bytes each: 9 a file */
    assert_int_equal(store_append(path, &p, line, sizeof line, NULL), 0);
  assert_int_equal(count_lines(path), 25 - 18);
  assert_int_equal(count_lines(one), 9);
  assert_int_equal(count_lines(two), 9);
  assert_int_equal(access(three, F_OK), -1); /* keep = 2: the oldest is gone */
  size_t n;
  char **files = store_files(path, &n);
  assert_int_equal(n, 3);
  assert_string_equal(files[0], path);
  assert_string_equal(files[2], two);
  for (size_t i = 0; i < n; i++)
    free(files[i]);
  free(files);
  /* A delete's offset noted before the rotation still finds its line, in the file it went to. */
  bool found = false;
  assert_int_equal(store_has_line_after(path, 0, "{\"a\"", 4, 4096, &found, NULL), 0);
  assert_true(found);
}

/* A torn last line (a crash mid-write) does not swallow the next record into it. */
static void a_record_after_a_torn_line_stands_alone(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/torn.jsonl", tmpdir);
  FILE *f = fopen(path, "w");
  fputs("{\"whole\":1}\n{\"torn\":", f);
  fclose(f);
  assert_int_equal(store_append(path, NULL, "{\"next\":2}", 10, NULL), 0);
  cleanup_free char *text = NULL;
  assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &text, NULL, NULL), 0);
  assert_string_equal(text, "{\"whole\":1}\n{\"torn\":\n{\"next\":2}\n");
}

/* What a store line may hold is bounded; a larger record is refused with the reason. */
static void an_oversized_line_is_refused(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/big.jsonl", tmpdir);
  size_t len = STORE_MAX_LINE + 1;
  cleanup_free char *big = malloc(len);
  memset(big, 'x', len);
  merr *err = NULL;
  assert_int_equal(store_append(path, NULL, big, len, &err), -1);
  assert_non_null(strstr(merr_msg(err), "more than a store line may hold"));
  merr_free(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(concurrent_appenders_whole_lines),
      cmocka_unit_test(refuses_bad_input_and_targets),
      cmocka_unit_test(full_filesystem_leaves_no_partial_line),
      cmocka_unit_test(finds_a_line_after_an_offset),
      cmocka_unit_test(rotates_by_size),
      cmocka_unit_test(a_record_after_a_torn_line_stands_alone),
      cmocka_unit_test(an_oversized_line_is_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
