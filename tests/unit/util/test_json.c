/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Limited JSON parsing: empty body, depth, arrays, duplicates, NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/utf8.h"

static const struct tr_json_limits lim = { 4096, 4, 3, 5 };

static int
parse(const char *s)
{
	json_t *v = NULL;
	int rc = tr_json_parse_object(&v, s, strlen(s), &lim);

	json_decref(v);
	return rc;
}

static void
test_empty_body_is_empty_object(void **state)
{
	json_t *v = NULL;

	(void)state;
	assert_int_equal(tr_json_parse_object(&v, "", 0, &lim), 0);
	assert_true(json_is_object(v));
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);
	assert_int_equal(parse(" \n"), 0);
}

static void
test_rejects_non_objects_and_garbage(void **state)
{
	(void)state;
	assert_int_equal(parse("[]"), TRESOR_EINVAL);
	assert_int_equal(parse("\"x\""), TRESOR_EINVAL);
	assert_int_equal(parse("{"), TRESOR_EINVAL);
	assert_int_equal(parse("{} {}"), TRESOR_EINVAL);
	assert_int_equal(parse("{\"a\":1,}"), TRESOR_EINVAL);
}

static void
test_rejects_duplicate_keys(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":1,\"a\":2}"), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "duplicate"));
}

static void
test_rejects_nul_and_bad_utf8(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":\"x\\u0000y\"}"), TRESOR_EINVAL);
	assert_int_equal(parse("{\"a\":\"\xff\xfe\"}"), TRESOR_EINVAL);
}

static void
test_limits(void **state)
{
	char big[5000];

	(void)state;
	assert_int_equal(parse("{\"a\":{\"b\":{\"c\":{}}}}"), 0);
	assert_int_equal(parse("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}"),
	    TRESOR_ETOOBIG);
	/* brackets inside strings do not count */
	assert_int_equal(parse("{\"a\":\"[[[[[[[[[[\"}"), 0);
	assert_int_equal(parse("{\"a\":[1,2,3]}"), 0);
	assert_int_equal(parse("{\"a\":[1,2,3,4]}"), TRESOR_ETOOBIG);
	assert_int_equal(parse("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,"
	    "\"f\":6}"), TRESOR_ETOOBIG);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big), TRESOR_ETOOBIG);
}

/* The fast serialiser writes exactly what jansson's does. */
static void
test_dump_buf_matches_jansson(void **state)
{
	static const char *const docs[] = {
		"{}",
		"[]",
		"{\"a\":\"plain\",\"b\":[1,-2,3000000000000,true,false,null]}",
		("{\"esc\":\"q\\\" b\\\\ n\\n r\\r t\\t b\\b f\\f "
		    "c\\u0001\\u001f / \\u007f\"}"),
		"{\"utf8\":\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"nul\":\"a\\u0000b\"}",
		"{\"real\":1.5,\"int_real\":2.0,\"exp\":1e300,\"neg\":-0.25}",
		"{\"deep\":{\"x\":[{\"y\":[[],{}]}],\"z\":\"\"}}",
	};
	struct tr_buf b;
	size_t i;
	json_t *v;
	char *want;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		v = json_loads(docs[i], JSON_ALLOW_NUL, NULL);
		assert_non_null(v);
		want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_non_null(want);
		tr_buf_init(&b, 1 << 20);
		assert_int_equal(tr_json_dump_buf(&b, v, i % 2 == 0), 0);
		assert_string_equal(b.ptr, want);
		assert_int_equal(b.len, strlen(want));
		/* exact mode reserves once: no room to spare was needed */
		tr_buf_dispose(&b);
		free(want);
		json_decref(v);
	}
}

/* Error messages echo request bytes: made valid UTF-8, nothing else. */
static void
test_utf8_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain ascii", "plain ascii" },
		{ "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", NULL },
		{ "\xff\xfe/x", "\?\?/x" },
		{ "cut \xe4\xb8", "cut ??" },		/* truncated by printf */
		{ "over \xc0\xaf long", "over ?? long" },
		{ "surrogate \xed\xa0\x80", "surrogate ???" },
		{ "big \xf4\x90\x80\x80", "big ????" },
		{ "stray \x80 cont", "stray ? cont" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)snprintf(buf, sizeof(buf), "%s", cases[i].in);
		tr_utf8_sanitize(buf);
		assert_string_equal(buf, cases[i].out != NULL ? cases[i].out :
		    cases[i].in);
		assert_true(tr_utf8_valid(buf));
	}
	assert_false(tr_utf8_valid("\xff"));
}

/* Text written without jansson values parses back to the same string. */
static void
test_add_string(void **state)
{
	static const struct {
		const char *in, *text, *back;
	} cases[] = {
		{ "plain", "\"plain\"", "plain" },
		{ "", "\"\"", "" },
		{ "q\"b\\n\nt\t\x01", "\"q\\\"b\\\\n\\nt\\t\\u0001\"",
		  "q\"b\\n\nt\t\x01" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"",
		  "caf\xc3\xa9 \xe2\x82\xac" },
		/* bytes that are not UTF-8: one replacement character each */
		{ "a\xff\xc3z", "\"a\\ufffd\\ufffdz\"",
		  "a\xef\xbf\xbd\xef\xbf\xbdz" },
	};
	struct tr_buf b;
	json_error_t err;
	json_t *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tr_buf_init(&b, 1024);
		assert_int_equal(tr_json_add_string(&b, cases[i].in), 0);
		assert_string_equal(tr_buf_cstr(&b), cases[i].text);
		v = json_loadb(b.ptr, b.len, JSON_DECODE_ANY, &err);
		assert_non_null(v);
		assert_string_equal(json_string_value(v), cases[i].back);
		json_decref(v);
		tr_buf_dispose(&b);
	}
}

/*
 * Every special byte at every position of a longer string (the 8-byte
 * steps): the text is what tr_json_dump_buf writes for the same string.
 */
static void
test_add_string_positions(void **state)
{
	static const char *const specials[] = { "\"", "\\", "\n", "\x1f",
		"\xc3\xa9", "\x7f" };
	char str[64];
	struct tr_buf b, ref;
	size_t pos, k;
	json_t *v;

	(void)state;
	for (k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		for (pos = 0; pos < 30; pos++) {
			memset(str, 'a', sizeof(str));
			memcpy(str + pos, specials[k], strlen(specials[k]));
			str[40] = '\0';
			tr_buf_init(&b, 1024);
			tr_buf_init(&ref, 1024);
			assert_int_equal(tr_json_add_string(&b, str), 0);
			v = json_string(str);
			assert_non_null(v);
			assert_int_equal(tr_json_dump_buf(&ref, v, false), 0);
			assert_string_equal(tr_buf_cstr(&b), tr_buf_cstr(&ref));
			json_decref(v);
			tr_buf_dispose(&b);
			tr_buf_dispose(&ref);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_body_is_empty_object),
		cmocka_unit_test(test_rejects_non_objects_and_garbage),
		cmocka_unit_test(test_rejects_duplicate_keys),
		cmocka_unit_test(test_rejects_nul_and_bad_utf8),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_dump_buf_matches_jansson),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_add_string),
		cmocka_unit_test(test_add_string_positions),
	};

	tr_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
