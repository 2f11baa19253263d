/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server: listeners, one h2o event loop per thread (each with
 * its own SO_REUSEPORT listener), TLS, limits, graceful shutdown.
 *
 * The server knows HTTP and nothing of OCI: it turns each request into a
 * struct tr_request, calls the handler (on the loop thread, or on a pool
 * thread with offload_threads), and sends the struct tr_response back,
 * once it is durable when it carries a durable ticket.  Response bodies are zeroed when h2o releases them, since some
 * carry secret content.
 */
#ifndef TR_HTTP_SERVER_H
#define TR_HTTP_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "util/request.h"

struct tr_http_config {
	const char *host;		/* numeric address to bind */
	uint16_t port;
	unsigned int threads;		/* event loops (1..64) */
	/* NULL, or loop i runs on CPU cpus[i % ncpus] */
	const unsigned int *cpus;
	size_t ncpus;
	const char *tls_cert;		/* PEM chain, or NULL for plain HTTP */
	const char *tls_key;		/* PEM private key */
	size_t max_body;		/* request body limit, bytes */
	unsigned int request_timeout_ms; /* slow clients are dropped */
	/* per-thread state: made in the thread, freed at its end */
	int (*thread_init)(void **state_out, void *payload);
	void (*thread_fini)(void *state);
	void (*handle)(void *state, const struct tr_request *req,
	    struct tr_response *resp);
	/* called after each response is queued (access log, audit) */
	void *payload;
	/* bumped (e.g. from SIGHUP) to reload the TLS certificate and key */
	volatile sig_atomic_t *tls_reload;
	/*
	 * Group commit (may be NULL): a response with a durable_ticket is
	 * held until the ticket is durable; a failed sync turns it into
	 * 503 (see util/durable.h).  The event loop never waits for it.
	 */
	struct tr_durable *durable;
	/*
	 * 0: handlers run on the event-loop threads (right for an embedded
	 * store that answers in microseconds).  N > 0: handlers run on a
	 * pool of N threads, each with its own state from thread_init,
	 * and the loops only do HTTP: nothing a handler waits for (a
	 * database across the network) ever blocks a loop.
	 */
	unsigned int offload_threads;
	/* with offload: requests queued past this are answered 503 */
	unsigned int offload_queue_max;
};

/*
 * Bind and serve until *stop becomes non-zero (set it from a signal
 * handler), then stop accepting, let requests in flight finish, and
 * return 0.  Returns a negative code when the listeners cannot be set up
 * (address in use, bad certificate...), with the reason in
 * tresor_error_last().
 */
int tr_http_serve(const struct tr_http_config *cfg,
    volatile sig_atomic_t *stop);

/*
 * Bind the listening socket of one thread (exposed for tests): returns
 * the fd or a negative code.
 */
int tr_http_listen(const char *host, uint16_t port);

#endif /* TR_HTTP_SERVER_H */
