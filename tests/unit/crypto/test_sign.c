/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signatures of protection mode SOFTWARE (crypto/sign.h) checked against
 * plain OpenSSL EVP on the same inputs: tr_sign_soft() signatures verify
 * with EVP_DigestVerify(), EVP_DigestSign() signatures verify with
 * tr_verify_pub(), RAW and DIGEST messages agree, and digests of the
 * wrong length, unknown algorithms and algorithms that do not fit the
 * key are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/sign.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/secret.h"

struct key {
	const char *what;
	struct tr_key_shape shape;
	EVP_PKEY *pkey;
	struct tr_secret *der;		/* i2d_PrivateKey: type-specific */
	struct tr_secret *p8;		/* PKCS#8 PrivateKeyInfo */
	char *pem;
};

static struct key keys[] = {
	{ "RSA-2048", { TR_KEY_RSA, 256, TR_CURVE_NONE }, NULL, NULL, NULL,
	    NULL },
	{ "RSA-3072", { TR_KEY_RSA, 384, TR_CURVE_NONE }, NULL, NULL, NULL,
	    NULL },
	{ "P-256", { TR_KEY_ECDSA, 32, TR_CURVE_P256 }, NULL, NULL, NULL,
	    NULL },
	{ "P-384", { TR_KEY_ECDSA, 48, TR_CURVE_P384 }, NULL, NULL, NULL,
	    NULL },
	{ "P-521", { TR_KEY_ECDSA, 66, TR_CURVE_P521 }, NULL, NULL, NULL,
	    NULL },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct {
	const char *name;
	const char *md;
	int pad;	/* RSA padding, 0 for ECDSA */
	size_t hlen;
} algs[] = {
	{ "SHA_224_RSA_PKCS_PSS", "SHA224", RSA_PKCS1_PSS_PADDING, 28 },
	{ "SHA_256_RSA_PKCS_PSS", "SHA256", RSA_PKCS1_PSS_PADDING, 32 },
	{ "SHA_384_RSA_PKCS_PSS", "SHA384", RSA_PKCS1_PSS_PADDING, 48 },
	{ "SHA_512_RSA_PKCS_PSS", "SHA512", RSA_PKCS1_PSS_PADDING, 64 },
	{ "SHA_224_RSA_PKCS1_V1_5", "SHA224", RSA_PKCS1_PADDING, 28 },
	{ "SHA_256_RSA_PKCS1_V1_5", "SHA256", RSA_PKCS1_PADDING, 32 },
	{ "SHA_384_RSA_PKCS1_V1_5", "SHA384", RSA_PKCS1_PADDING, 48 },
	{ "SHA_512_RSA_PKCS1_V1_5", "SHA512", RSA_PKCS1_PADDING, 64 },
	{ "ECDSA_SHA_256", "SHA256", 0, 32 },
	{ "ECDSA_SHA_384", "SHA384", 0, 48 },
	{ "ECDSA_SHA_512", "SHA512", 0, 64 },
};

#define NALGS (sizeof(algs) / sizeof(algs[0]))

static const char msg[] = "tresor signs what OCI signs, byte for byte";

static bool
fits(size_t a, const struct key *k)
{
	return (algs[a].pad == 0) == (k->shape.alg == TR_KEY_ECDSA);
}

static int
setup(void **state)
{
	unsigned char *der = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	BIO *bio;
	char *data;
	long plen;
	int len;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		struct key *k = &keys[i];

		if (k->shape.alg == TR_KEY_RSA)
			k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
			    (size_t)(k->shape.length * 8));
		else
			k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
			    k->what);
		if (k->pkey == NULL)
			return -1;
		/* what tr_keystore_generate() stores */
		der = NULL;
		len = i2d_PrivateKey(k->pkey, &der);
		if (len <= 0 || tr_secret_from(&k->der, der, (size_t)len) < 0)
			return -1;
		OPENSSL_clear_free(der, (size_t)len);
		der = NULL;
		p8 = EVP_PKEY2PKCS8(k->pkey);
		len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
		if (len <= 0 || tr_secret_from(&k->p8, der, (size_t)len) < 0)
			return -1;
		OPENSSL_clear_free(der, (size_t)len);
		PKCS8_PRIV_KEY_INFO_free(p8);
		bio = BIO_new(BIO_s_mem());
		if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
			return -1;
		plen = BIO_get_mem_data(bio, &data);
		k->pem = tr_strndup(data, (size_t)plen);
		BIO_free(bio);
	}
	(void)state;
	return 0;
}

