/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AES-GCM through OpenSSL EVP (see aead.h).
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/aead.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/rand.h"

/*
 * The ciphers, fetched once: OpenSSL 3 otherwise looks the algorithm up
 * again at every init, which costs more than sealing a secret.
 */
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *gcm[3];

static void
gcm_fetch(void)
{
	gcm[0] = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	gcm[1] = EVP_CIPHER_fetch(NULL, "AES-192-GCM", NULL);
	gcm[2] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *
gcm_for(size_t keylen)
{
	(void)pthread_once(&gcm_once, gcm_fetch);
	switch (keylen) {
	case 16:
		return gcm[0] != NULL ? gcm[0] : EVP_aes_128_gcm();
	case 24:
		return gcm[1] != NULL ? gcm[1] : EVP_aes_192_gcm();
	case 32:
		return gcm[2] != NULL ? gcm[2] : EVP_aes_256_gcm();
	default:
		return NULL;
	}
}

int
tr_aead_seal(unsigned char **out, size_t *outlen, const unsigned char *key,
    size_t keylen, const void *aad, size_t aadlen, const void *pt,
    size_t ptlen)
{
	const EVP_CIPHER *cipher = gcm_for(keylen);
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *blob = NULL;
	int rc = TRESOR_EINTERNAL, n;

	*out = NULL;
	*outlen = 0;
	if (cipher == NULL || ptlen > INT_MAX - TR_AEAD_OVERHEAD ||
	    aadlen > INT_MAX)
		return tr_error_set(TRESOR_EINVAL, "bad AEAD parameters");
	blob = tr_malloc(ptlen + TR_AEAD_OVERHEAD);
	ctx = EVP_CIPHER_CTX_new();
	if (blob == NULL || ctx == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = tr_random_bytes(blob, TR_AEAD_NONCE)) < 0)
		goto out;
	if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, blob) != 1 ||
	    (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    EVP_EncryptUpdate(ctx, blob + TR_AEAD_NONCE, &n, pt,
	    (int)ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, blob + TR_AEAD_NONCE + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TR_AEAD_TAG,
	    blob + TR_AEAD_NONCE + ptlen) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "AES-GCM encryption failed");
		goto out;
	}
	*out = blob;
	*outlen = ptlen + TR_AEAD_OVERHEAD;
	blob = NULL;
	rc = 0;
out:
	tr_free(blob);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
tr_aead_open(struct tr_secret **out, const unsigned char *key, size_t keylen,
    const void *aad, size_t aadlen, const unsigned char *blob, size_t bloblen)
{
	const EVP_CIPHER *cipher = gcm_for(keylen);
	EVP_CIPHER_CTX *ctx = NULL;
	struct tr_secret *pt = NULL;
	unsigned char tag[TR_AEAD_TAG];
	size_t ctlen;
	int rc = TRESOR_EINTERNAL, n;

	*out = NULL;
	if (cipher == NULL || aadlen > INT_MAX)
		return tr_error_set(TRESOR_EINVAL, "bad AEAD parameters");
	if (bloblen < TR_AEAD_OVERHEAD || bloblen > INT_MAX)
		return tr_error_set(TRESOR_EAUTH,
		    "ciphertext is truncated or damaged");
	ctlen = bloblen - TR_AEAD_OVERHEAD;
	memcpy(tag, blob + TR_AEAD_NONCE + ctlen, TR_AEAD_TAG);
	if ((rc = tr_secret_new(&pt, ctlen)) < 0)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, cipher, NULL, key, blob) != 1 ||
	    (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    EVP_DecryptUpdate(ctx, pt->ptr, &n, blob + TR_AEAD_NONCE,
	    (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TR_AEAD_TAG,
	    tag) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "AES-GCM decryption failed");
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, pt->ptr + n, &n) != 1) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "ciphertext failed authentication (wrong key, damaged "
		    "data or different associated data)");
		goto out;
	}
	*out = pt;
	pt = NULL;
	rc = 0;
out:
	tr_secret_free(pt);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
