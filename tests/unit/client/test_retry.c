/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retry arithmetic: the exponential schedule and its cap, the bounds of
 * full jitter, Retry-After (seconds and HTTP dates) honoured as a floor,
 * a Retry-After longer than allowed ending the retries, and the set of
 * statuses that are retried (never a 4xx other than 429).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "client/client_int.h"
#include "util/clock.h"

static const struct tr_retry_policy pol = { 5, 200, 30000, 60000 };

static void
test_schedule_doubles_to_cap(void **state)
{
	(void)state;
	assert_int_equal(tr_backoff_bound_ms(&pol, 0), 0);
	assert_int_equal(tr_backoff_bound_ms(&pol, 1), 200);
	assert_int_equal(tr_backoff_bound_ms(&pol, 2), 400);
	assert_int_equal(tr_backoff_bound_ms(&pol, 3), 800);
	assert_int_equal(tr_backoff_bound_ms(&pol, 4), 1600);
	assert_int_equal(tr_backoff_bound_ms(&pol, 8), 25600);
	assert_int_equal(tr_backoff_bound_ms(&pol, 9), 30000);
	assert_int_equal(tr_backoff_bound_ms(&pol, 200), 30000);
	assert_int_equal(tr_backoff_bound_ms(&pol, 4000000000u), 30000);
}

static void
test_full_jitter_bounds(void **state)
{
	uint64_t d, lo = UINT64_MAX, hi = 0, r = 88172645463325252ULL;
	unsigned int f, i;

	(void)state;
	for (f = 1; f <= 12; f++) {
		lo = UINT64_MAX;
		hi = 0;
		for (i = 0; i < 20000; i++) {
			/* xorshift64 */
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			d = tr_backoff_delay_ms(&pol, f, -1, r);
			assert_true(d <= tr_backoff_bound_ms(&pol, f));
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
		}
		/* full jitter spans [0, bound]: both ends are reached */
		assert_true(lo <= tr_backoff_bound_ms(&pol, f) / 50);
		assert_true(hi >= tr_backoff_bound_ms(&pol, f) * 49 / 50);
	}
	/* extremes of the random input */
	assert_int_equal(tr_backoff_delay_ms(&pol, 1, -1, 0), 0);
	assert_int_equal(tr_backoff_delay_ms(&pol, 1, -1, 200), 200);
	assert_int_equal(tr_backoff_delay_ms(&pol, 1, -1, 201), 0);
}

static void
test_retry_after_is_a_floor(void **state)
{
	(void)state;
	/* jitter below Retry-After is raised to it */
	assert_int_equal(tr_backoff_delay_ms(&pol, 1, 5000, 0), 5000);
	/* jitter above it stays */
	assert_int_equal(tr_backoff_delay_ms(&pol, 9, 1000, 29999), 29999);
	/* at the limit still waits; past it, stops */
	assert_int_equal(tr_backoff_delay_ms(&pol, 1, 60000, 0), 60000);
	assert_true(tr_backoff_delay_ms(&pol, 1, 60001, 0) == TR_BACKOFF_STOP);
	assert_int_equal(tr_backoff_delay_ms(&pol, 1, 0, 7), 7);
}

static void
test_retry_after_parse(void **state)
{
	int64_t ms, now;

	(void)state;
	assert_int_equal(tr_retry_after_parse("3", 0, &ms), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(tr_retry_after_parse(" 0 ", 0, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(tr_retry_after_parse("999999", 0, &ms), 0);
	assert_int_equal(ms, 86400000);		/* clamped to a day */
	/* an HTTP date, relative to now */
	assert_int_equal(tr_time_parse_http("Sun, 29 Nov 2026 01:27:30 GMT",
	    29, &now), 0);
	now *= 1000;
	assert_int_equal(tr_retry_after_parse("Sun, 29 Nov 2026 01:27:40 GMT",
	    now, &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(tr_retry_after_parse("Sun, 29 Nov 2026 01:27:20 GMT",
	    now, &ms), 0);
	assert_int_equal(ms, 0);		/* in the past: now */
	assert_int_equal(tr_retry_after_parse("", 0, &ms), TRESOR_EINVAL);
	assert_int_equal(tr_retry_after_parse("-1", 0, &ms), TRESOR_EINVAL);
	assert_int_equal(tr_retry_after_parse("1.5", 0, &ms), TRESOR_EINVAL);
	assert_int_equal(tr_retry_after_parse("soon", 0, &ms), TRESOR_EINVAL);
	assert_int_equal(tr_retry_after_parse("99999999999999", 0, &ms),
	    TRESOR_EINVAL);
}

static void
test_retried_statuses(void **state)
{
	int s;

	(void)state;
	for (s = 100; s < 600; s++) {
		bool want = s == 429 || s == 500 || s == 502 || s == 503 ||
		    s == 504;

		assert_int_equal(tr_retry_status(s), want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_doubles_to_cap),
		cmocka_unit_test(test_full_jitter_bounds),
		cmocka_unit_test(test_retry_after_is_a_floor),
		cmocka_unit_test(test_retry_after_parse),
		cmocka_unit_test(test_retried_statuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
