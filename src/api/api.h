/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API layer: OCI's Vault, KMS, Secrets and Identity operations.
 *
 * The HTTP layer hands tr_api_handle() a plain request and gets a
 * response back; nothing here knows the HTTP library.  State shared by
 * every thread lives in struct tr_api_env (read-only while serving);
 * each serving thread owns a struct tr_api_thread with its own store
 * connection, authentication cache and IAM snapshot.
 */
#ifndef TR_API_API_H
#define TR_API_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "util/request.h"

struct tr_ca;
struct tr_usage;
struct tr_keystore;
struct tr_store;
struct tr_token_issuer;

/* What every serving thread shares; owned by the daemon. */
/* How an audit record is written (the sink's `flags`). */
#define TR_API_AUDIT_SYNC 0x1u	/* durable before the sink returns */
#define TR_API_AUDIT_CHECK 0x2u	/* refuse unless the log is still in place */

struct tr_api_env {
	struct tr_keystore *ks;
	struct tr_token_issuer *issuer;	/* NULL: session tokens refused */
	struct tr_ca *ca;		/* instance principals' CA, or NULL */
	const char *data_dir;
	const char *db_path;
	const char *public_url;		/* base URL for vault endpoints, or
					 * NULL to derive it from Host */
	const char *region;
	bool test_clock;		/* /tresor/v1/testing/... enabled */
	struct tr_usage *usage;		/* metering, or NULL */
	/*
	 * The audit sink (may be NULL): called with a record (the text of a
	 * JSON object, `len` bytes) before a request that may change
	 * something runs and after every request, with TR_API_AUDIT_*
	 * flags.  A failure before refuses the request with 503.  With no
	 * flag and `ticket` non-NULL the sink may queue the record: it then
	 * sets *ticket to the group commit's ticket (util/durable.h) that
	 * covers the record, and the answer waits for that ticket.
	 */
	int (*audit)(void *payload, const char *record, size_t len,
	    unsigned int flags, uint64_t *ticket);
	void *audit_payload;
	/*
	 * Group commit (may be NULL): the response record is then handed to
	 * the sink without waiting, and the response carries the ticket the
	 * sink returns, which the server waits for before answering.
	 */
	struct tr_durable *durable;
	/*
	 * Per-principal rate limit (may be NULL): 0, or negative with the
	 * seconds to wait in *retry_after (answered 429).
	 */
	int (*rate_limit)(void *payload, const char *principal,
	    unsigned int *retry_after);
	void *rate_payload;
	/* opens a store connection for a new thread */
	int (*store_open)(struct tr_store **out, void *payload);
	void *store_payload;
};

struct tr_api_thread;

/* Per-thread state; open one in each serving thread. */
int tr_api_thread_new(struct tr_api_thread **out, struct tr_api_env *env);
void tr_api_thread_free(struct tr_api_thread *t);
/* The thread's store connection (borrowed). */
struct tr_store *tr_api_thread_store(struct tr_api_thread *t);

/* Usage metering (usage.c): counts in memory, flushed into the store. */
int tr_usage_new(struct tr_usage **out);
void tr_usage_free(struct tr_usage *u);
void tr_usage_count(struct tr_usage *u, const char *kind, const char *tenancy,
    const char *principal, const char *target);
int tr_usage_flush(struct tr_usage *u, struct tr_store *st);

/*
 * Carry out every scheduled job due at `now` (deletions, rotations);
 * *done_out (if not NULL) receives how many.  Safe to run on several
 * nodes at once: each job is done exactly once.
 */
int tr_api_maintenance(struct tr_api_thread *t, int64_t now,
    size_t *done_out);

/*
 * Handle one request.  Always fills `resp` (an error is a response):
 * status, JSON body, opc-request-id and the other OCI headers.
 */
void tr_api_handle(struct tr_api_thread *t, const struct tr_request *req,
    struct tr_response *resp);

#endif /* TR_API_API_H */
