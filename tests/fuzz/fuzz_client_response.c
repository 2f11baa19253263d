/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what libtresor parses out of tresord's answers
 * and its own environment: the SecretBundle body (tr_bundle_parse), a
 * Retry-After header, ISO 8601 durations of rotation and expiry rules,
 * the "exp" claim of a session token, and endpoint URLs.  The first
 * input byte picks the parser; the rest is its input.
 *
 * Invariants: a parsed bundle's content is exactly the base64 decoding
 * of the body's content, a Retry-After is never negative or past a day,
 * a URL's signed host and prefix fit their buffers and hold no '/' or
 * '?' respectively where they must not.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined with client_lib and
 * util_lib.  Seeds: tests/fuzz/corpus/client_response/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tresor_secret_bundle *b = NULL;
	struct tr_url u;
	const unsigned char *c;
	uint64_t ms;
	int64_t when, exp;
	size_t len;
	char *s;

	if (size == 0)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		if (tr_bundle_parse(&b, (const char *)data + 1,
		    size - 1) == 0) {
			c = tresor_secret_bundle_content(b, &len);
			if (len > 0 && c == NULL)
				abort();
			if (tresor_secret_bundle_secret_id(b) == NULL)
				abort();
			tresor_secret_bundle_free(b);
		}
		break;
	case 1:
		if (tr_retry_after_parse(s, 1700000000000LL, &when) == 0 &&
		    (when < 0 || when > 86400000))
			abort();
		break;
	case 2:
		(void)tr_iso8601_duration_ms(s, &ms);
		break;
	case 3:
		(void)tr_jwt_exp(&exp, (const char *)data + 1, size - 1);
		break;
	default:
		if (tr_url_parse(&u, s) == 0) {
			if (strchr(u.host, '/') != NULL ||
			    strchr(u.prefix, '?') != NULL ||
			    strlen(u.origin) >= sizeof(u.origin))
				abort();
		}
		break;
	}
	free(s);
	return 0;
}
