/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 (RFC 4648 section 4, with padding) and base64url (section 5,
 * without padding).  Decoding is strict: only the alphabet, padding only
 * at the end and only where it belongs; CR and LF are skipped so that
 * wrapped output of base64(1) is accepted.
 */
#ifndef TR_UTIL_BASE64_H
#define TR_UTIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes needed to encode `n` bytes (without the NUL). */
size_t tr_base64_encoded_len(size_t n);
/* Upper bound of the bytes a base64 text of `n` characters decodes to. */
size_t tr_base64_decoded_max(size_t n);

/*
 * Encode `n` bytes into `out`, which holds `outcap` bytes including the
 * terminating NUL.  Returns 0 or TRESOR_ETOOBIG.
 */
int tr_base64_encode(char *out, size_t outcap, const void *in, size_t n);
int tr_base64url_encode(char *out, size_t outcap, const void *in, size_t n);

/*
 * Decode `inlen` characters into `out` (capacity `outcap`), setting
 * `*outlen`.  Returns 0, TRESOR_EINVAL naming the offending offset, or
 * TRESOR_ETOOBIG.
 */
int tr_base64_decode(void *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen);
int tr_base64url_decode(void *out, size_t outcap, size_t *outlen,
    const char *in, size_t inlen);

#endif /* TR_UTIL_BASE64_H */
