/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AES-GCM sealing with a random 96-bit nonce.  A sealed blob is
 * nonce (12) || ciphertext || tag (16).
 */
#ifndef TR_CRYPTO_AEAD_H
#define TR_CRYPTO_AEAD_H

#include <stddef.h>

#include "util/secret.h"

#define TR_AEAD_NONCE 12
#define TR_AEAD_TAG 16
#define TR_AEAD_OVERHEAD (TR_AEAD_NONCE + TR_AEAD_TAG)

/*
 * Seal `ptlen` bytes under `key` (16, 24 or 32 bytes) with associated
 * data into a new blob (caller frees with tr_free).
 */
int tr_aead_seal(unsigned char **out, size_t *outlen, const unsigned char *key,
    size_t keylen, const void *aad, size_t aadlen, const void *pt,
    size_t ptlen);

/*
 * Open a sealed blob into a new secret.  A wrong key, tampered blob or
 * different associated data gives TRESOR_EAUTH and no output.
 */
int tr_aead_open(struct tr_secret **out, const unsigned char *key,
    size_t keylen, const void *aad, size_t aadlen, const unsigned char *blob,
    size_t bloblen);

#endif /* TR_CRYPTO_AEAD_H */
