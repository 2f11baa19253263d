/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict decimal parsing (see parse.h).
 */
#include "util/error.h"
#include "util/parse.h"

int
tr_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return tr_error_set(TRESOR_EINVAL, "not a number");
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return tr_error_set(TRESOR_EINVAL, "not a number");
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return tr_error_set(TRESOR_EINVAL, "number too large");
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return tr_error_set(TRESOR_EINVAL,
		    "number out of range [%llu, %llu]",
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}
