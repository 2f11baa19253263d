/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request header lookup and response helpers (see request.h).
 */
#include <string.h>
#include <strings.h>

#include "util/request.h"
#include "util/secret.h"

const char *
tr_request_header(const struct tr_request *r, const char *name, size_t *len,
    size_t *count)
{
	const char *found = NULL;
	size_t i, nlen = strlen(name), n = 0;

	*len = 0;
	for (i = 0; i < r->nheaders; i++) {
		if (r->headers[i].name_len == nlen &&
		    strncasecmp(r->headers[i].name, name, nlen) == 0) {
			if (found == NULL) {
				found = r->headers[i].value;
				*len = r->headers[i].value_len;
			}
			n++;
		}
	}
	if (count != NULL)
		*count = n;
	return found;
}

void
tr_response_init(struct tr_response *resp)
{
	/* the header array (4 KiB) is read only up to nheaders */
	resp->status = 200;
	resp->body_is_secret = false;
	resp->nheaders = 0;
	resp->error_code[0] = '\0';
	resp->content_type = NULL;
	resp->durable_ticket = 0;
	tr_buf_init(&resp->body, 4 * 1024 * 1024);
}

void
tr_response_dispose(struct tr_response *resp)
{
	if (resp->body_is_secret && resp->body.ptr != NULL)
		tr_secure_zero(resp->body.ptr, resp->body.cap);
	tr_buf_dispose(&resp->body);
}

void
tr_response_header(struct tr_response *resp, const char *name,
    const char *value)
{
	size_t i, j = 0;
	char *dst = NULL;

	for (i = 0; i < resp->nheaders; i++) {
		if (strcasecmp(resp->headers[i].name, name) == 0) {
			dst = resp->headers[i].value;
			break;
		}
	}
	if (dst == NULL) {
		if (resp->nheaders == TR_RESP_HEADERS_MAX)
			return;
		resp->headers[resp->nheaders].name = name;
		dst = resp->headers[resp->nheaders].value;
		resp->nheaders++;
	}
	/* drop CR/LF/NUL: no header injection through echoed values */
	for (i = 0; value[i] != '\0' && j < 511; i++)
		if (value[i] != '\r' && value[i] != '\n')
			dst[j++] = value[i];
	dst[j] = '\0';
}
