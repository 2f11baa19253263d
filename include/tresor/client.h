/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libtresor client: signed requests to tresord (or OCI) over libcurl
 * with keep-alive and TLS verification, retries with exponential backoff
 * and full jitter on 429, 500, 502, 503, 504 and connection failures
 * (Retry-After honoured), opc-retry-token on creates so a retried create
 * is not duplicated.  A 4xx other than 429 is never retried.
 *
 * A client is used by one thread at a time; use one client per thread.
 * The library never prints: errors come back as codes with detail in
 * tresor_error_last(), events through the optional log callback.
 */
#ifndef TRESOR_CLIENT_H
#define TRESOR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "tresor/common.h"
#include "tresor/config.h"
#include "tresor/log.h"
#include "tresor/signer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A client (opaque). */
typedef struct tresor_client tresor_client;

/** A response from the service (opaque). */
typedef struct tresor_response tresor_response;

/** Flags of tresor_global_init(). */
#define TRESOR_GLOBAL_SECURE_JSON 0x1u /**< route jansson's allocations
					   through a zeroing free */

/**
 * Process-wide initialisation (libcurl); call once before any thread
 * creates a client.  With TRESOR_GLOBAL_SECURE_JSON, every jansson
 * allocation of the process is zeroed when freed (it replaces jansson's
 * allocator for the whole process).
 * @return 0 or TRESOR_EINTERNAL
 */
TRESOR_EXTERN int tresor_global_init(unsigned int flags);

/** Process-wide cleanup, after the last client is freed. */
TRESOR_EXTERN void tresor_global_cleanup(void);

/** The version of the library, e.g. "0.1.0". */
TRESOR_EXTERN const char *tresor_version(void);

/** Options of tresor_client_new(); initialise with the macro below. */
typedef struct {
	unsigned int version;		/**< TRESOR_CLIENT_OPTIONS_VERSION
					     */
	const tresor_config *config;	/**< required; borrowed, must
					     outlive the client */
	const char *endpoint;		/**< NULL: the configuration's */
	unsigned int max_attempts;	/**< 0: 5 (1 disables retries) */
	unsigned int base_delay_ms;	/**< 0: 200 (first backoff bound) */
	unsigned int max_delay_ms;	/**< 0: 30000 (backoff cap) */
	unsigned int max_retry_after_ms; /**< 0: 60000; a longer
					     Retry-After ends retrying */
	unsigned int connect_timeout_ms; /**< 0: 10000 */
	unsigned int timeout_ms;	/**< 0: 60000, per attempt */
	const char *ca_file;		/**< NULL: the system's CA bundle */
	const char *user_agent;		/**< NULL: "tresor/<version>" */
	tresor_log_fn log_fn;		/**< NULL: silent */
	void *log_payload;
	int (*cancel_fn)(void *payload); /**< non-zero: stop waiting */
	void *cancel_payload;
} tresor_client_options;

#define TRESOR_CLIENT_OPTIONS_VERSION 1
#define TRESOR_CLIENT_OPTIONS_INIT \
	{ TRESOR_CLIENT_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, 0, 0, \
	  NULL, NULL, NULL, NULL, NULL, NULL }

/**
 * Create a client: reads the key (tresor_signer_new()) and prepares the
 * connection.
 * @param out receives the client; free with tresor_client_free()
 * @return 0 or an error of tresor_signer_new(); TRESOR_EINVAL when no
 *         endpoint is configured
 */
TRESOR_EXTERN int tresor_client_new(tresor_client **out,
    const tresor_client_options *opts);

/** Free a client; NULL is fine. */
TRESOR_EXTERN void tresor_client_free(tresor_client *c);

/** The base URL requests go to (borrowed). */
TRESOR_EXTERN const char *tresor_client_endpoint(const tresor_client *c);

/** The signer of the client (borrowed). */
TRESOR_EXTERN tresor_signer *tresor_client_signer(tresor_client *c);

