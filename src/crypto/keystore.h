/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keystore: the only holder of the root key and of unwrapped master
 * key material.  Calls are shaped like messages (a key version reference
 * and some bytes in, some bytes out) so that the keystore can move into
 * its own process later (STYLE S7) without changing a caller.
 *
 * The root key (a 256-bit file, mode 0600) wraps every master key
 * version with AES-256-GCM; the associated data binds the wrapped blob
 * to its key version OCID.  Unwrapped material is kept in locked memory
 * in a bounded cache keyed by key version OCID.
 */
#ifndef TR_CRYPTO_KEYSTORE_H
#define TR_CRYPTO_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/secret.h"

struct tr_keystore;

enum tr_key_alg {
	TR_KEY_AES = 1,
	TR_KEY_RSA = 2,
	TR_KEY_ECDSA = 3
};

enum tr_curve {
	TR_CURVE_NONE = 0,
	TR_CURVE_P256 = 1,
	TR_CURVE_P384 = 2,
	TR_CURVE_P521 = 3
};

/* A key shape as OCI states it: lengths in bytes. */
struct tr_key_shape {
	enum tr_key_alg alg;
	size_t length;
	enum tr_curve curve;
};

/* A stored master key version, borrowed from the caller. */
struct tr_keyref {
	const char *version_id;
	const unsigned char *wrapped;
	size_t wrapped_len;
};

#define TR_ROOT_KEY_LEN 32

/*
 * Create a new root key file at `path`: O_CREAT|O_EXCL|O_NOFOLLOW, mode
 * 0600 from creation, 32 random bytes, fsynced.  TRESOR_EEXISTS when the
 * file exists.
 */
int tr_keystore_create_root(const char *path);

/*
 * Open a keystore on the root key at `path`.  A root key file that is
 * group- or world-accessible, not a regular file, owned by another user
 * or of the wrong size is refused with a message saying so.
 */
int tr_keystore_open(struct tr_keystore **out, const char *path);

/* Forget every key and free; NULL is fine. */
void tr_keystore_free(struct tr_keystore *ks);

/* True when `shape` is one OCI allows. */
bool tr_key_shape_valid(const struct tr_key_shape *shape);

/*
 * Generate material for a new master key version `version_id` and return
 * it wrapped under the root key (caller frees *wrapped_out with tr_free).
 * For RSA and ECDSA keys `*public_pem_out` receives the public key in PEM
 * (caller frees); for AES it is set to NULL.
 */
int tr_keystore_generate(struct tr_keystore *ks, const char *version_id,
    const struct tr_key_shape *shape, unsigned char **wrapped_out,
    size_t *wrapped_len_out, char **public_pem_out);

/*
 * Seal `ptlen` bytes with the AES master key version `key` (AES-GCM,
 * associated data `aad`).  The blob is nonce || ciphertext || tag.
 */
int tr_keystore_encrypt(struct tr_keystore *ks, const struct tr_keyref *key,
    const void *aad, size_t aadlen, const void *pt, size_t ptlen,
    unsigned char **out, size_t *outlen);

/*
 * Open a blob made by tr_keystore_encrypt() into a new secret.
 * TRESOR_EAUTH when the key, blob or associated data do not match.
 */
int tr_keystore_decrypt(struct tr_keystore *ks, const struct tr_keyref *key,
    const void *aad, size_t aadlen, const unsigned char *blob, size_t bloblen,
    struct tr_secret **out);

/*
 * Sign with the RSA or ECDSA master key version `key` (software
 * protection): OCI's algorithm names, RAW messages or DIGESTs (see
 * crypto/sign.h).  The signature is a new allocation (tr_free).
 */
int tr_keystore_sign(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *alg, const void *msg, size_t len, bool is_digest,
    unsigned char **sig_out, size_t *siglen_out);

/*
 * HMAC-SHA256 under a key derived from the root key for `purpose`; used
 * to compare secret contents without keeping them (the reuse rule).
 */
int tr_keystore_mac(struct tr_keystore *ks, const char *purpose,
    const void *data, size_t len, unsigned char out[32]);

/*
 * Seal arbitrary data directly under the root key (AES-256-GCM with
 * `label` as associated data): for tresor's own keys, such as the
 * instance-principal CA key.  The blob is a new allocation (tr_free).
 */
int tr_keystore_seal_root(struct tr_keystore *ks, const char *label,
    const void *data, size_t len, unsigned char **out, size_t *outlen);

/* Open a blob made by tr_keystore_seal_root() with the same label. */
int tr_keystore_open_root(struct tr_keystore *ks, const char *label,
    const unsigned char *blob, size_t len, struct tr_secret **out);

/* Drop the cached material of a key version (after its deletion). */
void tr_keystore_forget(struct tr_keystore *ks, const char *version_id);

#endif /* TR_CRYPTO_KEYSTORE_H */