static int
teardown(void **state)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		EVP_PKEY_free(keys[i].pkey);
		tr_secret_free(keys[i].der);
		tr_secret_free(keys[i].p8);
		tr_free(keys[i].pem);
	}
	(void)state;
	return 0;
}

/* Padding, PSS salt = hash length and MGF1 hash, as OCI uses them. */
static void
evp_params(EVP_PKEY_CTX *pctx, size_t a)
{
	if (algs[a].pad == 0)
		return;
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, algs[a].pad), 1);
	if (algs[a].pad == RSA_PKCS1_PSS_PADDING) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx,
		    algs[a].md, NULL), 1);
	}
}

/* Plain OpenSSL: verify a signature over the raw message. */
static bool
evp_verify(EVP_PKEY *pkey, size_t a, const void *m, size_t mlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int r;

	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx, algs[a].md, NULL,
	    NULL, pkey, NULL), 1);
	evp_params(pctx, a);
	r = EVP_DigestVerify(ctx, sig, siglen, m, mlen);
	EVP_MD_CTX_free(ctx);
	return r == 1;
}

/* Plain OpenSSL: sign the raw message; caller frees with free(). */
static unsigned char *
evp_sign(EVP_PKEY *pkey, size_t a, const void *m, size_t mlen,
    size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig;

	assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, algs[a].md, NULL,
	    NULL, pkey, NULL), 1);
	evp_params(pctx, a);
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen, m, mlen), 1);
	sig = malloc(*siglen);
	assert_non_null(sig);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, m, mlen), 1);
	EVP_MD_CTX_free(ctx);
	return sig;
}

static void
digest_of(size_t a, const void *m, size_t mlen, unsigned char *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(m, mlen, out, &n,
	    EVP_get_digestbyname(algs[a].md), NULL), 1);
	assert_int_equal(n, algs[a].hlen);
}

static void
test_soft_sign_verifies_with_openssl(void **state)
{
	unsigned char *sig = NULL, dg[64];
	size_t siglen = 0, a, i;
	bool valid;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		for (a = 0; a < NALGS; a++) {
			if (!fits(a, &keys[i]))
				continue;
			/* RAW, on the keystore's DER and on PKCS#8 */
			assert_int_equal(tr_sign_soft(keys[i].der,
			    algs[a].name, msg, sizeof(msg), false, &sig,
			    &siglen), 0);
			assert_true(evp_verify(keys[i].pkey, a, msg,
			    sizeof(msg), sig, siglen));
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, msg, sizeof(msg), false, sig, siglen,
			    &valid), 0);
			assert_true(valid);
			/* one flipped bit: invalid everywhere */
			sig[siglen / 2] ^= 0x10;
			assert_false(evp_verify(keys[i].pkey, a, msg,
			    sizeof(msg), sig, siglen));
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, msg, sizeof(msg), false, sig, siglen,
			    &valid), 0);
			assert_false(valid);
			tr_free(sig);

			assert_int_equal(tr_sign_soft(keys[i].p8, algs[a].name,
			    msg, sizeof(msg), false, &sig, &siglen), 0);
			assert_true(evp_verify(keys[i].pkey, a, msg,
			    sizeof(msg), sig, siglen));
			tr_free(sig);

			/* DIGEST: the same signature as over the message */
			digest_of(a, msg, sizeof(msg), dg);
			assert_int_equal(tr_sign_soft(keys[i].der,
			    algs[a].name, dg, algs[a].hlen, true, &sig,
			    &siglen), 0);
			assert_true(evp_verify(keys[i].pkey, a, msg,
			    sizeof(msg), sig, siglen));
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, dg, algs[a].hlen, true, sig, siglen,
			    &valid), 0);
			assert_true(valid);
			tr_free(sig);
		}
	}
}

static void
test_openssl_sign_verifies_with_tresor(void **state)
{
	unsigned char *sig, dg[64];
	size_t siglen = 0, a, i;
	bool valid;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		for (a = 0; a < NALGS; a++) {
			if (!fits(a, &keys[i]))
				continue;
			sig = evp_sign(keys[i].pkey, a, msg, sizeof(msg),
			    &siglen);
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, msg, sizeof(msg), false, sig, siglen,
			    &valid), 0);
			assert_true(valid);
			digest_of(a, msg, sizeof(msg), dg);
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, dg, algs[a].hlen, true, sig, siglen,
			    &valid), 0);
			assert_true(valid);
			/* another message */
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, msg, sizeof(msg) - 1, false, sig,
			    siglen, &valid), 0);
			assert_false(valid);
			free(sig);
		}
	}
}

