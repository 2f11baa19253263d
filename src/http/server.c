/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP serving on h2o's evloop (see server.h).
 *
 * Each worker thread owns an h2o context, an event loop and a listening
 * socket bound with SO_REUSEPORT to the same address, so the kernel
 * spreads connections over the threads and no lock is shared on the
 * request path.  Handlers run on the loop thread, or with offload on a
 * pool of handler threads that hand the response back to the loop.
 *
 * A response that carries a durable ticket is parked on its loop until
 * the syncer (util/durable.h) says the ticket is on disk; the syncer
 * wakes each loop after every round.  The park is guarded by memory in
 * the request's pool, so a request h2o disposes (the client went away)
 * leaves the list by itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>
#include <h2o/http2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http/server.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/durable.h"
#include "util/error.h"
#include "util/log.h"
#include "util/secret.h"

#define MAX_THREADS 64
#define SHUTDOWN_IDLE_MS 1500
#define SHUTDOWN_GRACE_MS 10000
#define RETIRED_MAX 16
#define RETIRE_KEEP_MS 120000	/* well past h2o's handshake timeout */

struct handler {
	h2o_handler_t super;
	struct worker *w;		/* set per thread through the context */
};

struct job;

/* The handler pool (offload_threads > 0). */
struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t queued;
	bool stop;
	unsigned int nthreads;
	pthread_t threads[MAX_THREADS];
	int rc;
	char err[512];
};

struct server {
	const struct tr_http_config *cfg;
	volatile sig_atomic_t *stop;
	h2o_globalconf_t config;
	SSL_CTX *ssl_ctx;
	pthread_t threads[MAX_THREADS];
	struct worker *workers[MAX_THREADS];
	struct pool pool;
};

struct worker {
	struct server *srv;
	h2o_context_t ctx;
	h2o_evloop_t *loop;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	int fd;
	void *state;
	struct conn *conns;		/* live connections */
	SSL_CTX *own_ctx;		/* after a reload */
	/*
	 * Contexts replaced by a reload, kept a while: h2o holds the
	 * context of an accepted connection until its ClientHello arrives,
	 * and only then makes the SSL object from it.
	 */
	SSL_CTX *retired[RETIRED_MAX];
	int64_t retired_at[RETIRED_MAX];
	int rc;
	char err[512];
	/* waking the loop from other threads (syncer, handler pool) */
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t receiver;
	h2o_multithread_message_t wake_msg;
	atomic_int wake_pending;
	int durable_sub;
	h2o_linklist_t parked;		/* struct pending, by ticket */
	bool disposed;			/* its h2o context is gone */
	pthread_mutex_t done_lock;	/* jobs back from the pool */
	struct job *done;
};

/*
 * A request whose answer is not sent yet: parked for durability, or
 * with its job in the pool.  Lives in the request's memory pool.
 */
struct pending {
	h2o_linklist_t link;		/* in worker.parked */
	h2o_req_t *req;
	struct job *job;		/* in the pool, or NULL */
	uint64_t ticket;
	bool have_resp;
	bool held;			/* its socket is held (hold_reading) */
	struct tr_response resp;	/* last: pending_new zeroes up to it */
};

/* A request copied for a pool thread, and the answer it made. */
struct job {
	struct job *next;
	struct worker *w;
	struct pending *pending;	/* loop thread only; NULL: gone */
	struct tr_request r;
	struct tr_response resp;
	char peer[INET6_ADDRSTRLEN + 8];
	size_t memlen;
	char *mem;			/* headers and body; zeroed on free */
};

static pthread_key_t worker_key;

static void reload_tls(struct worker *w);

int
tr_http_listen(const char *host, uint16_t port)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	struct sockaddr *sa;
	socklen_t salen;
	int fd, one = 1, family;

	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		family = AF_INET;
		a4.sin_family = AF_INET;
		a4.sin_port = htons(port);
		sa = (struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		family = AF_INET6;
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons(port);
		sa = (struct sockaddr *)&a6;
		salen = sizeof(a6);
	} else {
		return tr_error_set(TRESOR_EINVAL,
		    "listen address '%s' is not a numeric IPv4 or IPv6 address",
		    host);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return tr_error_set(TRESOR_EIO, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
		close(fd);
		return tr_error_set(TRESOR_EIO, "setsockopt: %s",
		    strerror(errno));
	}
	if (bind(fd, sa, salen) != 0) {
		int e = errno;

		close(fd);
		return tr_error_set(TRESOR_EIO, "cannot listen on %s:%u: %s",
		    host, (unsigned)port, strerror(e));
	}
	if (listen(fd, 1024) != 0) {
		close(fd);
		return tr_error_set(TRESOR_EIO, "listen: %s", strerror(errno));
	}
	return fd;
}

