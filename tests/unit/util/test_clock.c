/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timestamp formats: RFC 3339 out and in, IMF-fixdate in and out, and
 * the injectable clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/error.h"

static void
test_rfc3339_format(void **state)
{
	char buf[TR_TIME_RFC3339_LEN];

	(void)state;
	tr_time_rfc3339(buf, 1554325829600LL);
	assert_string_equal(buf, "2019-04-03T21:10:29.600Z");
	tr_time_rfc3339(buf, 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void
test_rfc3339_parse(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(tr_time_parse_rfc3339("2019-04-03T21:10:29.600Z",
	    &ms), 0);
	assert_int_equal(ms, 1554325829600LL);
	assert_int_equal(tr_time_parse_rfc3339("2019-04-03T21:10:29Z", &ms),
	    0);
	assert_int_equal(ms, 1554325829000LL);
	assert_int_equal(tr_time_parse_rfc3339("2019-04-03T23:10:29+02:00",
	    &ms), 0);
	assert_int_equal(ms, 1554325829000LL);
	assert_int_equal(tr_time_parse_rfc3339("2019-02-29T00:00:00Z", &ms),
	    TRESOR_EINVAL);
	assert_int_equal(tr_time_parse_rfc3339("2019-04-03 21:10:29Z", &ms),
	    TRESOR_EINVAL);
	assert_int_equal(tr_time_parse_rfc3339("2019-04-03T21:10:29", &ms),
	    TRESOR_EINVAL);
	assert_int_equal(tr_time_parse_rfc3339("2019-04-03T21:10:29Zx", &ms),
	    TRESOR_EINVAL);
}

static void
test_http_date(void **state)
{
	char buf[TR_TIME_HTTP_LEN];
	const char *d = "Sun, 29 Nov 2026 01:27:30 GMT";
	int64_t sec;

	(void)state;
	assert_int_equal(tr_time_parse_http(d, strlen(d), &sec), 0);
	tr_time_http(buf, sec);
	assert_string_equal(buf, d);
	assert_int_equal(tr_time_parse_http("Sun, 29 Nov 2026 01:27:30 UTC",
	    29, &sec), TRESOR_EINVAL);
	assert_int_equal(tr_time_parse_http("Sun, 31 Nov 2026 01:27:30 GMT",
	    29, &sec), TRESOR_EINVAL);
	assert_int_equal(tr_time_parse_http("Sunday, 29-Nov-26 01:27:30 GMT",
	    30, &sec), TRESOR_EINVAL);
}

static void
test_clock_offset(void **state)
{
	int64_t a, b;

	(void)state;
	a = tr_now_ms();
	tr_clock_set_offset_ms(86400000LL);
	b = tr_now_ms();
	tr_clock_set_offset_ms(0);
	assert_true(b - a >= 86400000LL && b - a < 86400000LL + 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_rfc3339_parse),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_clock_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
