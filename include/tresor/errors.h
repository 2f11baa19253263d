/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresor error codes: the one error convention of the project.
 *
 * A function that can fail returns 0 on success or one of the negative
 * codes below.  Detail for the last failure on the calling thread is kept
 * by tresor_error_last(); it is safe to show a caller and never holds
 * secret bytes.
 */
#ifndef TRESOR_ERRORS_H
#define TRESOR_ERRORS_H

#include "tresor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The error codes; 0 is success. */
typedef enum {
	TRESOR_OK = 0,
	TRESOR_ENOTFOUND = -1,	/**< no such object (or not visible) */
	TRESOR_EEXISTS = -2,	/**< an object with that name exists */
	TRESOR_EAUTH = -3,	/**< authentication failed */
	TRESOR_EDENIED = -4,	/**< authorisation failed */
	TRESOR_EINVAL = -5,	/**< invalid argument or input */
	TRESOR_ETOOBIG = -6,	/**< input past a limit */
	TRESOR_ECONFLICT = -7,	/**< object in the wrong state */
	TRESOR_ENOMEM = -8,	/**< out of memory */
	TRESOR_EIO = -9,	/**< storage or system I/O failure */
	TRESOR_EINTERNAL = -10,	/**< a bug or an unexpected condition */
	TRESOR_EPRECOND = -11,	/**< if-match / etag mismatch */
	TRESOR_EUNAVAIL = -12,	/**< service unavailable, try again */
	TRESOR_ELIMIT = -13,	/**< a count limit was reached */
	TRESOR_ENET = -14,	/**< network failure (client side) */
	TRESOR_EPERM = -15	/**< unsafe file permissions */
} tresor_error_code;

/**
 * Name of an error code.
 * @param code a tresor_error_code
 * @return a static string, never NULL
 */
TRESOR_EXTERN const char *tresor_strerror(int code);

/**
 * Detail of the last error set on this thread.
 * @return a thread-local string (empty when none); valid until the next
 *         call into tresor on this thread
 */
TRESOR_EXTERN const char *tresor_error_last(void);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_ERRORS_H */
