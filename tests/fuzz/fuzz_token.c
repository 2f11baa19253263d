/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for workload session tokens (src/auth/token.c):
 * tr_token_verify() with a real issuer, keystore and store.
 *
 * At start-up the target makes a scratch data directory with a FIXED
 * root key (so tokens in the seed corpus keep their valid MAC from one
 * run to the next), a SQLite store holding an enrolled workload and a
 * deleted one, and an issuer.  The first input byte picks the mode:
 *
 *   even: the rest is the token text (what follows "ST$" in a keyId);
 *   odd:  the rest is "<header JSON>\n<claims JSON>"; the target encodes
 *         both parts and MACs them with the issuer's key, so the fuzzer
 *         reaches the claim checks behind the signature (exp, iat, sub,
 *         ptype, jwk...) that an attacker cannot reach, but a bug there
 *         still matters to anyone holding the root key or a token.
 *
 * Invariants: a failure is TRESOR_EAUTH (or ENOMEM) and hands out no key;
 * a success hands out an RSA key and a principal naming the enrolled
 * workload.  FUZZ_TOKEN_WRITE_SEEDS=DIR writes valid tokens as seeds.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (scripts/fuzz.sh).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth/token.h"
#include "crypto/keystore.h"
#include "store/store.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/log.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TENANCY "ocid1.tenancy.oc1..fuzztenancy"
#define WORKLOAD "ocid1.fnfunc.oc1.xx-local-1.fuzzworkload"
#define GONE "ocid1.fnfunc.oc1.xx-local-1.fuzzdeleted"
#define TOKEN_PURPOSE "tresor/session-token/v1"	/* as in token.c */

static struct tr_keystore *ks;
static struct tr_store *st;
static struct tr_token_issuer *iss;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_token: %s: %s\n", what, tresor_error_last());
	exit(1);
}

static void
put_workload(const char *id, const char *state)
{
	struct tr_store_write w;
	struct tr_obj o;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	(void)snprintf(o.id, sizeof(o.id), "%s", id);
	(void)snprintf(o.type, sizeof(o.type), "workload");
	(void)snprintf(o.tenancy_id, sizeof(o.tenancy_id), TENANCY);
	(void)snprintf(o.compartment_id, sizeof(o.compartment_id), TENANCY);
	(void)snprintf(o.name, sizeof(o.name), "%s", id + 30);
	(void)snprintf(o.state, sizeof(o.state), "%s", state);
	(void)snprintf(o.etag, sizeof(o.etag), "etag-%s", state);
	o.time_created = 1750000000000LL;
	o.attrs = "{\"kind\":\"RESOURCE\",\"resourceType\":\"fnfunc\","
	    "\"definedTags\":{\"ops\":{\"env\":\"prod\"}}}";
	w.kind = TR_W_OBJ_PUT;
	w.obj = &o;
	if (st->ops->apply(st, &w, 1) < 0)
		die("storing a workload");
}

/* Write tokens of every kind into `dir` as seeds. */
static void
write_seeds(const char *dir)
{
	static const struct {
		const char *name;
		const char *id;
		int kind;
		int64_t ttl;
	} seeds[] = {
		{ "valid_resource", WORKLOAD, TR_PRINCIPAL_RESOURCE,
		    100LL * 365 * 86400 },
		{ "valid_instance", WORKLOAD, TR_PRINCIPAL_INSTANCE,
		    100LL * 365 * 86400 },
		{ "deleted_workload", GONE, TR_PRINCIPAL_RESOURCE,
		    100LL * 365 * 86400 },
		{ "short_lived", WORKLOAD, TR_PRINCIPAL_RESOURCE, 60 },
	};
	struct tr_principal p;
	EVP_PKEY *key;
	char path[1024], *tok;
	size_t i;
	FILE *f;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (key == NULL)
		die("keygen");
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.kind = seeds[i].kind;
		(void)snprintf(p.id, sizeof(p.id), "%s", seeds[i].id);
		(void)snprintf(p.tenancy_id, sizeof(p.tenancy_id), TENANCY);
		(void)snprintf(p.compartment_id, sizeof(p.compartment_id),
		    TENANCY);
		(void)snprintf(p.resource_type, sizeof(p.resource_type),
		    "fnfunc");
		if (tr_token_issue(iss, &p, key, seeds[i].ttl, &tok, NULL) < 0)
			die("issuing a seed token");
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    seeds[i].name);
		f = fopen(path, "wb");
		if (f == NULL)
			die(path);
		fputc('t', f);		/* even: raw token mode */
		fputs(tok, f);
		fclose(f);
		tr_free(tok);
	}
	EVP_PKEY_free(key);
}

