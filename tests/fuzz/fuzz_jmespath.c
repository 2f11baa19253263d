/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the --query JMESPath evaluator (src/cli/jmespath.h).
 *
 * Input: the first line is the expression, the rest JSON data; when the
 * rest is not JSON a fixed sample document is searched instead, so that
 * mutations of the expression still reach the evaluator.  Besides the
 * sanitizers, the target traps when a failure is not one of the codes and
 * messages jmespath.h promises, or when a result does not serialise.
 * Seeds: tests/fuzz/corpus/jmespath/.
 *
 * Build and run from the top of the tree:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc \
 *     -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_jmespath.c \
 *     src/cli/jmespath_*.c src/util/alloc.c src/util/buf.c \
 *     src/util/error.c -ljansson -lm -o fuzz_jmespath
 *   ./fuzz_jmespath -max_total_time=120 corpus-dir \
 *     tests/fuzz/corpus/jmespath
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/jmespath.h"
#include "util/alloc.h"
#include "util/error.h"

/* A small evaluation budget keeps each run fast. */
#define FUZZ_MAX_STEPS	((size_t)1 << 20)

static const char sample[] =
	"{\"people\": [{\"name\": \"a\", \"age\": 30, \"tags\": [\"x\","
	" \"y\"]},"
	" {\"name\": \"b\", \"age\": 20.5, \"tags\": []},"
	" {\"name\": \"c\", \"age\": null, \"x\": {\"y\": [1, [2, 3]]}}],"
	" \"n\": -3, \"s\": \"h\\u00e9llo\", \"t\": true, \"o\": {\"k\": 1}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when `msg` starts with one of the NULL-terminated `kinds`. */
static int
starts_with_kind(const char *msg, const char *const *kinds)
{
	size_t i, n;

	for (i = 0; kinds[i] != NULL; i++) {
		n = strlen(kinds[i]);
		if (strncmp(msg, kinds[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * One input: compile the first line, search the rest (or the sample),
 * check the contract, and serialise the result.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const compile_kinds[] = { "syntax:",
	    "unknown-function:", "invalid-arity:", "invalid-value:", NULL };
	static const char *const search_kinds[] = { "invalid-type:",
	    "invalid-value:", "limit:", NULL };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t elen = nl != NULL ? (size_t)(nl - data) : size;
	struct tr_jmespath *jp = NULL;
	json_t *doc = NULL, *out = NULL;
	char *expr = NULL, *text = NULL;
	int rc;

	expr = tr_strndup((const char *)data, elen);
	if (expr == NULL)
		goto out;
	if (nl != NULL)
		doc = json_loadb((const char *)nl + 1, size - elen - 1,
		    JSON_DECODE_ANY, NULL);
	if (doc == NULL)
		doc = json_loads(sample, 0, NULL);
	if (doc == NULL)
		goto out;
	rc = tr_jmespath_compile(&jp, expr);
	if (rc < 0) {
		if ((rc != TRESOR_EINVAL && rc != TRESOR_ENOMEM) ||
		    (rc == TRESOR_EINVAL &&
		    !starts_with_kind(tresor_error_last(), compile_kinds)) ||
		    jp != NULL)
			__builtin_trap();
		goto out;
	}
	rc = tr_jmespath_search(&out, jp, doc, FUZZ_MAX_STEPS);
	if (rc < 0) {
		if ((rc != TRESOR_EINVAL && rc != TRESOR_ELIMIT &&
		    rc != TRESOR_ENOMEM) || out != NULL ||
		    (rc != TRESOR_ENOMEM &&
		    !starts_with_kind(tresor_error_last(), search_kinds)))
			__builtin_trap();
		goto out;
	}
	if (out == NULL)
		__builtin_trap();
	text = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
	if (text == NULL)
		__builtin_trap();
out:
	free(text);
	json_decref(out);
	json_decref(doc);
	tr_jmespath_free(jp);
	tr_free(expr);
	return 0;
}
