/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fast non-cryptographic hash for in-memory tables (caches keyed by
 * OCIDs and request fields): eight bytes a step in four lanes, well
 * mixed.  Never for anything an attacker could turn against the table's
 * bound (the tables that use it are bounded or direct-mapped) and never
 * for integrity.
 */
#ifndef TR_UTIL_HASH_H
#define TR_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One step: mix the next eight bytes into `h`. */
static inline uint64_t
tr_hash_step(uint64_t h, const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
	return h ^ (h >> 31);
}

/*
 * Four independent lanes over 32-byte blocks (a step waits on the one
 * before it in its lane only: the multiplications overlap), then the
 * lanes folded into one and the rest taken eight bytes a step.
 */
static inline uint64_t
tr_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n, w;
	size_t i = 0;

	if (n >= 32) {
		uint64_t l0 = h, l1 = h + 1, l2 = h + 2, l3 = h + 3;

		for (; i + 32 <= n; i += 32) {
			l0 = tr_hash_step(l0, s + i);
			l1 = tr_hash_step(l1, s + i + 8);
			l2 = tr_hash_step(l2, s + i + 16);
			l3 = tr_hash_step(l3, s + i + 24);
		}
		h = tr_hash_step(l0, (const unsigned char *)&l1);
		h = tr_hash_step(h, (const unsigned char *)&l2);
		h = tr_hash_step(h, (const unsigned char *)&l3);
	}
	for (; i + 8 <= n; i += 8)
		h = tr_hash_step(h, s + i);
	w = 0;
	memcpy(&w, s + i, n - i);
	h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
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
