/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the whole API layer: tr_api_handle() (router,
 * path and query parsing, authentication, every handler and its body
 * checks) over a real SQLite store and keystore in a scratch directory.
 *
 * FUZZ_EXTRA_SOURCES: src/daemon/init.c src/daemon/hsm.c
 *
 * Start-up: `tresord init` (tr_daemon_init, linked in) makes a data
 * directory; the target then creates, through signed requests of the
 * administrator, one of each object (vault, AES and RSA keys, a secret
 * with two versions, compartment, user with an API key, group,
 * membership, policy, dynamic group, workload) and snapshots the
 * database.
 *
 * Each input is a request in the text format of fuzz_common.h, preceded
 * by one mode byte:
 *
 *   'S'  signed: the target signs the request as the administrator would
 *        (x-date now, host, and for POST/PUT/PATCH content-type,
 *        content-length, x-content-sha256; input headers of those names
 *        are dropped), so the body and query reach the handlers;
 *   else raw: the request is handed over as it is (unauthenticated
 *        requests exercise the router, the public routes and every
 *        failure path of authentication).
 *
 * In the method, target, headers and body, these placeholders are
 * replaced by the OCIDs made at start-up: {T} tenancy, {V} vault, {K}
 * AES key, {KV} its version, {R} RSA key, {RV} its version, {S} secret,
 * {C} compartment, {U} user, {FP} the user's API key fingerprint, {G}
 * group, {M} membership, {P} policy, {D} dynamic group, {W} workload,
 * {ME} and {CE} the vault's management and crypto endpoint paths.
 *
 * After a request in signed mode that changed something (a 2xx answer to
 * anything but GET) the database snapshot is restored, so every input
 * starts from the same state and crashes reproduce.
 *
 * Invariants (a failure traps, so libFuzzer keeps the input):
 *   - no 5xx answer (an input must never cause an internal error; set
 *     FUZZ_API_ALLOW_5XX=1 to look past them, FUZZ_API_5XX_LOG=FILE to
 *     log each for triage, FUZZ_API_IGNORE_5XX_BODY=TEXT to look past
 *     only the 5xx answers whose body holds TEXT);
 *   - a non-empty JSON body parses; an error body is {code, message}
 *     with both non-empty; opc-request-id is set; no header value holds
 *     CR or LF;
 *   - the fixture secret's content (a canary) never appears in an error
 *     body, raw or base64, unless the input itself carried it.
 *
 * Build: scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/api.h"
#include "auth/httpsig.h"
#include "auth/token.h"
#include "crypto/keystore.h"
#include "crypto/x509ca.h"
#include "daemon/daemon.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture secret's content: must never show in an error body. */
#define CANARY "fuzz-canary-7f3a9c"
#define MAX_EXPANDED (2 * 1024 * 1024)

/* tresord's main.c defines this; init.c needs it */
int
tr_daemon_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tresord: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

struct fixture {
	const char *name;	/* placeholder without braces */
	char value[512];
};

static struct fixture fx[] = {
	{ "T", "" }, { "V", "" }, { "KV", "" }, { "K", "" }, { "RV", "" },
	{ "R", "" }, { "S", "" }, { "C", "" }, { "U", "" }, { "FP", "" },
	{ "G", "" }, { "M", "" }, { "P", "" }, { "D", "" }, { "W", "" },
	{ "ME", "" }, { "CE", "" },
};
#define NFX (sizeof(fx) / sizeof(fx[0]))

static struct {
	char data[600];
	char db[700];
	char snap[700];
	struct tr_api_env env;
	struct tr_keystore *ks;
	struct tr_token_issuer *iss;
	struct tr_ca *ca;
	struct tr_api_thread *t;
	EVP_PKEY *admin;
	char key_id[1024];
	bool allow_5xx;
	FILE *log_5xx;
	bool ready;
} g;

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_api: %s: %s\n", what, detail);
	exit(1);
}

static char *
fx_get(const char *name)
{
	size_t i;

	for (i = 0; i < NFX; i++)
		if (strcmp(fx[i].name, name) == 0)
			return fx[i].value;
	die("no fixture", name);
	return NULL;
}

