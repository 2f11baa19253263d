/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client: requests over libcurl with retries (include/tresor/client.h).
 *
 * One curl easy handle per client keeps its connection alive between
 * calls.  TLS peers are always verified (CURLOPT_SSL_VERIFYPEER and
 * VERIFYHOST), only http and https are spoken, redirects are not
 * followed, the URL is sent exactly as signed (CURLOPT_PATH_AS_IS) and
 * the Host header is set to the signed host.
 *
 * Each attempt is signed afresh (a new x-date); the opc-request-id and
 * opc-retry-token stay the same across the attempts of one call.
 * Responses are bounded (TR_RESPONSE_MAX body, TR_HEADER_LINE_MAX per
 * header line, TR_HEADERS_MAX_BYTES in all) and their bodies live in a
 * zeroing buffer, since a bundle carries secret content.  Nothing here
 * logs a body or an Authorization header.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/rand.h"

#ifndef TRESOR_VERSION
#define TRESOR_VERSION "0.1.0"
#endif

/* the response headers the client keeps */
enum {
	H_ETAG = 0,
	H_REQUEST_ID,
	H_NEXT_PAGE,
	H_WORK_REQUEST_ID,
	H_DATE,
	H_CONTENT_TYPE,
	H_RETRY_AFTER,
	H_COUNT
};

static const char *const kept_headers[H_COUNT] = {
	"etag", "opc-request-id", "opc-next-page", "opc-work-request-id",
	"date", "content-type", "retry-after"
};

struct tresor_response {
	int status;
	unsigned int attempts;
	struct tr_sbuf body;
	char *hdr[H_COUNT];
	size_t header_bytes;
	bool too_big;		/* the body or headers passed a limit */
	char *error_code;
	char *error_message;
	char *endpoint;
};

struct tresor_client {
	const tresor_config *config;
	char *endpoint;
	char *ca_file;
	char *user_agent;
	tresor_signer *signer;
	CURL *curl;
	struct tr_retry_policy policy;
	unsigned int connect_timeout_ms;
	unsigned int timeout_ms;
	tresor_log_fn log_fn;
	void *log_payload;
	int (*cancel_fn)(void *payload);
	void *cancel_payload;
};

/* ------------------------------------------------------------------ */
/* process-wide                                                       */
/* ------------------------------------------------------------------ */

int
tresor_global_init(unsigned int flags)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tr_error_set(TRESOR_EINTERNAL,
		    "libcurl initialisation failed");
	if ((flags & TRESOR_GLOBAL_SECURE_JSON) != 0)
		tr_json_init();
	return 0;
}

void
tresor_global_cleanup(void)
{
	curl_global_cleanup();
}

const char *
tresor_version(void)
{
	return TRESOR_VERSION;
}

/* ------------------------------------------------------------------ */
/* the client                                                         */
/* ------------------------------------------------------------------ */

