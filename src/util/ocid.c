/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCID generation and shape checks (see ocid.h).
 */
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "util/ocid.h"
#include "util/rand.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* What an OCID may hold: 1 letters, digits, '-' and '_'; 2 the dot */
#define L1(c) [c] = 1
static const unsigned char ocid_char[256] = {
	['.'] = 2, ['-'] = 1, ['_'] = 1,
	L1('0'), L1('1'), L1('2'), L1('3'), L1('4'), L1('5'), L1('6'),
	L1('7'), L1('8'), L1('9'),
	L1('a'), L1('b'), L1('c'), L1('d'), L1('e'), L1('f'), L1('g'),
	L1('h'), L1('i'), L1('j'), L1('k'), L1('l'), L1('m'), L1('n'),
	L1('o'), L1('p'), L1('q'), L1('r'), L1('s'), L1('t'), L1('u'),
	L1('v'), L1('w'), L1('x'), L1('y'), L1('z'),
	L1('A'), L1('B'), L1('C'), L1('D'), L1('E'), L1('F'), L1('G'),
	L1('H'), L1('I'), L1('J'), L1('K'), L1('L'), L1('M'), L1('N'),
	L1('O'), L1('P'), L1('Q'), L1('R'), L1('S'), L1('T'), L1('U'),
	L1('V'), L1('W'), L1('X'), L1('Y'), L1('Z'),
};
#undef L1

int
tr_ocid_new(char *out, size_t outcap, const char *type, const char *region)
{
	unsigned char rnd[30];
	char uniq[49];
	size_t i;
	int rc, n;

	if ((rc = tr_random_bytes(rnd, sizeof(rnd))) < 0)
		return rc;
	/* 48 base32 characters: 240 random bits */
	for (i = 0; i < 48; i++) {
		size_t bit = i * 5, byte = bit / 8, sh = bit % 8;
		unsigned v = (unsigned)rnd[byte] << 8 |
		    (byte + 1 < sizeof(rnd) ? rnd[byte + 1] : 0);

		uniq[i] = b32[(v >> (11 - sh)) & 31];
	}
	uniq[48] = '\0';
	n = snprintf(out, outcap, "ocid1.%s.oc1.%s.aaaaaaaa%s", type,
	    region == NULL ? "" : region, uniq);
	if (n < 0 || (size_t)n >= outcap)
		return tr_error_set(TRESOR_ETOOBIG, "OCID buffer too small");
	return 0;
}

bool
tr_ocid_valid(const char *s, const char *type)
{
	size_t len = strlen(s), i, tlen;
	int dots = 0;

	if (len < 12 || len > TR_OCID_INPUT_MAX || memcmp(s, "ocid1.", 6) != 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char k = ocid_char[(unsigned char)s[i]];

		if (k == 0)
			return false;
		dots += k == 2;
	}
	if (dots < 4 || s[len - 1] == '.')
		return false;
	if (type != NULL) {
		tlen = strlen(type);
		if (strncmp(s + 6, type, tlen) != 0 || s[6 + tlen] != '.')
			return false;
	}
	return true;
}
