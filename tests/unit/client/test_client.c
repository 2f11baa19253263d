/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client's retry loop against a scripted HTTP server on loopback:
 * 429/500/502/503/504 and dropped connections are retried with the same
 * opc-request-id and opc-retry-token and a fresh signature, Retry-After
 * is waited for (and a too long one ends the retries), a 4xx other than
 * 429 is never retried, requests without a retry token are retried only
 * when nothing can have happened, the attempt count is capped, oversized
 * answers are refused, and bundles are decoded.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "client/client_int.h"
#include "util/clock.h"
#include "util/parse.h"

#include "new_file.h"

#define MAX_REQ 16

/* what the server answers, in order; past the end: 200 {} */
struct reply {
	int status;		/* 0: close the connection, answer nothing */
	const char *headers;	/* extra header lines, "\r\n"-terminated */
	const char *body;
	size_t big;		/* when not 0: a body of this many bytes */
};

struct seen {
	char method[8];
	char target[512];
	char request_id[96];
	char retry_token[96];
	char x_date[64];
	char authorization[2048];
};

static struct {
	int lfd;
	int port;
	pthread_t th;
	const struct reply *script;
	size_t nscript;
	size_t nreq;
	struct seen req[MAX_REQ];
	bool stop;
} srv;

static char dir[64];
static tresor_config *cfg;

static void
header_value(const char *hdrs, const char *name, char *out, size_t cap)
{
	const char *p = hdrs;
	size_t nl = strlen(name), l;

	out[0] = '\0';
	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			l = strcspn(p, "\r\n");
			if (l >= cap)
				l = cap - 1;
			memcpy(out, p, l);
			out[l] = '\0';
			return;
		}
	}
}

static void *
serve(void *arg)
{
	char buf[65536], cl[32], resp[512];
	(void)arg;

	while (!srv.stop) {
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0)
			break;
		for (;;) {
			size_t len = 0, blen;
			ssize_t n;
			char *end;
			const struct reply *r;
			struct seen *s;
			static const struct reply ok = { 200, "", "{}", 0 };

			while ((end = memmem(buf, len, "\r\n\r\n", 4)) ==
			    NULL) {
				n = read(fd, buf + len, sizeof(buf) - 1 - len);
				if (n <= 0)
					goto closed;
				len += (size_t)n;
			}
			buf[len] = '\0';
			header_value(buf, "content-length", cl, sizeof(cl));
			{
				uint64_t v = 0;

				if (cl[0] != '\0')
					(void)tr_parse_u64(cl, strlen(cl), 0,
					    sizeof(buf) / 2, &v);
				blen = (size_t)v;
			}
			while (len < (size_t)(end - buf) + 4 + blen) {
				n = read(fd, buf + len, sizeof(buf) - 1 - len);
				if (n <= 0)
					goto closed;
				len += (size_t)n;
			}
			r = srv.nreq < srv.nscript ? &srv.script[srv.nreq] :
			    &ok;
			if (srv.nreq < MAX_REQ) {
				s = &srv.req[srv.nreq];
				(void)sscanf(buf, "%7s %511s", s->method,
				    s->target);
				header_value(buf, "opc-request-id",
				    s->request_id, sizeof(s->request_id));
				header_value(buf, "opc-retry-token",
				    s->retry_token, sizeof(s->retry_token));
				header_value(buf, "x-date", s->x_date,
				    sizeof(s->x_date));
				header_value(buf, "authorization",
				    s->authorization, sizeof(s->authorization));
			}
			srv.nreq++;
			if (r->status == 0)
				goto closed;
			(void)snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\n"
			    "Content-Type: application/json\r\n"
			    "opc-request-id: srv-%zu\r\n%s"
			    "Content-Length: %zu\r\n\r\n", r->status, srv.nreq,
			    r->headers, r->big != 0 ? r->big :
			    strlen(r->body));
			if (write(fd, resp, strlen(resp)) < 0)
				goto closed;
			if (r->big != 0) {
				size_t sent = 0;

				memset(buf, 'a', sizeof(buf));
				while (sent < r->big) {
					size_t c = r->big - sent > sizeof(buf) ?
					    sizeof(buf) : r->big - sent;

					n = write(fd, buf, c);
					if (n <= 0)
						goto closed;
					sent += (size_t)n;
				}
			} else if (write(fd, r->body, strlen(r->body)) < 0) {
				goto closed;
			}
		}
closed:
		close(fd);
	}
	return NULL;
}

static void
script(const struct reply *r, size_t n)
{
	srv.script = r;
	srv.nscript = n;
	srv.nreq = 0;
	memset(srv.req, 0, sizeof(srv.req));
}

