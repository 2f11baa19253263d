/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signatures of protection mode SOFTWARE and verification on a public
 * key, through OpenSSL EVP (see sign.h).  Both RAW and DIGEST messages go
 * through the same path: the digest is computed (or length-checked) by
 * tr_sign_digest(), then signed with EVP_PKEY_sign() and the algorithm's
 * hash set as the signature digest, which gives exactly the signature
 * that EVP_DigestSign() gives on the raw message.
 */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/error.h"

static const struct tr_sign_alg algs[] = {
	{ "SHA_224_RSA_PKCS_PSS", TR_SIGN_RSA_PSS, "SHA224", 28 },
	{ "SHA_256_RSA_PKCS_PSS", TR_SIGN_RSA_PSS, "SHA256", 32 },
	{ "SHA_384_RSA_PKCS_PSS", TR_SIGN_RSA_PSS, "SHA384", 48 },
	{ "SHA_512_RSA_PKCS_PSS", TR_SIGN_RSA_PSS, "SHA512", 64 },
	{ "SHA_224_RSA_PKCS1_V1_5", TR_SIGN_RSA_PKCS1, "SHA224", 28 },
	{ "SHA_256_RSA_PKCS1_V1_5", TR_SIGN_RSA_PKCS1, "SHA256", 32 },
	{ "SHA_384_RSA_PKCS1_V1_5", TR_SIGN_RSA_PKCS1, "SHA384", 48 },
	{ "SHA_512_RSA_PKCS1_V1_5", TR_SIGN_RSA_PKCS1, "SHA512", 64 },
	{ "ECDSA_SHA_256", TR_SIGN_ECDSA, "SHA256", 32 },
	{ "ECDSA_SHA_384", TR_SIGN_ECDSA, "SHA384", 48 },
	{ "ECDSA_SHA_512", TR_SIGN_ECDSA, "SHA512", 64 },
};

#define NALGS (sizeof(algs) / sizeof(algs[0]))

int
tr_sign_alg_lookup(const struct tr_sign_alg **out, const char *alg)
{
	size_t i;

	*out = NULL;
	if (alg == NULL)
		return tr_error_set(TRESOR_EINVAL, "no signing algorithm");
	for (i = 0; i < NALGS; i++) {
		if (strcmp(algs[i].name, alg) == 0) {
			*out = &algs[i];
			return 0;
		}
	}
	return tr_error_set(TRESOR_EINVAL,
	    "unknown signing algorithm; use one of SHA_{224,256,384,512}_"
	    "RSA_PKCS_PSS, SHA_{224,256,384,512}_RSA_PKCS1_V1_5, "
	    "ECDSA_SHA_{256,384,512}");
}

int
tr_sign_digest(const struct tr_sign_alg *a, const void *msg, size_t len,
    bool is_digest, unsigned char out[TR_SIGN_HASH_MAX])
{
	const EVP_MD *md;
	unsigned int n = 0;

	if (msg == NULL && len > 0)
		return tr_error_set(TRESOR_EINVAL, "no message");
	if (is_digest) {
		if (len != a->hash_len)
			return tr_error_set(TRESOR_EINVAL,
			    "a %s message digest must be %zu bytes, not %zu",
			    a->name, a->hash_len, len);
		memcpy(out, msg, len);
		return 0;
	}
	md = EVP_get_digestbyname(a->md);
	if (md == NULL || EVP_Digest(msg, len, out, &n, md, NULL) != 1 ||
	    n != a->hash_len) {
		ERR_clear_error();
		return tr_error_set(TRESOR_EINTERNAL, "%s digest failed",
		    a->md);
	}
	return 0;
}

/* True when the scheme of `a` is one for keys of type `alg`. */
static bool
scheme_fits(const struct tr_sign_alg *a, enum tr_key_alg alg)
{
	if (a->scheme == TR_SIGN_ECDSA)
		return alg == TR_KEY_ECDSA;
	return alg == TR_KEY_RSA;
}

bool
tr_sign_alg_fits(const char *alg, const struct tr_key_shape *shape)
{
	const struct tr_sign_alg *a;
	size_t i;

	if (alg == NULL || shape == NULL)
		return false;
	/* a lookup that sets no error text: this is a question */
	for (i = 0; i < NALGS; i++) {
		if (strcmp(algs[i].name, alg) == 0)
			break;
	}
	if (i == NALGS)
		return false;
	a = &algs[i];
	return scheme_fits(a, shape->alg);
}

/*
 * Check that `pkey` can be used with `a`; TRESOR_EINVAL with a message
 * otherwise.
 */
static int
key_fits(const struct tr_sign_alg *a, EVP_PKEY *pkey)
{
	int id = EVP_PKEY_get_base_id(pkey);

	if (id == EVP_PKEY_RSA && scheme_fits(a, TR_KEY_RSA))
		return 0;
	if (id == EVP_PKEY_EC && scheme_fits(a, TR_KEY_ECDSA))
		return 0;
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC)
		return tr_error_set(TRESOR_EINVAL,
		    "the key is neither an RSA nor an ECDSA key");
	return tr_error_set(TRESOR_EINVAL,
	    "signing algorithm %s cannot be used with an %s key", a->name,
	    id == EVP_PKEY_RSA ? "RSA" : "ECDSA");
}