static int
open_store(struct tr_store **out, void *payload)
{
	(void)payload;
	return tr_store_sqlite_open(out, g.db, false);
}

/*
 * The audit sink: the record's text must be one JSON object (whatever
 * bytes the request carried); keep none of it.
 */
static int
audit_sink(void *payload, const char *record, size_t len, unsigned int flags,
    uint64_t *ticket)
{
	json_t *v = json_loadb(record, len, 0, NULL);

	(void)payload;
	(void)flags;
	if (ticket != NULL)
		*ticket = 0;
	FZ_CHECK(json_is_object(v), "audit record is not a JSON object");
	json_decref(v);
	return 0;
}

/* Expand {X} placeholders of [in, in+len) into `out`. */
static int
expand(struct tr_buf *out, const char *in, size_t len)
{
	size_t i = 0, k, n;

	while (i < len) {
		if (in[i] == '{') {
			for (k = 0; k < NFX; k++) {
				n = strlen(fx[k].name);
				if (i + n + 2 <= len &&
				    memcmp(in + i + 1, fx[k].name, n) == 0 &&
				    in[i + 1 + n] == '}')
					break;
			}
			if (k < NFX) {
				tr_buf_addstr(out, fx[k].value);
				i += strlen(fx[k].name) + 2;
				continue;
			}
		}
		tr_buf_addc(out, in[i]);
		i++;
	}
	return tr_buf_error(out);
}

static bool
hdr_is(const struct tr_header *h, const char *name)
{
	return h->name_len == strlen(name) &&
	    strncasecmp(h->name, name, h->name_len) == 0;
}

static bool
has_body(const struct tr_request *r)
{
	return (r->method_len == 4 && memcmp(r->method, "POST", 4) == 0) ||
	    (r->method_len == 3 && memcmp(r->method, "PUT", 3) == 0) ||
	    (r->method_len == 5 && memcmp(r->method, "PATCH", 5) == 0);
}

/*
 * Sign `fr` as the administrator, the way the SDK does (oci-wire.md 1):
 * drops the input's own copies of the signed headers and appends ours.
 * The strings live in `store` (NUL-separated).
 */
static void
sign_request(struct fz_request *fr, struct tr_buf *store)
{
	static const char *const own[] = { "host", "x-date", "date",
		"content-type", "content-length", "x-content-sha256",
		"authorization", NULL };
	struct tr_header kept[FZ_MAX_HEADERS];
	unsigned char digest[32];
	char date[TR_TIME_HTTP_LEN], sha[64], clen[24];
	struct tr_buf ss, sig;
	size_t i, k, n = 0, off[8];
	bool body = has_body(&fr->req);

	for (i = 0; i < fr->req.nheaders; i++) {
		for (k = 0; own[k] != NULL; k++)
			if (hdr_is(&fr->hdrs[i], own[k]))
				break;
		if (own[k] == NULL && n < FZ_MAX_HEADERS - 8)
			kept[n++] = fr->hdrs[i];
	}
	tr_time_http(date, tr_real_now_ms() / 1000);
	EVP_Digest(fr->req.body, fr->req.body_len, digest, NULL, EVP_sha256(),
	    NULL);
	(void)tr_base64_encode(sha, sizeof(sha), digest, sizeof(digest));
	(void)snprintf(clen, sizeof(clen), "%zu", fr->req.body_len);

	tr_buf_init(&ss, 64 * 1024);
	tr_buf_addf(&ss, "x-date: %s\n(request-target): ", date);
	for (i = 0; i < fr->req.method_len; i++) {
		char c = fr->req.method[i];

		tr_buf_addc(&ss, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
	}
	tr_buf_addc(&ss, ' ');
	tr_buf_add(&ss, fr->req.target, fr->req.target_len);
	tr_buf_addstr(&ss, "\nhost: 127.0.0.1:8200");
	if (body)
		tr_buf_addf(&ss, "\ncontent-type: application/json\n"
		    "content-length: %s\nx-content-sha256: %s", clen, sha);
	tr_buf_init(&sig, 4096);
	if (tr_buf_error(&ss) < 0 ||
	    tr_httpsig_sign(&sig, g.admin, ss.ptr, ss.len) < 0)
		die("signing", tresor_error_last());

	/* the values, kept in `store`; offsets because it may move */
	tr_buf_reset(store);
	off[0] = store->len;
	tr_buf_add(store, date, strlen(date) + 1);
	off[1] = store->len;
	tr_buf_addf(store, "Signature version=\"1\",keyId=\"%s\",algorithm="
	    "\"rsa-sha256\",headers=\"x-date (request-target) host%s\","
	    "signature=\"%s\"", g.key_id, body ? " content-type "
	    "content-length x-content-sha256" : "", sig.ptr);
	tr_buf_addc(store, '\0');
	off[2] = store->len;
	tr_buf_add(store, clen, strlen(clen) + 1);
	off[3] = store->len;
	tr_buf_add(store, sha, strlen(sha) + 1);
	if (tr_buf_error(store) < 0)
		die("signing", "out of memory");

#define ADD(nm, v) do {							\
	kept[n].name = nm;						\
	kept[n].name_len = strlen(nm);					\
	kept[n].value = v;						\
	kept[n].value_len = strlen(v);					\
	n++;								\
} while (0)
	ADD("host", "127.0.0.1:8200");
	ADD("x-date", store->ptr + off[0]);
	ADD("authorization", store->ptr + off[1]);
	ADD("content-type", "application/json");
	if (body) {
		ADD("content-length", store->ptr + off[2]);
		ADD("x-content-sha256", store->ptr + off[3]);
	}
#undef ADD
	memcpy(fr->hdrs, kept, n * sizeof(kept[0]));
	fr->req.nheaders = n;
	tr_buf_dispose(&ss);
	tr_buf_dispose(&sig);
}

