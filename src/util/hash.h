/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fast non-cryptographic hash for in-memory tables (caches keyed by
 * OCIDs and request fields): eight bytes a step, well mixed.  Never for
 * anything an attacker could turn against the table's bound (the tables
 * that use it are bounded or direct-mapped) and never for integrity.
 */
#ifndef TR_UTIL_HASH_H
#define TR_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t
tr_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	const uint64_t m = UINT64_C(0xbf58476d1ce4e5b9);
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * m;
		h ^= h >> 31;
	}
	w = 0;
	memcpy(&w, s + i, n - i);
	h = (h ^ w) * m;
	h ^= h >> 29;
	h *= UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 32);
}

static inline uint64_t
tr_hash_str(const char *s)
{
	return tr_hash_bytes(s, strlen(s));
}

#endif /* TR_UTIL_HASH_H */