/*
 * Set up `ctx` for signing (or verifying) a digest with `a`: signature
 * digest, and for RSA the padding; PSS takes MGF1 with the same hash and
 * a salt as long as the hash.
 */
static int
ctx_setup(EVP_PKEY_CTX *ctx, const struct tr_sign_alg *a, bool sign)
{
	const EVP_MD *md = EVP_get_digestbyname(a->md);
	int ok;

	if (md == NULL)
		return tr_error_set(TRESOR_EINTERNAL, "no %s digest", a->md);
	ok = sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx);
	if (ok == 1)
		ok = EVP_PKEY_CTX_set_signature_md(ctx, md);
	if (ok == 1 && a->scheme == TR_SIGN_RSA_PKCS1)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
	if (ok == 1 && a->scheme == TR_SIGN_RSA_PSS) {
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING);
		if (ok == 1)
			ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
			    RSA_PSS_SALTLEN_DIGEST);
		if (ok == 1)
			ok = EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md);
	}
	if (ok != 1)
		return tr_error_set(TRESOR_EINTERNAL,
		    "cannot set up %s %s", a->name,
		    sign ? "signing" : "verification");
	return 0;
}

/* Parse a DER private key, PKCS#8 or type-specific, with no trailing bytes. */
static int
load_private(EVP_PKEY **out, const struct tr_secret *der)
{
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	if (der == NULL || der->len == 0 || der->len > LONG_MAX)
		return tr_error_set(TRESOR_EINVAL, "no private key");
	p = der->ptr;
	pkey = d2i_AutoPrivateKey(NULL, &p, (long)der->len);
	if (pkey == NULL || p != der->ptr + der->len) {
		EVP_PKEY_free(pkey);
		return tr_error_set(TRESOR_EINVAL,
		    "the private key is not a DER RSA or EC key");
	}
	*out = pkey;
	return 0;
}

int
tr_sign_soft(const struct tr_secret *der, const char *alg, const void *msg,
    size_t len, bool is_digest, unsigned char **sig_out, size_t *siglen_out)
{
	const struct tr_sign_alg *a = NULL;
	unsigned char dgst[TR_SIGN_HASH_MAX];
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc = TRESOR_EINTERNAL;

	*sig_out = NULL;
	*siglen_out = 0;
	if ((rc = tr_sign_alg_lookup(&a, alg)) < 0 ||
	    (rc = tr_sign_digest(a, msg, len, is_digest, dgst)) < 0 ||
	    (rc = load_private(&pkey, der)) < 0 ||
	    (rc = key_fits(a, pkey)) < 0)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ctx_setup(ctx, a, true)) < 0)
		goto out;
	if (EVP_PKEY_sign(ctx, NULL, &siglen, dgst, a->hash_len) != 1 ||
	    siglen == 0) {
		rc = tr_error_set(TRESOR_EINTERNAL, "%s signing failed",
		    a->name);
		goto out;
	}
	sig = tr_malloc(siglen);
	if (sig == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_PKEY_sign(ctx, sig, &siglen, dgst, a->hash_len) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "%s signing failed",
		    a->name);
		goto out;
	}
	*sig_out = sig;
	*siglen_out = siglen;
	sig = NULL;
	rc = 0;
out:
	ERR_clear_error();
	tr_free(sig);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	tr_secure_zero(dgst, sizeof(dgst));
	return rc;
}

int
tr_verify_pub(const char *public_pem, const char *alg, const void *msg,
    size_t len, bool is_digest, const unsigned char *sig, size_t siglen,
    bool *valid_out)
{
	const struct tr_sign_alg *a = NULL;
	unsigned char dgst[TR_SIGN_HASH_MAX];
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIO *bio = NULL;
	int rc = TRESOR_EINTERNAL;

	*valid_out = false;
	if ((rc = tr_sign_alg_lookup(&a, alg)) < 0 ||
	    (rc = tr_sign_digest(a, msg, len, is_digest, dgst)) < 0)
		goto out;
	if (public_pem == NULL || strlen(public_pem) > INT_MAX) {
		rc = tr_error_set(TRESOR_EINVAL, "no public key");
		goto out;
	}
	bio = BIO_new_mem_buf(public_pem, (int)strlen(public_pem));
	if (bio == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (pkey == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "the public key is not a PEM SubjectPublicKeyInfo");
		goto out;
	}
	if ((rc = key_fits(a, pkey)) < 0)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ctx_setup(ctx, a, false)) < 0)
		goto out;
	/* anything but 1 is a bad signature: wrong length, bad DER... */
	if (sig != NULL && siglen > 0)
		*valid_out = EVP_PKEY_verify(ctx, sig, siglen, dgst,
		    a->hash_len) == 1;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}