/*
 * With FUZZ_API_ALLOW_5XX=1 and FUZZ_API_5XX_LOG=FILE, each 5xx answer
 * is logged (operation, status, body, the input in hex) for triage
 * instead of stopping the run.
 */
static void
log_5xx(const struct tr_response *resp, const uint8_t *in, size_t inlen,
    const struct tr_request *req)
{
	size_t i;

	fprintf(g.log_5xx, "%d %.*s %.*s | %s | ", resp->status,
	    (int)req->method_len, req->method,
	    (int)(req->target_len > 120 ? 120 : req->target_len), req->target,
	    tr_buf_cstr(&resp->body));
	for (i = 0; i < inlen && i < 4096; i++)
		fprintf(g.log_5xx, "%02x", in[i]);
	fputc('\n', g.log_5xx);
	fflush(g.log_5xx);
}

/* Check what every answer must satisfy. */
static void
check_response(const struct tr_response *resp, const uint8_t *in,
    size_t inlen, const struct tr_request *req)
{
	const char *code, *msg, *ignore = getenv("FUZZ_API_IGNORE_5XX_BODY");
	json_t *j = NULL;
	size_t i;
	bool rid = false;

	FZ_CHECK(resp->status >= 200 && resp->status <= 599, "status %d",
	    resp->status);
	if (resp->status >= 500 && ignore != NULL && ignore[0] != '\0' &&
	    strstr(tr_buf_cstr(&resp->body), ignore) != NULL) {
		/* a known 5xx, being looked past while it is fixed */
		if (g.log_5xx != NULL)
			log_5xx(resp, in, inlen, req);
	} else if (!g.allow_5xx)
		FZ_CHECK(resp->status < 500, "%.*s %.*s answered %d: %s",
		    (int)req->method_len, req->method,
		    (int)(req->target_len > 300 ? 300 : req->target_len),
		    req->target, resp->status, tr_buf_cstr(&resp->body));
	else if (resp->status >= 500 && g.log_5xx != NULL)
		log_5xx(resp, in, inlen, req);
	for (i = 0; i < resp->nheaders; i++) {
		FZ_CHECK(strpbrk(resp->headers[i].value, "\r\n") == NULL,
		    "CR/LF in response header %s", resp->headers[i].name);
		if (strcmp(resp->headers[i].name, "opc-request-id") == 0 &&
		    resp->headers[i].value[0] != '\0')
			rid = true;
	}
	FZ_CHECK(rid, "no opc-request-id");
	if (resp->body.len > 0 && resp->content_type == NULL) {
		j = json_loadb(resp->body.ptr, resp->body.len, 0, NULL);
		FZ_CHECK(j != NULL, "body is not JSON: %.200s",
		    tr_buf_cstr(&resp->body));
	}
	if (resp->status >= 400) {
		code = json_string_value(json_object_get(j, "code"));
		msg = json_string_value(json_object_get(j, "message"));
		FZ_CHECK(code != NULL && code[0] != '\0' && msg != NULL &&
		    msg[0] != '\0', "error %d without code and message: %.200s",
		    resp->status, tr_buf_cstr(&resp->body));
		if (memmem(in, inlen, CANARY, strlen(CANARY)) == NULL &&
		    memmem(in, inlen, "ZnV6ei1jYW5hcnktN2YzYTlj", 24) == NULL)
			FZ_CHECK(memmem(resp->body.ptr, resp->body.len, CANARY,
			    strlen(CANARY)) == NULL && memmem(resp->body.ptr,
			    resp->body.len, "ZnV6ei1jYW5hcnktN2YzYTlj", 24) ==
			    NULL, "secret content in an error body: %s",
			    tr_buf_cstr(&resp->body));
	}
	json_decref(j);
}