/* ---------------------------------------------------------------- */
/* request handling                                                 */
/* ---------------------------------------------------------------- */

/* Response bodies come from here: zeroed when h2o releases them. */
struct body_chunk {
	size_t len;
	char data[];
};

static void
body_dispose(void *p)
{
	struct body_chunk *b = p;

	tr_secure_zero(b->data, b->len);
}

static const char *
reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* A connection we accepted, tracked until h2o closes it. */
struct conn {
	struct conn *next;
	struct conn **pprev;
	int fd;
	h2o_socket_t *sock;
	char peer[INET6_ADDRSTRLEN];	/* its address as text */
	size_t seen_bytes;	/* bytes read when last looked at */
	int64_t last_change;	/* monotonic ms of the last new bytes */
};

static void
conn_closed(void *data)
{
	struct conn *c = data;

	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	tr_free(c);
}

/* The text of a peer's address ("" when unknown). */
static void
peer_text(const struct sockaddr_storage *ss, socklen_t sl, char *out,
    size_t cap)
{
	out[0] = '\0';
	if (sl > 0 && ss->ss_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)ss)->sin_addr, out, (socklen_t)cap);
	else if (sl > 0 && ss->ss_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr, out, (socklen_t)cap);
}

/* Fill `r` from h2o's request; the strings stay in req's pool. */
static void
make_request(h2o_req_t *req, struct tr_request *r, char *peer,
    size_t peercap)
{
	struct tr_header *hdrs;
	struct sockaddr_storage ss;
	h2o_socket_t *sock;
	char clen[24];
	size_t i, n = 0;
	socklen_t sl;
	bool have_clen = false;

	memset(r, 0, sizeof(*r));
	hdrs = h2o_mem_alloc_pool(&req->pool,
	    (req->headers.size + 2) * sizeof(*hdrs));
	for (i = 0; i < req->headers.size; i++) {
		hdrs[n].name = req->headers.entries[i].name->base;
		hdrs[n].name_len = req->headers.entries[i].name->len;
		hdrs[n].value = req->headers.entries[i].value.base;
		hdrs[n].value_len = req->headers.entries[i].value.len;
		if (hdrs[n].name_len == 14 &&
		    h2o_lcstris(hdrs[n].name, 14, H2O_STRLIT("content-length")))
			have_clen = true;
		n++;
	}
	/* h2o keeps Host as the authority and may consume Content-Length */
	hdrs[n].name = "host";
	hdrs[n].name_len = 4;
	hdrs[n].value = req->authority.base;
	hdrs[n].value_len = req->authority.len;
	n++;
	if (!have_clen && req->entity.base != NULL) {
		int len = snprintf(clen, sizeof(clen), "%zu", req->entity.len);

		hdrs[n].name = "content-length";
		hdrs[n].name_len = 14;
		hdrs[n].value = h2o_mem_alloc_pool(&req->pool, (size_t)len);
		memcpy((char *)hdrs[n].value, clen, (size_t)len);
		hdrs[n].value_len = (size_t)len;
		n++;
	}
	r->method = req->method.base;
	r->method_len = req->method.len;
	r->target = req->path.base;
	r->target_len = req->path.len;
	r->headers = hdrs;
	r->nheaders = n;
	r->body = req->entity.base == NULL ? "" : req->entity.base;
	r->body_len = req->entity.base == NULL ? 0 : req->entity.len;
	r->tls = req->scheme == &H2O_URL_SCHEME_HTTPS;
	/* the peer's text, made once per connection as it was accepted */
	sock = req->conn->callbacks->get_socket != NULL ?
	    req->conn->callbacks->get_socket(req->conn) : NULL;
	if (sock != NULL && sock->on_close.cb == conn_closed) {
		r->peer = ((struct conn *)sock->on_close.data)->peer;
		return;
	}
	sl = req->conn->callbacks->get_peername(req->conn,
	    (struct sockaddr *)&ss);
	peer_text(&ss, sl, peer, peercap);
	r->peer = peer;
}

