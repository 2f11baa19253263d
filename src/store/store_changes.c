/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change payloads of TR_STORE_CHANGES: what a backend announces when
 * apply() commits, and the reader that caches use to decide what to drop
 * (store.h, "Several nodes on one database").
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/buf.h"
#include "util/error.h"

/* True when `tok` is already one of the space-separated entries of `b`. */
static bool
has_entry(const struct tr_buf *b, const char *tok, size_t n)
{
	const char *p = tr_buf_cstr(b);
	const char *e;

	while (*p != '\0') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && memcmp(p, tok, n) == 0)
			return true;
		p = *e == ' ' ? e + 1 : e;
	}
	return false;
}

/* Append the entry `kind`:`id` once; false when `id` cannot be said. */
static bool
add_entry(struct tr_buf *b, const char *kind, const char *id)
{
	char tok[TR_ID_MAX + 8];
	size_t i;
	int n;

	if (id[0] == '\0')
		return false;
	for (i = 0; id[i] != '\0'; i++)
		if (id[i] == ' ' || (unsigned char)id[i] < 0x20)
			return false;
	n = snprintf(tok, sizeof(tok), "%s:%s", kind, id);
	if (n < 0 || (size_t)n >= sizeof(tok))
		return false;
	if (has_entry(b, tok, (size_t)n))
		return true;
	if (b->len > 0)
		(void)tr_buf_addc(b, ' ');
	(void)tr_buf_add(b, tok, (size_t)n);
	return true;
}

int
tr_store_changes_format(struct tr_buf *b, const struct tr_store_write *w,
    size_t n, bool iam)
{
	bool ok = true;
	size_t i;
	int rc;

	tr_buf_reset(b);
	for (i = 0; i < n && ok; i++) {
		switch (w[i].kind) {
		case TR_W_OBJ_PUT:
		case TR_W_OBJ_DELETE:
			ok = add_entry(b, "o", w[i].obj->id);
			break;
		case TR_W_SV_INSERT:
		case TR_W_SV_UPDATE:
		case TR_W_SV_DELETE:
			ok = add_entry(b, "v", w[i].sv->secret_id);
			break;
		case TR_W_KV_INSERT:
		case TR_W_KV_UPDATE:
		case TR_W_KV_DELETE:
			ok = add_entry(b, "k", w[i].kv->key_id) &&
			    add_entry(b, "kv", w[i].kv->id);
			break;
		default:
			break;	/* retry tokens are never cached */
		}
	}
	if (ok && iam) {
		if (b->len > 0)
			(void)tr_buf_addc(b, ' ');
		(void)tr_buf_addstr(b, "iam");
	}
	if ((rc = tr_buf_error(b)) == TRESOR_ENOMEM)
		return rc;
	if (!ok || rc < 0 || b->len > TR_NOTIFY_MAX) {
		/* too much to name: every reader drops everything */
		tr_buf_reset(b);
		if ((rc = tr_buf_addstr(b, "*")) < 0)
			return rc;
	}
	return 0;
}

bool
tr_store_change_next(const char **cursor, struct tr_store_change *out)
{
	const char *p = *cursor, *e, *colon;
	size_t klen, ilen;

	memset(out, 0, sizeof(*out));
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*cursor = p;
		return false;
	}
	e = strchr(p, ' ');
	if (e == NULL)
		e = p + strlen(p);
	*cursor = e;
	colon = memchr(p, ':', (size_t)(e - p));
	if (colon == NULL) {
		if (e - p == 3 && memcmp(p, "iam", 3) == 0)
			memcpy(out->kind, "iam", 4);
		else
			memcpy(out->kind, "*", 2);
		return true;
	}
	klen = (size_t)(colon - p);
	ilen = (size_t)(e - colon - 1);
	if (ilen == 0 || ilen >= sizeof(out->id) ||
	    !((klen == 1 && (p[0] == 'o' || p[0] == 'v' || p[0] == 'k')) ||
	    (klen == 2 && memcmp(p, "kv", 2) == 0))) {
		memcpy(out->kind, "*", 2);
		return true;
	}
	memcpy(out->kind, p, klen);
	memcpy(out->id, colon + 1, ilen);
	return true;
}