/** Which failures a request may be retried after. */
typedef enum {
	TRESOR_RETRY_DEFAULT = 0, /**< GET/HEAD/DELETE and requests with a
				       retry token: all; others: safe only */
	TRESOR_RETRY_ALL = 1,	  /**< 429, the 5xx above, connection
				       failures */
	TRESOR_RETRY_SAFE = 2,	  /**< only when nothing can have
				       happened: 429, 503, connection
				       refused */
	TRESOR_RETRY_NEVER = 3
} tresor_retry_mode;

/** A name/value pair (query parameters). */
typedef struct {
	const char *name;
	const char *value;
} tresor_param;

/** A request; initialise with the macro below. */
typedef struct {
	unsigned int version;	/**< TRESOR_REQUEST_VERSION */
	const char *method;	/**< "GET", "POST", "PUT", "DELETE" */
	const char *base_url;	/**< NULL: the client's endpoint; else e.g.
				     a vault's managementEndpoint */
	const char *path;	/**< "/20180608/secrets/{}": each "{}" is
				     replaced by the next path_params value,
				     percent-encoded */
	const char *const *path_params;
	size_t npath_params;
	const tresor_param *query; /**< NULL values are skipped; values
				       are percent-encoded */
	size_t nquery;
	const char *body;	/**< JSON text or NULL */
	size_t body_len;
	const char *if_match;	/**< NULL: none */
	const char *retry_token; /**< NULL: generated when retry_token_auto */
	bool retry_token_auto;	/**< send an opc-retry-token (creates) */
	tresor_retry_mode retry;
	const char *opc_request_id; /**< NULL: generated */
} tresor_request;

#define TRESOR_REQUEST_VERSION 1
#define TRESOR_REQUEST_INIT \
	{ TRESOR_REQUEST_VERSION, "GET", NULL, NULL, NULL, 0, NULL, 0, \
	  NULL, 0, NULL, NULL, false, TRESOR_RETRY_DEFAULT, NULL }

/**
 * Send a request, retrying as its mode allows.
 * @param out receives the response whenever the service answered, also
 *        on an error status; NULL after a transport failure.  Free with
 *        tresor_response_free().
 * @return 0 on a 2xx answer; otherwise TRESOR_EINVAL (400), TRESOR_EAUTH
 *         (401), TRESOR_EDENIED (403), TRESOR_ENOTFOUND (404),
 *         TRESOR_ECONFLICT (409), TRESOR_EPRECOND (412), TRESOR_EUNAVAIL
 *         (429, 5xx), TRESOR_ETOOBIG (response past the limit),
 *         TRESOR_ENET (no answer: connection, TLS, timeout, cancelled),
 *         TRESOR_EINTERNAL (other statuses).  tresor_error_last() has
 *         "<code>: <message>" of the service's error body.
 */
TRESOR_EXTERN int tresor_client_call(tresor_client *c,
    const tresor_request *req, tresor_response **out);

/** The HTTP status. */
TRESOR_EXTERN int tresor_response_status(const tresor_response *r);

/** The body (not NUL-terminated past *len; it is NUL-terminated). */
TRESOR_EXTERN const char *tresor_response_body(const tresor_response *r,
    size_t *len);

/**
 * A response header kept by the client: "etag", "opc-request-id",
 * "opc-next-page", "opc-work-request-id", "date", "content-type".
 * @return a borrowed string or NULL
 */
TRESOR_EXTERN const char *tresor_response_header(const tresor_response *r,
    const char *name);

/** The OCI error code of an error answer ("NotAuthorizedOrNotFound"). */
TRESOR_EXTERN const char *tresor_response_error_code(
    const tresor_response *r);

/** The message of an error answer. */
TRESOR_EXTERN const char *tresor_response_error_message(
    const tresor_response *r);

/** How many attempts the call took. */
TRESOR_EXTERN unsigned int tresor_response_attempts(
    const tresor_response *r);

/** The URL of the last attempt, without query ("GET http://..."). */
TRESOR_EXTERN const char *tresor_response_endpoint(
    const tresor_response *r);

/** Free a response (the body is zeroed); NULL is fine. */
TRESOR_EXTERN void tresor_response_free(tresor_response *r);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_CLIENT_H */