void
tr_client_log(tresor_client *c, tresor_log_level level, const char *fmt,
    ...)
{
	char msg[1024];
	va_list ap;

	if (c == NULL || c->log_fn == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log_fn(level, msg, c->log_payload);
}

const struct tr_retry_policy *
tr_client_policy(const tresor_client *c)
{
	return &c->policy;
}

static int
dup_opt(char **dst, const char *v)
{
	*dst = NULL;
	if (v == NULL)
		return 0;
	*dst = tr_strdup(v);
	return *dst == NULL ? tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
}

void
tresor_client_free(tresor_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	tresor_signer_free(c->signer);
	tr_free(c->endpoint);
	tr_free(c->ca_file);
	tr_free(c->user_agent);
	tr_free(c);
}

int
tresor_client_new(tresor_client **out, const tresor_client_options *o)
{
	tresor_client *c = NULL;
	const char *ep;
	struct tr_url u;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (o == NULL || o->version != TRESOR_CLIENT_OPTIONS_VERSION ||
	    o->config == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "tresor_client_new: options of version %u with a "
		    "configuration are required",
		    TRESOR_CLIENT_OPTIONS_VERSION);
		goto out;
	}
	c = tr_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	c->config = o->config;
	ep = o->endpoint != NULL ? o->endpoint :
	    tresor_config_get(o->config, "endpoint");
	if (ep == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "no endpoint: set endpoint=<tresord URL> in the profile, "
		    "TRESOR_ENDPOINT, or --endpoint");
		goto out;
	}
	if ((rc = tr_url_parse(&u, ep)) < 0)
		goto out;
	if ((rc = dup_opt(&c->endpoint, ep)) < 0 ||
	    (rc = dup_opt(&c->ca_file, o->ca_file)) < 0 ||
	    (rc = dup_opt(&c->user_agent, o->user_agent)) < 0)
		goto out;
	c->policy.max_attempts = o->max_attempts == 0 ? 5 : o->max_attempts;
	c->policy.base_ms = o->base_delay_ms == 0 ? 200 : o->base_delay_ms;
	c->policy.cap_ms = o->max_delay_ms == 0 ? 30000 : o->max_delay_ms;
	if (c->policy.cap_ms < c->policy.base_ms)
		c->policy.cap_ms = c->policy.base_ms;
	c->policy.max_retry_after_ms = o->max_retry_after_ms == 0 ? 60000 :
	    o->max_retry_after_ms;
	c->connect_timeout_ms = o->connect_timeout_ms == 0 ? 10000 :
	    o->connect_timeout_ms;
	c->timeout_ms = o->timeout_ms == 0 ? 60000 : o->timeout_ms;
	c->log_fn = o->log_fn;
	c->log_payload = o->log_payload;
	c->cancel_fn = o->cancel_fn;
	c->cancel_payload = o->cancel_payload;
	if ((rc = tresor_signer_new(&c->signer, o->config)) < 0)
		goto out;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "cannot create a curl handle");
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	tresor_client_free(c);
	return rc;
}

const char *
tresor_client_endpoint(const tresor_client *c)
{
	return c->endpoint;
}

tresor_signer *
tresor_client_signer(tresor_client *c)
{
	return c->signer;
}

/* ------------------------------------------------------------------ */
/* responses                                                          */
/* ------------------------------------------------------------------ */

static void
response_reset(tresor_response *r)
{
	size_t i;

	r->status = 0;
	tr_sbuf_reset(&r->body);
	for (i = 0; i < H_COUNT; i++)
		TR_FREE_AND_NULL(r->hdr[i]);
	r->header_bytes = 0;
	r->too_big = false;
	TR_FREE_AND_NULL(r->error_code);
	TR_FREE_AND_NULL(r->error_message);
}

void
tresor_response_free(tresor_response *r)
{
	if (r == NULL)
		return;
	response_reset(r);
	tr_sbuf_dispose(&r->body);
	tr_free(r->endpoint);
	tr_free(r);
}

int
tresor_response_status(const tresor_response *r)
{
	return r->status;
}

const char *
tresor_response_body(const tresor_response *r, size_t *len)
{
	if (len != NULL)
		*len = r->body.len;
	return r->body.ptr == NULL ? "" : r->body.ptr;
}

const char *
tresor_response_header(const tresor_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < H_COUNT; i++)
		if (strcasecmp(kept_headers[i], name) == 0)
			return r->hdr[i];
	return NULL;
}

const char *
tresor_response_error_code(const tresor_response *r)
{
	return r->error_code;
}

const char *
tresor_response_error_message(const tresor_response *r)
{
	return r->error_message;
}

unsigned int
tresor_response_attempts(const tresor_response *r)
{
	return r->attempts;
}

const char *
tresor_response_endpoint(const tresor_response *r)
{
	return r->endpoint;
}

/* ------------------------------------------------------------------ */
/* libcurl callbacks                                                  */
/* ------------------------------------------------------------------ */

static size_t
on_body(char *p, size_t size, size_t n, void *u)
{
	tresor_response *r = u;

	if (size != 0 && n > ((size_t)-1) / size)
		return 0;
	if (tr_sbuf_add(&r->body, p, size * n) < 0) {
		r->too_big = true;
		return 0;
	}
	return size * n;
}

