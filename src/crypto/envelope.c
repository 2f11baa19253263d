/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envelope encryption of secret versions (see envelope.h).
 */
#include <stdbool.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/rand.h"

#define AAD_MAX 400

/* label || 0 || secret OCID || 0 || version number (8 bytes, big endian) */
static int
binding(unsigned char *buf, size_t *len, const char *label,
    const char *secret_id, uint64_t number)
{
	size_t l1 = strlen(label) + 1, l2 = strlen(secret_id) + 1;
	int i;

	if (l1 + l2 + 8 > AAD_MAX)
		return tr_error_set(TRESOR_EINVAL, "secret id too long");
	memcpy(buf, label, l1);
	memcpy(buf + l1, secret_id, l2);
	for (i = 0; i < 8; i++)
		buf[l1 + l2 + (size_t)i] = (unsigned char)(number >>
		    (56 - 8 * i));
	*len = l1 + l2 + 8;
	return 0;
}

int
tr_envelope_seal(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *secret_id, uint64_t number, const struct tr_secret *plaintext,
    unsigned char **wrapped_dek_out, size_t *wrapped_dek_len_out,
    unsigned char **content_out, size_t *content_len_out)
{
	struct tr_secret *dek = NULL;
	unsigned char aad_c[AAD_MAX], aad_k[AAD_MAX];
	size_t lc = 0, lk = 0;
	int rc;

	*wrapped_dek_out = NULL;
	*content_out = NULL;
	*wrapped_dek_len_out = 0;
	*content_len_out = 0;
	if ((rc = binding(aad_c, &lc, "tresor/secret-content/v1", secret_id,
	    number)) < 0 ||
	    (rc = binding(aad_k, &lk, "tresor/secret-dek/v1", secret_id,
	    number)) < 0)
		return rc;
	if ((rc = tr_secret_new(&dek, TR_DEK_LEN)) < 0 ||
	    (rc = tr_random_bytes(dek->ptr, dek->len)) < 0)
		goto out;
	if ((rc = tr_aead_seal(content_out, content_len_out, dek->ptr, dek->len,
	    aad_c, lc, plaintext->ptr, plaintext->len)) < 0)
		goto out;
	if ((rc = tr_keystore_encrypt(ks, key, aad_k, lk, dek->ptr, dek->len,
	    wrapped_dek_out, wrapped_dek_len_out)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		TR_FREE_AND_NULL(*content_out);
		*content_len_out = 0;
	}
	tr_secret_free(dek);
	return rc;
}

/*
 * Opened data keys, per thread.  An entry's key is every input of the
 * unwrap: the master key version's id, the associated data (secret OCID
 * and version number) and the sealed DEK's bytes.
 */
struct dek_slot {
	uint64_t hash;
	unsigned char *key;		/* not secret: ids and sealed bytes */
	size_t keylen;
	struct tr_secret *dek;		/* locked, zeroed on free */
	int64_t expires_ms;
};

struct tr_dek_cache {
	size_t nslots;
	int64_t ttl_ms;
	uint64_t hits, misses;
	struct dek_slot slot[];
};

int
tr_dek_cache_new(struct tr_dek_cache **out, size_t slots, int64_t ttl_ms)
{
	struct tr_dek_cache *c;

	*out = NULL;
	if (slots == 0 || slots > 65536 || ttl_ms <= 0)
		return tr_error_set(TRESOR_EINVAL, "bad data key cache size");
	c = tr_calloc(1, sizeof(*c) + slots * sizeof(c->slot[0]));
	if (c == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	c->nslots = slots;
	c->ttl_ms = ttl_ms;
	*out = c;
	return 0;
}

static void
slot_clear(struct dek_slot *sl)
{
	tr_free(sl->key);
	tr_secret_free(sl->dek);
	memset(sl, 0, sizeof(*sl));
}

void
tr_dek_cache_free(struct tr_dek_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nslots; i++)
		slot_clear(&c->slot[i]);
	tr_free(c);
}

void
tr_dek_cache_stats(const struct tr_dek_cache *c, uint64_t *hits,
    uint64_t *misses)
{
	*hits = c == NULL ? 0 : c->hits;
	*misses = c == NULL ? 0 : c->misses;
}

/*
 * The version's data key, from `c` when it holds it (and it has not
 * aged out), else unwrapped by the keystore and remembered.  *dek is
 * borrowed from the cache, or owned (*owned true) when there is none.
 */
static int
dek_get(struct tr_dek_cache *c, struct tr_keystore *ks,
    const struct tr_keyref *key, const unsigned char *aad_k, size_t lk,
    const unsigned char *wrapped_dek, size_t wrapped_dek_len,
    struct tr_secret **dek, bool *owned)
{
	unsigned char kbuf[1024];
	struct dek_slot *sl = NULL;
	size_t vl, keylen;
	uint64_t h = 0;
	int64_t now = 0;
	int rc;

	*dek = NULL;
	*owned = true;
	vl = strlen(key->version_id) + 1;
	keylen = vl + lk + wrapped_dek_len;
	if (c != NULL && keylen <= sizeof(kbuf)) {
		memcpy(kbuf, key->version_id, vl);
		memcpy(kbuf + vl, aad_k, lk);
		memcpy(kbuf + vl + lk, wrapped_dek, wrapped_dek_len);
		h = tr_hash_bytes(kbuf, keylen);
		sl = &c->slot[h % c->nslots];
		now = tr_mono_ms();
		if (sl->dek != NULL && sl->hash == h && sl->keylen == keylen &&
		    now < sl->expires_ms &&
		    memcmp(sl->key, kbuf, keylen) == 0) {
			c->hits++;
			*dek = sl->dek;
			*owned = false;
			return 0;
		}
		c->misses++;
	}
	if ((rc = tr_keystore_decrypt(ks, key, aad_k, lk, wrapped_dek,
	    wrapped_dek_len, dek)) < 0)
		return rc;
	if ((*dek)->len != TR_DEK_LEN) {
		tr_secret_free(*dek);
		*dek = NULL;
		return tr_error_set(TRESOR_EAUTH, "data key has the wrong "
		    "size");
	}
	if (sl != NULL) {
		slot_clear(sl);
		sl->key = tr_malloc(keylen);
		if (sl->key != NULL) {
			memcpy(sl->key, kbuf, keylen);
			sl->keylen = keylen;
			sl->hash = h;
			sl->dek = *dek;
			sl->expires_ms = now + c->ttl_ms;
			*owned = false;
		}
	}
	return 0;
}

int
tr_envelope_open_cached(struct tr_dek_cache *cache, struct tr_keystore *ks,
    const struct tr_keyref *key, const char *secret_id, uint64_t number,
    const unsigned char *wrapped_dek, size_t wrapped_dek_len,
    const unsigned char *content, size_t content_len,
    struct tr_secret **plaintext_out)
{
	struct tr_secret *dek = NULL;
	unsigned char aad_c[AAD_MAX], aad_k[AAD_MAX];
	size_t lc = 0, lk = 0;
	bool owned = true;
	int rc;

	*plaintext_out = NULL;
	if ((rc = binding(aad_c, &lc, "tresor/secret-content/v1", secret_id,
	    number)) < 0 ||
	    (rc = binding(aad_k, &lk, "tresor/secret-dek/v1", secret_id,
	    number)) < 0)
		return rc;
	if ((rc = dek_get(cache, ks, key, aad_k, lk, wrapped_dek,
	    wrapped_dek_len, &dek, &owned)) < 0)
		return rc;
	rc = tr_aead_open(plaintext_out, dek->ptr, dek->len, aad_c, lc, content,
	    content_len);
	if (owned)
		tr_secret_free(dek);
	return rc;
}

int
tr_envelope_open(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *secret_id, uint64_t number, const unsigned char *wrapped_dek,
    size_t wrapped_dek_len, const unsigned char *content, size_t content_len,
    struct tr_secret **plaintext_out)
{
	return tr_envelope_open_cached(NULL, ks, key, secret_id, number,
	    wrapped_dek, wrapped_dek_len, content, content_len, plaintext_out);
}

int
tr_envelope_rewrap(struct tr_keystore *ks, const struct tr_keyref *from,
    const struct tr_keyref *to, const char *secret_id, uint64_t number,
    const unsigned char *wrapped_dek, size_t wrapped_dek_len,
    unsigned char **rewrapped_out, size_t *rewrapped_len_out)
{
	struct tr_secret *dek = NULL;
	unsigned char aad_k[AAD_MAX];
	size_t lk = 0;
	int rc;

	*rewrapped_out = NULL;
	*rewrapped_len_out = 0;
	if ((rc = binding(aad_k, &lk, "tresor/secret-dek/v1", secret_id,
	    number)) < 0)
		return rc;
	if ((rc = tr_keystore_decrypt(ks, from, aad_k, lk, wrapped_dek,
	    wrapped_dek_len, &dek)) < 0)
		return rc;
	rc = tr_keystore_encrypt(ks, to, aad_k, lk, dek->ptr, dek->len,
	    rewrapped_out, rewrapped_len_out);
	tr_secret_free(dek);
	return rc;
}
