/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Daemon logging (STYLE D4).  The macros check the level before
 * formatting and add the calling function.  Never pass secret content,
 * key material, signatures or tokens to them.  The client library does
 * not use these; it reports through a callback.
 */
#ifndef TR_UTIL_LOG_H
#define TR_UTIL_LOG_H

enum tr_log_level {
	TR_LOG_DEBUG = 0,
	TR_LOG_INFO = 1,
	TR_LOG_WARN = 2,
	TR_LOG_ERROR = 3,
	TR_LOG_NONE = 4
};

extern enum tr_log_level tr_log_min_level;

void tr_log_set_level(enum tr_log_level level);
void tr_log_write(enum tr_log_level level, const char *func, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

#define tr_log_at(lvl, ...) do {					\
	if ((lvl) >= tr_log_min_level)					\
		tr_log_write((lvl), __func__, __VA_ARGS__);		\
} while (0)

#define tr_log_debug(...) tr_log_at(TR_LOG_DEBUG, __VA_ARGS__)
#define tr_log_info(...) tr_log_at(TR_LOG_INFO, __VA_ARGS__)
#define tr_log_warn(...) tr_log_at(TR_LOG_WARN, __VA_ARGS__)
#define tr_log_error(...) tr_log_at(TR_LOG_ERROR, __VA_ARGS__)

#endif /* TR_UTIL_LOG_H */
