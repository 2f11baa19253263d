/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asymmetric signatures with OCI's signing algorithm names, for keys of
 * protection mode SOFTWARE (OpenSSL EVP on a DER private key held in a
 * tr_secret) and verification of any signature on a PEM public key.
 * The PKCS#11 counterpart (pkcs11.h) shares the algorithm table and the
 * digest rules below, so both modes accept and produce the same bytes:
 *
 *   SHA_{224,256,384,512}_RSA_PKCS_PSS    RSASSA-PSS, MGF1 with the same
 *                                         hash, salt length = hash length
 *   SHA_{224,256,384,512}_RSA_PKCS1_V1_5  RSASSA-PKCS1-v1_5
 *   ECDSA_SHA_{256,384,512}               ECDSA, signature DER-encoded
 *                                         (ECDSA-Sig-Value, RFC 3279)
 *
 * A message is RAW (hashed here with the algorithm's hash) or, with
 * `is_digest`, already that digest (OCI messageType DIGEST), in which
 * case its length must be the hash length.
 */
#ifndef TR_CRYPTO_SIGN_H
#define TR_CRYPTO_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/keystore.h"
#include "util/secret.h"

#define TR_SIGN_HASH_MAX 64	/* SHA-512 */

enum tr_sign_scheme {
	TR_SIGN_RSA_PSS = 1,
	TR_SIGN_RSA_PKCS1 = 2,
	TR_SIGN_ECDSA = 3
};

/* One entry of the algorithm table; static, never freed. */
struct tr_sign_alg {
	const char *name;		/* OCI's name, "SHA_256_RSA_PKCS_PSS" */
	enum tr_sign_scheme scheme;
	const char *md;			/* OpenSSL digest name, "SHA256" */
	size_t hash_len;		/* bytes */
};

/*
 * Look up an OCI signing algorithm name.  Returns 0 and a pointer to a
 * static table entry, or TRESOR_EINVAL naming the accepted algorithms.
 */
int tr_sign_alg_lookup(const struct tr_sign_alg **out, const char *alg);

/*
 * The digest to sign: for a RAW message, its hash with the algorithm's
 * hash function; with `is_digest`, a copy of `msg` after checking that
 * it is exactly hash_len bytes (TRESOR_EINVAL otherwise, with a message
 * saying which length was expected).  `out` receives hash_len bytes.
 */
int tr_sign_digest(const struct tr_sign_alg *a, const void *msg, size_t len,
    bool is_digest, unsigned char out[TR_SIGN_HASH_MAX]);

/*
 * True when `alg` is a known algorithm that may be used with a key of
 * `shape`: the RSA algorithms with RSA keys, the ECDSA ones with ECDSA
 * keys.  OCI documents no pairing of hash and curve, so any ECDSA hash
 * goes with any curve (a digest longer than the curve order is truncated
 * as ECDSA specifies).
 */
bool tr_sign_alg_fits(const char *alg, const struct tr_key_shape *shape);

/*
 * Sign with a SOFTWARE key.  `der` holds the private key as DER: PKCS#8
 * PrivateKeyInfo or the type-specific form (RSAPrivateKey, ECPrivateKey)
 * that i2d_PrivateKey() writes; both are accepted.  On success
 * *sig_out is a new allocation of *siglen_out bytes (caller frees with
 * tr_free).  TRESOR_EINVAL for an unknown algorithm, one that does not
 * fit the key, a digest of the wrong length or an unreadable key.
 */
int tr_sign_soft(const struct tr_secret *der, const char *alg,
    const void *msg, size_t len, bool is_digest, unsigned char **sig_out,
    size_t *siglen_out);

/*
 * Verify `sig` over `msg` with the public key in `public_pem` (PEM
 * SubjectPublicKeyInfo, as tr_keystore_generate() and tr_p11_generate()
 * return it).  Returns 0 with *valid_out telling the result (a malformed
 * signature is simply invalid), or TRESOR_EINVAL for an unknown
 * algorithm, one that does not fit the key, a digest of the wrong length
 * or an unreadable key.
 */
int tr_verify_pub(const char *public_pem, const char *alg, const void *msg,
    size_t len, bool is_digest, const unsigned char *sig, size_t siglen,
    bool *valid_out);

#endif /* TR_CRYPTO_SIGN_H */