static int
setup(void **state)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	tresor_config_options co = TRESOR_CONFIG_OPTIONS_INIT;
	char path[128], kpath[128], text[1024];
	EVP_PKEY *k = EVP_RSA_gen(2048);
	FILE *f;

	(void)state;
	tresor_global_init(TRESOR_GLOBAL_SECURE_JSON);
	memset(&srv, 0, sizeof(srv));
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(srv.lfd, 8) != 0 ||
	    getsockname(srv.lfd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	srv.port = ntohs(a.sin_port);
	pthread_create(&srv.th, NULL, serve, NULL);

	(void)snprintf(dir, sizeof(dir), "/tmp/tresor-clientXXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(kpath, sizeof(kpath), "%s/key.pem", dir);
	if ((f = new_file(kpath, 0600)) == NULL)
		return -1;
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(k);
	(void)snprintf(path, sizeof(path), "%s/config", dir);
	(void)snprintf(text, sizeof(text), "[DEFAULT]\nuser=ocid1.user.oc1..u\n"
	    "fingerprint=aa:bb\nkey_file=%s\ntenancy=ocid1.tenancy.oc1..t\n"
	    "endpoint=http://127.0.0.1:%d\n", kpath, srv.port);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	co.config_file = path;
	co.ignore_environment = true;
	return tresor_config_load(&cfg, &co);
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	srv.stop = true;
	shutdown(srv.lfd, SHUT_RDWR);
	close(srv.lfd);
	pthread_join(srv.th, NULL);
	tresor_config_free(cfg);
	(void)snprintf(p, sizeof(p), "%s/key.pem", dir);
	unlink(p);
	(void)snprintf(p, sizeof(p), "%s/config", dir);
	unlink(p);
	rmdir(dir);
	tresor_global_cleanup();
	return 0;
}

static tresor_client *
client(unsigned int attempts)
{
	tresor_client_options o = TRESOR_CLIENT_OPTIONS_INIT;
	tresor_client *c = NULL;

	o.config = cfg;
	o.max_attempts = attempts;
	o.base_delay_ms = 10;
	o.max_delay_ms = 50;
	o.max_retry_after_ms = 5000;
	assert_int_equal(tresor_client_new(&c, &o), 0);
	return c;
}

static int
get(tresor_client *c, tresor_response **r)
{
	tresor_request req = TRESOR_REQUEST_INIT;
	const char *pp[1] = { "ocid1.vaultsecret.oc1..s" };

	req.path = "/20180608/secrets/{}";
	req.path_params = pp;
	req.npath_params = 1;
	return tresor_client_call(c, &req, r);
}

static void
test_503_then_ok_waits_retry_after(void **state)
{
	static const struct reply s[] = {
		{ 503, "Retry-After: 1\r\n", "{\"code\":\"ServiceUnavailable\","
		    "\"message\":\"busy\"}", 0 },
		{ 200, "etag: e1\r\n", "{\"id\":\"x\"}", 0 },
	};
	tresor_client *c = client(5);
	tresor_response *r = NULL;
	int64_t t0 = tr_mono_ms();

	(void)state;
	script(s, 2);
	assert_int_equal(get(c, &r), 0);
	assert_true(tr_mono_ms() - t0 >= 1000);
	assert_int_equal(tresor_response_attempts(r), 2);
	assert_int_equal(tresor_response_status(r), 200);
	assert_string_equal(tresor_response_header(r, "etag"), "e1");
	assert_int_equal(srv.nreq, 2);
	/* one call: one request id; each attempt signed */
	assert_string_equal(srv.req[0].request_id, srv.req[1].request_id);
	assert_true(srv.req[0].request_id[0] != '\0');
	assert_non_null(strstr(srv.req[1].authorization, "Signature "
	    "version=\"1\""));
	assert_string_equal(srv.req[0].target,
	    "/20180608/secrets/ocid1.vaultsecret.oc1..s");
	assert_string_equal(srv.req[0].retry_token, "");
	tresor_response_free(r);
	tresor_client_free(c);
}

static void
test_create_keeps_retry_token(void **state)
{
	static const struct reply s[] = {
		{ 429, "", "{\"code\":\"TooManyRequests\",\"message\":"
		    "\"slow\"}", 0 },
		{ 500, "", "{}", 0 },
		{ 502, "", "", 0 },
		{ 504, "", "", 0 },
		{ 200, "", "{\"id\":\"new\"}", 0 },
	};
	tresor_request req = TRESOR_REQUEST_INIT;
	tresor_client *c = client(5);
	tresor_response *r = NULL;
	size_t i;

	(void)state;
	script(s, 5);
	req.method = "POST";
	req.path = "/20180608/secrets";
	req.body = "{\"a\":1}";
	req.body_len = 7;
	req.retry_token_auto = true;
	assert_int_equal(tresor_client_call(c, &req, &r), 0);
	assert_int_equal(tresor_response_attempts(r), 5);
	assert_int_equal(srv.nreq, 5);
	assert_int_equal(strlen(srv.req[0].retry_token), 36);
	for (i = 1; i < 5; i++) {
		assert_string_equal(srv.req[i].retry_token,
		    srv.req[0].retry_token);
		assert_string_equal(srv.req[i].request_id,
		    srv.req[0].request_id);
	}
	tresor_response_free(r);
	tresor_client_free(c);
}

static void
test_4xx_never_retried(void **state)
{
	static const int codes[] = { 400, 401, 403, 404, 409, 412 };
	static const int rcs[] = { TRESOR_EINVAL, TRESOR_EAUTH,
		TRESOR_EDENIED, TRESOR_ENOTFOUND, TRESOR_ECONFLICT,
		TRESOR_EPRECOND };
	struct reply s[1];
	tresor_client *c = client(5);
	tresor_response *r = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		s[0].status = codes[i];
		s[0].headers = "Retry-After: 0\r\n";
		s[0].body = "{\"code\":\"Nope\",\"message\":\"no\\nway\"}";
		s[0].big = 0;
		script(s, 1);
		assert_int_equal(get(c, &r), rcs[i]);
		assert_non_null(r);
		assert_int_equal(srv.nreq, 1);
		assert_int_equal(tresor_response_attempts(r), 1);
		assert_string_equal(tresor_response_error_code(r), "Nope");
		/* control characters of the message are neutralised */
		assert_string_equal(tresor_response_error_message(r),
		    "no way");
		assert_non_null(strstr(tresor_error_last(), "Nope: no way"));
		tresor_response_free(r);
		r = NULL;
	}
	tresor_client_free(c);
}