/* Keep the headers we know; a new status line starts a new set. */
static size_t
on_header(char *p, size_t size, size_t n, void *u)
{
	tresor_response *r = u;
	size_t len, nlen, i;
	const char *colon, *v, *ve;

	if (size != 0 && n > ((size_t)-1) / size)
		return 0;
	len = size * n;
	r->header_bytes += len;
	if (len > TR_HEADER_LINE_MAX ||
	    r->header_bytes > TR_HEADERS_MAX_BYTES) {
		r->too_big = true;
		return 0;
	}
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* interim (100) or final status line: forget earlier ones */
		for (i = 0; i < H_COUNT; i++)
			TR_FREE_AND_NULL(r->hdr[i]);
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
	nlen = (size_t)(colon - p);
	v = colon + 1;
	ve = p + len;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == '\r' || ve[-1] == '\n' || ve[-1] == ' ' ||
	    ve[-1] == '\t'))
		ve--;
	for (i = 0; i < H_COUNT; i++) {
		if (strlen(kept_headers[i]) == nlen &&
		    strncasecmp(kept_headers[i], p, nlen) == 0) {
			if (ve == v)
				break;	/* empty: absent (oci-wire 2.6) */
			tr_free(r->hdr[i]);
			r->hdr[i] = tr_strndup(v, (size_t)(ve - v));
			if (r->hdr[i] == NULL)
				return 0;
			break;
		}
	}
	return len;
}

static int
on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	tresor_client *c = u;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return c->cancel_fn != NULL && c->cancel_fn(c->cancel_payload) != 0;
}

/* ------------------------------------------------------------------ */
/* building a request                                                 */
/* ------------------------------------------------------------------ */

/* 32 random hex digits, uppercase, or a lowercase UUID shape. */
static void
random_id(char *out, size_t cap, bool uuid)
{
	static const char hexu[] = "0123456789ABCDEF";
	static const char hexl[] = "0123456789abcdef";
	const char *hex = uuid ? hexl : hexu;
	unsigned char r[16];
	size_t i, o = 0;

	if (tr_random_bytes(r, sizeof(r)) < 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		memset(r, 0, sizeof(r));
		memcpy(r, &ts, sizeof(ts) < sizeof(r) ? sizeof(ts) : sizeof(r));
	}
	if (uuid) {
		r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
		r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	}
	for (i = 0; i < 16 && o + 3 < cap; i++) {
		if (uuid && (i == 4 || i == 6 || i == 8 || i == 10))
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
}

/* The request-target: prefix + path with parameters + query. */
static int
build_target(struct tr_buf *t, const struct tr_url *u,
    const tresor_request *req)
{
	const char *p;
	size_t k = 0, i;
	bool first = true;

	tr_buf_addstr(t, u->prefix);
	for (p = req->path; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] == '}') {
			if (k >= req->npath_params ||
			    req->path_params[k] == NULL ||
			    req->path_params[k][0] == '\0')
				return tr_error_set(TRESOR_EINVAL,
				    "path parameter %zu of %s is missing",
				    k + 1, req->path);
			tr_url_encode(t, req->path_params[k++]);
			p++;
			continue;
		}
		tr_buf_addc(t, *p);
	}
	if (k != req->npath_params)
		return tr_error_set(TRESOR_EINVAL,
		    "%zu path parameters for %s", req->npath_params, req->path);
	for (i = 0; i < req->nquery; i++) {
		if (req->query[i].value == NULL)
			continue;
		tr_buf_addc(t, first ? '?' : '&');
		first = false;
		tr_url_encode(t, req->query[i].name);
		tr_buf_addc(t, '=');
		tr_url_encode(t, req->query[i].value);
	}
	return tr_buf_error(t);
}

static bool
idempotent(const char *m)
{
	return strcasecmp(m, "GET") == 0 || strcasecmp(m, "HEAD") == 0 ||
	    strcasecmp(m, "DELETE") == 0;
}

/* Classify a transport failure: may it be retried, and in safe mode? */
static void
classify(CURLcode cc, bool *any, bool *safe)
{
	*any = false;
	*safe = false;
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		*any = true;
		*safe = true;
		break;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		*any = true;
		break;
	default:
		break;
	}
}

