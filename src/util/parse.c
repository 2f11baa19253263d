/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict decimal parsing (see parse.h).
 */
#include <string.h>

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

/* The number at s[*i] (digits up to a ',' '-' or the end), below limit. */
static int
cpu_number(const char *s, size_t len, size_t *i, unsigned int limit,
    unsigned int *out)
{
	size_t start = *i;
	uint64_t v;

	while (*i < len && s[*i] != ',' && s[*i] != '-')
		(*i)++;
	if (tr_parse_u64(s + start, *i - start, 0, (uint64_t)limit - 1,
	    &v) < 0)
		return tr_error_set(TRESOR_EINVAL, "\"%.*s\" is not a CPU "
		    "number (0 to %u)", (int)(*i - start), s + start,
		    limit - 1);
	*out = (unsigned int)v;
	return 0;
}

int
tr_parse_cpu_list(const char *s, unsigned int limit, unsigned int *cpus,
    size_t cap, size_t *n)
{
	size_t len = strlen(s), i = 0, k;
	unsigned int lo = 0, hi = 0, c;

	*n = 0;
	if (len == 0 || limit == 0)
		return tr_error_set(TRESOR_EINVAL, "an empty CPU list");
	for (;;) {
		if (cpu_number(s, len, &i, limit, &lo) < 0)
			return TRESOR_EINVAL;
		hi = lo;
		if (i < len && s[i] == '-') {
			i++;
			if (cpu_number(s, len, &i, limit, &hi) < 0)
				return TRESOR_EINVAL;
			if (hi < lo)
				return tr_error_set(TRESOR_EINVAL, "the CPU "
				    "range %u-%u goes down", lo, hi);
			if (i < len && s[i] == '-')
				return tr_error_set(TRESOR_EINVAL,
				    "a CPU range has two ends, not three");
		}
		for (c = lo; c <= hi; c++) {
			for (k = 0; k < *n; k++)
				if (cpus[k] == c)
					return tr_error_set(TRESOR_EINVAL,
					    "CPU %u is listed twice", c);
			if (*n == cap)
				return tr_error_set(TRESOR_EINVAL,
				    "more than %zu CPUs listed", cap);
			cpus[(*n)++] = c;
		}
		if (i == len)
			return 0;
		i++;			/* the ',' */
		if (i == len)
			return tr_error_set(TRESOR_EINVAL,
			    "the CPU list ends with a comma");
	}
}
