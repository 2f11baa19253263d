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
 *
 * Protection mode HSM.  With a PKCS#11 token attached
 * (tr_keystore_attach_hsm()), key versions can be generated inside the
 * token (tr_keystore_generate_hsm()); their material never leaves it.
 * Such a key version's stored "wrapped" blob is then only the reference
 * TR_KEY_HSM_REF, and every call below that gets a tr_keyref holding it
 * runs in the token, on the object labelled with the key version OCID.
 *
 * The root key can be held in the token too
 * (tr_keystore_create_root_in_token()): an AES-256 key labelled
 * TR_ROOT_TOKEN_LABEL.  The root key file is then a marker naming it,
 * which also carries the key of tr_keystore_mac() sealed by the token;
 * wrapping and unwrapping of master key versions and
 * tr_keystore_seal_root()/open_root() go through the token, and the
 * unwrap cache keeps the token out of the path of each request.
 */
#ifndef TR_CRYPTO_KEYSTORE_H
#define TR_CRYPTO_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/secret.h"

struct tr_keystore;
struct tr_p11;

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

/* The label of the root key when a PKCS#11 token holds it. */
#define TR_ROOT_TOKEN_LABEL "tresor-root-key"

/*
 * What a key version stores in place of wrapped material when a PKCS#11
 * token holds it (protection mode HSM), and once it is deleted (its
 * material destroyed).  Both are shorter than any wrapped blob (nonce,
 * 16-byte key and tag make 44 bytes), so neither can be mistaken for one.
 */
#define TR_KEY_HSM_REF "tresor/pkcs11-key/v1"
#define TR_KEY_TOMBSTONE "tresor/key-version-deleted/v1"

/*
 * Create a new root key file at `path`: O_CREAT|O_EXCL|O_NOFOLLOW, mode
 * 0600 from creation, 32 random bytes, fsynced.  TRESOR_EEXISTS when the
 * file exists.
 */
int tr_keystore_create_root(const char *path);

/*
 * Generate a root key inside the token `p11` (AES-256, labelled
 * TR_ROOT_TOKEN_LABEL, sensitive and not extractable) and create the
 * marker file `path` naming it, with the same care as
 * tr_keystore_create_root().  TRESOR_EEXISTS when the file exists or
 * when the token already holds an object with that label (the root key
 * of another data directory); nothing is left behind on failure.
 */
int tr_keystore_create_root_in_token(const char *path, struct tr_p11 *p11);

/*
 * Open a keystore on the root key at `path`: a root key file or the
 * marker of a root key held in a token (then every use of the root key
 * fails until tr_keystore_attach_hsm()).  A file that is group- or
 * world-accessible, not a regular file, owned by another user or of the
 * wrong size is refused with a message saying so.
 */
int tr_keystore_open(struct tr_keystore **out, const char *path);

/*
 * Attach the logged-in PKCS#11 token `p11` (call before any thread uses
 * `ks`).  On success the keystore owns `p11` and closes it in
 * tr_keystore_free(); on failure the caller still owns it.  When the
 * root key is held in a token, this checks that `p11` is that token
 * (TRESOR_ENOTFOUND: no root key there; TRESOR_EAUTH: another token's).
 */
int tr_keystore_attach_hsm(struct tr_keystore *ks, struct tr_p11 *p11);

/* True when a token is attached: protection mode HSM is available. */
bool tr_keystore_has_hsm(const struct tr_keystore *ks);

/* True when the root key file is the marker of a root key in a token. */
bool tr_keystore_root_in_token(const struct tr_keystore *ks);

/* True when `key` is held in a PKCS#11 token (TR_KEY_HSM_REF). */
bool tr_keyref_is_hsm(const struct tr_keyref *key);

/* Forget every key, close the attached token and free; NULL is fine. */
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
 * Generate a new master key version `version_id` inside the attached
 * token (protection mode HSM), labelled with `version_id`.  *ref_out
 * receives what to store in place of wrapped material (a copy of
 * TR_KEY_HSM_REF; caller frees with tr_free), *public_pem_out the public
 * key as for tr_keystore_generate().  TRESOR_EUNAVAIL when no token is
 * attached; TRESOR_EEXISTS when the token already holds that label.
 */
int tr_keystore_generate_hsm(struct tr_keystore *ks, const char *version_id,
    const struct tr_key_shape *shape, unsigned char **ref_out,
    size_t *ref_len_out, char **public_pem_out);

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
 * Verify `sig` with the RSA or ECDSA master key version `key`: inside
 * the token for protection mode HSM, else with `public_pem` (the key
 * version's stored public key).  0 with *valid_out set, or an error as
 * for tr_keystore_sign().
 */
int tr_keystore_verify(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *public_pem, const char *alg, const void *msg, size_t len,
    bool is_digest, const unsigned char *sig, size_t siglen,
    bool *valid_out);

/*
 * HMAC-SHA256 under a key derived from the root key for `purpose`; used
 * to compare secret contents without keeping them (the reuse rule).
 */
int tr_keystore_mac(struct tr_keystore *ks, const char *purpose,
    const void *data, size_t len, unsigned char out[32]);

/*
 * The reuse rule's keyed hash of a secret version's content: the MAC
 * above over the secret's OCID, a NUL, and the plaintext.
 */
int tr_keystore_content_mac(struct tr_keystore *ks, const char *secret_id,
    const struct tr_secret *pt, unsigned char out[32]);

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

/*
 * Destroy the material of key version `key` once its deletion is
 * committed: forget its cached material and, for a key held in a token,
 * destroy the token objects labelled with its OCID.  A token object
 * already gone is fine (0).  TRESOR_EUNAVAIL when `key` is held in a
 * token and none is attached.
 */
int tr_keystore_destroy(struct tr_keystore *ks, const struct tr_keyref *key);

/*
 * Every call above that takes a tr_keyref answers TRESOR_ECONFLICT for
 * a deleted key version (TR_KEY_TOMBSTONE) and TRESOR_EUNAVAIL for one
 * held in a token when none is attached.
 */

#endif /* TR_CRYPTO_KEYSTORE_H */
