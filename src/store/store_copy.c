/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_store_copy() (store.h): every record of one store into another, for
 * 'tresord migrate' from SQLite to PostgreSQL (or back).
 *
 * The copy runs through the backend-neutral dump() and load() operations,
 * in one transaction of the destination, so a failed copy leaves it
 * empty.  Then the destination is read back and checked record by record
 * against the source: each source record's columns and blobs are hashed
 * (SHA-256 of a length-prefixed encoding) as it is copied, and the
 * destination's dump, which comes in the same order, must give the same
 * hashes one for one.  Only the hashes are kept, 32 bytes a record.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/ct.h"
#include "util/error.h"

struct copy {
	struct tr_store *dst;
	unsigned char (*hash)[32];	/* one per source record */
	size_t n;
	size_t cap;
	size_t next;			/* verification cursor */
};

static void
h_bytes(EVP_MD_CTX *md, const void *p, size_t n, bool *ok)
{
	unsigned char len[8];
	uint64_t v = n;
	int i;

	for (i = 7; i >= 0; i--) {
		len[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	if (EVP_DigestUpdate(md, len, sizeof(len)) != 1 ||
	    (n > 0 && EVP_DigestUpdate(md, p, n) != 1))
		*ok = false;
}

/* A string; NULL differs from "" (its length is all ones). */
static void
h_str(EVP_MD_CTX *md, const char *s, bool *ok)
{
	static const unsigned char none[8] = { 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff };

	if (s == NULL) {
		if (EVP_DigestUpdate(md, none, sizeof(none)) != 1)
			*ok = false;
		return;
	}
	h_bytes(md, s, strlen(s), ok);
}

static void
h_int(EVP_MD_CTX *md, int64_t x, bool *ok)
{
	unsigned char b[8];
	uint64_t v = (uint64_t)x;
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	if (EVP_DigestUpdate(md, b, sizeof(b)) != 1)
		*ok = false;
}

static void
h_blob(EVP_MD_CTX *md, const unsigned char *p, size_t n, bool *ok)
{
	if (p == NULL)
		h_str(md, NULL, ok);
	else
		h_bytes(md, p, n, ok);
}

/* Hash every column of `r` into `out`. */
static int
record_hash(const struct tr_store_record *r, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const struct tr_obj *o = r->obj;
	const struct tr_secret_version *sv = r->sv;
	const struct tr_key_version *kv = r->kv;
	const struct tr_retry_rec *rt = r->retry;
	unsigned int len = 0;
	bool ok = true;
	int rc = TRESOR_EINTERNAL;

	if (md == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "SHA-256 unavailable");
		goto out;
	}
	h_int(md, r->kind, &ok);
	switch (r->kind) {
	case TR_REC_OBJ:
		h_str(md, o->id, &ok);
		h_str(md, o->type, &ok);
		h_str(md, o->tenancy_id, &ok);
		h_str(md, o->compartment_id, &ok);
		h_str(md, o->parent_id, &ok);
		h_str(md, o->name, &ok);
		h_str(md, o->state, &ok);
		h_str(md, o->etag, &ok);
		h_int(md, o->time_created, &ok);
		h_int(md, o->time_of_deletion, &ok);
		h_int(md, (int64_t)o->seq, &ok);
		h_str(md, o->attrs, &ok);
		break;
	case TR_REC_SV:
		h_str(md, sv->secret_id, &ok);
		h_int(md, (int64_t)sv->number, &ok);
		h_str(md, sv->name, &ok);
		h_int(md, sv->stages, &ok);
		h_str(md, sv->state, &ok);
		h_int(md, sv->time_created, &ok);
		h_int(md, sv->time_of_deletion, &ok);
		h_int(md, sv->time_of_expiry, &ok);
		h_str(md, sv->key_version_id, &ok);
		h_blob(md, sv->wrapped_dek, sv->wrapped_dek_len, &ok);
		h_blob(md, sv->content, sv->content_len, &ok);
		h_int(md, sv->has_mac, &ok);
		if (sv->has_mac)
			h_bytes(md, sv->content_mac, 32, &ok);
		h_str(md, sv->attrs, &ok);
		break;
	case TR_REC_KV:
		h_str(md, kv->id, &ok);
		h_str(md, kv->key_id, &ok);
		h_str(md, kv->vault_id, &ok);
		h_str(md, kv->compartment_id, &ok);
		h_str(md, kv->state, &ok);
		h_int(md, kv->time_created, &ok);
		h_int(md, kv->time_of_deletion, &ok);
		h_int(md, (int64_t)kv->seq, &ok);
		h_blob(md, kv->wrapped, kv->wrapped_len, &ok);
		h_str(md, kv->public_pem, &ok);
		h_str(md, kv->attrs, &ok);
		break;
	case TR_REC_RETRY:
		h_bytes(md, rt->key, 32, &ok);
		h_bytes(md, rt->body_hash, 32, &ok);
		h_int(md, rt->status, &ok);
		h_str(md, rt->response, &ok);
		h_str(md, rt->etag, &ok);
		h_int(md, rt->time_created, &ok);
		break;
	case TR_REC_SETTING:
		h_str(md, r->setting_key, &ok);
		h_str(md, r->setting_value, &ok);
		break;
	default:
		rc = tr_error_set(TRESOR_EINVAL, "bad record kind");
		goto out;
	}
	if (!ok || EVP_DigestFinal_ex(md, out, &len) != 1 || len != 32) {
		rc = tr_error_set(TRESOR_EINTERNAL, "SHA-256 failed");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

/* A short name of a record for messages (ids only, never content). */
static const char *
record_name(const struct tr_store_record *r, char *buf, size_t cap)
{
	switch (r->kind) {
	case TR_REC_OBJ:
		(void)snprintf(buf, cap, "%s %s", r->obj->type, r->obj->id);
		break;
	case TR_REC_SV:
		(void)snprintf(buf, cap, "version %llu of secret %s",
		    (unsigned long long)r->sv->number, r->sv->secret_id);
		break;
	case TR_REC_KV:
		(void)snprintf(buf, cap, "key version %s", r->kv->id);
		break;
	case TR_REC_RETRY:
		(void)snprintf(buf, cap, "a retry token");
		break;
	default:
		(void)snprintf(buf, cap, "setting %s", r->setting_key);
		break;
	}
	return buf;
}

static int
refuse_any(const struct tr_store_record *r, void *payload)
{
	char name[TR_ID_MAX + 64];

	(void)payload;
	return tr_error_set(TRESOR_EEXISTS,
	    "the destination store is not empty (it holds %s); copy into a "
	    "new database", record_name(r, name, sizeof(name)));
}

/* Hash a source record, then load it into the destination. */
static int
copy_one(const struct tr_store_record *r, void *payload)
{
	struct copy *c = payload;
	unsigned char (*grown)[32];
	size_t cap;
	int rc;

	if (c->n == c->cap) {
		cap = c->cap == 0 ? 256 : c->cap * 2;
		grown = tr_reallocarray(c->hash, cap, sizeof(*c->hash));
		if (grown == NULL)
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		c->hash = grown;
		c->cap = cap;
	}
	if ((rc = record_hash(r, c->hash[c->n])) < 0)
		return rc;
	c->n++;
	return c->dst->ops->load(c->dst, TR_LOAD_RECORD, r);
}

/* Check a destination record against the source record of its rank. */
static int
verify_one(const struct tr_store_record *r, void *payload)
{
	struct copy *c = payload;
	unsigned char h[32];
	char name[TR_ID_MAX + 64];
	int rc;

	if (c->next >= c->n)
		return tr_error_set(TRESOR_EIO,
		    "after the copy the destination holds more records than "
		    "the source (%s); drop it and copy again",
		    record_name(r, name, sizeof(name)));
	if ((rc = record_hash(r, h)) < 0)
		return rc;
	if (!tr_ct_eq(h, c->hash[c->next], sizeof(h)))
		return tr_error_set(TRESOR_EIO,
		    "record %zu (%s) differs after the copy; drop the "
		    "destination and copy again", c->next + 1,
		    record_name(r, name, sizeof(name)));
	c->next++;
	return 0;
}

int
tr_store_copy(struct tr_store *dst, struct tr_store *src, size_t *count_out)
{
	struct copy c;
	int rc = TRESOR_EINTERNAL;

	memset(&c, 0, sizeof(c));
	*count_out = 0;
	if (dst == NULL || src == NULL || dst == src) {
		rc = tr_error_set(TRESOR_EINVAL, "copy needs two stores");
		goto out;
	}
	c.dst = dst;
	if ((rc = dst->ops->dump(dst, refuse_any, NULL)) < 0)
		goto out;
	if ((rc = dst->ops->load(dst, TR_LOAD_BEGIN, NULL)) < 0)
		goto out;
	if ((rc = src->ops->dump(src, copy_one, &c)) < 0) {
		(void)dst->ops->load(dst, TR_LOAD_ABORT, NULL);
		goto out;
	}
	if ((rc = dst->ops->load(dst, TR_LOAD_COMMIT, NULL)) < 0)
		goto out;
	if ((rc = dst->ops->dump(dst, verify_one, &c)) < 0)
		goto out;
	if (c.next != c.n) {
		rc = tr_error_set(TRESOR_EIO,
		    "after the copy the destination lacks %zu of %zu records; "
		    "drop it and copy again", c.n - c.next, c.n);
		goto out;
	}
	*count_out = c.n;
	rc = 0;
out:
	tr_free(c.hash);
	return rc;
}
