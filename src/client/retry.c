/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retry arithmetic: exponential backoff with full jitter and Retry-After
 * (see client_int.h).  Pure functions, so the schedule and the jitter
 * bounds are unit-tested without sleeping.
 *
 * After n failed attempts the client sleeps a uniformly drawn time in
 * [0, min(cap, base * 2^(n-1))] ("full jitter": retries of many clients
 * spread out instead of arriving in waves), but never less than a
 * Retry-After the server sent; a Retry-After longer than the policy
 * accepts ends the retries, so the caller sees the error at once instead
 * of a call that blocks for minutes.
 */
#include <string.h>

#include "client/client_int.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/parse.h"

uint64_t
tr_backoff_bound_ms(const struct tr_retry_policy *p, unsigned int failures)
{
	uint64_t b = p->base_ms;
	unsigned int i;

	if (failures == 0)
		return 0;
	for (i = 1; i < failures && b < p->cap_ms; i++)
		b = b > UINT64_MAX / 2 ? UINT64_MAX : b * 2;
	return b < p->cap_ms ? b : p->cap_ms;
}

uint64_t
tr_backoff_delay_ms(const struct tr_retry_policy *p, unsigned int failures,
    int64_t retry_after_ms, uint64_t rnd)
{
	uint64_t bound = tr_backoff_bound_ms(p, failures), d;

	d = bound == UINT64_MAX ? rnd : rnd % (bound + 1);
	if (retry_after_ms >= 0) {
		if ((uint64_t)retry_after_ms > p->max_retry_after_ms)
			return TR_BACKOFF_STOP;
		if ((uint64_t)retry_after_ms > d)
			d = (uint64_t)retry_after_ms;
	}
	return d;
}

int
tr_retry_after_parse(const char *v, int64_t now_ms, int64_t *ms_out)
{
	uint64_t sec;
	int64_t at;
	size_t len;

	*ms_out = -1;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0)
		return tr_error_set(TRESOR_EINVAL, "empty Retry-After");
	if (v[0] >= '0' && v[0] <= '9') {
		/* a day is plenty; anything longer is clamped there */
		if (len > 12 || tr_parse_u64(v, len, 0, 999999999999ULL,
		    &sec) < 0)
			return tr_error_set(TRESOR_EINVAL,
			    "Retry-After is not a number of seconds");
		if (sec > 86400)
			sec = 86400;
		*ms_out = (int64_t)sec * 1000;
		return 0;
	}
	if (tr_time_parse_http(v, len, &at) < 0)
		return tr_error_set(TRESOR_EINVAL,
		    "Retry-After is neither seconds nor an HTTP date");
	at *= 1000;
	*ms_out = at > now_ms ? at - now_ms : 0;
	if (*ms_out > 86400000)
		*ms_out = 86400000;
	return 0;
}

bool
tr_retry_status(int status)
{
	return status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504;
}
