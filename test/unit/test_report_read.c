/* The report's reading of stores: every line read once whatever the number of threads (chunks cut
 * at line boundaries), a last line without its newline, an overlong line counted as malformed,
 * rotated files read too, and a store cut back under the reader (a writer undoing a short write)
 * costing no crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cleanup.h"
#include "dataset.h"
#include "fileio.h"
#include "store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];
static char *sample_line; /* a real record from the report's fixed store */

static int setup(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/measured-read-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return -1;
  cleanup_free char *text = NULL;
  if (read_file_at(AT_FDCWD, MEASURED_SOURCE_ROOT "/test/report/store.jsonl", 1 << 20, &text, NULL,
                   NULL) < 0)
    return -1;
  sample_line = strndup(text, strcspn(text, "\n"));
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  free(sample_line);
  return remove_tree_at(AT_FDCWD, tmpdir, NULL);
}

static void write_lines(const char *path, size_t n, const char *tail)
{
  FILE *f = fopen(path, "w");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s\n", sample_line);
  if (tail)
    fputs(tail, f);
  fclose(f);
}

static struct dataset load(const char *path, int threads)
{
  struct group_by by = {0};
  assert_int_equal(group_by_parse("runtime", &by, NULL), 0);
  struct filters f = {0};
  struct dataset d;
  const char *files[] = {path};
  assert_int_equal(dataset_load(files, 1, &by, &f, threads, &d, NULL), 0);
  for (size_t k = 0; k < by.n; k++)
    free(by.fields[k]);
  return d;
}

static void every_line_once(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/many.jsonl", tmpdir);
  write_lines(path, 20000, sample_line); /* the last line without its newline */
  for (int threads = 1; threads <= 7; threads += 3) {
    struct dataset d = load(path, threads);
    assert_int_equal(d.lines, 20001);
    assert_int_equal(d.malformed, 0);
    dataset_clear(&d);
  }
}

static void overlong_line_is_malformed(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/long.jsonl", tmpdir);
  FILE *f = fopen(path, "w");
  fprintf(f, "%s\n", sample_line);
  for (size_t i = 0; i < (size_t)STORE_MAX_LINE + (9 << 20); i++)
    fputc('x', f);
  fprintf(f, "\n%s\n", sample_line);
  fclose(f);
  struct dataset d = load(path, 1);
  assert_int_equal(d.lines, 3);
  assert_int_equal(d.malformed, 1);
  dataset_clear(&d);
}

static void rotated_files_are_read(void **state)
{
  (void)state;
  char path[128], one[140];
  snprintf(path, sizeof path, "%s/rot.jsonl", tmpdir);
  snprintf(one, sizeof one, "%s.1", path);
  write_lines(path, 3, NULL);
  write_lines(one, 5, NULL);
  struct dataset d = load(path, 2);
  assert_int_equal(d.lines, 8);
  dataset_clear(&d);
}

/* A writer cutting the store back (as store_append undoes a short write) while the report reads
 * it: a mapped reader would take SIGBUS; this one reads what is there. */
static void a_store_cut_back_under_the_reader(void **state)
{
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/cut.jsonl", tmpdir);
  write_lines(path, 60000, NULL);
  pid_t writer = fork();
  if (writer == 0) {
    int fd = open(path, O_WRONLY);
    for (;;) {
      ftruncate(fd, 1000);
      usleep(200);
      ftruncate(fd, 60000 * (off_t)(strlen(sample_line) + 1));
    }
  }
  for (int i = 0; i < 30; i++) {
    struct dataset d = load(path, 2);
    dataset_clear(&d);
  }
  kill(writer, SIGKILL);
  waitpid(writer, NULL, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_line_once),
      cmocka_unit_test(overlong_line_is_malformed),
      cmocka_unit_test(rotated_files_are_read),
      cmocka_unit_test(a_store_cut_back_under_the_reader),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
