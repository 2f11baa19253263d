/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Protection mode HSM: keys generated and used inside a PKCS#11 token,
 * reached through p11-kit.  Key material never leaves the token: every
 * key is created with CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true and
 * CKA_EXTRACTABLE false, and is found again by its CKA_LABEL (= CKA_ID),
 * which is the key version OCID.
 *
 * A struct tr_p11 is one logged-in token.  After tr_p11_open() every
 * function may be called from any number of threads at once: each call
 * borrows a session from a small pool (PKCS#11 sessions must not be
 * shared by concurrent threads) and returns it afterwards.  A dedicated
 * session held for the handle's lifetime keeps the login alive; when the
 * token drops the sessions (restart, reset), the next call that notices
 * logs in again with the PIN kept in locked memory and retries once.
 * A handle must not be used in a child after fork(); open it after.
 *
 * The output formats are those of the SOFTWARE mode: AES-GCM blobs are
 * nonce(12) || ciphertext || tag(16) as in aead.h, signatures are those
 * of sign.h (same algorithm names, same DIGEST rules, ECDSA in DER).
 */
#ifndef TR_CRYPTO_PKCS11_H
#define TR_CRYPTO_PKCS11_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/keystore.h"
#include "util/secret.h"

struct tr_p11;

#define TR_P11_LABEL_MAX 255	/* bytes of a key label (an OCID) */

/*
 * Load the PKCS#11 module at `module_path` (p11-kit, managed mode), find
 * the token named by `token`, either "label:NAME" (the token label) or
 * "slot:N" (a slot ID), read the user PIN from `pin_file` and log in.
 *
 * The PIN file must be a regular file (no symlink) owned by the effective
 * uid with mode 0600 or stricter; otherwise TRESOR_EPERM with a message
 * saying which check failed.  One trailing newline is ignored.
 *
 * Returns 0 and a handle the caller frees with tr_p11_close(), or
 * TRESOR_EINVAL (bad token spec, token not initialised), TRESOR_ENOTFOUND
 * (no such token or PIN file), TRESOR_EAUTH (wrong or locked PIN),
 * TRESOR_EIO (module cannot be loaded or initialised), TRESOR_EUNAVAIL.
 */
int tr_p11_open(struct tr_p11 **out, const char *module_path,
    const char *token, const char *pin_file);

/*
 * Close every session, finalise and unload the module; NULL is fine.  No
 * other call on `p` may be running.
 */
void tr_p11_close(struct tr_p11 *p);

/*
 * Generate a key of `shape` (tr_key_shape_valid()) inside the token,
 * labelled `label` (1..TR_P11_LABEL_MAX bytes; CKA_LABEL and CKA_ID).
 * AES 16/24/32 bytes (encrypt/decrypt), RSA 2048/3072/4096 bits
 * (sign/verify, and decrypt/encrypt for a later RSA-OAEP), EC P-256,
 * P-384, P-521 (sign/verify).  For RSA and ECDSA *public_pem_out receives
 * the public key as PEM SubjectPublicKeyInfo (caller frees with tr_free);
 * for AES it is set to NULL.  TRESOR_EEXISTS when an object with that
 * label exists; TRESOR_EINVAL for a bad shape or label.
 */
int tr_p11_generate(struct tr_p11 *p, const char *label,
    const struct tr_key_shape *shape, char **public_pem_out);

/* Set *out to whether any object labelled `label` exists in the token. */
int tr_p11_exists(struct tr_p11 *p, const char *label, bool *out);

/*
 * Destroy every object labelled `label` (secret key, or private and
 * public key).  TRESOR_ENOTFOUND when there is none, so a caller that
 * retries a deletion can ignore that code.
 */
int tr_p11_destroy(struct tr_p11 *p, const char *label);

/*
 * The public key of the RSA or ECDSA key `label`, as PEM (caller frees
 * with tr_free).  TRESOR_ENOTFOUND when there is no such public key.
 */
int tr_p11_public_pem(struct tr_p11 *p, const char *label, char **out);

/*
 * AES-GCM with the token's AES key `label` and associated data `aad`
 * (may be NULL when aadlen is 0).  *out is a new blob of ptlen + 28
 * bytes, nonce(12) || ciphertext || tag(16), the nonce from getrandom;
 * caller frees with tr_free.  TRESOR_ENOTFOUND when there is no AES key
 * with that label.
 */
int tr_p11_encrypt(struct tr_p11 *p, const char *label, const void *aad,
    size_t aadlen, const void *pt, size_t ptlen, unsigned char **out,
    size_t *outlen);

/*
 * Open a blob made by tr_p11_encrypt() with the same key and associated
 * data into a new secret (caller frees with tr_secret_free).
 * TRESOR_EAUTH for a damaged blob, a wrong tag or different associated
 * data; TRESOR_ENOTFOUND when there is no AES key with that label.
 */
int tr_p11_decrypt(struct tr_p11 *p, const char *label, const void *aad,
    size_t aadlen, const unsigned char *blob, size_t bloblen,
    struct tr_secret **out);

/*
 * Sign `msg` (RAW, or with `is_digest` its digest) with the private key
 * `label` and the OCI algorithm `alg` (sign.h).  The digest is computed
 * on the host (a message is not secret); the token signs it with
 * CKM_RSA_PKCS (DigestInfo added here), CKM_RSA_PKCS_PSS or CKM_ECDSA,
 * and an ECDSA r||s is returned DER-encoded.  *sig_out is a new
 * allocation (tr_free).  TRESOR_EINVAL for an unknown algorithm, one that
 * does not fit the key or a digest of the wrong length; TRESOR_ENOTFOUND
 * when there is no private key with that label.
 */
int tr_p11_sign(struct tr_p11 *p, const char *label, const char *alg,
    const void *msg, size_t len, bool is_digest, unsigned char **sig_out,
    size_t *siglen_out);

/*
 * Verify `sig` with the token's public key `label`; 0 with *valid_out
 * set (a malformed signature is simply invalid), or an error as for
 * tr_p11_sign().  tr_verify_pub() on the exported public key gives the
 * same answer without the token.
 */
int tr_p11_verify(struct tr_p11 *p, const char *label, const char *alg,
    const void *msg, size_t len, bool is_digest, const unsigned char *sig,
    size_t siglen, bool *valid_out);

#endif /* TR_CRYPTO_PKCS11_H */