static int
status_rc(int status)
{
	switch (status) {
	case 400:
		return TRESOR_EINVAL;
	case 401:
		return TRESOR_EAUTH;
	case 403:
		return TRESOR_EDENIED;
	case 404:
		return TRESOR_ENOTFOUND;
	case 409:
		return TRESOR_ECONFLICT;
	case 412:
		return TRESOR_EPRECOND;
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return TRESOR_EUNAVAIL;
	default:
		return TRESOR_EINTERNAL;
	}
}

/* Copy a string field, bounded, with control characters replaced. */
static char *
clean_copy(const char *s)
{
	size_t n = strlen(s), i;
	char *d;

	if (n > TR_ERROR_FIELD_MAX)
		n = TR_ERROR_FIELD_MAX;
	d = tr_strndup(s, n);
	if (d == NULL)
		return NULL;
	for (i = 0; d[i] != '\0'; i++)
		if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			d[i] = ' ';
	return d;
}

/* Read {"code","message"} of an error answer, when it has one. */
static void
parse_error_body(tresor_response *r)
{
	static const struct tr_json_limits lim = { 256 * 1024, 8, 100, 100 };
	json_t *o = NULL;
	const char *code, *msg;

	if (r->body.len == 0 ||
	    tr_json_parse_object(&o, r->body.ptr, r->body.len, &lim) < 0) {
		tr_error_clear();
		return;
	}
	code = json_string_value(json_object_get(o, "code"));
	msg = json_string_value(json_object_get(o, "message"));
	if (code != NULL)
		r->error_code = clean_copy(code);
	if (msg != NULL)
		r->error_message = clean_copy(msg);
	json_decref(o);
}

/* Sleep `ms`, in slices, stopping early when the caller cancels. */
static bool
sleep_ms(tresor_client *c, uint64_t ms)
{
	struct timespec ts;
	uint64_t slice;

	while (ms > 0) {
		if (c->cancel_fn != NULL && c->cancel_fn(c->cancel_payload))
			return false;
		slice = ms > 50 ? 50 : ms;
		ts.tv_sec = (time_t)(slice / 1000);
		ts.tv_nsec = (long)(slice % 1000) * 1000000L;
		(void)nanosleep(&ts, NULL);
		ms -= slice;
	}
	return c->cancel_fn == NULL || !c->cancel_fn(c->cancel_payload);
}

static struct curl_slist *
add_header(struct curl_slist *l, bool *ok, const char *name,
    const char *value)
{
	char line[TR_HEADER_LINE_MAX];
	struct curl_slist *n;
	int len;

	len = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		*ok = false;
		return l;
	}
	n = curl_slist_append(l, line);
	tr_secure_zero(line, (size_t)len);
	if (n == NULL) {
		*ok = false;
		return l;
	}
	return n;
}