/*
 * Send one request (text format, placeholders expanded) and return the
 * response status; with `out` the response JSON (caller decrefs).
 */
static int
call(const char *text, bool sign, json_t **out)
{
	struct fz_request fr;
	struct tr_response resp;
	struct tr_buf x, store;
	int status;

	tr_buf_init(&x, MAX_EXPANDED);
	tr_buf_init(&store, 64 * 1024);
	if (expand(&x, text, strlen(text)) < 0)
		die("expand", text);
	fz_parse_request(&fr, x.ptr, x.len);
	if (sign)
		sign_request(&fr, &store);
	tr_response_init(&resp);
	tr_api_handle(g.t, &fr.req, &resp);
	status = resp.status;
	if (out != NULL)
		*out = json_loadb(resp.body.ptr, resp.body.len, 0, NULL);
	if (status != 200 && out != NULL) {
		fprintf(stderr, "fuzz_api: set-up request failed (%d): %s\n%s\n",
		    status, text, tr_buf_cstr(&resp.body));
		exit(1);
	}
	tr_response_dispose(&resp);
	tr_buf_dispose(&x);
	tr_buf_dispose(&store);
	return status;
}

/* Set fixture `name` from member `member` of the answer to `text`. */
static void
create(const char *name, const char *member, const char *text)
{
	json_t *j = NULL;
	const char *v;

	(void)call(text, true, &j);
	v = json_string_value(json_object_get(j, member));
	if (v == NULL)
		die("set-up answer lacks", member);
	(void)snprintf(fx_get(name), sizeof(fx[0].value), "%s", v);
	json_decref(j);
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t r;
	int in, o;

	in = open(from, O_RDONLY);
	if (in < 0)
		return;
	o = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (o < 0)
		die("copy", to);
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(o, buf, (size_t)r) != r)
			die("copy", to);
	close(in);
	close(o);
}

static void
new_thread(void)
{
	if (tr_api_thread_new(&g.t, &g.env) < 0)
		die("thread", tresor_error_last());
}

/* Put the database back as the set-up left it. */
static void
restore(void)
{
	char p[800];

	tr_api_thread_free(g.t);
	g.t = NULL;
	(void)snprintf(p, sizeof(p), "%s-wal", g.db);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s-shm", g.db);
	(void)unlink(p);
	copy_file(g.snap, g.db);
	new_thread();
}

static void
read_config(const char *path, char *user, char *fp, char *tenancy)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die("config", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "user=", 5) == 0)
			(void)snprintf(user, 256, "%s", line + 5);
		else if (strncmp(line, "fingerprint=", 12) == 0)
			(void)snprintf(fp, 64, "%s", line + 12);
		else if (strncmp(line, "tenancy=", 8) == 0)
			(void)snprintf(tenancy, 256, "%s", line + 8);
	}
	fclose(f);
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		die("key", path);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		die("key", "cannot parse");
	return k;
}

