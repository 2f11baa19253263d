/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable buffers (util/buf.h): numbers without printf, the size limit
 * and its sticky error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"

static void
test_add_u64(void **state)
{
	static const uint64_t v[] = { 0, 7, 10, 200, 409, 1000000007,
	    UINT64_C(4294967296), UINT64_MAX - 1, UINT64_MAX };
	struct tr_buf b;
	char want[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tr_buf_init(&b, 1024);
		assert_int_equal(tr_buf_addstr(&b, "n="), 0);
		assert_int_equal(tr_buf_add_u64(&b, v[i]), 0);
		(void)snprintf(want, sizeof(want), "n=%llu",
		    (unsigned long long)v[i]);
		assert_string_equal(tr_buf_cstr(&b), want);
		assert_int_equal(b.len, strlen(want));
		tr_buf_dispose(&b);
	}
}

static void
test_limit_is_sticky(void **state)
{
	struct tr_buf b;

	(void)state;
	tr_buf_init(&b, 8);
	assert_int_equal(tr_buf_addstr(&b, "1234"), 0);
	assert_int_equal(tr_buf_add_u64(&b, 123456), TRESOR_ETOOBIG);
	/* nothing of the refused number, and later additions refused too */
	assert_string_equal(tr_buf_cstr(&b), "1234");
	assert_int_equal(tr_buf_addc(&b, 'x'), TRESOR_ETOOBIG);
	assert_int_equal(tr_buf_error(&b), TRESOR_ETOOBIG);
	tr_buf_dispose(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_u64),
		cmocka_unit_test(test_limit_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
