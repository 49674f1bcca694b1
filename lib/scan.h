/* A strict, fast JSON scanner that reports what it reads through yajl's callback table: the
 * report's one hot loop (every line of stores that run to hundreds of megabytes), and the final
 * word on what json_parse accepts (yajl takes a value followed by an unterminated string, as in
 * `1"x`, for a whole document; this scanner does not).
 *
 * It accepts what yajl accepts with comments off and strings validated, so that every line
 * measured writes reads back: RFC 8259 JSON (no trailing commas, no leading zeros, no control
 * characters in strings, nothing after the value but whitespace), with yajl's UTF-8 rule (a
 * lead byte and its continuation bytes). Escapes are decoded before a string reaches a callback.
 * Nesting is limited to max_depth. The unit tests hold it to yajl's verdict on a corpus of good and
 * bad documents. */
#ifndef MEASURED_REPORT_SCAN_H
#define MEASURED_REPORT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_parse.h>

/* Callbacks may be NULL; one that returns 0 stops the scan (false is returned). A map-key
 * callback that returns JSON_SCAN_SKIP_VALUE has that key's value checked but not reported (yajl,
 * which takes any non-zero as "go on", reports it: callbacks must cope with both). */
enum { JSON_SCAN_SKIP_VALUE = 2 };

bool json_scan(const char *buf, size_t len, const yajl_callbacks *cb, void *ctx,
               unsigned max_depth);

/* The same for one line of JSON Lines in a larger buffer: a newline is not whitespace here, the
 * value must be followed by optional blanks and then '\n' or the end. *next gets where the next
 * line starts, whether this one was valid or not (so a malformed line costs no second pass). */
bool json_scan_line(const char *buf, size_t len, const yajl_callbacks *cb, void *ctx,
                    unsigned max_depth, size_t *next);

#endif