/* A fresh RSA public key PEM, JSON-escaped newlines. */
static void
new_pub_pem(char *out, size_t cap)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len, i;
	size_t o = 0;

	if (k == NULL || bio == NULL || PEM_write_bio_PUBKEY(bio, k) != 1)
		die("keygen", "RSA");
	len = BIO_get_mem_data(bio, &data);
	for (i = 0; i < len && o + 3 < cap; i++) {
		if (data[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = data[i];
		}
	}
	out[o] = '\0';
	BIO_free(bio);
	EVP_PKEY_free(k);
}

static void
setup(void)
{
	char *argv[] = { "init", "--data", g.data, "--endpoint",
		"http://127.0.0.1:8200", NULL };
	char path[800], user[256], fp[64], tenancy[256], pem[1024];
	char text[4096], *cakey = NULL;
	json_t *j = NULL;
	int out_fd, null_fd;

	tr_log_set_level(TR_LOG_NONE);
	g.allow_5xx = getenv("FUZZ_API_ALLOW_5XX") != NULL;
	if (getenv("FUZZ_API_5XX_LOG") != NULL)
		g.log_5xx = fopen(getenv("FUZZ_API_5XX_LOG"), "a");
	(void)snprintf(g.data, sizeof(g.data), "%s/data", fz_tmpdir("fuzz-api"));
	/* init prints a summary: keep libFuzzer's output readable */
	fflush(stdout);
	out_fd = dup(1);
	null_fd = open("/dev/null", O_WRONLY);
	if (null_fd >= 0)
		dup2(null_fd, 1);
	if (tr_daemon_init(5, argv) != 0)
		die("tresord init", g.data);
	fflush(stdout);
	dup2(out_fd, 1);
	close(out_fd);
	if (null_fd >= 0)
		close(null_fd);

	(void)snprintf(path, sizeof(path), "%s/root.key", g.data);
	if (tr_keystore_open(&g.ks, path) < 0)
		die("keystore", tresor_error_last());
	if (tr_token_issuer_new(&g.iss, g.ks, 3600) < 0 ||
	    tr_ca_create(&g.ca, g.ks, &cakey) < 0)
		die("issuer/CA", tresor_error_last());
	tr_free(cakey);
	(void)snprintf(g.db, sizeof(g.db), "%s/tresor.db", g.data);
	(void)snprintf(g.snap, sizeof(g.snap), "%s/snapshot.db", g.data);
	g.env.ks = g.ks;
	g.env.issuer = g.iss;
	g.env.ca = g.ca;
	g.env.data_dir = g.data;
	g.env.db_path = g.db;
	g.env.region = "xx-local-1";
	g.env.audit = audit_sink;
	g.env.store_open = open_store;
	if (tr_usage_new(&g.env.usage) < 0)
		die("usage", tresor_error_last());
	new_thread();

	(void)snprintf(path, sizeof(path), "%s/admin/config", g.data);
	read_config(path, user, fp, tenancy);
	(void)snprintf(g.key_id, sizeof(g.key_id), "%s/%s/%s", tenancy, user,
	    fp);
	(void)snprintf(path, sizeof(path), "%s/admin/key.pem", g.data);
	g.admin = read_key(path);
	(void)snprintf(fx_get("T"), 512, "%s", tenancy);

	create("V", "id", "POST /20180608/vaults\n\n{\"compartmentId\":\"{T}\","
	    "\"displayName\":\"fz\",\"vaultType\":\"DEFAULT\"}");
	(void)snprintf(fx_get("ME"), 512, "/kms/%s/management", fx_get("V"));
	(void)snprintf(fx_get("CE"), 512, "/kms/%s/crypto", fx_get("V"));
	create("K", "id", "POST {ME}/20180608/keys\n\n{\"compartmentId\":"
	    "\"{T}\",\"displayName\":\"fzk\",\"keyShape\":{\"algorithm\":"
	    "\"AES\",\"length\":32},\"protectionMode\":\"SOFTWARE\"}");
	create("KV", "currentKeyVersion", "GET {ME}/20180608/keys/{K}\n\n");
	create("R", "id", "POST {ME}/20180608/keys\n\n{\"compartmentId\":"
	    "\"{T}\",\"displayName\":\"fzr\",\"keyShape\":{\"algorithm\":"
	    "\"RSA\",\"length\":256},\"protectionMode\":\"SOFTWARE\"}");
	create("RV", "currentKeyVersion", "GET {ME}/20180608/keys/{R}\n\n");
	create("S", "id", "POST /20180608/secrets\n\n{\"compartmentId\":"
	    "\"{T}\",\"vaultId\":\"{V}\",\"keyId\":\"{K}\",\"secretName\":"
	    "\"fz-secret\",\"secretContent\":{\"contentType\":\"BASE64\","
	    "\"content\":\"ZnV6ei1jYW5hcnktN2YzYTlj\"}}");
	(void)call("PUT /20180608/secrets/{S}\n\n{\"secretContent\":"
	    "{\"contentType\":\"BASE64\",\"content\":\"dHdv\"}}", true, &j);
	json_decref(j);
	create("C", "id", "POST /20160918/compartments\n\n{\"compartmentId\":"
	    "\"{T}\",\"name\":\"fzc\",\"description\":\"d\"}");
	create("U", "id", "POST /20160918/users\n\n{\"compartmentId\":"
	    "\"{T}\",\"name\":\"fzu\",\"description\":\"d\"}");
	create("G", "id", "POST /20160918/groups\n\n{\"compartmentId\":"
	    "\"{T}\",\"name\":\"fzg\",\"description\":\"d\"}");
	create("M", "id", "POST /20160918/userGroupMemberships\n\n{\"userId\":"
	    "\"{U}\",\"groupId\":\"{G}\"}");
	create("P", "id", "POST /20160918/policies\n\n{\"compartmentId\":"
	    "\"{T}\",\"name\":\"fzp\",\"description\":\"d\",\"statements\":"
	    "[\"Allow group fzg to read secret-family in tenancy\"]}");
	create("D", "id", "POST /20160918/dynamicGroups\n\n{\"compartmentId\":"
	    "\"{T}\",\"name\":\"fzd\",\"description\":\"d\",\"matchingRule\":"
	    "\"ALL {resource.type = 'fnfunc'}\"}");
	new_pub_pem(pem, sizeof(pem));
	(void)snprintf(text, sizeof(text), "POST /20160918/users/{U}/apiKeys"
	    "\n\n{\"key\":\"%s\"}", pem);
	create("FP", "fingerprint", text);
	new_pub_pem(pem, sizeof(pem));
	(void)snprintf(text, sizeof(text), "POST /tresor/v1/workloads\n\n"
	    "{\"compartmentId\":\"{T}\",\"displayName\":\"fzw\",\"kind\":"
	    "\"RESOURCE\",\"resourceType\":\"fnfunc\",\"publicKey\":\"%s\"}",
	    pem);
	create("W", "id", text);

	/* the snapshot every mutating input goes back to */
	tr_api_thread_free(g.t);
	g.t = NULL;
	copy_file(g.db, g.snap);
	restore();
	g.ready = true;
	if (getenv("FUZZ_API_PRINT_FIXTURES") != NULL) {
		size_t i;

		for (i = 0; i < NFX; i++)
			fprintf(stderr, "{%s} = %s\n", fx[i].name, fx[i].value);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_request fr;
	struct tr_response resp;
	struct tr_buf x, store;
	bool sign;

	if (!g.ready)
		setup();
	if (size < 1 || size > MAX_EXPANDED / 2)
		return 0;
	sign = data[0] == 'S';
	tr_buf_init(&x, MAX_EXPANDED);
	tr_buf_init(&store, 64 * 1024);
	if (expand(&x, (const char *)data + 1, size - 1) < 0)
		goto out;
	fz_parse_request(&fr, x.ptr, x.len);
	if (sign)
		sign_request(&fr, &store);
	tr_response_init(&resp);
	tr_api_handle(g.t, &fr.req, &resp);
	check_response(&resp, data, size, &fr.req);
	if (sign && resp.status >= 200 && resp.status < 300 &&
	    !(fr.req.method_len == 3 && memcmp(fr.req.method, "GET", 3) == 0))
		restore();
	tr_response_dispose(&resp);
out:
	tr_buf_dispose(&x);
	tr_buf_dispose(&store);
	return 0;
}
