/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wall-clock time and the timestamp formats of the wire protocol.
 *
 * tr_now_ms() is the one source of "now" for everything that compares
 * against stored times (deletion windows, token expiry, signature skew),
 * so tests can move it with tr_clock_set_offset_ms() instead of sleeping.
 */
#ifndef TR_UTIL_CLOCK_H
#define TR_UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define TR_TIME_RFC3339_LEN 32
#define TR_TIME_HTTP_LEN 40

/* Milliseconds since the epoch, plus the test offset. */
int64_t tr_now_ms(void);
/*
 * Milliseconds since the epoch, never shifted: for what clients check
 * against their own clocks (request signature dates, token expiry).
 */
int64_t tr_real_now_ms(void);
/* Monotonic milliseconds, for timeouts and caches. */
int64_t tr_mono_ms(void);
/* Shift tr_now_ms() by `ms` (tests and the --clock-offset test switch). */
void tr_clock_set_offset_ms(int64_t ms);

/* "2019-04-03T21:10:29.600Z" into `out` (TR_TIME_RFC3339_LEN bytes). */
void tr_time_rfc3339(char *out, int64_t ms);
/* Parse RFC 3339 with 'Z' or an offset, optional fraction.  0/EINVAL. */
int tr_time_parse_rfc3339(const char *s, int64_t *ms_out);
/* "Sun, 29 Nov 2026 01:27:30 GMT" (TR_TIME_HTTP_LEN bytes). */
void tr_time_http(char *out, int64_t sec);
/* Parse an IMF-fixdate (RFC 7231).  0/EINVAL. */
int tr_time_parse_http(const char *s, size_t len, int64_t *sec_out);

#endif /* TR_UTIL_CLOCK_H */