/* Send `resp` as req's answer; resp is disposed. */
static void
send_response(h2o_req_t *req, struct tr_response *resp)
{
	static h2o_generator_t generator = { NULL, NULL };
	struct body_chunk *chunk;
	h2o_iovec_t buf;
	size_t i;

	req->res.status = resp->status;
	req->res.reason = reason_of(resp->status);
	if (resp->content_type != NULL)
		h2o_add_header(&req->pool, &req->res.headers,
		    H2O_TOKEN_CONTENT_TYPE, NULL, resp->content_type,
		    strlen(resp->content_type));
	else
		h2o_add_header(&req->pool, &req->res.headers,
		    H2O_TOKEN_CONTENT_TYPE, NULL,
		    H2O_STRLIT("application/json"));
	for (i = 0; i < resp->nheaders; i++) {
		size_t nl = strlen(resp->headers[i].name);
		size_t vl = strlen(resp->headers[i].value);
		char *v = h2o_mem_alloc_pool(&req->pool, vl + 1);

		memcpy(v, resp->headers[i].value, vl + 1);
		h2o_add_header_by_str(&req->pool, &req->res.headers,
		    resp->headers[i].name, nl, 1, NULL, v, vl);
	}
	chunk = h2o_mem_alloc_shared(&req->pool, sizeof(*chunk) +
	    resp->body.len + 1, body_dispose);
	chunk->len = resp->body.len;
	if (resp->body.len > 0)
		memcpy(chunk->data, resp->body.ptr, resp->body.len);
	req->res.content_length = resp->body.len;
	tr_response_dispose(resp);
	buf = h2o_iovec_init(chunk->data, chunk->len);
	h2o_start_response(req, &generator);
	h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

/*
 * Replace an answer by 503 in OCI's envelope, keeping its request id:
 * what it acknowledged could not be made durable.
 */
static void
fail_response(struct tr_response *resp, const char *why)
{
	char rid[512] = "";
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcmp(resp->headers[i].name, "opc-request-id") == 0)
			(void)snprintf(rid, sizeof(rid), "%s",
			    resp->headers[i].value);
	tr_response_dispose(resp);
	tr_response_init(resp);
	resp->status = 503;
	(void)snprintf(resp->error_code, sizeof(resp->error_code),
	    "ServiceUnavailable");
	if (rid[0] != '\0')
		tr_response_header(resp, "opc-request-id", rid);
	tr_buf_addf(&resp->body, "{\"code\":\"ServiceUnavailable\","
	    "\"message\":\"%s\"}", why);
}

static void
pending_dispose(void *p)
{
	struct pending *pd = p;

	if (h2o_linklist_is_linked(&pd->link))
		h2o_linklist_unlink(&pd->link);
	if (pd->job != NULL)
		pd->job->pending = NULL;
	if (pd->have_resp)
		tr_response_dispose(&pd->resp);
	pd->have_resp = false;
}

/*
 * While an HTTP/1 request waits for its answer (parked for a sync round,
 * or in the pool), h2o's connection does not read its socket, and
 * libh2o's epoll loop takes the socket out of epoll at the end of the
 * iteration and puts it back when the answer has gone: an EPOLL_CTL_DEL
 * and an EPOLL_CTL_ADD for every parked request, about 5 % of the loop's
 * time under load.  Instead the socket is held: it stays in epoll, with
 * a callback of ours and h2o_socket_dont_read set, so that nothing is
 * read into the buffer the parsed request still points into.  Should the
 * socket become readable meanwhile (the client closed it, or pipelines),
 * it goes back to h2o's own state, leaving epoll then; the event, level-
 * triggered, is raised again once h2o reads after the answer.  Before an
 * answer goes out the socket is given back to h2o's state as well, so
 * h2o finds exactly what it left.  HTTP/2 streams share their socket and
 * are left alone.
 */
static void
held_on_read(h2o_socket_t *sock, const char *err)
{
	(void)err;
	h2o_socket_dont_read(sock, 0);
	h2o_socket_read_stop(sock);
}

static h2o_socket_t *
http1_socket(h2o_req_t *req)
{
	if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
		return NULL;
	return req->conn->callbacks->get_socket(req->conn);
}

static void
hold_reading(struct pending *pd)
{
	h2o_socket_t *sock = http1_socket(pd->req);

	if (pd->held || sock == NULL || h2o_socket_is_reading(sock))
		return;
	h2o_socket_dont_read(sock, 1);
	h2o_socket_read_start(sock, held_on_read);
	pd->held = true;
}

