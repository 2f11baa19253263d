/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the --query JMESPath evaluator (src/cli/jmespath.h).
 *
 * The bulk is the JMESPath compliance suite (the jmespath.test
 * repository, vendored in tests/data/jmespath): every *.json file of the
 * directory given as argv[1] (default: TR_JMESPATH_TESTDATA, set by
 * meson) is an array of {"given": data, "cases": [...]}, each case an
 * "expression" with either a "result" (compared by deep equality where
 * numbers compare by value, 1 == 1.0) or an "error" kind that must be
 * TRESOR_EINVAL with tresor_error_last() starting "<kind>:".  "bench"
 * cases without a result must evaluate without error.  A case that is
 * expected to fail must be listed in known_gaps[] with the reason; one
 * there that passes fails the test so the table stays true.  One cmocka
 * test runs per file, then a total is checked and printed.
 *
 * The other tests cover what the suite does not: limits, the budget,
 * the API, the string-ordering extension, to_string() number text, NUL
 * in keys, and allocation failure at every allocation.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/jmespath.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"

#ifndef TR_JMESPATH_TESTDATA
#define TR_JMESPATH_TESTDATA "tests/data/jmespath"
#endif

/* Compliance cases that are allowed to fail, and why. */
struct known_gap {
	const char *file;	/* base name, e.g. "functions.json" */
	const char *expression;
	const char *reason;
};

static const struct known_gap known_gaps[] = {
	/* None: every case of the suite passes. */
	{ NULL, NULL, NULL }
};

/* Counts over every file, checked by test_compliance_total. */
static size_t total_cases;
static size_t total_passed;
static size_t total_gaps;
static size_t total_files;

/* ---------------------------------------------------------------- */
/* helpers                                                          */
/* ---------------------------------------------------------------- */

/* Deep equality where numbers compare by value whatever their type. */
static bool
same_json(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *av;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (i = 0; i < json_array_size(a); i++)
			if (!same_json(json_array_get(a, i),
			    json_array_get(b, i)))
				return false;
		return true;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, key, av) {
			if (json_object_get(b, key) == NULL ||
			    !same_json(av, json_object_get(b, key)))
				return false;
		}
		return true;
	default:
		return true;
	}
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s == NULL ? path : s + 1;
}

static const struct known_gap *
find_gap(const char *file, const char *expr)
{
	size_t i;

	for (i = 0; known_gaps[i].file != NULL; i++)
		if (strcmp(known_gaps[i].file, file) == 0 &&
		    strcmp(known_gaps[i].expression, expr) == 0)
			return &known_gaps[i];
	return NULL;
}

/*
 * Run one case; true when it behaves as the suite says.  `why` gets a
 * description of the difference.
 */
static bool
run_case(const json_t *given, const json_t *c, char *why, size_t size)
{
	const char *expr = json_string_value(json_object_get(c, "expression"));
	json_t *want = json_object_get(c, "result");
	json_t *err = json_object_get(c, "error");
	json_t *got = NULL;
	char *text = NULL;
	size_t kl;
	bool ok = false;
	int rc;

	rc = tr_jmespath_eval(&got, expr, given);
	if (err != NULL) {
		kl = strlen(json_string_value(err));
		ok = rc == TRESOR_EINVAL && strncmp(tresor_error_last(),
		    json_string_value(err), kl) == 0 &&
		    tresor_error_last()[kl] == ':';
		if (!ok && rc == 0) {
			text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
			(void)snprintf(why, size, "want %s error, got %s",
			    json_string_value(err), text);
		} else if (!ok) {
			(void)snprintf(why, size,
			    "want %s error, got rc %d: %s",
			    json_string_value(err), rc, tresor_error_last());
		}
	} else if (rc < 0) {
		(void)snprintf(why, size, "rc %d: %s", rc,
		    tresor_error_last());
	} else if (want == NULL) {
		ok = true;	/* a bench case without a result */
	} else {
		ok = same_json(got, want);
		if (!ok) {
			text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
			(void)snprintf(why, size, "got %s", text);
		}
	}
	free(text);
	json_decref(got);
	return ok;
}

