/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Constant-time comparison of MACs, digests, tags and token hashes
 * (STYLE S3).  Compare fixed lengths only: hash a variable-length secret
 * first so its length does not leak.
 */
#ifndef TR_UTIL_CT_H
#define TR_UTIL_CT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/crypto.h>

static inline bool
tr_ct_eq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

#endif /* TR_UTIL_CT_H */