static void
release_reading(struct pending *pd)
{
	h2o_socket_t *sock;

	if (pd == NULL || !pd->held)
		return;
	pd->held = false;
	if ((sock = http1_socket(pd->req)) != NULL)
		held_on_read(sock, NULL);
}

/*
 * The record of req's answer, in req's pool, its response initialised:
 * the handler writes the answer straight into it (a response is a few
 * KiB: it is never copied on the way out).
 */
static struct pending *
pending_new(h2o_req_t *req)
{
	struct pending *pd = h2o_mem_alloc_shared(&req->pool, sizeof(*pd),
	    pending_dispose);

	memset(pd, 0, offsetof(struct pending, resp));
	pd->req = req;
	tr_response_init(&pd->resp);
	pd->have_resp = true;
	return pd;
}

/* Send pd's answer (as 503 when its sync failed: st < 0). */
static void
send_pending(struct pending *pd, int st)
{
	pd->have_resp = false;
	if (st < 0)
		fail_response(&pd->resp, "the outcome could not be made "
		    "durable (disk or audit log failure); it is unknown, "
		    "retry with the same opc-retry-token");
	release_reading(pd);
	send_response(pd->req, &pd->resp);
}

/*
 * The handler's answer is in pd->resp: send it now when it needs no sync
 * or its ticket is already durable, else park it.
 */
static void
answer(struct worker *w, struct pending *pd)
{
	struct tr_durable *d = w->srv->cfg->durable;
	int st = 1;

	if (pd->resp.durable_ticket != 0 && d != NULL)
		st = tr_durable_status(d, pd->resp.durable_ticket);
	if (st != 0) {
		send_pending(pd, st);
		return;
	}
	hold_reading(pd);
	pd->ticket = pd->resp.durable_ticket;
	/* keep the list in ticket order (pool threads finish in any) */
	{
		h2o_linklist_t *pos = w->parked.prev;

		while (pos != &w->parked && H2O_STRUCT_FROM_MEMBER(
		    struct pending, link, pos)->ticket > pd->ticket)
			pos = pos->prev;
		h2o_linklist_insert(pos->next, &pd->link);
	}
}

/* After a sync round: send every parked answer that is now durable. */
static void
flush_parked(struct worker *w)
{
	struct tr_durable *d = w->srv->cfg->durable;
	struct pending *pd;
	int st;

	while (!h2o_linklist_is_empty(&w->parked)) {
		pd = H2O_STRUCT_FROM_MEMBER(struct pending, link,
		    w->parked.next);
		st = tr_durable_status(d, pd->ticket);
		if (st == 0)
			break;		/* later tickets are later still */
		h2o_linklist_unlink(&pd->link);
		send_pending(pd, st);
	}
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	tr_response_dispose(&j->resp);
	if (j->mem != NULL) {
		tr_secure_zero(j->mem, j->memlen);
		tr_free(j->mem);
	}
	tr_free(j);
}

/* Answers back from the pool: send or park each. */
static void
flush_done(struct worker *w)
{
	struct job *j, *next;

	pthread_mutex_lock(&w->done_lock);
	j = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->done_lock);
	for (; j != NULL; j = next) {
		struct pending *pd = j->pending;

		next = j->next;
		if (pd != NULL) {
			pd->job = NULL;
			tr_response_dispose(&pd->resp);
			pd->resp = j->resp;		/* moved */
			tr_response_init(&j->resp);
			pd->have_resp = true;
			answer(w, pd);
		}
		job_free(j);
	}
}

static void
on_wake(h2o_multithread_receiver_t *recv, h2o_linklist_t *messages)
{
	struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, receiver,
	    recv);

	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(
		    h2o_multithread_message_t, link, messages->next);

		h2o_linklist_unlink(&m->link);
	}
	atomic_store(&w->wake_pending, 0);
	flush_done(w);
	if (w->srv->cfg->durable != NULL)
		flush_parked(w);
}

/* Any thread: make the loop run on_wake soon (at most one in flight). */
static void
wake_worker(void *payload)
{
	struct worker *w = payload;

	if (atomic_exchange(&w->wake_pending, 1) == 0)
		h2o_multithread_send_message(&w->receiver, &w->wake_msg);
}