static void
setup(void)
{
	/* a fixed, throw-away root key: seeds stay valid across runs */
	static const unsigned char root[TR_ROOT_KEY_LEN] =
	    "tresor-fuzz-root-key-0123456789";
	const char *dir = fz_tmpdir("fuzz-token");
	char path[600];
	int fd;

	tr_log_set_level(TR_LOG_NONE);
	tr_json_init();
	(void)snprintf(path, sizeof(path), "%s/root.key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, root, sizeof(root)) != (ssize_t)sizeof(root))
		die("writing the root key");
	close(fd);
	if (tr_keystore_open(&ks, path) < 0)
		die("opening the keystore");
	(void)snprintf(path, sizeof(path), "%s/tresor.db", dir);
	if (tr_store_sqlite_open(&st, path, true) < 0)
		die("creating the store");
	put_workload(WORKLOAD, "ACTIVE");
	put_workload(GONE, "DELETED");
	if (tr_token_issuer_new(&iss, ks, 3600) < 0)
		die("issuer");
	if (getenv("FUZZ_TOKEN_WRITE_SEEDS") != NULL)
		write_seeds(getenv("FUZZ_TOKEN_WRITE_SEEDS"));
}

/* "<header>\n<claims>" -> b64url(header).b64url(claims).b64url(mac) */
static char *
sign_parts(const char *in, size_t len)
{
	const char *nl = memchr(in, '\n', len);
	unsigned char mac[32];
	size_t hlen, clen, cap, n;
	char *tok;

	if (nl == NULL)
		return NULL;
	hlen = (size_t)(nl - in);
	clen = len - hlen - 1;
	cap = tr_base64_encoded_len(hlen) + tr_base64_encoded_len(clen) + 64;
	tok = tr_malloc(cap);
	if (tok == NULL)
		return NULL;
	if (tr_base64url_encode(tok, cap, in, hlen) < 0)
		goto fail;
	n = strlen(tok);
	tok[n++] = '.';
	if (tr_base64url_encode(tok + n, cap - n, nl + 1, clen) < 0)
		goto fail;
	n += strlen(tok + n);
	if (tr_keystore_mac(ks, TOKEN_PURPOSE, tok, n, mac) < 0)
		goto fail;
	tok[n++] = '.';
	if (tr_base64url_encode(tok + n, cap - n, mac, sizeof(mac)) < 0)
		goto fail;
	return tok;
fail:
	tr_free(tok);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_principal p;
	EVP_PKEY *key = NULL;
	char *tok = NULL;
	const char *t;
	size_t tlen;
	int rc;

	if (ks == NULL)
		setup();
	if (size < 1 || size > 20000)
		return 0;
	if ((data[0] & 1) == 0) {
		t = (const char *)data + 1;
		tlen = size - 1;
	} else {
		tok = sign_parts((const char *)data + 1, size - 1);
		if (tok == NULL)
			return 0;
		t = tok;
		tlen = strlen(tok);
	}
	memset(&p, 0, sizeof(p));
	rc = tr_token_verify(iss, st, t, tlen, &p, &key);
	if (rc < 0) {
		FZ_CHECK(rc == TRESOR_EAUTH || rc == TRESOR_ENOMEM,
		    "verify failed with %d (%s)", rc, tresor_error_last());
		FZ_CHECK(key == NULL, "a key handed out on failure");
	} else {
		FZ_CHECK(key != NULL && EVP_PKEY_get_base_id(key) ==
		    EVP_PKEY_RSA, "success without an RSA session key");
		FZ_CHECK(strcmp(p.id, WORKLOAD) == 0, "principal %s is not "
		    "the enrolled workload", p.id);
		FZ_CHECK(strcmp(p.tenancy_id, TENANCY) == 0, "tenancy %s",
		    p.tenancy_id);
	}
	EVP_PKEY_free(key);
	tr_free(tok);
	return 0;
}
