/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes and the per-thread error message (include/tresor/errors.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/error.h"

static _Thread_local char last_msg[512];

int
tr_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	return code;
}

void
tr_error_clear(void)
{
	last_msg[0] = '\0';
}

int
tr_error_has_message(void)
{
	return last_msg[0] != '\0';
}

const char *
tresor_error_last(void)
{
	return last_msg;
}

const char *
tresor_strerror(int code)
{
	switch (code) {
	case TRESOR_OK:
		return "success";
	case TRESOR_ENOTFOUND:
		return "not found";
	case TRESOR_EEXISTS:
		return "already exists";
	case TRESOR_EAUTH:
		return "authentication failed";
	case TRESOR_EDENIED:
		return "not authorized";
	case TRESOR_EINVAL:
		return "invalid argument";
	case TRESOR_ETOOBIG:
		return "too big";
	case TRESOR_ECONFLICT:
		return "conflict";
	case TRESOR_ENOMEM:
		return "out of memory";
	case TRESOR_EIO:
		return "I/O error";
	case TRESOR_EINTERNAL:
		return "internal error";
	case TRESOR_EPRECOND:
		return "precondition failed";
	case TRESOR_EUNAVAIL:
		return "service unavailable";
	case TRESOR_ELIMIT:
		return "limit exceeded";
	case TRESOR_ENET:
		return "network error";
	case TRESOR_EPERM:
		return "unsafe permissions";
	default:
		return "unknown error";
	}
}