/* Copy the request for a pool thread (h2o may dispose the original). */
static struct job *
job_new(struct worker *w, const struct tr_request *r)
{
	struct job *j;
	struct tr_header *hdrs;
	size_t i, need, off;

	j = tr_calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	need = r->method_len + r->target_len + r->body_len + 3 +
	    r->nheaders * sizeof(struct tr_header) + 16;
	for (i = 0; i < r->nheaders; i++)
		need += r->headers[i].name_len + r->headers[i].value_len + 2;
	j->mem = tr_malloc(need);
	if (j->mem == NULL) {
		tr_free(j);
		return NULL;
	}
	j->memlen = need;
	j->w = w;
	tr_response_init(&j->resp);
	/* the header array first, aligned */
	hdrs = (struct tr_header *)(void *)j->mem;
	off = r->nheaders * sizeof(struct tr_header);
#define COPY(dst, src, len) do {				\
		memcpy(j->mem + off, (src), (len));		\
		j->mem[off + (len)] = '\0';			\
		(dst) = j->mem + off;				\
		off += (len) + 1;				\
	} while (0)
	for (i = 0; i < r->nheaders; i++) {
		COPY(hdrs[i].name, r->headers[i].name, r->headers[i].name_len);
		hdrs[i].name_len = r->headers[i].name_len;
		COPY(hdrs[i].value, r->headers[i].value,
		    r->headers[i].value_len);
		hdrs[i].value_len = r->headers[i].value_len;
	}
	j->r = *r;
	COPY(j->r.method, r->method, r->method_len);
	COPY(j->r.target, r->target, r->target_len);
	COPY(j->r.body, r->body, r->body_len);
#undef COPY
	j->r.headers = hdrs;
	(void)snprintf(j->peer, sizeof(j->peer), "%s",
	    r->peer == NULL ? "" : r->peer);
	j->r.peer = j->peer;
	return j;
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct worker *w = pthread_getspecific(worker_key);
	struct server *srv = w->srv;
	struct tr_request r;
	struct tr_response resp;
	struct pending *pd;
	struct job *j;
	char peer[INET6_ADDRSTRLEN + 8];

	(void)self;
	make_request(req, &r, peer, sizeof(peer));
	if (srv->cfg->offload_threads == 0) {
		pd = pending_new(req);
		srv->cfg->handle(w->state, &r, &pd->resp);
		answer(w, pd);
		return 0;
	}
	j = job_new(w, &r);
	pthread_mutex_lock(&srv->pool.lock);
	if (j == NULL || srv->pool.queued >= srv->cfg->offload_queue_max) {
		pthread_mutex_unlock(&srv->pool.lock);
		job_free(j);
		tr_response_init(&resp);
		fail_response(&resp, "tresord is overloaded; retry later");
		tr_response_header(&resp, "retry-after", "1");
		send_response(req, &resp);
		return 0;
	}
	pd = pending_new(req);
	pd->have_resp = false;		/* the pool's job has it */
	pd->job = j;
	j->pending = pd;
	hold_reading(pd);
	if (srv->pool.tail != NULL)
		srv->pool.tail->next = j;
	else
		srv->pool.head = j;
	srv->pool.tail = j;
	srv->pool.queued++;
	pthread_cond_signal(&srv->pool.cv);
	pthread_mutex_unlock(&srv->pool.lock);
	return 0;
}

/* A handler thread of the pool. */
static void *
pool_main(void *arg)
{
	struct server *srv = arg;
	struct pool *p = &srv->pool;
	struct worker *w;
	struct job *j;
	void *state = NULL;
	int rc;

	if ((rc = srv->cfg->thread_init(&state, srv->cfg->payload)) < 0) {
		pthread_mutex_lock(&p->lock);
		if (p->rc == 0) {
			p->rc = rc;
			(void)snprintf(p->err, sizeof(p->err), "%s",
			    tresor_error_last());
		}
		pthread_mutex_unlock(&p->lock);
		*srv->stop = 1;
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->lock);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		j = p->head;
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);

		j->next = NULL;
		srv->cfg->handle(state, &j->r, &j->resp);
		w = j->w;
		pthread_mutex_lock(&w->done_lock);
		j->next = w->done;
		w->done = j;
		pthread_mutex_unlock(&w->done_lock);
		wake_worker(w);
	}
	srv->cfg->thread_fini(state);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* threads                                                          */
