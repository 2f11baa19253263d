/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time sources and timestamp formats (see clock.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/error.h"

static _Atomic int64_t offset_ms;

int64_t
tr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    atomic_load_explicit(&offset_ms, memory_order_relaxed);
}

int64_t
tr_real_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
tr_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tr_clock_set_offset_ms(int64_t ms)
{
	atomic_store(&offset_ms, ms);
}

/* Write `v` as exactly `n` decimal digits. */
static char *
put_digits(char *p, int v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

void
tr_time_rfc3339(char *out, int64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;
	char *p = out;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	p = put_digits(p, (tm.tm_year + 1900) % 10000, 4);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, frac, 3);
	*p++ = 'Z';
	*p = '\0';
}

/* Read exactly `n` decimal digits at *p. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
valid_date(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0))
		return 0;
	return 1;
}

int
tr_time_parse_rfc3339(const char *s, int64_t *ms_out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0, fdig = 0, oh = 0, om = 0, sign = 0;
	int64_t t;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0 ||
	    (*p != 'T' && *p != 't') || (p++, digits(&p, 2, &h) < 0) ||
	    *p++ != ':' || digits(&p, 2, &mi) < 0 || *p++ != ':' ||
	    digits(&p, 2, &sec) < 0)
		goto bad;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (fdig < 3) {
				frac = frac * 10 + (*p - '0');
				fdig++;
			}
			p++;
		}
		if (fdig == 0)
			goto bad;
		while (fdig < 3) {
			frac *= 10;
			fdig++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (digits(&p, 2, &oh) < 0 || *p++ != ':' ||
		    digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			goto bad;
	} else {
		goto bad;
	}
	if (*p != '\0' || !valid_date(y, mo, d, h, mi, sec))
		goto bad;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*ms_out = t * 1000 + frac;
	return 0;
bad:
	return tr_error_set(TRESOR_EINVAL,
	    "invalid timestamp: expected RFC 3339, e.g. 2030-01-02T03:04:05.000Z");
}

static const char *wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	"Sat" };
static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void
tr_time_http(char *out, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	(void)snprintf(out, TR_TIME_HTTP_LEN,
	    "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

int
tr_time_parse_http(const char *s, size_t len, int64_t *sec_out)
{
	char tmp[TR_TIME_HTTP_LEN];
	const char *p;
	int d, y, h, mi, sec, mo = -1, i;

	/* "Sun, 29 Nov 2026 01:27:30 GMT" is exactly 29 bytes */
	if (len != 29)
		goto bad;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	p = tmp;
	for (i = 0; i < 7; i++)
		if (memcmp(p, wdays[i], 3) == 0)
			break;
	if (i == 7 || p[3] != ',' || p[4] != ' ')
		goto bad;
	p += 5;
	if (digits(&p, 2, &d) < 0 || *p++ != ' ')
		goto bad;
	for (i = 0; i < 12; i++)
		if (memcmp(p, months[i], 3) == 0)
			mo = i + 1;
	if (mo < 0 || p[3] != ' ')
		goto bad;
	p += 4;
	if (digits(&p, 4, &y) < 0 || *p++ != ' ' || digits(&p, 2, &h) < 0 ||
	    *p++ != ':' || digits(&p, 2, &mi) < 0 || *p++ != ':' ||
	    digits(&p, 2, &sec) < 0 || strcmp(p, " GMT") != 0 ||
	    !valid_date(y, mo, d, h, mi, sec))
		goto bad;
	*sec_out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec;
	return 0;
bad:
	return tr_error_set(TRESOR_EINVAL,
	    "invalid date: expected RFC 7231 form such as "
	    "'Sun, 29 Nov 2026 01:27:30 GMT'");
}