/* PKCS#1 v1.5 is deterministic: the very bytes OpenSSL makes. */
static void
test_pkcs1_matches_openssl_bytes(void **state)
{
	unsigned char *sig = NULL, *ref;
	size_t siglen = 0, reflen = 0, a;

	(void)state;
	for (a = 0; a < NALGS; a++) {
		if (algs[a].pad != RSA_PKCS1_PADDING)
			continue;
		ref = evp_sign(keys[0].pkey, a, msg, sizeof(msg), &reflen);
		assert_int_equal(tr_sign_soft(keys[0].der, algs[a].name, msg,
		    sizeof(msg), false, &sig, &siglen), 0);
		assert_int_equal(siglen, reflen);
		assert_memory_equal(sig, ref, reflen);
		tr_free(sig);
		free(ref);
	}
}

/* PSS salt is the hash length: a verifier insisting on it accepts. */
static void
test_pss_salt_is_hash_length(void **state)
{
	const unsigned char *m = (const unsigned char *)msg;
	unsigned char *sig = NULL;
	size_t siglen = 0, a;
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;

	(void)state;
	for (a = 0; a < NALGS; a++) {
		if (algs[a].pad != RSA_PKCS1_PSS_PADDING)
			continue;
		assert_int_equal(tr_sign_soft(keys[0].der, algs[a].name, msg,
		    sizeof(msg), false, &sig, &siglen), 0);
		ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx,
		    algs[a].md, NULL, NULL, keys[0].pkey, NULL), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    (int)algs[a].hlen), 1);
		assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, m,
		    sizeof(msg)), 1);
		/* and one insisting on another salt length refuses */
		EVP_MD_CTX_free(ctx);
		ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx,
		    algs[a].md, NULL, NULL, keys[0].pkey, NULL), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20),
		    1);
		assert_int_not_equal(EVP_DigestVerify(ctx, sig, siglen, m,
		    sizeof(msg)), 1);
		EVP_MD_CTX_free(ctx);
		tr_free(sig);
	}
}

static void
test_wrong_digest_length_refused(void **state)
{
	unsigned char dg[65], *sig = NULL, fake[8] = { 0 };
	size_t siglen = 0, a, i;
	size_t bad[] = { 0, 20, 27, 29, 31, 33, 47, 49, 63, 65 };
	bool valid = true;

	(void)state;
	memset(dg, 0xa5, sizeof(dg));
	for (a = 0; a < NALGS; a++) {
		struct key *k = algs[a].pad == 0 ? &keys[2] : &keys[0];

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (bad[i] == algs[a].hlen)
				continue;
			assert_int_equal(tr_sign_soft(k->der, algs[a].name, dg,
			    bad[i], true, &sig, &siglen), TRESOR_EINVAL);
			assert_null(sig);
			assert_non_null(strstr(tresor_error_last(),
			    "digest must be"));
			assert_int_equal(tr_verify_pub(k->pem, algs[a].name,
			    dg, bad[i], true, fake, sizeof(fake), &valid),
			    TRESOR_EINVAL);
			assert_false(valid);
		}
		/* RAW takes any length, even one that looks like a digest */
		assert_int_equal(tr_sign_soft(k->der, algs[a].name, dg,
		    algs[a].hlen + 1, false, &sig, &siglen), 0);
		tr_free(sig);
		sig = NULL;
	}
}

static void
test_alg_must_fit_key(void **state)
{
	unsigned char *sig = NULL;
	size_t siglen = 0, a, i;
	bool valid = true;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		for (a = 0; a < NALGS; a++) {
			assert_true(tr_sign_alg_fits(algs[a].name,
			    &keys[i].shape) == fits(a, &keys[i]));
			if (fits(a, &keys[i]))
				continue;
			assert_int_equal(tr_sign_soft(keys[i].der,
			    algs[a].name, msg, sizeof(msg), false, &sig,
			    &siglen), TRESOR_EINVAL);
			assert_non_null(strstr(tresor_error_last(),
			    "cannot be used"));
			assert_int_equal(tr_verify_pub(keys[i].pem,
			    algs[a].name, msg, sizeof(msg), false,
			    (const unsigned char *)"x", 1, &valid),
			    TRESOR_EINVAL);
		}
	}
	/* AES keys sign nothing; unknown names fit nothing */
	{
		struct tr_key_shape aes = { TR_KEY_AES, 32, TR_CURVE_NONE };

		assert_false(tr_sign_alg_fits("SHA_256_RSA_PKCS_PSS", &aes));
		assert_false(tr_sign_alg_fits("ECDSA_SHA_256", &aes));
	}
	assert_false(tr_sign_alg_fits("SHA_1_RSA_PKCS_PSS", &keys[0].shape));
	assert_false(tr_sign_alg_fits("ecdsa_sha_256", &keys[2].shape));
	assert_false(tr_sign_alg_fits(NULL, &keys[2].shape));
	assert_int_equal(tr_sign_soft(keys[0].der, "SHA_1_RSA_PKCS1_V1_5", msg,
	    sizeof(msg), false, &sig, &siglen), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "unknown signing"));
}