/* One compliance file; its path is the test's state. */
static void
test_compliance_file(void **state)
{
	const char *path = *state, *file = base_name(path), *expr;
	const struct known_gap *gap;
	json_error_t jerr;
	json_t *root, *suite, *c;
	size_t i, j, failed = 0, cases = 0;
	char why[512];
	bool ok;

	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
	assert_true(json_is_array(root));
	json_array_foreach(root, i, suite) {
		json_array_foreach(json_object_get(suite, "cases"), j, c) {
			expr = json_string_value(json_object_get(c,
			    "expression"));
			assert_non_null(expr);
			cases++;
			why[0] = '\0';
			ok = run_case(json_object_get(suite, "given"), c, why,
			    sizeof(why));
			gap = find_gap(file, expr);
			if (ok && gap == NULL) {
				total_passed++;
			} else if (!ok && gap != NULL) {
				total_gaps++;
			} else if (ok) {
				print_error("%s: known gap passes now, remove "
				    "it from known_gaps[]: %s\n", file, expr);
				failed++;
			} else {
				print_error("%s: FAIL %s: %s\n", file, expr,
				    why);
				failed++;
			}
		}
	}
	total_cases += cases;
	total_files++;
	json_decref(root);
	assert_true(cases > 0);
	assert_int_equal(failed, 0);
}

static void
test_compliance_total(void **state)
{
	print_message("jmespath compliance: %zu/%zu cases pass in %zu files"
	    " (%zu known gaps)\n", total_passed, total_cases, total_files,
	    total_gaps);
	assert_true(total_files > 0);
	assert_int_equal(total_passed + total_gaps, total_cases);
}

/* Evaluate `expr` on the JSON text `data`; the result as compact text. */
static char *
eval_text(const char *expr, const char *data, int *rc_out)
{
	json_t *d, *got = NULL;
	char *text = NULL;

	d = json_loads(data, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	assert_non_null(d);
	*rc_out = tr_jmespath_eval(&got, expr, d);
	if (*rc_out == 0) {
		assert_non_null(got);
		text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
	} else {
		assert_null(got);
	}
	json_decref(got);
	json_decref(d);
	return text;
}

static void
assert_eval(const char *expr, const char *data, const char *want)
{
	char *got;
	int rc;

	got = eval_text(expr, data, &rc);
	if (rc != 0)
		fail_msg("%s: rc %d: %s", expr, rc, tresor_error_last());
	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", expr, got, want);
	free(got);
}

static void
assert_eval_error(const char *expr, const char *data, int want_rc,
    const char *prefix)
{
	char *got;
	int rc;

	got = eval_text(expr, data, &rc);
	if (rc != want_rc)
		fail_msg("%s: rc %d (%s), want %d", expr, rc,
		    got != NULL ? got : tresor_error_last(), want_rc);
	if (strncmp(tresor_error_last(), prefix, strlen(prefix)) != 0)
		fail_msg("%s: error \"%s\" does not start \"%s\"", expr,
		    tresor_error_last(), prefix);
	free(got);
}

/* `n` copies of `s` followed by `tail`, in a new string. */
static char *
repeat(const char *head, const char *s, size_t n, const char *tail)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 0);
	(void)tr_buf_addstr(&b, head);
	for (i = 0; i < n; i++)
		(void)tr_buf_addstr(&b, s);
	(void)tr_buf_addstr(&b, tail);
	assert_int_equal(tr_buf_error(&b), 0);
	return tr_buf_detach(&b);
}

/* ---------------------------------------------------------------- */
/* behaviours beyond the suite                                      */
/* ---------------------------------------------------------------- */

