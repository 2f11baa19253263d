/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret version stages: adding CURRENT and PENDING versions, promotion
 * and rollback, DEPRECATED for the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/secret_stages.h"
#include "store/store.h"

#define C TR_STAGE_CURRENT
#define P TR_STAGE_PENDING
#define L TR_STAGE_LATEST
#define V TR_STAGE_PREVIOUS
#define D TR_STAGE_DEPRECATED

static void
test_add_current(void **state)
{
	unsigned int s[4] = { C | L };

	(void)state;
	/* v2 */
	s[1] = tr_stages_add(s, 1, false);
	assert_int_equal(s[0], V);
	assert_int_equal(s[1], C | L);
	/* v3: v1 is no longer PREVIOUS, so DEPRECATED */
	s[2] = tr_stages_add(s, 2, false);
	assert_int_equal(s[0], D);
	assert_int_equal(s[1], V);
	assert_int_equal(s[2], C | L);
}

static void
test_add_pending_then_promote(void **state)
{
	unsigned int s[4] = { C | L };

	(void)state;
	s[1] = tr_stages_add(s, 1, true);
	assert_int_equal(s[0], C);
	assert_int_equal(s[1], P | L);
	/* a second pending replaces the first */
	s[2] = tr_stages_add(s, 2, true);
	assert_int_equal(s[0], C);
	assert_int_equal(s[1], D);
	assert_int_equal(s[2], P | L);
	/* promote v3 */
	tr_stages_promote(s, 3, 2);
	assert_int_equal(s[0], V);
	assert_int_equal(s[1], D);
	assert_int_equal(s[2], C | L);
}

static void
test_rollback(void **state)
{
	unsigned int s[3] = { D, V, C | L };

	(void)state;
	/* v1 D, v2 PREVIOUS, v3 CURRENT LATEST: roll back to v1 */
	tr_stages_promote(s, 3, 0);
	assert_int_equal(s[0], C);
	assert_int_equal(s[1], D);
	assert_int_equal(s[2], V | L);
	/* promoting the current version changes nothing */
	tr_stages_promote(s, 3, 0);
	assert_int_equal(s[0], C);
	assert_int_equal(s[2], V | L);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_current),
		cmocka_unit_test(test_add_pending_then_promote),
		cmocka_unit_test(test_rollback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
