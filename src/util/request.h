/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP request and response as the HTTP layer hands them to the API
 * layer: plain data, no HTTP library types, so every handler can be
 * driven from a test without a socket.
 */
#ifndef TR_UTIL_REQUEST_H
#define TR_UTIL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct tr_header {
	const char *name;	/* as received; compare case-insensitively */
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* A request.  Every pointer is borrowed from the HTTP layer. */
struct tr_request {
	const char *method;
	size_t method_len;
	const char *target;	/* raw request-target: path?query, as sent */
	size_t target_len;
	const struct tr_header *headers;
	size_t nheaders;
	const char *body;
	size_t body_len;
	const char *peer;	/* source address, text */
	bool tls;
};

#define TR_RESP_HEADERS_MAX 8

/* A response under construction.  Header values are copied. */
struct tr_response {
	int status;
	struct tr_buf body;		/* JSON text */
	bool body_is_secret;		/* zero the body after sending */
	size_t nheaders;
	struct {
		const char *name;	/* static string */
		char value[512];
	} headers[TR_RESP_HEADERS_MAX];
	/* for the audit record and the access log; never secret */
	char error_code[48];
	const char *content_type;	/* static; NULL: application/json */
	/*
	 * Nonzero: a util/durable.h ticket; the answer goes out only once
	 * it is durable, or as 503 when its sync failed.
	 */
	uint64_t durable_ticket;
};

/*
 * The value of the first header called `name` (case-insensitive), or NULL.
 * `*len` receives its length.  When the header occurs more than once,
 * `*count` (if not NULL) receives how many times.
 */
const char *tr_request_header(const struct tr_request *r, const char *name,
    size_t *len, size_t *count);

void tr_response_init(struct tr_response *resp);
void tr_response_dispose(struct tr_response *resp);
/* Set or replace a response header; the value is copied (truncated to
 * 511 bytes, with CR and LF removed). */
void tr_response_header(struct tr_response *resp, const char *name,
    const char *value);

#endif /* TR_UTIL_REQUEST_H */