static void
test_api_rejects_null(void **state)
{
	struct tr_jmespath *jp = NULL;
	json_t *out = NULL, *d = json_object();

	assert_int_equal(tr_jmespath_compile(&jp, NULL), TRESOR_EINVAL);
	assert_int_equal(tr_jmespath_eval(&out, "a", NULL), TRESOR_EINVAL);
	assert_null(out);
	assert_int_equal(tr_jmespath_compile(&jp, "a"), 0);
	assert_int_equal(tr_jmespath_search(NULL, jp, d, 0), TRESOR_EINVAL);
	assert_int_equal(tr_jmespath_search(&out, NULL, d, 0),
	    TRESOR_EINVAL);
	tr_jmespath_free(jp);
	tr_jmespath_free(NULL);
	json_decref(d);
}

static void
test_compile_once_search_many(void **state)
{
	struct tr_jmespath *jp = NULL;
	json_t *a = json_pack("{s:i}", "n", 1), *b = json_pack("{s:s}", "n",
	    "x"), *out = NULL;

	assert_int_equal(tr_jmespath_compile(&jp, "n"), 0);
	assert_int_equal(tr_jmespath_search(&out, jp, a, 0), 0);
	assert_int_equal(json_integer_value(out), 1);
	json_decref(out);
	assert_int_equal(tr_jmespath_search(&out, jp, b, 0), 0);
	assert_string_equal(json_string_value(out), "x");
	json_decref(out);
	tr_jmespath_free(jp);
	json_decref(a);
	json_decref(b);
}

static void
test_static_errors_found_at_compile(void **state)
{
	struct tr_jmespath *jp = NULL;

	assert_int_equal(tr_jmespath_compile(&jp, "nope(@)"), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "unknown-function:"));
	assert_int_equal(tr_jmespath_compile(&jp, "a || length(@, @)"),
	    TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "invalid-arity:"));
	assert_int_equal(tr_jmespath_compile(&jp, "a[::0]"), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "invalid-value:"));
	assert_null(jp);
}

static void
test_expression_length_limit(void **state)
{
	char *e;

	e = repeat("a", " ", TR_JMESPATH_MAX_EXPR - 1, "");
	assert_eval(e, "{\"a\":1}", "1");
	tr_free(e);
	e = repeat("a", " ", TR_JMESPATH_MAX_EXPR, "");
	assert_eval_error(e, "{}", TRESOR_EINVAL, "syntax:");
	tr_free(e);
}

/* `n` levels of `open` ... `close` around "a", in a new string. */
static char *
nest(const char *open, const char *close, size_t n)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 0);
	for (i = 0; i < n; i++)
		(void)tr_buf_addstr(&b, open);
	(void)tr_buf_addstr(&b, "a");
	for (i = 0; i < n; i++)
		(void)tr_buf_addstr(&b, close);
	assert_int_equal(tr_buf_error(&b), 0);
	return tr_buf_detach(&b);
}

static void
test_nesting_limit_is_a_syntax_error(void **state)
{
	static const char *const opens[] = { "(", "[", "{a:", "!", "& ",
	    "[?", "a[*].", "not_null(", "a.[", "a.{a:" };
	static const char *const closes[] = { ")", "]", "}", "", "", "]",
	    "", ")", "]", "}" };
	struct tr_jmespath *jp = NULL;
	char *e;
	size_t i;

	for (i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
		e = nest(opens[i], closes[i], 60);
		if (tr_jmespath_compile(&jp, e) != 0)
			fail_msg("%s: %s", e, tresor_error_last());
		tr_jmespath_free(jp);
		jp = NULL;
		tr_free(e);
		e = nest(opens[i], closes[i], 5000);
		assert_int_equal(tr_jmespath_compile(&jp, e), TRESOR_EINVAL);
		assert_non_null(strstr(tresor_error_last(), "syntax:"));
		assert_null(jp);
		tr_free(e);
	}
	/* left-nested forms grow the tree without recursing the parser */
	e = repeat("a", "[]", 5000, "");
	assert_eval_error(e, "{}", TRESOR_EINVAL, "syntax:");
	tr_free(e);
	e = repeat("a", " == a", 5000, "");
	assert_eval_error(e, "{}", TRESOR_EINVAL, "syntax:");
	tr_free(e);
}

