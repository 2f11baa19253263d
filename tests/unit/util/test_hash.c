/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-memory tables' hash (util/hash.h): every byte of every length
 * counts, wherever it sits (lanes, the eight-byte steps, the tail), and
 * only the bytes of the given length are read (ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/hash.h"

static void
test_every_byte_counts(void **state)
{
	unsigned char buf[200];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	for (n = 0; n <= sizeof(buf); n++) {
		/* exactly n bytes on the heap: a read past them is caught */
		unsigned char *p = malloc(n == 0 ? 1 : n);
		uint64_t h;

		assert_non_null(p);
		memcpy(p, buf, n);
		h = tr_hash_bytes(p, n);
		assert_true(h == tr_hash_bytes(buf, n));
		for (i = 0; i < n; i++) {
			p[i] ^= 0x01;
			assert_true(tr_hash_bytes(p, n) != h);
			p[i] ^= 0x01;
		}
		/* the length counts: a zero byte more is another key */
		if (n < sizeof(buf)) {
			unsigned char z[sizeof(buf) + 1];

			memcpy(z, p, n);
			z[n] = 0;
			assert_true(tr_hash_bytes(z, n + 1) != h);
		}
		free(p);
	}
}

/* Lanes are not interchangeable: swapping two 8-byte words of a block
 * gives another hash. */
static void
test_lanes_are_ordered(void **state)
{
	unsigned char a[64], b[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(a); i++)
		a[i] = (unsigned char)(i + 3);
	memcpy(b, a, sizeof(a));
	memcpy(b, a + 8, 8);
	memcpy(b + 8, a, 8);
	assert_true(tr_hash_bytes(a, sizeof(a)) != tr_hash_bytes(b, sizeof(b)));
	assert_true(tr_hash_str("ocid1.vaultsecret.oc1..a") !=
	    tr_hash_str("ocid1.vaultsecret.oc1..b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte_counts),
		cmocka_unit_test(test_lanes_are_ordered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