static void
test_bad_keys_and_signatures(void **state)
{
	struct tr_secret *junk = NULL, *trail = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	bool valid = true;

	(void)state;
	assert_int_equal(tr_secret_from(&junk, "not a key", 9), 0);
	assert_int_equal(tr_sign_soft(junk, "ECDSA_SHA_256", msg, sizeof(msg),
	    false, &sig, &siglen), TRESOR_EINVAL);
	tr_secret_free(junk);
	/* a key with trailing bytes */
	assert_int_equal(tr_secret_new(&trail, keys[2].der->len + 1), 0);
	memcpy(trail->ptr, keys[2].der->ptr, keys[2].der->len);
	assert_int_equal(tr_sign_soft(trail, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &siglen), TRESOR_EINVAL);
	tr_secret_free(trail);
	assert_int_equal(tr_verify_pub("-----BEGIN PUBLIC KEY-----\nAAAA\n"
	    "-----END PUBLIC KEY-----\n", "ECDSA_SHA_256", msg, sizeof(msg),
	    false, (const unsigned char *)"x", 1, &valid), TRESOR_EINVAL);
	/* malformed signatures are invalid, not errors */
	assert_int_equal(tr_verify_pub(keys[2].pem, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, (const unsigned char *)"\x30\x02\x02", 3,
	    &valid), 0);
	assert_false(valid);
	assert_int_equal(tr_verify_pub(keys[0].pem, "SHA_256_RSA_PKCS1_V1_5",
	    msg, sizeof(msg), false, (const unsigned char *)"short", 5,
	    &valid), 0);
	assert_false(valid);
	assert_int_equal(tr_verify_pub(keys[0].pem, "SHA_256_RSA_PKCS1_V1_5",
	    msg, sizeof(msg), false, NULL, 0, &valid), 0);
	assert_false(valid);
	/* an ECDSA signature with trailing bytes is invalid */
	assert_int_equal(tr_sign_soft(keys[2].der, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &siglen), 0);
	{
		unsigned char *longer = tr_malloc(siglen + 1);

		memcpy(longer, sig, siglen);
		longer[siglen] = 0;
		assert_int_equal(tr_verify_pub(keys[2].pem, "ECDSA_SHA_256",
		    msg, sizeof(msg), false, longer, siglen + 1, &valid), 0);
		assert_false(valid);
		tr_free(longer);
	}
	tr_free(sig);
}

/* Every allocation failing in turn: ENOMEM or success, no leak. */
static void
test_alloc_failures(void **state)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	bool valid = false;
	long n;
	int rc;

	(void)state;
	for (n = 0; n < 100; n++) {
		tr_alloc_fail_after(n);
		rc = tr_sign_soft(keys[3].der, "ECDSA_SHA_384", msg,
		    sizeof(msg), false, &sig, &siglen);
		tr_alloc_fail_after(-1);
		if (rc == 0)
			break;
		assert_int_equal(rc, TRESOR_ENOMEM);
		assert_null(sig);
	}
	assert_int_equal(rc, 0);
	for (n = 0; n < 100; n++) {
		tr_alloc_fail_after(n);
		rc = tr_verify_pub(keys[3].pem, "ECDSA_SHA_384", msg,
		    sizeof(msg), false, sig, siglen, &valid);
		tr_alloc_fail_after(-1);
		if (rc == 0)
			break;
		assert_int_equal(rc, TRESOR_ENOMEM);
	}
	assert_int_equal(rc, 0);
	assert_true(valid);
	tr_free(sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soft_sign_verifies_with_openssl),
		cmocka_unit_test(test_openssl_sign_verifies_with_tresor),
		cmocka_unit_test(test_pkcs1_matches_openssl_bytes),
		cmocka_unit_test(test_pss_salt_is_hash_length),
		cmocka_unit_test(test_wrong_digest_length_refused),
		cmocka_unit_test(test_alg_must_fit_key),
		cmocka_unit_test(test_bad_keys_and_signatures),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