static void
test_long_chains_are_fine(void **state)
{
	char *e;

	e = repeat("a", ".a", 10000, "");
	assert_eval(e, "{\"a\":{}}", "null");
	tr_free(e);
	e = repeat("@", " | @", 10000, "");
	assert_eval(e, "[1]", "[1]");
	tr_free(e);
	e = repeat("a", " || a", 10000, "");
	assert_eval(e, "{\"a\":2}", "2");
	tr_free(e);
	e = repeat("a", " && a", 10000, "");
	assert_eval(e, "{\"a\":2}", "2");
	tr_free(e);
	e = repeat("@", "[0]", 10000, "");
	assert_eval(e, "[[1]]", "null");
	tr_free(e);
}

static void
test_budget_stops_runaway_work(void **state)
{
	struct tr_jmespath *jp = NULL;
	json_t *d = json_pack("[i,i,i]", 1, 2, 3), *out = NULL, *v;
	size_t n;
	char *e, *f;

	assert_int_equal(tr_jmespath_compile(&jp, "[*].[@, @]"), 0);
	assert_int_equal(tr_jmespath_search(&out, jp, d, 5), TRESOR_ELIMIT);
	assert_null(out);
	assert_int_equal(tr_jmespath_search(&out, jp, d, 0), 0);
	json_decref(out);
	tr_jmespath_free(jp);
	json_decref(d);
	/* each stage doubles the array: 2^60 elements without a budget */
	e = repeat("@", " | [@, @][]", 60, "");
	assert_eval_error(e, "[1]", TRESOR_ELIMIT, "limit:");
	tr_free(e);
	/* the same for strings */
	e = repeat("'ab'", " | join('', [@, @])", 60, "");
	assert_eval_error(e, "[1]", TRESOR_ELIMIT, "limit:");
	tr_free(e);
	/* and for values shared many times over */
	e = repeat("@", " | [@, @]", 60, " | to_string(@)");
	assert_eval_error(e, "[1]", TRESOR_ELIMIT, "limit:");
	tr_free(e);
	e = repeat("@", " | [@, @]", 60, "");
	f = tr_calloc(1, 2 * strlen(e) + 64);
	assert_non_null(f);
	(void)snprintf(f, 2 * strlen(e) + 64, "{x: %s, y: %s} | x == y", e,
	    e);
	assert_eval_error(f, "[1]", TRESOR_ELIMIT, "limit:");
	tr_free(f);
	tr_free(e);
	/* a result too big or too deep to print is refused too */
	e = repeat("@", " | [@, @]", 60, "");
	assert_eval_error(e, "[1]", TRESOR_ELIMIT, "limit:");
	tr_free(e);
	e = repeat("@", " | [@]", TR_JMESPATH_MAX_VALUE_DEPTH + 1, "");
	assert_eval_error(e, "1", TRESOR_ELIMIT, "limit:");
	tr_free(e);
	e = repeat("@", " | [@]", 1000, "");
	d = json_integer(1);
	assert_int_equal(tr_jmespath_eval(&out, e, d), 0);
	for (n = 0, v = out; json_is_array(v); n++)
		v = json_array_get(v, 0);
	assert_int_equal(n, 1000);
	json_decref(out);
	json_decref(d);
	tr_free(e);
}

static void
test_strings_order_like_jmespath_py(void **state)
{
	const char *d = "[{\"t\":\"2024-01-02\"},{\"t\":\"2023-12-31\"},"
	    "{\"t\":5}]";

	assert_eval("[?t > '2024-01-01'].t", d, "[\"2024-01-02\"]");
	assert_eval("[?t <= '2024-01-01'].t", d, "[\"2023-12-31\"]");
	assert_eval("'a' < 'b'", "{}", "true");
	assert_eval("'\xc3\xa9' > 'z'", "{}", "true");
	assert_eval("'a' < `1`", "{}", "null");
	assert_eval("`1` < `1.5`", "{}", "true");
	assert_eval("`9007199254740993` > `9007199254740992.0`", "{}",
	    "true");
	assert_eval("`9007199254740992.0` < `9007199254740993`", "{}",
	    "true");
	assert_eval("[`9223372036854775807` < `9223372036854775808.0`, "
	    "`-9223372036854775808` == `-9223372036854775808.0`, "
	    "`-9223372036854775808` > `-1e19`, `2` > `1.9999999`, "
	    "`-2` < `-1.5`]", "{}", "[true,true,true,true,true]");
}