/* One attempt: sign, send, receive into `r`. */
static CURLcode
attempt(tresor_client *c, const tresor_request *req, const struct tr_url *u,
    const char *url, const char *target, const char *request_id,
    const char *retry_token, bool retries, tresor_response *r,
    char *errbuf, int *rc_out)
{
	tresor_signed_headers sh;
	struct curl_slist *h = NULL;
	CURL *e = c->curl;
	CURLcode cc = CURLE_FAILED_INIT;
	const char *body = req->body == NULL ? "" : req->body;
	bool ok = true, post = strcasecmp(req->method, "POST") == 0;
	long status = 0;
	int rc;

	*rc_out = 0;
	response_reset(r);
	if ((rc = tresor_sign(&sh, c->signer, req->method, u->host, target,
	    req->body, req->body_len)) < 0) {
		*rc_out = rc;
		return CURLE_FAILED_INIT;
	}
	h = add_header(h, &ok, "Host", u->host);
	h = add_header(h, &ok, "Content-Type", sh.content_type);
	h = add_header(h, &ok, "Accept", "application/json");
	h = add_header(h, &ok, "opc-request-id", request_id);
	if (retry_token != NULL)
		h = add_header(h, &ok, "opc-retry-token", retry_token);
	if (req->if_match != NULL)
		h = add_header(h, &ok, "if-match", req->if_match);
	h = add_header(h, &ok, "User-Agent", c->user_agent != NULL ?
	    c->user_agent : "tresor/" TRESOR_VERSION);
	if (retries)
		h = add_header(h, &ok, "opc-client-retries", "true");
	h = add_header(h, &ok, "x-date", sh.x_date);
	h = add_header(h, &ok, "date", sh.x_date);
	if (sh.x_content_sha256[0] != '\0')
		h = add_header(h, &ok, "x-content-sha256", sh.x_content_sha256);
	h = add_header(h, &ok, "authorization", sh.authorization);
	if (ok) {
		struct curl_slist *nl = curl_slist_append(h, "Expect:");

		if (nl == NULL)
			ok = false;
		else
			h = nl;
	}
	tresor_signed_headers_dispose(&sh);
	if (!ok) {
		*rc_out = tr_error_set(TRESOR_ENOMEM,
		    "cannot build the request headers");
		goto out;
	}
	curl_easy_reset(e);
	errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
	if (c->cancel_fn != NULL) {
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	}
	if (post || strcasecmp(req->method, "PUT") == 0 ||
	    strcasecmp(req->method, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		if (!post)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcasecmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		if (strcasecmp(req->method, "GET") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	cc = curl_easy_perform(e);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		r->status = (int)status;
	}
out:
	/* the list holds the authorization header: zero it */
	{
		struct curl_slist *it;

		for (it = h; it != NULL; it = it->next)
			tr_secure_zero(it->data, strlen(it->data));
	}
	curl_slist_free_all(h);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	return cc;
}

int
tresor_client_call(tresor_client *c, const tresor_request *req,
    tresor_response **out)
{
	char errbuf[CURL_ERROR_SIZE], request_id[48], token[48];
	struct tr_buf target, url;
	struct tr_url u;
	tresor_response *r = NULL;
	tresor_retry_mode mode;
	const char *retry_token = NULL;
	unsigned int n;
	uint64_t delay, rnd;
	int64_t ra;
	bool any, safe, may;
	CURLcode cc;
	int rc = TRESOR_EINTERNAL, arc;

	*out = NULL;
	tr_buf_init(&target, 64 * 1024);
	tr_buf_init(&url, 64 * 1024);
	if (c == NULL || req == NULL ||
	    req->version != TRESOR_REQUEST_VERSION ||
	    req->method == NULL || req->path == NULL || req->path[0] != '/' ||
	    (req->body == NULL && req->body_len != 0)) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "tresor_client_call: a request of version %u with a method "
		    "and a path starting with / is required",
		    TRESOR_REQUEST_VERSION);
		goto out;
	}
	if ((rc = tr_url_parse(&u, req->base_url != NULL ? req->base_url :
	    c->endpoint)) < 0)
		goto out;
	if ((rc = build_target(&target, &u, req)) < 0)
		goto out;
	tr_buf_addstr(&url, u.origin);
	tr_buf_add(&url, target.ptr, target.len);
	if ((rc = tr_buf_error(&url)) < 0)
		goto out;
	r = tr_calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	tr_sbuf_init(&r->body, TR_RESPONSE_MAX);
	{
		struct tr_buf ep;
		char *q;

		tr_buf_init(&ep, 64 * 1024);
		tr_buf_addf(&ep, "%s %s%s", req->method, u.origin, target.ptr);
		if ((rc = tr_buf_error(&ep)) < 0) {
			tr_buf_dispose(&ep);
			goto out;
		}
		q = strchr(ep.ptr, '?');
		if (q != NULL)
			*q = '\0';
		r->endpoint = tr_buf_detach(&ep);
	}
	if (req->opc_request_id != NULL)
		(void)snprintf(request_id, sizeof(request_id), "%s",
		    req->opc_request_id);
	else
		random_id(request_id, sizeof(request_id), false);
	if (req->retry_token != NULL) {
		retry_token = req->retry_token;
	} else if (req->retry_token_auto) {
		random_id(token, sizeof(token), true);
		retry_token = token;
	}
	mode = req->retry;
	if (mode == TRESOR_RETRY_DEFAULT)
		mode = idempotent(req->method) || retry_token != NULL ?
		    TRESOR_RETRY_ALL : TRESOR_RETRY_SAFE;

	for (n = 1;; n++) {
		int64_t t0 = tr_mono_ms();

		r->attempts = n;
		cc = attempt(c, req, &u, url.ptr, target.ptr, request_id,
		    retry_token, mode != TRESOR_RETRY_NEVER &&
		    c->policy.max_attempts > 1, r, errbuf, &arc);
		if (arc < 0) {
			rc = arc;
			goto out;
		}
		ra = -1;
		if (cc != CURLE_OK) {
			classify(cc, &any, &safe);
			tr_client_log(c, TRESOR_LOG_DEBUG,
			    "%s: %s (attempt %u of %u, %lld ms)", r->endpoint,
			    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc),
			    n, c->policy.max_attempts,
			    (long long)(tr_mono_ms() - t0));
			if (r->too_big) {
				rc = tr_error_set(TRESOR_ETOOBIG,
				    "%s: the response is larger than the "
				    "limit (%zu bytes of body, %zu of headers)",
				    r->endpoint, (size_t)TR_RESPONSE_MAX,
				    (size_t)TR_HEADERS_MAX_BYTES);
				goto out;
			}
			if (cc == CURLE_ABORTED_BY_CALLBACK) {
				rc = tr_error_set(TRESOR_ENET,
				    "%s: cancelled", r->endpoint);
				goto out;
			}
			may = mode == TRESOR_RETRY_ALL ? any :
			    mode == TRESOR_RETRY_SAFE ? safe : false;
			rc = tr_error_set(TRESOR_ENET, "cannot reach %s: %s%s",
			    u.origin, errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(cc), n > 1 ?
			    " (after retries)" : "");
		} else {
			tr_client_log(c, TRESOR_LOG_DEBUG,
			    "%s -> %d (attempt %u of %u, %lld ms)",
			    r->endpoint, r->status, n, c->policy.max_attempts,
			    (long long)(tr_mono_ms() - t0));
			if (r->status >= 200 && r->status < 300) {
				rc = 0;
				break;
			}
			parse_error_body(r);
			if (r->hdr[H_RETRY_AFTER] != NULL &&
			    tr_retry_after_parse(r->hdr[H_RETRY_AFTER],
			    tr_now_ms(), &ra) < 0)
				ra = -1;
			rc = tr_error_set(status_rc(r->status),
			    "%s: %s (HTTP %d%s%s)", r->error_code != NULL ?
			    r->error_code : "error", r->error_message != NULL ?
			    r->error_message : "the service answered an "
			    "error without a message", r->status,
			    r->hdr[H_REQUEST_ID] != NULL ?
			    ", opc-request-id " : "",
			    r->hdr[H_REQUEST_ID] != NULL ?
			    r->hdr[H_REQUEST_ID] : "");
			may = false;
			if (tr_retry_status(r->status)) {
				may = mode == TRESOR_RETRY_ALL ||
				    (mode == TRESOR_RETRY_SAFE &&
				    (r->status == 429 || r->status == 503));
			}
		}
		if (!may || n >= c->policy.max_attempts)
			break;
		if (tr_random_bytes(&rnd, sizeof(rnd)) < 0)
			rnd = (uint64_t)tr_mono_ms() * 2654435761u;
		delay = tr_backoff_delay_ms(&c->policy, n, ra, rnd);
		if (delay == TR_BACKOFF_STOP) {
			tr_client_log(c, TRESOR_LOG_INFO,
			    "%s: not retrying: Retry-After of %lld ms is "
			    "longer than the allowed %llu ms", r->endpoint,
			    (long long)ra,
			    (unsigned long long)c->policy.max_retry_after_ms);
			break;
		}
		tr_client_log(c, TRESOR_LOG_INFO,
		    "%s: %s; retrying in %llu ms (attempt %u of %u)",
		    r->endpoint, cc != CURLE_OK ? "connection failed" :
		    r->status == 429 ? "429 TooManyRequests" : "server error",
		    (unsigned long long)delay, n + 1, c->policy.max_attempts);
		if (!sleep_ms(c, delay)) {
			rc = tr_error_set(TRESOR_ENET, "%s: cancelled",
			    r->endpoint);
			goto out;
		}
	}
	if (cc != CURLE_OK) {
		/* no answer: no response to hand over */
		goto out;
	}
	*out = r;
	r = NULL;
out:
	tresor_response_free(r);
	tr_buf_dispose(&target);
	tr_buf_dispose(&url);
	return rc;
}
