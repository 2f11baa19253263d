/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI's error envelope and the one table from tresor codes to HTTP
 * statuses and OCI error codes (STYLE E2).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "util/error.h"
#include "util/log.h"
#include "util/utf8.h"

/*
 * 409 IncorrectState is the transient conflict the OCI SDKs retry (8
 * attempts over about 95 s): use it only where waiting can help (a
 * concurrent change, a retry token in flight, a secret whose deletion is
 * pending); a state that only an administrator's action changes answers
 * 409 Conflict.
 */
static const struct {
	int rc;
	int status;
	const char *code;
} rc_table[] = {
	{ TRESOR_ENOTFOUND, 404, "NotAuthorizedOrNotFound" },
	{ TRESOR_EEXISTS, 409, "Conflict" },
	{ TRESOR_EAUTH, 401, "NotAuthenticated" },
	{ TRESOR_EDENIED, 404, "NotAuthorizedOrNotFound" },
	{ TRESOR_EINVAL, 400, "InvalidParameter" },
	{ TRESOR_ETOOBIG, 400, "InvalidParameter" },
	{ TRESOR_ECONFLICT, 409, "Conflict" },
	{ TRESOR_EPRECOND, 412, "NoEtagMatch" },
	{ TRESOR_EUNAVAIL, 503, "ServiceUnavailable" },
	{ TRESOR_ELIMIT, 400, "LimitExceeded" },
	{ TRESOR_ENOMEM, 500, "InternalServerError" },
	{ TRESOR_EIO, 500, "InternalServerError" },
	{ TRESOR_EINTERNAL, 500, "InternalServerError" },
};

void
tr_api_error(struct tr_api_ctx *c, int status, const char *code,
    const char *fmt, ...)
{
	char msg[1024];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (msg[0] == '\0')
		(void)snprintf(msg, sizeof(msg), "%s", code);
	/* messages echo request bytes; the envelope must stay valid JSON */
	tr_utf8_sanitize(msg);
	o = json_pack("{s:s, s:s}", "code", code, "message", msg);
	tr_buf_reset(&c->resp->body);
	(void)snprintf(c->resp->error_code, sizeof(c->resp->error_code), "%s",
	    code);
	tr_api_send_json(c, status, o);
	if (status >= 500)
		tr_log_error("request %s %s: %d %s: %s", c->request_id,
		    c->operation == NULL ? "-" : c->operation, status, code,
		    msg);
}

void
tr_api_error_rc(struct tr_api_ctx *c, int rc, const char *fallback)
{
	const char *msg = tresor_error_last();
	size_t i;

	if (msg == NULL || msg[0] == '\0')
		msg = fallback;
	for (i = 0; i < sizeof(rc_table) / sizeof(rc_table[0]); i++) {
		if (rc_table[i].rc == rc) {
			if (rc_table[i].status >= 500)
				tr_log_error("request %s: %s", c->request_id,
				    msg);
			tr_api_error(c, rc_table[i].status, rc_table[i].code,
			    "%s", rc_table[i].status >= 500 ?
			    "internal error; the request id identifies it in "
			    "the server log" : msg);
			return;
		}
	}
	tr_api_error(c, 500, "InternalServerError", "unexpected error");
}

void
tr_api_not_found(struct tr_api_ctx *c, const char *what)
{
	tr_api_error(c, 404, "NotAuthorizedOrNotFound",
	    "Authorization failed or requested resource not found: %s", what);
}