static void
test_to_string_numbers(void **state)
{
	assert_eval("to_string(`1`)", "{}", "\"1\"");
	assert_eval("to_string(`1.0`)", "{}", "\"1.0\"");
	assert_eval("to_string(`0.1`)", "{}", "\"0.1\"");
	assert_eval("to_string(`-2.5e-7`)", "{}", "\"-2.5e-07\"");
	assert_eval("to_string(`1e16`)", "{}", "\"1e+16\"");
	assert_eval("to_string(`123456.789`)", "{}", "\"123456.789\"");
	assert_eval("to_string(`[1.5, {\"a\": \"\\u00e9\\n\"}]`)", "{}",
	    "\"[1.5,{\\\"a\\\":\\\"\xc3\xa9\\\\n\\\"}]\"");
	assert_eval("to_number('1e400')", "{}", "null");
	assert_eval("to_number(' 1')", "{}", "null");
	assert_eval("to_number('-0.5')", "{}", "-0.5");
	assert_eval("to_number('99999999999999999999')", "{}",
	    "1e20");
	assert_eval("sum(`[9223372036854775807, 1]`)", "{}",
	    "9.2233720368547758e18");
	assert_eval("abs(`-9223372036854775808`)", "{}",
	    "9.2233720368547758e18");
	assert_eval("ceil(`1.5`)", "{}", "2");
	assert_eval("floor(`-1.5`)", "{}", "-2");
	assert_eval("avg(`[1, 2]`)", "{}", "1.5");
}

static void
test_edges_of_values(void **state)
{
	assert_eval("to_string(`[\"q\\\"b\\\\s\\u0001\\r\\t\\b\\f/\"]`)",
	    "{}", "\"[\\\"q\\\\\\\"b\\\\\\\\s\\\\u0001\\\\r\\\\t"
	    "\\\\b\\\\f/\\\"]\"");
	assert_eval("to_string(`[true, false, null, -0.0, 0.001, 1e-05]`)",
	    "{}", "\"[true,false,null,-0.0,0.001,1e-05]\"");
	assert_eval("['ab' < 'abc', 'abc' < 'ab', 'ab' == 'ab']", "{}",
	    "[true,false,true]");
	assert_eval("[`1.5` > `1`, `2` > `1.5`, `1` == `1.0`, `-0.0` == `0`]",
	    "{}", "[true,true,true,true]");
	assert_eval("[to_string(ceil(`1e300`)), abs(`-1.5`), floor(`2`)]",
	    "{}", "[\"1e+300\",1.5,2]");
	assert_eval("[to_number('1.'), to_number('01'), to_number('-'), "
	    "to_number('1e'), to_number('.5'), to_number(''), "
	    "to_number('1E+2'), to_number('-0'), to_number(`true`)]", "{}",
	    "[null,null,null,null,null,null,100.0,0,null]");
	assert_eval("[@[99999999999999999999], @[-99999999999999999999],"
	    " @[-99999999999999999999:99999999999999999999]]", "[0, 1]",
	    "[null,null,[0,1]]");
	assert_eval("[@[::-99999999999999999999], @[5:-5:-1], @[-5:5:2]]",
	    "[0, 1, 2]", "[[2],[2,1,0],[0,2]]");
	assert_eval_error("sum(`[1e308, 1e308]`)", "{}", TRESOR_EINVAL,
	    "invalid-value:");
}

