/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing untrusted JSON with limits (STYLE B2): size, depth, array
 * length, duplicate keys, embedded NULs.  Built on jansson.
 */
#ifndef TR_UTIL_JSON_H
#define TR_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct tr_json_limits {
	size_t max_bytes;	/* body size */
	size_t max_depth;	/* nesting of objects and arrays */
	size_t max_array;	/* elements in one array */
	size_t max_members;	/* members in one object */
};

#define TR_JSON_LIMITS_DEFAULT { 1024 * 1024, 16, 1000, 1000 }

/*
 * Parse `len` bytes into `*out` (caller decrefs).  An empty body parses
 * as {} (the SDK drops bodies that serialise to {}).  The top level must
 * be an object.  Returns 0, TRESOR_EINVAL or TRESOR_ETOOBIG with the
 * reason (and position) in tresor_error_last().
 */
int tr_json_parse_object(json_t **out, const char *body, size_t len,
    const struct tr_json_limits *lim);

/*
 * Serialise `v` compactly into a new string (caller frees with tr_free).
 */
char *tr_json_dump(const json_t *v);

/* tr_json_dump of `v`, which it then releases (json_decref): for a value
 * made only to be written, e.g. tr_json_dump_take(json_pack(...)). */
char *tr_json_dump_take(json_t *v);

/*
 * Append `v`, compact, to `b` (the same text as tr_json_dump, about ten
 * times faster).  With `exact`, the room is reserved first so that the
 * buffer never grows (and copies) while the text is written: use it for
 * text that carries secret content.  0, or the buffer's error.
 */
struct tr_buf;
int tr_json_dump_buf(struct tr_buf *b, const json_t *v, bool exact);

/*
 * Append the C string `s` to `b` as a JSON string, quoted and escaped as
 * tr_json_dump_buf escapes; bytes that are not valid UTF-8 become
 * \ufffd, so the text always parses.  For records written without
 * building jansson values (the audit log's).  0, or the buffer's error.
 */
int tr_json_add_string(struct tr_buf *b, const char *s);

/*
 * Route jansson's allocations through tr_malloc and a free that zeroes
 * each block first (JSON carries base64 secret content).  Call once at
 * start-up, before any JSON is parsed.
 */
void tr_json_init(void);

#endif /* TR_UTIL_JSON_H */