/* ---------------------------------------------------------------- */

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	struct worker *w = listener->data;
	h2o_socket_t *sock;
	struct conn *c;
	struct sockaddr_storage ss;
	socklen_t sl;
	int i, fd, one = 1;

	if (err != NULL)
		return;
	/* accept a few per wake-up; SO_REUSEPORT balances the threads */
	for (i = 0; i < 16; i++) {
		sl = sizeof(ss);
		fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = tr_calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		peer_text(&ss, sl, c->peer, sizeof(c->peer));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		sock = h2o_evloop_socket_create(w->loop, fd,
		    H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
		c->fd = fd;
		c->sock = sock;
		c->next = w->conns;
		c->pprev = &w->conns;
		if (w->conns != NULL)
			w->conns->pprev = &c->next;
		w->conns = c;
		sock->on_close.cb = conn_closed;
		sock->on_close.data = c;
		h2o_accept(&w->accept_ctx, sock);
	}
}

static bool
has_connections(struct worker *w)
{
	return !h2o_linklist_is_empty(&w->ctx.http1._conns) ||
	    !h2o_linklist_is_empty(&w->ctx.http2._conns);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct conn *c;
	int64_t deadline, now;
	sig_atomic_t seen_reload;

	pthread_setspecific(worker_key, w);
	if (srv->cfg->offload_threads == 0 &&
	    (w->rc = srv->cfg->thread_init(&w->state, srv->cfg->payload)) < 0) {
		(void)snprintf(w->err, sizeof(w->err), "%s",
		    tresor_error_last());
		close(w->fd);
		w->fd = -1;
		*srv->stop = 1;
		return NULL;
	}
	w->loop = h2o_evloop_create();
	h2o_context_init(&w->ctx, w->loop, &srv->config);
	h2o_linklist_init_anchor(&w->parked);
	w->queue = h2o_multithread_create_queue(w->loop);
	h2o_multithread_register_receiver(w->queue, &w->receiver, on_wake);
	w->durable_sub = -1;
	if (srv->cfg->durable != NULL)
		w->durable_sub = tr_durable_subscribe(srv->cfg->durable,
		    wake_worker, w);
	w->accept_ctx.ctx = &w->ctx;
	w->accept_ctx.hosts = srv->config.hosts;
	w->accept_ctx.ssl_ctx = srv->ssl_ctx;
	w->listener = h2o_evloop_socket_create(w->loop, w->fd,
	    H2O_SOCKET_FLAG_DONT_READ);
	w->listener->data = w;
	h2o_socket_read_start(w->listener, on_accept);

	seen_reload = srv->cfg->tls_reload != NULL ? *srv->cfg->tls_reload : 0;
	while (!*srv->stop) {
		/* one round of syncs for the whole turn's answers */
		tr_durable_defer_begin();
		h2o_evloop_run(w->loop, 200);
		tr_durable_defer_end();
		if (srv->ssl_ctx != NULL && srv->cfg->tls_reload != NULL &&
		    *srv->cfg->tls_reload != seen_reload) {
			seen_reload = *srv->cfg->tls_reload;
			reload_tls(w);
		}
	}

	/*
	 * Graceful: no new connections.  Requests in flight finish: handlers
	 * run to completion on this thread, h2o answers requests arriving on
	 * open connections with keep-alive off, and a request whose body is
	 * still arriving keeps its connection.  A connection that has read
	 * nothing for SHUTDOWN_IDLE_MS is idle (a keep-alive connection
	 * between requests): its reading side is shut, so h2o closes it.
	 */
	h2o_socket_read_stop(w->listener);
	h2o_socket_close(w->listener);
	w->listener = NULL;
	w->fd = -1;
	h2o_context_request_shutdown(&w->ctx);
	now = tr_mono_ms();
	for (c = w->conns; c != NULL; c = c->next) {
		c->seen_bytes = c->sock->bytes_read;
		c->last_change = now;
	}
	deadline = now + SHUTDOWN_GRACE_MS;
	while ((w->conns != NULL || has_connections(w)) &&
	    tr_mono_ms() < deadline) {
		h2o_evloop_run(w->loop, 20);
		now = tr_mono_ms();
		for (c = w->conns; c != NULL; c = c->next) {
			if (c->sock->bytes_read != c->seen_bytes) {
				c->seen_bytes = c->sock->bytes_read;
				c->last_change = now;
			} else if (c->last_change >= 0 &&
			    now - c->last_change >= SHUTDOWN_IDLE_MS) {
				(void)shutdown(c->fd, SHUT_RD);
				c->last_change = -1;	/* done */
			}
		}
	}
	/* let deferred closes and zero-timeouts run */
	for (int i = 0; i < 4; i++)
		h2o_evloop_run(w->loop, 0);
	tr_durable_unsubscribe(srv->cfg->durable, w->durable_sub);
	w->durable_sub = -1;
	/*
	 * h2o_context_request_shutdown() arms http2's graceful-shutdown
	 * timer; with no connection left it has nothing to do.
	 */
	if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
		h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
	if (srv->cfg->offload_threads == 0)
		srv->cfg->thread_fini(w->state);
	w->state = NULL;
	/*
	 * The context goes on the thread that ran it (h2o keeps state of
	 * the loop's thread); a thread that could not drain (a client stuck
	 * mid-write past the grace period) keeps it: h2o may not dispose
	 * one with live connections.  Our wake queue stays: the handler
	 * pool may still post to it until it stops.
	 */
	if (w->conns == NULL && !has_connections(w)) {
		h2o_context_dispose(&w->ctx);
		w->disposed = true;
	}
	return NULL;
}

