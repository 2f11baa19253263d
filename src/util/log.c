/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr, one line per record (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "util/log.h"

enum tr_log_level tr_log_min_level = TR_LOG_INFO;

static const char *level_names[] = { "debug", "info", "warn", "error" };

void
tr_log_set_level(enum tr_log_level level)
{
	tr_log_min_level = level;
}

void
tr_log_write(enum tr_log_level level, const char *func, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < TR_LOG_DEBUG || level > TR_LOG_ERROR)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* one fprintf call: lines from several threads do not interleave */
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, now.tv_nsec / 1000000,
	    level_names[level], func, line);
}
