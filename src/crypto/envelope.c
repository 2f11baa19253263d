/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envelope encryption of secret versions (see envelope.h).
 */
#include <string.h>

#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "util/alloc.h"
#include "util/error.h"
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

int
tr_envelope_open(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *secret_id, uint64_t number, const unsigned char *wrapped_dek,
    size_t wrapped_dek_len, const unsigned char *content, size_t content_len,
    struct tr_secret **plaintext_out)
{
	struct tr_secret *dek = NULL;
	unsigned char aad_c[AAD_MAX], aad_k[AAD_MAX];
	size_t lc = 0, lk = 0;
	int rc;

	*plaintext_out = NULL;
	if ((rc = binding(aad_c, &lc, "tresor/secret-content/v1", secret_id,
	    number)) < 0 ||
	    (rc = binding(aad_k, &lk, "tresor/secret-dek/v1", secret_id,
	    number)) < 0)
		return rc;
	if ((rc = tr_keystore_decrypt(ks, key, aad_k, lk, wrapped_dek,
	    wrapped_dek_len, &dek)) < 0)
		return rc;
	if (dek->len != TR_DEK_LEN) {
		rc = tr_error_set(TRESOR_EAUTH, "data key has the wrong size");
		goto out;
	}
	rc = tr_aead_open(plaintext_out, dek->ptr, dek->len, aad_c, lc, content,
	    content_len);
out:
	tr_secret_free(dek);
	return rc;
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