/* A TLS 1.2+ context with the configured certificate chain and key. */
static int
make_tls_ctx(const struct tr_http_config *cfg, SSL_CTX **out)
{
	static const h2o_iovec_t alpn[] = {
		{ H2O_STRLIT("h2") },
		{ H2O_STRLIT("http/1.1") },
		{ NULL, 0 }
	};
	SSL_CTX *ctx;

	*out = NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return tr_error_set(TRESOR_ENOMEM, "cannot create TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		SSL_CTX_free(ctx);
		return tr_error_set(TRESOR_EINVAL,
		    "cannot load TLS certificate %s", cfg->tls_cert);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return tr_error_set(TRESOR_EINVAL,
		    "cannot load TLS key %s (or it does not match the "
		    "certificate)", cfg->tls_key);
	}
	h2o_ssl_register_alpn_protocols(ctx, alpn);
	*out = ctx;
	return 0;
}

/* Keep `old` until no connection can still be waiting to use it. */
static void
retire_ctx(struct worker *w, SSL_CTX *old)
{
	int64_t now = tr_mono_ms();
	size_t i, oldest = 0;

	for (i = 0; i < RETIRED_MAX; i++) {
		if (w->retired[i] != NULL &&
		    now - w->retired_at[i] > RETIRE_KEEP_MS) {
			SSL_CTX_free(w->retired[i]);
			w->retired[i] = NULL;
		}
		if (w->retired[i] == NULL ||
		    (w->retired[oldest] != NULL &&
		    w->retired_at[i] < w->retired_at[oldest]))
			oldest = i;
	}
	/* sixteen reloads within two minutes: the oldest must go */
	if (w->retired[oldest] != NULL)
		SSL_CTX_free(w->retired[oldest]);
	w->retired[oldest] = old;
	w->retired_at[oldest] = now;
}

/*
 * SIGHUP: load the certificate and key again; new connections use them,
 * open ones keep theirs (each SSL holds a reference to its context).  A
 * bad new pair is refused and the old one kept.
 */
static void
reload_tls(struct worker *w)
{
	SSL_CTX *ctx = NULL;

	if (make_tls_ctx(w->srv->cfg, &ctx) < 0) {
		/*
		 * Drop OpenSSL's errors from this thread's queue: h2o reads
		 * the queue after each handshake step, and a stale error
		 * there fails the next connection's handshake.
		 */
		ERR_clear_error();
		tr_log_error("TLS reload refused, keeping the old certificate:"
		    " %s", tresor_error_last());
		return;
	}
	if (w->own_ctx != NULL)
		retire_ctx(w, w->own_ctx);
	w->own_ctx = ctx;
	w->accept_ctx.ssl_ctx = ctx;
	tr_log_info("TLS certificate reloaded");
}

/*
 * Start event loop i: on its CPU of cfg->cpus when given, named
 * tresord-loopN (top -H, ps -L and the tests tell the threads apart).
 * 0 or pthread_create's error.
 */
static int
start_loop(struct server *srv, unsigned int i)
{
	const struct tr_http_config *cfg = srv->cfg;
	pthread_attr_t attr;
	cpu_set_t one;
	char name[16];
	int e;

	pthread_attr_init(&attr);
	if (cfg->ncpus > 0) {
		CPU_ZERO(&one);
		CPU_SET(cfg->cpus[i % cfg->ncpus], &one);
		(void)pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
	}
	e = pthread_create(&srv->threads[i], &attr, worker_main,
	    srv->workers[i]);
	pthread_attr_destroy(&attr);
	if (e != 0)
		return e;
	(void)snprintf(name, sizeof(name), "tresord-loop%u", i);
	(void)pthread_setname_np(srv->threads[i], name);
	return 0;
}

