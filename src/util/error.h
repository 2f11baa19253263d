/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-thread error message behind tresor_error_last() (STYLE E3).
 */
#ifndef TR_UTIL_ERROR_H
#define TR_UTIL_ERROR_H

#include "tresor/errors.h"

/*
 * Record the detail of an error on this thread and return `code`, so a
 * failure reads `return tr_error_set(TRESOR_EINVAL, "...")`.  The message
 * must never hold secret bytes.
 */
int tr_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget the detail of the previous error. */
void tr_error_clear(void);

/* True when a message is recorded on this thread. */
int tr_error_has_message(void);

#endif /* TR_UTIL_ERROR_H */
