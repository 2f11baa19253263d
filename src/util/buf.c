/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_buf implementation (see buf.h and docs/internals/buf.md).
 */
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"

void
tr_buf_init(struct tr_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max == 0 ? TR_BUF_MAX_DEFAULT : max;
	b->err = 0;
}

int
tr_buf_reserve(struct tr_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (b->err != 0)
		return b->err;
	if (n > b->max || b->len > b->max - n) {
		b->err = tr_error_set(TRESOR_ETOOBIG,
		    "buffer limit of %zu bytes reached", b->max);
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need)
		ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
	p = tr_reallocarray(b->ptr, ncap, 1);
	if (p == NULL) {
		b->err = tr_error_set(TRESOR_ENOMEM, "out of memory");
		return b->err;
	}
	b->ptr = p;
	b->cap = ncap;
	return 0;
}

int
tr_buf_add(struct tr_buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = tr_buf_reserve(b, n)) < 0)
		return rc;
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int
tr_buf_addc(struct tr_buf *b, char c)
{
	return tr_buf_add(b, &c, 1);
}

int
tr_buf_add_u64(struct tr_buf *b, uint64_t v)
{
	char d[24], *p = d + sizeof(d);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return tr_buf_add(b, p, (size_t)(d + sizeof(d) - p));
}

int
tr_buf_vaddf(struct tr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	size_t room;
	int n, rc;

	if (b->err != 0)
		return b->err;
	/* one pass when it fits in the room there is (the usual case) */
	room = b->ptr == NULL ? 0 : b->cap - b->len;
	va_copy(cp, ap);
	n = room > 1 ? vsnprintf(b->ptr + b->len, room, fmt, cp) :
	    vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		if (b->ptr != NULL)
			b->ptr[b->len] = '\0';
		b->err = tr_error_set(TRESOR_EINTERNAL, "bad format");
		return b->err;
	}
	if ((size_t)n < room && (size_t)n <= b->max - b->len) {
		b->len += (size_t)n;
		return 0;
	}
	if (b->ptr != NULL)
		b->ptr[b->len] = '\0';	/* what did not fit */
	if ((rc = tr_buf_reserve(b, (size_t)n)) < 0)
		return rc;
	(void)vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
tr_buf_addf(struct tr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tr_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int
tr_buf_error(const struct tr_buf *b)
{
	return b->err;
}

const char *
tr_buf_cstr(const struct tr_buf *b)
{
	return b->ptr == NULL ? "" : b->ptr;
}

void
tr_buf_reset(struct tr_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->ptr != NULL)
		b->ptr[0] = '\0';
}

char *
tr_buf_detach(struct tr_buf *b)
{
	char *p = b->ptr;

	if (p == NULL)
		p = tr_strdup("");
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
	return p;
}

void
tr_buf_dispose(struct tr_buf *b)
{
	TR_FREE_AND_NULL(b->ptr);
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}
