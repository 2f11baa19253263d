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

	if (len < 12 || len > TR_OCID_INPUT_MAX || strncmp(s, "ocid1.", 6) != 0)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.')
			dots++;
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (c >= 'A' && c <= 'Z')))
			return false;
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
