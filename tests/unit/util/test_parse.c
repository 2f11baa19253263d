/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict number parsing and CPU lists (util/parse.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"
#include "util/parse.h"

static void
test_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(tr_parse_u64("0", 1, 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tr_parse_u64("18446744073709551615", 20, 0,
	    UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(tr_parse_u64("18446744073709551616", 20, 0,
	    UINT64_MAX, &v), TRESOR_EINVAL);
	assert_int_equal(tr_parse_u64("01", 2, 0, 10, &v), TRESOR_EINVAL);
	assert_int_equal(tr_parse_u64("+1", 2, 0, 10, &v), TRESOR_EINVAL);
	assert_int_equal(tr_parse_u64("11", 2, 0, 10, &v), TRESOR_EINVAL);
	assert_int_equal(tr_parse_u64("", 0, 0, 10, &v), TRESOR_EINVAL);
}

static void
expect_cpus(const char *s, const unsigned int *want, size_t nwant)
{
	unsigned int cpus[16];
	size_t n = 99, i;

	assert_int_equal(tr_parse_cpu_list(s, 64, cpus, 16, &n), 0);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++)
		assert_int_equal(cpus[i], want[i]);
}

static void
test_cpu_list(void **state)
{
	static const unsigned int a[] = { 0 };
	static const unsigned int b[] = { 2, 0 };
	static const unsigned int c[] = { 1, 2, 3, 6 };
	static const unsigned int d[] = { 63 };

	(void)state;
	expect_cpus("0", a, 1);
	expect_cpus("2,0", b, 2);		/* the order written */
	expect_cpus("1-3,6", c, 4);
	expect_cpus("63", d, 1);
}

static void
test_cpu_list_refused(void **state)
{
	static const char *bad[] = {
		"", ",", "0,", ",0", "0,,1", "a", "0-", "-1", "3-1",
		"1-2-3", "0,0", "0-2,1", "64", "1 ", " 1", "01", "0x1",
		"99999999999999999999",
	};
	unsigned int cpus[4];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		if (tr_parse_cpu_list(bad[i], 64, cpus, 4, &n) !=
		    TRESOR_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(strlen(tresor_error_last()) > 0);
	}
	/* more CPUs than room */
	assert_int_equal(tr_parse_cpu_list("0-4", 64, cpus, 4, &n),
	    TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "more than 4"));
	assert_int_equal(tr_parse_cpu_list("5-4", 64, cpus, 4, &n),
	    TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "goes down"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_cpu_list_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
