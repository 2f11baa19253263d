/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envelope encryption of secret versions.
 *
 * Each version gets its own fresh 256-bit data key (DEK).  The content is
 * sealed with AES-256-GCM under the DEK, with associated data binding the
 * secret OCID and the version number, so a ciphertext moved to another
 * secret or version does not open.  The DEK is sealed by the master key
 * version (through the keystore) with the same binding.  The store keeps
 * only the two sealed blobs and the key version OCID.
 */
#ifndef TR_CRYPTO_ENVELOPE_H
#define TR_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keystore.h"
#include "util/secret.h"

#define TR_DEK_LEN 32

/*
 * Seal `plaintext` for version `number` of secret `secret_id` under the
 * master key version `key`.  Both blobs are new allocations the caller
 * frees with tr_free.
 */
int tr_envelope_seal(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *secret_id, uint64_t number, const struct tr_secret *plaintext,
    unsigned char **wrapped_dek_out, size_t *wrapped_dek_len_out,
    unsigned char **content_out, size_t *content_len_out);

/*
 * Open a version sealed by tr_envelope_seal() into a new secret.
 * TRESOR_EAUTH when anything does not match.
 */
int tr_envelope_open(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *secret_id, uint64_t number, const unsigned char *wrapped_dek,
    size_t wrapped_dek_len, const unsigned char *content, size_t content_len,
    struct tr_secret **plaintext_out);

/*
 * Opened data keys, remembered per thread: the hot read opens the same
 * versions again and again, and unwrapping a data key costs as much as
 * opening the content.  Bounded in entries (`slots`, direct-mapped) and
 * in age (`ttl_ms`: an entry is used only that long after its unwrap);
 * each key is held in a locked tr_secret, zeroed when it is dropped.  An
 * entry is found only by every input of the unwrap (the master key
 * version's id, the secret and version number, the sealed key's bytes),
 * so a hit gives what the keystore would.  Not thread-safe: one per
 * thread.
 */
struct tr_dek_cache;
int tr_dek_cache_new(struct tr_dek_cache **out, size_t slots, int64_t ttl_ms);
void tr_dek_cache_free(struct tr_dek_cache *c);
void tr_dek_cache_stats(const struct tr_dek_cache *c, uint64_t *hits,
    uint64_t *misses);

/* tr_envelope_open() through `cache` (NULL: none). */
int tr_envelope_open_cached(struct tr_dek_cache *cache, struct tr_keystore *ks,
    const struct tr_keyref *key, const char *secret_id, uint64_t number,
    const unsigned char *wrapped_dek, size_t wrapped_dek_len,
    const unsigned char *content, size_t content_len,
    struct tr_secret **plaintext_out);

/*
 * Re-seal the data key of a version under another master key version
 * (key rotation); the content blob is untouched.
 */
int tr_envelope_rewrap(struct tr_keystore *ks, const struct tr_keyref *from,
    const struct tr_keyref *to, const char *secret_id, uint64_t number,
    const unsigned char *wrapped_dek, size_t wrapped_dek_len,
    unsigned char **rewrapped_out, size_t *rewrapped_len_out);

#endif /* TR_CRYPTO_ENVELOPE_H */
