/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 and base64url: RFC 4648 vectors, strictness, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"
#include "util/error.h"

static void
check_round(const char *plain, const char *b64)
{
	char enc[128];
	unsigned char dec[128];
	size_t n;

	assert_int_equal(tr_base64_encode(enc, sizeof(enc), plain,
	    strlen(plain)), 0);
	assert_string_equal(enc, b64);
	assert_int_equal(tr_base64_decode(dec, sizeof(dec), &n, b64,
	    strlen(b64)), 0);
	assert_int_equal(n, strlen(plain));
	assert_memory_equal(dec, plain, n);
}

static void
test_rfc4648_vectors(void **state)
{
	(void)state;
	check_round("", "");
	check_round("f", "Zg==");
	check_round("fo", "Zm8=");
	check_round("foo", "Zm9v");
	check_round("foob", "Zm9vYg==");
	check_round("fooba", "Zm9vYmE=");
	check_round("foobar", "Zm9vYmFy");
}

static void
test_rejects_invalid(void **state)
{
	static const char *bad[] = { "Zg=", "Zg", "Z", "Zm9v!", "Zg==Zg==",
		"Zm9=v", "====", "Zm 9v", "Zg===", "Zm8==" };
	unsigned char dec[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tr_base64_decode(dec, sizeof(dec), &n, bad[i],
		    strlen(bad[i])), TRESOR_EINVAL);
}

static void
test_accepts_wrapped_lines(void **state)
{
	unsigned char dec[64];
	size_t n;

	(void)state;
	assert_int_equal(tr_base64_decode(dec, sizeof(dec), &n,
	    "Zm9v\r\nYmFy\n", 11), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(dec, "foobar", 6);
}

static void
test_output_limits(void **state)
{
	unsigned char dec[2];
	char enc[4];
	size_t n;

	(void)state;
	assert_int_equal(tr_base64_decode(dec, sizeof(dec), &n, "Zm9v", 4),
	    TRESOR_ETOOBIG);
	assert_int_equal(tr_base64_encode(enc, sizeof(enc), "foo", 3),
	    TRESOR_ETOOBIG);
}

static void
test_binary_and_nul(void **state)
{
	unsigned char in[256], dec[300];
	char enc[400];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	assert_int_equal(tr_base64_encode(enc, sizeof(enc), in, sizeof(in)),
	    0);
	assert_int_equal(tr_base64_decode(dec, sizeof(dec), &n, enc,
	    strlen(enc)), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(dec, in, n);
}

static void
test_url_variant(void **state)
{
	unsigned char in[] = { 0xfb, 0xff, 0xfe };
	unsigned char dec[8];
	char enc[8];
	size_t n;

	(void)state;
	assert_int_equal(tr_base64url_encode(enc, sizeof(enc), in, 3), 0);
	assert_string_equal(enc, "-__-");
	assert_int_equal(tr_base64url_decode(dec, sizeof(dec), &n, "-__-", 4),
	    0);
	assert_memory_equal(dec, in, 3);
	assert_int_equal(tr_base64url_encode(enc, sizeof(enc), "f", 1), 0);
	assert_string_equal(enc, "Zg");
	assert_int_equal(tr_base64url_decode(dec, sizeof(dec), &n, "Zg", 2),
	    0);
	assert_int_equal(n, 1);
	/* the standard alphabet's + and / are not base64url */
	assert_int_equal(tr_base64url_decode(dec, sizeof(dec), &n, "+/+/", 4),
	    TRESOR_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_rejects_invalid),
		cmocka_unit_test(test_accepts_wrapped_lines),
		cmocka_unit_test(test_output_limits),
		cmocka_unit_test(test_binary_and_nul),
		cmocka_unit_test(test_url_variant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
