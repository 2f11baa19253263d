/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for request bodies (src/util/json.c): the input goes
 * through tr_json_parse_object() with the server's limits
 * (TR_JSON_LIMITS_DEFAULT, what tr_api_body() uses) and with tight ones
 * that the fuzzer can actually cross; jansson's allocator is the zeroing
 * one tresord installs (tr_json_init).  A parsed body is then walked:
 *
 *   - it is an object; no container is nested deeper than max_depth, no
 *     array is longer than max_array, no object has more than
 *     max_members members (the limits really hold);
 *   - every string and key is valid UTF-8 without NUL (jansson's
 *     promise, which the error messages rely on when they echo fields);
 *   - its compact dump parses again under the same limits to an equal
 *     value (when the dump still fits max_bytes).
 *
 * A failure traps.  Build: clang -fsanitize=fuzzer,address,undefined.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
utf8_ok(const char *s, size_t n)
{
	size_t i = 0, k, len;
	unsigned char c;
	uint32_t cp;

	while (i < n) {
		c = (unsigned char)s[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			c = (unsigned char)s[i + k];
			if ((c & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (c & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 ||
		    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static void
walk(const json_t *v, size_t depth, const struct tr_json_limits *lim)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v) || json_is_array(v))
		FZ_CHECK(depth < lim->max_depth, "container at depth %zu, "
		    "limit %zu", depth, lim->max_depth);
	if (json_is_array(v)) {
		FZ_CHECK(json_array_size(v) <= lim->max_array, "array of %zu",
		    json_array_size(v));
		json_array_foreach(v, i, child)
			walk(child, depth + 1, lim);
	} else if (json_is_object(v)) {
		FZ_CHECK(json_object_size(v) <= lim->max_members,
		    "object of %zu", json_object_size(v));
		json_object_foreach((json_t *)v, key, child) {
			FZ_CHECK(utf8_ok(key, strlen(key)), "key not UTF-8");
			walk(child, depth + 1, lim);
		}
	} else if (json_is_string(v)) {
		FZ_CHECK(utf8_ok(json_string_value(v), json_string_length(v)),
		    "string value not UTF-8 or holds NUL");
	}
}

static void
one(const uint8_t *data, size_t size, const struct tr_json_limits *lim)
{
	json_t *v = NULL, *again = NULL;
	char *dump;
	int rc;

	rc = tr_json_parse_object(&v, (const char *)data, size, lim);
	if (rc < 0) {
		FZ_CHECK(rc == TRESOR_EINVAL || rc == TRESOR_ETOOBIG ||
		    rc == TRESOR_ENOMEM, "unexpected code %d", rc);
		FZ_CHECK(v == NULL, "output set on failure");
		if (size > lim->max_bytes)
			FZ_CHECK(rc == TRESOR_ETOOBIG, "oversize body gave %d",
			    rc);
		return;
	}
	FZ_CHECK(size <= lim->max_bytes, "accepted %zu bytes over %zu", size,
	    lim->max_bytes);
	FZ_CHECK(json_is_object(v), "top level is not an object");
	walk(v, 0, lim);
	dump = tr_json_dump(v);
	if (dump != NULL) {
		if (strlen(dump) <= lim->max_bytes) {
			rc = tr_json_parse_object(&again, dump, strlen(dump),
			    lim);
			FZ_CHECK(rc == 0, "own dump does not parse: %s", dump);
			FZ_CHECK(json_equal(v, again), "dump changed the value");
			json_decref(again);
		}
		tr_free(dump);
	}
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tr_json_limits server = TR_JSON_LIMITS_DEFAULT;
	static const struct tr_json_limits tight = { 4096, 4, 8, 8 };
	static bool init;

	if (!init) {
		tr_log_set_level(TR_LOG_NONE);
		tr_json_init();
		init = true;
	}
	one(data, size, &server);
	one(data, size, &tight);
	return 0;
}
