/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_buf: the one growable byte buffer (STYLE B1).
 *
 * {ptr, len, cap, max}: always NUL-terminated, binary-safe because len is
 * tracked, never grows past `max` (TRESOR_ETOOBIG), and keeps its first
 * error so a caller may append freely and check once with tr_buf_error().
 * Never put secret bytes in a tr_buf: growth copies them (use tr_secret).
 */
#ifndef TR_UTIL_BUF_H
#define TR_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tr_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
	int err;
};

#define TR_BUF_MAX_DEFAULT ((size_t)64 * 1024 * 1024)

void tr_buf_init(struct tr_buf *b, size_t max);
int tr_buf_add(struct tr_buf *b, const void *p, size_t n);
/* inline, so that the length of a literal is known when compiling */
static inline int
tr_buf_addstr(struct tr_buf *b, const char *s)
{
	return tr_buf_add(b, s, strlen(s));
}
int tr_buf_addc(struct tr_buf *b, char c);
/* `v` in decimal, without printf (hot paths write numbers with it). */
int tr_buf_add_u64(struct tr_buf *b, uint64_t v);
int tr_buf_addf(struct tr_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int tr_buf_vaddf(struct tr_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Make room for `n` more bytes; returns 0 or the sticky error. */
int tr_buf_reserve(struct tr_buf *b, size_t n);
/* The first error met by this buffer, or 0. */
int tr_buf_error(const struct tr_buf *b);
/* The content as a C string; "" for an empty buffer.  Borrowed. */
const char *tr_buf_cstr(const struct tr_buf *b);
void tr_buf_reset(struct tr_buf *b);
/* Hand the allocation to the caller (free with tr_free); buffer is reset. */
char *tr_buf_detach(struct tr_buf *b);
void tr_buf_dispose(struct tr_buf *b);

#endif /* TR_UTIL_BUF_H */