static void
test_attempts_capped(void **state)
{
	static const struct reply s[] = {
		{ 503, "", "", 0 }, { 503, "", "", 0 }, { 503, "", "", 0 },
		{ 503, "", "", 0 }, { 503, "", "", 0 },
	};
	tresor_client *c = client(3);
	tresor_response *r = NULL;

	(void)state;
	script(s, 5);
	assert_int_equal(get(c, &r), TRESOR_EUNAVAIL);
	assert_int_equal(srv.nreq, 3);
	assert_int_equal(tresor_response_attempts(r), 3);
	tresor_response_free(r);
	tresor_client_free(c);
}

static void
test_long_retry_after_stops(void **state)
{
	static const struct reply s[] = {
		{ 429, "Retry-After: 120\r\n", "", 0 },
	};
	tresor_client *c = client(5);
	tresor_response *r = NULL;
	int64_t t0 = tr_mono_ms();

	(void)state;
	script(s, 1);
	assert_int_equal(get(c, &r), TRESOR_EUNAVAIL);
	assert_int_equal(srv.nreq, 1);
	assert_true(tr_mono_ms() - t0 < 2000);
	tresor_response_free(r);
	tresor_client_free(c);
}

static void
test_safe_mode_without_token(void **state)
{
	static const struct reply s500[] = { { 500, "", "", 0 } };
	static const struct reply s503[] = { { 503, "", "", 0 },
		{ 200, "", "{}", 0 } };
	tresor_request req = TRESOR_REQUEST_INIT;
	tresor_client *c = client(5);
	tresor_response *r = NULL;

	(void)state;
	req.method = "PUT";
	req.path = "/20180608/secrets/x";
	req.body = "{}";
	req.body_len = 2;
	/* a 500 after a PUT may have changed something: not retried */
	script(s500, 1);
	assert_int_equal(tresor_client_call(c, &req, &r), TRESOR_EUNAVAIL);
	assert_int_equal(srv.nreq, 1);
	tresor_response_free(r);
	r = NULL;
	/* a 503 means it was not served: retried */
	script(s503, 2);
	assert_int_equal(tresor_client_call(c, &req, &r), 0);
	assert_int_equal(srv.nreq, 2);
	tresor_response_free(r);
	tresor_client_free(c);
}

static void
test_dropped_connection_retried(void **state)
{
	static const struct reply s[] = {
		{ 0, "", "", 0 },
		{ 200, "", "{\"ok\":true}", 0 },
	};
	tresor_client *c = client(3);
	tresor_response *r = NULL;

	(void)state;
	script(s, 2);
	assert_int_equal(get(c, &r), 0);
	assert_int_equal(srv.nreq, 2);
	tresor_response_free(r);
	tresor_client_free(c);
}

static int log_lines;