static void
test_nul_and_unicode(void **state)
{
	json_t *d = json_object(), *out = NULL;

	/* jansson does not parse NUL in keys, but a caller may build one */
	assert_int_equal(json_object_setn_new(d, "a\0b", 3, json_integer(1)),
	    0);
	assert_int_equal(json_object_set_new(d, "a", json_integer(2)), 0);
	assert_int_equal(tr_jmespath_eval(&out, "\"a\\u0000b\"", d), 0);
	assert_int_equal(json_integer_value(out), 1);
	json_decref(out);
	assert_int_equal(tr_jmespath_eval(&out, "keys(@)[0]", d), 0);
	assert_int_equal(json_string_length(out), 3);
	assert_memory_equal(json_string_value(out), "a\0b", 3);
	json_decref(out);
	assert_int_equal(tr_jmespath_eval(&out, "to_string(@)", d), 0);
	assert_string_equal(json_string_value(out),
	    "{\"a\\u0000b\":1,\"a\":2}");
	json_decref(out);
	json_decref(d);
	assert_eval("'a\\u0000b'", "{}", "\"a\\\\u0000b\"");
	assert_eval("`\"a\\u0000b\"` == join('', ['a', `\"\\u0000\"`, 'b'])",
	    "{}", "true");
	assert_eval("length('\xf0\x9d\x84\x9e\xc3\xa9')", "{}", "2");
	assert_eval("reverse('a\xc3\xa9\xf0\x9d\x84\x9e')", "{}",
	    "\"\xf0\x9d\x84\x9e\xc3\xa9\x61\"");
	assert_eval_error("'\xff'", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("a\xc3\xa9", "{}", TRESOR_EINVAL, "syntax:");
}

static void
test_function_types(void **state)
{
	assert_eval_error("length(&a)", "{}", TRESOR_EINVAL,
	    "invalid-type:");
	assert_eval_error("&a", "{}", TRESOR_EINVAL, "invalid-type:");
	assert_eval_error("max_by(@, &a)", "[{\"a\":1},{\"a\":\"x\"}]",
	    TRESOR_EINVAL, "invalid-type:");
	assert_eval_error("sort(@)", "[1, \"a\"]", TRESOR_EINVAL,
	    "invalid-type:");
	assert_eval("sort_by(@, &a)[*].b",
	    "[{\"a\":2,\"b\":1},{\"a\":1,\"b\":2},{\"a\":2,\"b\":3},"
	    "{\"a\":1,\"b\":4}]", "[2,4,1,3]");
	assert_eval("min_by(@, &a).b",
	    "[{\"a\":1,\"b\":1},{\"a\":1,\"b\":2}]", "1");
	assert_eval("max_by(@, &a).b",
	    "[{\"a\":1,\"b\":1},{\"a\":1,\"b\":2}]", "1");
	assert_eval("contains('abc', `1`)", "{}", "false");
	assert_eval("contains('abc', '')", "{}", "true");
	assert_eval("merge(`{\"a\":1}`, `{\"a\":2,\"b\":3}`)", "{}",
	    "{\"a\":2,\"b\":3}");
	assert_eval_error("f(a,)", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("f(a) | g(", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("f(a) | abs()", "{}", TRESOR_EINVAL,
	    "unknown-function:");
	assert_eval_error("abs(a,)", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("abs(a b)", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("(abs)(a)", "{}", TRESOR_EINVAL, "syntax:");
}

static void
test_deprecated_literal_strings(void **state)
{
	assert_eval("`foo`", "{}", "\"foo\"");
	assert_eval("`  foo bar`", "{}", "\"foo bar\"");
	assert_eval_error("``", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("`1e999999`", "{}", TRESOR_EINVAL, "syntax:");
	assert_eval_error("`123456789012345678901234567890`", "{}",
	    TRESOR_EINVAL, "syntax:");
}

/*
 * Fail the n-th allocation for n = 0, 1, ... until an evaluation goes
 * through: each failure must be a clean TRESOR_ENOMEM (ASan checks the
 * leaks).  jansson allocates through tr_malloc for this test.
 */
static void
test_every_allocation_may_fail(void **state)
{
	static const char *const exprs[] = {
		"people[?age > `20`].{n: name, a: to_string(age)} | "
		"sort_by(@, &n)[::-1]",
		"people[*].name | join(', ', @)",
		"merge(`{\"x\": [1, 2.5]}`, {a: keys(people[0]), b: values("
		"people[0])}) | [x, a, b, length(b), reverse('ab'), "
		"to_string(x), to_number('1.5')]",
		"[max_by(people, &name).age, min_by(people, &age).name, "
		"sort(people[*].name), people[*].age | [sum(@), avg(@)]]",
		"'raw' || `\"lit\"`",
	};
	const char *data = "{\"people\": [{\"name\": \"b\", \"age\": 30}, "
	    "{\"name\": \"a\", \"age\": 40}], \"0\": 1}";
	json_t *d, *out;
	size_t i;
	long n;
	int rc;

	json_set_alloc_funcs(tr_malloc, tr_free);
	d = json_loads(data, 0, NULL);
	assert_non_null(d);
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		for (n = 0; n < 100000; n++) {
			out = NULL;
			tr_alloc_fail_after(n);
			rc = tr_jmespath_eval(&out, exprs[i], d);
			tr_alloc_fail_after(-1);
			json_decref(out);
			if (rc == 0)
				break;
			if (rc != TRESOR_ENOMEM)
				fail_msg("%s: allocation %ld: rc %d: %s",
				    exprs[i], n, rc, tresor_error_last());
		}
		assert_int_equal(rc, 0);
	}
	json_decref(d);
	json_set_alloc_funcs(malloc, free);
}

/* ---------------------------------------------------------------- */
/* driver                                                           */
/* ---------------------------------------------------------------- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of `dir`, sorted; *n_out of them. */
static char **
list_files(const char *dir, size_t *n_out)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t n = 0, len;
	char *path;
	DIR *d;

	*n_out = 0;
	d = opendir(dir);
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		len = strlen(dir) + strlen(de->d_name) + 2;
		path = malloc(len);
		if (nv == NULL || path == NULL)
			abort();
		v = nv;
		(void)snprintf(path, len, "%s/%s", dir, de->d_name);
		v[n++] = path;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_names);
	*n_out = n;
	return v;
}

int
main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_compliance_total),
		cmocka_unit_test(test_api_rejects_null),
		cmocka_unit_test(test_compile_once_search_many),
		cmocka_unit_test(test_static_errors_found_at_compile),
		cmocka_unit_test(test_expression_length_limit),
		cmocka_unit_test(test_nesting_limit_is_a_syntax_error),
		cmocka_unit_test(test_long_chains_are_fine),
		cmocka_unit_test(test_budget_stops_runaway_work),
		cmocka_unit_test(test_strings_order_like_jmespath_py),
		cmocka_unit_test(test_to_string_numbers),
		cmocka_unit_test(test_edges_of_values),
		cmocka_unit_test(test_nul_and_unicode),
		cmocka_unit_test(test_function_types),
		cmocka_unit_test(test_deprecated_literal_strings),
		cmocka_unit_test(test_every_allocation_may_fail),
	};
	const char *dir = argc > 1 ? argv[1] : TR_JMESPATH_TESTDATA;
	size_t nfiles = 0, nfixed = sizeof(fixed) / sizeof(fixed[0]), i;
	struct CMUnitTest *tests;
	char **files;
	int rc;

	files = list_files(dir, &nfiles);
	if (nfiles == 0)
		fprintf(stderr, "no *.json files in %s\n", dir);
	tests = calloc(nfiles + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < nfiles; i++) {
		tests[i].name = base_name(files[i]);
		tests[i].test_func = test_compliance_file;
		tests[i].initial_state = files[i];
	}
	memcpy(tests + nfiles, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("cli_jmespath", tests, nfiles + nfixed,
	    NULL, NULL);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(tests);
	return rc;
}
