#include "collect.h"
#include "cleanup.h"
#include "fileio.h"
#include "probe_inject.h"
#include "state.h"
#include "xalloc.h"

#include <errno.h>
#include <string.h>

/* The sampler's summary (written by the monitor, our own file, parsed strictly all the same). */
static json *read_net_summary(int dirfd, json *missed)
{
  cleanup_free char *text = NULL;
  size_t len;
  merr *err = NULL;
  json *net = NULL;
  if (read_file_at(dirfd, "net.json", STATE_MAX_EVENTS_BYTES, &text, &len, &err) == 0 &&
      json_parse(text, len, NULL, "net.json", &net, &err) == 0)
    return net;
  if (!merr_is(err, ENOENT)) {
    cleanup_free char *m = xasprintf("network counters: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
  }
  merr_free(err);
  return NULL;
}

void collect_lifecycle(int dirfd, const char *path, json *missed, struct collected *out)
{
  memset(out, 0, sizeof *out);
  merr *err = NULL;
  if (state_read_events(dirfd, &out->events, &out->bad_lines, &err) < 0) {
    cleanup_free char *m = xasprintf("state events: %s", merr_msg(err));
    json_append(missed, json_new_text(m));
    merr_free(err);
    out->events = json_new(JSON_ARRAY);
  }
  out->net = read_net_summary(dirfd, missed);
  out->probe = probe_collect(dirfd, path);
}

void collected_clear(struct collected *c)
{
  json_free(c->events);
  json_free(c->net);
  json_free(c->probe);
  memset(c, 0, sizeof *c);
}

struct record_inputs collected_inputs(const struct collected *c)
{
  return (struct record_inputs){
      .events = c->events, .bad_event_lines = c->bad_lines, .net = c->net, .probe = c->probe};
}