static void
count_log(tresor_log_level level, const char *msg, void *payload)
{
	(void)payload;
	(void)msg;
	if (level == TRESOR_LOG_DEBUG)
		log_lines++;
}

static void
test_connection_refused_retried(void **state)
{
	tresor_client_options o = TRESOR_CLIENT_OPTIONS_INIT;
	tresor_client *c = NULL;
	tresor_response *r = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	char ep[64];

	(void)state;
	/* a port nobody listens on */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	(void)snprintf(ep, sizeof(ep), "http://127.0.0.1:%d",
	    ntohs(a.sin_port));
	close(fd);
	o.config = cfg;
	o.endpoint = ep;
	o.max_attempts = 4;
	o.base_delay_ms = 5;
	o.max_delay_ms = 10;
	o.log_fn = count_log;
	log_lines = 0;
	assert_int_equal(tresor_client_new(&c, &o), 0);
	assert_int_equal(get(c, &r), TRESOR_ENET);
	assert_null(r);
	assert_int_equal(log_lines, 4);
	assert_non_null(strstr(tresor_error_last(), "cannot reach"));
	tresor_client_free(c);
}

static void
test_oversized_answer_refused(void **state)
{
	static const struct reply s[] = {
		{ 200, "", "", TR_RESPONSE_MAX + 1 },
	};
	tresor_client *c = client(3);
	tresor_response *r = NULL;

	(void)state;
	script(s, 1);
	assert_int_equal(get(c, &r), TRESOR_ETOOBIG);
	assert_null(r);
	assert_int_equal(srv.nreq, 1);
	tresor_client_free(c);
}

static void
test_bundle_decoded(void **state)
{
	static const struct reply s[] = {
		{ 200, "", "{\"secretId\":\"ocid1.vaultsecret.oc1..s\","
		    "\"versionNumber\":3,\"versionName\":\"v3\",\"stages\":"
		    "[\"CURRENT\",\"LATEST\"],\"timeCreated\":"
		    "\"2026-01-01T00:00:00.000Z\",\"timeOfExpiry\":"
		    "\"2026-01-31T00:00:00.000Z\",\"secretBundleContent\":"
		    "{\"contentType\":\"BASE64\",\"content\":"
		    "\"aHVudGVyMg==\"}}", 0 },
		{ 200, "", "{\"secretId\":\"x\",\"versionNumber\":1,"
		    "\"secretBundleContent\":{\"contentType\":\"BASE64\","
		    "\"content\":\"@@@\"}}", 0 },
	};
	tresor_bundle_selector sel = TRESOR_BUNDLE_SELECTOR_INIT;
	tresor_secret_bundle *b = NULL;
	tresor_client *c = client(1);
	const unsigned char *p;
	size_t len;

	(void)state;
	script(s, 2);
	sel.vault_id = "ocid1.vault.oc1..v";
	sel.secret_name = "db pass&x";
	sel.stage = "CURRENT";
	assert_int_equal(tresor_secret_bundle_get(&b, c, &sel), 0);
	assert_string_equal(srv.req[0].method, "POST");
	assert_string_equal(srv.req[0].target, "/20190301/secretbundles/"
	    "actions/getByName?secretName=db%20pass%26x&vaultId=ocid1.vault."
	    "oc1..v&stage=CURRENT");
	assert_string_equal(tresor_secret_bundle_secret_id(b),
	    "ocid1.vaultsecret.oc1..s");
	assert_int_equal(tresor_secret_bundle_version(b), 3);
	assert_string_equal(tresor_secret_bundle_version_name(b), "v3");
	assert_true(tresor_secret_bundle_has_stage(b, "LATEST"));
	assert_false(tresor_secret_bundle_has_stage(b, "PENDING"));
	assert_int_equal(tresor_secret_bundle_time_of_expiry(b),
	    1769817600000LL);
	p = tresor_secret_bundle_content(b, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(p, "hunter2", 7);
	tresor_secret_bundle_free(b);
	b = NULL;
	sel.vault_id = NULL;
	sel.secret_name = NULL;
	sel.secret_id = "x";
	assert_int_equal(tresor_secret_bundle_get(&b, c, &sel), TRESOR_EINVAL);
	assert_null(b);
	tresor_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_503_then_ok_waits_retry_after),
		cmocka_unit_test(test_create_keeps_retry_token),
		cmocka_unit_test(test_4xx_never_retried),
		cmocka_unit_test(test_attempts_capped),
		cmocka_unit_test(test_long_retry_after_stops),
		cmocka_unit_test(test_safe_mode_without_token),
		cmocka_unit_test(test_dropped_connection_retried),
		cmocka_unit_test(test_connection_refused_retried),
		cmocka_unit_test(test_oversized_answer_refused),
		cmocka_unit_test(test_bundle_decoded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
