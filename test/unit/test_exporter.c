/* The exporter's parts without a server: a store followed through a rotation whose new file is
 * not there yet, the checkpoint read back into the same exposition (and refused for other
 * labels), label values that are not UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "aggregate.h"
#include "checkpoint.h"
#include "exposition.h"
#include "follow.h"
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECORD                                                                                     \
  "{\"schema\":2,\"runtime\":{\"name\":\"runc\"},\"outcome\":\"completed\","                       \
  "\"network\":{\"driver\":\"bridge\"},\"calls\":{\"create\":{\"us\":42000,\"overhead_us\":300}}}" \
  "\n"

static char dir[64];

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/measured-test-exporter-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void append(const char *path, int records)
{
  FILE *f = fopen(path, "a");
  assert_non_null(f);
  for (int i = 0; i < records; i++)
    fputs(RECORD, f);
  fclose(f);
}

static void count(void *ctx, const char *line, size_t len)
{
  aggregate_line(ctx, line, len);
}

static void read_range(void *arg, int fd, off_t begin, off_t end)
{
  void *ctxs[1] = {arg};
  lines_read(fd, begin, end, 1, count, ctxs);
}

static void rotation_without_a_new_file_yet(void **state)
{
  (void)state;
  char store[128], rotated[140];
  snprintf(store, sizeof store, "%s/s.jsonl", dir);
  snprintf(rotated, sizeof rotated, "%s.1", store);
  struct aggregate a;
  aggregate_init(&a, NULL, 0);
  struct follower f = {.path = store};
  follower_catch_up(&f, read_range, &a); /* no store yet */
  assert_int_equal(a.records, 0);
  append(store, 3);
  follower_catch_up(&f, read_range, &a);
  assert_int_equal(a.records, 3);
  append(store, 1);
  assert_int_equal(rename(store, rotated), 0); /* rotated, the new file not made yet */
  follower_catch_up(&f, read_range, &a);
  assert_int_equal(a.records, 4);
  follower_catch_up(&f, read_range, &a);
  assert_int_equal(a.records, 4); /* the rotated file is followed from its end: not read again */
  append(store, 2);
  follower_catch_up(&f, read_range, &a);
  assert_int_equal(a.records, 6);
  assert_int_equal(f.rotations, 1);
  assert_int_equal(f.unread, 0);
  aggregate_clear(&a);
}

/* A rotation of path as lib/store.c makes one, by renames alone: each file to the next number,
 * the oldest first, the live one to .1, then a new live one with `records`. */
static void rotate(const char *path, int files, int records)
{
  char from[160], to[160];
  for (int k = files; k >= 1; k--) {
    snprintf(from, sizeof from, "%s.%d", path, k);
    snprintf(to, sizeof to, "%s.%d", path, k + 1);
    assert_int_equal(rename(from, to), 0);
  }
  snprintf(to, sizeof to, "%s.1", path);
  assert_int_equal(rename(path, to), 0);
  append(path, records);
}

/* Rotations one after the other (1 ms apart) while the store is read: whatever the moment of each
 * catch-up (a listing of the files may be overtaken by renames before they are opened), every
 * record is read once, and no file counts as gone unread. */
static void rotations_under_a_reader_lose_nothing(void **state)
{
  (void)state;
  char store[128];
  snprintf(store, sizeof store, "%s/busy.jsonl", dir);
  append(store, 1);
  enum { ROTATIONS = 40 };
  pid_t writer = fork();
  if (writer == 0) {
    for (int r = 0; r < ROTATIONS; r++) {
      append(store, 2);
      rotate(store, r, 3);
      usleep(1000); /* rotations come one at a time, as the store's size grows */
    }
    _exit(0);
  }
  struct aggregate a;
  aggregate_init(&a, NULL, 0);
  struct follower f = {.path = store};
  int status;
  while (waitpid(writer, &status, WNOHANG) == 0)
    follower_catch_up(&f, read_range, &a);
  follower_catch_up(&f, read_range, &a);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(a.records, 1 + ROTATIONS * 5);
  assert_int_equal(f.unread, 0);
  aggregate_clear(&a);
}

static char *render(const struct aggregate *a, const struct follower *f)
{
  struct exposition e = {.agg = a, .stores = f, .nstores = 1};
  char *buf = NULL;
  size_t len;
  FILE *out = open_memstream(&buf, &len);
  exposition_write(out, &e, FORMAT_OPENMETRICS);
  fclose(out);
  return buf;
}

static void checkpoint_round_trip(void **state)
{
  (void)state;
  char store[128], cp[128];
  snprintf(store, sizeof store, "%s/c.jsonl", dir);
  snprintf(cp, sizeof cp, "%s/checkpoint.json", dir);
  append(store, 5);
  const char *labels[] = {"workload"};
  struct aggregate a, b, c;
  aggregate_init(&a, labels, 1);
  struct follower f = {.path = store}, g = {.path = store}, h = {.path = store};
  follower_catch_up(&f, read_range, &a);
  merr *err = NULL;
  assert_int_equal(checkpoint_save(cp, &a, &f, 1, &err), 0);
  aggregate_init(&b, labels, 1);
  assert_int_equal(checkpoint_load(cp, &b, &g, 1, &err), 0);
  char *before = render(&a, &f), *after = render(&b, &g);
  assert_string_equal(before, after);
  assert_int_equal(g.offset, f.offset);
  append(store, 1); /* only what came after is read */
  follower_catch_up(&g, read_range, &b);
  assert_int_equal(b.records, 6);
  aggregate_init(&c, NULL, 0); /* other labels: refused, nothing of it kept */
  assert_int_equal(checkpoint_load(cp, &c, &h, 1, &err), -1);
  assert_non_null(strstr(merr_msg(err), "other labels"));
  merr_free(err);
  assert_int_equal(c.nseries, 0);
  assert_false(h.known);
  free(before);
  free(after);
  aggregate_clear(&a);
  aggregate_clear(&b);
  aggregate_clear(&c);
}

static void label_values_are_utf8(void **state)
{
  (void)state;
  struct aggregate a;
  aggregate_init(&a, NULL, 0);
  char values[AGG_MAX_LABELS][SAMPLE_TEXT] = {"ok \xf0\x9f\x90\xb3", "\xc0\xaf", "\xed\xa0\x80"};
  bool folded;
  struct series *x = aggregate_series(&a, values, &folded);
  x->outcomes[0].n = 1;
  snprintf(x->outcomes[0].outcome, sizeof x->outcomes[0].outcome, "a\"b\\c\nd");
  x->noutcomes = 1;
  char *text = render(&a, &(struct follower){.path = "s"});
  assert_non_null(strstr(text, "measured_lifecycles_total{runtime=\"ok \xf0\x9f\x90\xb3\","
                               "driver=\"\xef\xbf\xbd\xef\xbf\xbd\",load=\"\xef\xbf\xbd\xef\xbf\xbd"
                               "\xef\xbf\xbd\",outcome=\"a\\\"b\\\\c\\nd\"} 1\n"));
  free(text);
  aggregate_clear(&a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rotation_without_a_new_file_yet),
      cmocka_unit_test(rotations_under_a_reader_lose_nothing),
      cmocka_unit_test(checkpoint_round_trip),
      cmocka_unit_test(label_values_are_utf8),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