int
tr_http_serve(const struct tr_http_config *cfg, volatile sig_atomic_t *stop)
{
	struct server srv;
	struct handler *h;
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	unsigned int i, started = 0;
	int rc = 0;

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.stop = stop;
	if (cfg->threads == 0 || cfg->threads > MAX_THREADS ||
	    cfg->offload_threads > MAX_THREADS)
		return tr_error_set(TRESOR_EINVAL,
		    "threads must be 1..%d", MAX_THREADS);
	pthread_mutex_init(&srv.pool.lock, NULL);
	pthread_cond_init(&srv.pool.cv, NULL);
	(void)pthread_key_create(&worker_key, NULL);
	h2o_config_init(&srv.config);
	srv.config.server_name = h2o_iovec_init(H2O_STRLIT("tresor"));
	srv.config.max_request_entity_size = cfg->max_body;
	srv.config.http1.req_timeout = cfg->request_timeout_ms;
	srv.config.http2.idle_timeout = cfg->request_timeout_ms * 6;
	host = h2o_config_register_host(&srv.config,
	    h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = (struct handler *)h2o_create_handler(path, sizeof(*h));
	h->super.on_req = on_req;
	if (cfg->tls_cert != NULL && (rc = make_tls_ctx(cfg,
	    &srv.ssl_ctx)) < 0)
		goto out;

	for (i = 0; i < cfg->threads; i++) {
		struct worker *w = tr_calloc(1, sizeof(*w));

		if (w == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		w->srv = &srv;
		w->fd = -1;
		w->durable_sub = -1;
		pthread_mutex_init(&w->done_lock, NULL);
		srv.workers[i] = w;
		w->fd = tr_http_listen(cfg->host, cfg->port);
		if (w->fd < 0) {
			rc = w->fd;
			goto out;
		}
	}
	for (i = 0; i < cfg->offload_threads; i++) {
		if (pthread_create(&srv.pool.threads[i], NULL, pool_main,
		    &srv) != 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot start threads");
			*stop = 1;
			break;
		}
		(void)pthread_setname_np(srv.pool.threads[i], "tresord-pool");
		srv.pool.nthreads++;
	}
	for (i = 0; i < cfg->threads && rc == 0; i++) {
		if (start_loop(&srv, i) != 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot start threads");
			*stop = 1;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(srv.threads[i], NULL);
		if (srv.workers[i]->rc < 0 && rc == 0)
			rc = tr_error_set(srv.workers[i]->rc, "%s",
			    srv.workers[i]->err);
	}
out:
	/* the loops are gone: stop the pool, then drop what it answered */
	pthread_mutex_lock(&srv.pool.lock);
	srv.pool.stop = true;
	pthread_cond_broadcast(&srv.pool.cv);
	pthread_mutex_unlock(&srv.pool.lock);
	for (i = 0; i < srv.pool.nthreads; i++)
		pthread_join(srv.pool.threads[i], NULL);
	if (srv.pool.rc < 0 && rc == 0)
		rc = tr_error_set(srv.pool.rc, "%s", srv.pool.err);
	while (srv.pool.head != NULL) {
		struct job *j = srv.pool.head;

		srv.pool.head = j->next;
		job_free(j);
	}
	for (i = 0; i < cfg->threads && i < MAX_THREADS; i++) {
		struct job *j, *next;

		if (srv.workers[i] == NULL)
			continue;
		for (j = srv.workers[i]->done; j != NULL; j = next) {
			next = j->next;
			job_free(j);
		}
		srv.workers[i]->done = NULL;
	}
	for (i = 0; i < cfg->threads && i < MAX_THREADS; i++) {
		if (srv.workers[i] == NULL)
			continue;
		if (!srv.workers[i]->disposed && srv.workers[i]->fd >= 0)
			close(srv.workers[i]->fd);
		if (srv.workers[i]->own_ctx != NULL)
			SSL_CTX_free(srv.workers[i]->own_ctx);
		for (size_t k = 0; k < RETIRED_MAX; k++)
			if (srv.workers[i]->retired[k] != NULL)
				SSL_CTX_free(srv.workers[i]->retired[k]);
		pthread_mutex_destroy(&srv.workers[i]->done_lock);
		tr_free(srv.workers[i]);
	}
	h2o_config_dispose(&srv.config);
	if (srv.ssl_ctx != NULL)
		SSL_CTX_free(srv.ssl_ctx);
	return rc;
}
