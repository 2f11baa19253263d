/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log callback of libtresor.  The library never prints: it reports
 * through return codes, tresor_error_last() and, when the application
 * installs one, this callback.  Messages name operations, OCIDs, version
 * numbers, HTTP statuses and delays; never secret content, keys, tokens
 * or signatures.
 */
#ifndef TRESOR_LOG_H
#define TRESOR_LOG_H

#include "tresor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a log message. */
typedef enum {
	TRESOR_LOG_DEBUG = 0,	/**< every request attempt */
	TRESOR_LOG_INFO = 1,	/**< retries, cache refreshes */
	TRESOR_LOG_WARN = 2,	/**< stale data served, TTL too long */
	TRESOR_LOG_ERROR = 3	/**< a failure the caller will also see */
} tresor_log_level;

/**
 * A log callback.
 * @param level the severity
 * @param message one line without a trailing newline; valid only during
 *        the call
 * @param payload the pointer given with the callback
 */
typedef void (*tresor_log_fn)(tresor_log_level level, const char *message,
    void *payload);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_LOG_H */
