/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 checks (see utf8.h): RFC 3629, no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 */
#include <string.h>

#include "util/utf8.h"

size_t
tr_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (n == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

bool
tr_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;

	while (n > 0) {
		if ((k = tr_utf8_seq_len(p, n)) == 0)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

void
tr_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), k;

	while (n > 0) {
		if ((k = tr_utf8_seq_len(p, n)) == 0) {
			*p = '?';
			k = 1;
		}
		p += k;
		n -= k;
	}
}
