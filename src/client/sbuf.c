/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_sbuf: a growable buffer for bytes that may be secret (see
 * client_int.h).  A block is never realloc'd: growth copies into a new
 * block and zeroes the old one, so no stale copy of the content is left
 * on the heap (STYLE S1, S2).
 */
#include <string.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/error.h"

void
tr_sbuf_init(struct tr_sbuf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
tr_sbuf_add(struct tr_sbuf *b, const void *p, size_t n)
{
	size_t need, ncap;
	char *np;

	if (n > b->max || b->len > b->max - n)
		return tr_error_set(TRESOR_ETOOBIG,
		    "response larger than the limit of %zu bytes", b->max);
	need = b->len + n + 1;
	if (need > b->cap) {
		ncap = b->cap < 1024 ? 1024 : b->cap;
		while (ncap < need)
			ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
		np = tr_malloc(ncap);
		if (np == NULL)
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		if (b->ptr != NULL) {
			memcpy(np, b->ptr, b->len);
			tr_freezero(b->ptr, b->cap);
		}
		b->ptr = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

void
tr_sbuf_reset(struct tr_sbuf *b)
{
	if (b->ptr != NULL) {
		tr_secure_zero(b->ptr, b->len);
		b->ptr[0] = '\0';
	}
	b->len = 0;
}

void
tr_sbuf_dispose(struct tr_sbuf *b)
{
	if (b->ptr != NULL)
		tr_freezero(b->ptr, b->cap);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}
