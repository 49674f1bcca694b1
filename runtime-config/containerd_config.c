#include "containerd_config.h"
#include "cleanup.h"
#include "toml.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

char *containerd_dropin_text(const struct containerd_runtime *rt, size_t n)
{
  char *text =
      xstrdup("# Written by `measured install --engine containerd`; rewritten by it, removed by\n"
              "# `measured uninstall --engine containerd`. The measured shim-v2 runtimes as\n"
              "# CRI runtime handlers (a Kubernetes RuntimeClass names one as its handler).\n"
              "version = 2\n");
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *type = toml_quote(rt[i].runtime_type);
    char *next =
        xasprintf("%s\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.\"%s\"]\n"
                  "  runtime_type = %s\n",
                  text, rt[i].handler, type);
    free(text);
    text = next;
  }
  return text;
}

static char *splice(const char *text, size_t len, size_t from, size_t to, const char *insert)
{
  size_t ins = strlen(insert);
  char *out = xmalloc(len - (to - from) + ins + 1);
  memcpy(out, text, from);
  memcpy(out + from, insert, ins);
  memcpy(out + from + ins, text + to, len - to);
  out[len - (to - from) + ins] = '\0';
  return out;
}

static int find_imports(const char *text, size_t len, const char *what, struct toml_doc *doc,
                        const struct toml_root_key **imports, merr **err)
{
  if (toml_parse(text, len, what, doc, err) < 0)
    return -1;
  *imports = toml_root_find(doc, "imports");
  if (*imports && !(*imports)->is_string_array) {
    toml_doc_clear(doc);
    return merr_set(err, 0, "%s: \"imports\" is not an array of strings", what);
  }
  return 0;
}

static bool has(const struct toml_root_key *imports, const char *path, size_t *at)
{
  for (size_t i = 0; imports && i < imports->nstrings; i++)
    if (strcmp(imports->strings[i], path) == 0) {
      if (at)
        *at = i;
      return true;
    }
  return false;
}

/* The edited text must read back (an "imports" table, say, would clash with the new key). */
static int check_result(char **out, const char *what, merr **err)
{
  struct toml_doc doc;
  cleanup_merr merr *e = NULL;
  if (toml_parse(*out, strlen(*out), what, &doc, &e) == 0) {
    toml_doc_clear(&doc);
    return 0;
  }
  merr_set(err, 0, "%s: the edit would not be valid TOML (%s)", what, merr_msg(e));
  free(*out);
  *out = NULL;
  return -1;
}

int containerd_add_import(const char *text, size_t len, const char *what, const char *path,
                          char **out, bool *changed, merr **err)
{
  cleanup_free char *q = toml_quote(path);
  if (text == NULL) {
    *out = xasprintf("version = 2\nimports = [%s]\n", q);
    *changed = true;
    return 0;
  }
  struct toml_doc doc;
  const struct toml_root_key *imports;
  if (find_imports(text, len, what, &doc, &imports, err) < 0)
    return -1;
  if (has(imports, path, NULL)) {
    *out = xstrndup(text, len);
  } else if (imports) {
    cleanup_free char *item = xasprintf("%s%s", imports->empty ? "" : ", ", q);
    *out = splice(text, len, imports->insert_at, imports->insert_at, item);
    *changed = true;
  } else { /* a root key: after the last one (or before the first table header) */
    size_t at = doc.root_end;
    const struct toml_root_key *last = NULL;
    for (size_t k = 0; k < doc.nkeys; k++)
      last = doc.keys[k].in_root ? &doc.keys[k] : last;
    if (last) {
      const char *nl = memchr(text + last->value_end, '\n', len - last->value_end);
      at = nl ? (size_t)(nl - text) + 1 : len;
    }
    bool need_nl = at > 0 && text[at - 1] != '\n';
    cleanup_free char *line = xasprintf("%simports = [%s]\n", need_nl ? "\n" : "", q);
    *out = splice(text, len, at, at, line);
    *changed = true;
  }
  toml_doc_clear(&doc);
  return check_result(out, what, err);
}

/* Whether "imports = [...]" stands alone on its line(s): [*from, *to) is that whole line. */
static bool own_line(const char *text, size_t len, const struct toml_root_key *k, size_t *from,
                     size_t *to)
{
  size_t a = k->value_start;
  while (a > 0 && text[a - 1] != '\n')
    a--;
  size_t b = k->value_end;
  while (b < len && (text[b] == ' ' || text[b] == '\t'))
    b++;
  if (b < len && text[b] == '\r')
    b++;
  if (b < len && text[b] != '\n')
    return false;
  const char *p = text + a;
  while (*p == ' ' || *p == '\t')
    p++;
  if (strncmp(p, "imports", 7) != 0)
    return false;
  for (p += 7; *p == ' ' || *p == '\t'; p++)
    ;
  if (*p++ != '=')
    return false;
  while (*p == ' ' || *p == '\t')
    p++;
  if ((size_t)(p - text) != k->value_start)
    return false;
  *from = a;
  *to = b < len ? b + 1 : len;
  return true;
}

int containerd_remove_import(const char *text, size_t len, const char *what, const char *path,
                             char **out, bool *changed, merr **err)
{
  struct toml_doc doc;
  const struct toml_root_key *imports;
  if (find_imports(text, len, what, &doc, &imports, err) < 0)
    return -1;
  size_t k;
  if (!has(imports, path, &k)) {
    *out = xstrndup(text, len);
  } else if (imports->nstrings == 1) {
    size_t from, to;
    if (own_line(text, len, imports, &from, &to)) /* the line add_import wrote: gone again */
      *out = splice(text, len, from, to, "");
    else
      *out = splice(text, len, imports->value_start, imports->value_end, "[]");
    *changed = true;
  } else if (k > 0) { /* from the end of the item before: its comma goes with it */
    *out = splice(text, len, imports->string_end[k - 1], imports->string_end[k], "");
    *changed = true;
  } else {
    *out = splice(text, len, imports->string_start[0], imports->string_start[1], "");
    *changed = true;
  }
  toml_doc_clear(&doc);
  return check_result(out, what, err);
}
