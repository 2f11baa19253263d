/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Session tokens for workloads (see token.h).
 *
 * A token is a compact JWT, HS256 under a key the keystore derives from
 * the root key (so every node sharing the root key verifies it and no
 * extra secret exists).  Claims: sub (the workload OCID), res_tenant,
 * res_compartment, res_type, ptype ("resource" or "instance"), iat, exp,
 * jti and jwk, the RSA session public key the workload signs requests
 * with.  Verification checks the MAC in constant time, the algorithm
 * (only HS256: "none" and the rest are refused), the expiry, and that
 * the workload is still enrolled, so deleting a workload revokes its
 * tokens at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "auth/token.h"
#include "crypto/keystore.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/error.h"
#include "util/json.h"
#include "util/rand.h"

#define TOKEN_MAX 8192
#define TOKEN_PURPOSE "tresor/session-token/v1"
#define CLOCK_SKEW_SEC 300

struct tr_token_issuer {
	struct tr_keystore *ks;
	int64_t ttl_sec;
};

int
tr_token_issuer_new(struct tr_token_issuer **out, struct tr_keystore *ks,
    int64_t ttl_sec)
{
	*out = tr_calloc(1, sizeof(**out));
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	(*out)->ks = ks;
	(*out)->ttl_sec = ttl_sec;
	return 0;
}

void
tr_token_issuer_free(struct tr_token_issuer *iss)
{
	tr_free(iss);
}

int64_t
tr_token_issuer_ttl(const struct tr_token_issuer *iss)
{
	return iss->ttl_sec;
}

/* base64url of a BIGNUM, into a new JSON string. */
static json_t *
bn_b64(const BIGNUM *bn)
{
	unsigned char buf[1024];
	char b64[1400];
	int n = BN_num_bytes(bn);

	if (n <= 0 || n > (int)sizeof(buf) || BN_bn2bin(bn, buf) != n ||
	    tr_base64url_encode(b64, sizeof(b64), buf, (size_t)n) < 0)
		return NULL;
	return json_string(b64);
}

/* The JWK {kty, n, e} of an RSA public key. */
static json_t *
jwk_of(EVP_PKEY *pub)
{
	BIGNUM *n = NULL, *e = NULL;
	json_t *j = NULL, *jn, *je;

	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	jn = bn_b64(n);
	je = bn_b64(e);
	if (jn == NULL || je == NULL) {
		json_decref(jn);
		json_decref(je);
		goto out;
	}
	j = json_pack("{s:s, s:o, s:o}", "kty", "RSA", "n", jn, "e", je);
out:
	BN_free(n);
	BN_free(e);
	return j;
}

/* An RSA public key from a JWK {kty: RSA, n, e}. */
static int
key_of_jwk(const json_t *jwk, EVP_PKEY **out)
{
	unsigned char nb[1024], eb[16];
	const char *ns, *es, *kty;
	size_t nl, el;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int rc = TRESOR_EAUTH;

	*out = NULL;
	kty = json_string_value(json_object_get(jwk, "kty"));
	ns = json_string_value(json_object_get(jwk, "n"));
	es = json_string_value(json_object_get(jwk, "e"));
	if (kty == NULL || strcmp(kty, "RSA") != 0 || ns == NULL || es == NULL ||
	    tr_base64url_decode(nb, sizeof(nb), &nl, ns, strlen(ns)) < 0 ||
	    tr_base64url_decode(eb, sizeof(eb), &el, es, strlen(es)) < 0 ||
	    nl < 256)
		return tr_error_set(TRESOR_EAUTH,
		    "session token carries no usable session key (jwk)");
	n = BN_bin2bn(nb, (int)nl, NULL);
	e = BN_bin2bn(eb, (int)el, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (n == NULL || e == NULL || bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto fail;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = tr_error_set(TRESOR_EAUTH,
	    "session token carries an invalid session key");
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return rc;
}

/* base64url(JSON) appended to `out`. */
static int
add_part(struct tr_buf *out, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS), *b64;
	size_t n;
	int rc;

	if (s == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	n = strlen(s) * 4 / 3 + 4;
	b64 = tr_malloc(n);
	if (b64 == NULL) {
		tr_free(s);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	rc = tr_base64url_encode(b64, n, s, strlen(s));
	if (rc == 0)
		rc = tr_buf_addstr(out, b64);
	tr_free(b64);
	tr_free(s);
	return rc;
}

int
tr_token_issue(struct tr_token_issuer *iss, const struct tr_principal *p,
    EVP_PKEY *session_key, int64_t ttl_sec, char **token_out,
    int64_t *exp_out)
{
	unsigned char mac[32], jti[16];
	char macb64[64], jtib64[32];
	struct tr_buf tok;
	json_t *hdr = NULL, *claims = NULL, *jwk = NULL;
	int64_t now = tr_real_now_ms() / 1000;
	int rc;

	*token_out = NULL;
	tr_buf_init(&tok, TOKEN_MAX);
	if (ttl_sec <= 0)
		ttl_sec = iss->ttl_sec;
	if ((jwk = jwk_of(session_key)) == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "the session key must be an RSA public key");
		goto out;
	}
	if ((rc = tr_random_bytes(jti, sizeof(jti))) < 0 ||
	    (rc = tr_base64url_encode(jtib64, sizeof(jtib64), jti,
	    sizeof(jti))) < 0)
		goto out;
	hdr = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "typ", "JWT",
	    "kid", "tresor-1");
	claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:O}",
	    "sub", p->id,
	    "res_tenant", p->tenancy_id,
	    "res_compartment", p->compartment_id,
	    "res_type", p->resource_type,
	    "ptype", p->kind == TR_PRINCIPAL_INSTANCE ? "instance" :
	    "resource",
	    "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + ttl_sec),
	    "jti", jtib64,
	    "jwk", jwk);
	if (hdr == NULL || claims == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = add_part(&tok, hdr)) < 0 ||
	    (rc = tr_buf_addc(&tok, '.')) < 0 ||
	    (rc = add_part(&tok, claims)) < 0 ||
	    (rc = tr_keystore_mac(iss->ks, TOKEN_PURPOSE, tok.ptr, tok.len,
	    mac)) < 0 ||
	    (rc = tr_base64url_encode(macb64, sizeof(macb64), mac,
	    sizeof(mac))) < 0 ||
	    (rc = tr_buf_addc(&tok, '.')) < 0 ||
	    (rc = tr_buf_addstr(&tok, macb64)) < 0)
		goto out;
	if (exp_out != NULL)
		*exp_out = now + ttl_sec;
	*token_out = tr_buf_detach(&tok);
	rc = 0;
out:
	tr_buf_dispose(&tok);
	json_decref(hdr);
	json_decref(claims);
	json_decref(jwk);
	return rc;
}

/* Decode one base64url JWT part into a JSON object (bounded). */
static int
decode_part(const char *s, size_t len, json_t **out)
{
	struct tr_json_limits lim = { TOKEN_MAX, 4, 16, 32 };
	char buf[TOKEN_MAX];
	size_t n;

	*out = NULL;
	if (tr_base64url_decode(buf, sizeof(buf), &n, s, len) < 0)
		return tr_error_set(TRESOR_EAUTH,
		    "session token is not a JWT (bad base64url)");
	if (tr_json_parse_object(out, buf, n, &lim) < 0)
		return tr_error_set(TRESOR_EAUTH,
		    "session token is not a JWT (bad JSON)");
	return 0;
}

int
tr_token_verify(struct tr_token_issuer *iss, struct tr_store *st,
    const char *token, size_t len, struct tr_principal *out,
    EVP_PKEY **session_key_out)
{
	const char *d1, *d2, *alg, *sub, *ptype, *tenant;
	unsigned char mac[32], given[40];
	char when[TR_TIME_RFC3339_LEN];
	json_t *hdr = NULL, *claims = NULL, *a = NULL;
	struct tr_obj w;
	size_t glen;
	int64_t now = tr_real_now_ms() / 1000, exp;
	int rc;

	*session_key_out = NULL;
	memset(&w, 0, sizeof(w));
	if (len == 0 || len > TOKEN_MAX)
		return tr_error_set(TRESOR_EAUTH,
		    "session token is empty or too long");
	d1 = memchr(token, '.', len);
	d2 = d1 == NULL ? NULL : memchr(d1 + 1, '.',
	    len - (size_t)(d1 + 1 - token));
	if (d1 == NULL || d2 == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
		return tr_error_set(TRESOR_EAUTH,
		    "session token is not a JWT (expected three parts)");
	if ((rc = decode_part(token, (size_t)(d1 - token), &hdr)) < 0)
		goto out;
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (alg == NULL || strcmp(alg, "HS256") != 0) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token was not issued by this tresor (algorithm "
		    "%.16s)", alg == NULL ? "none" : alg);
		goto out;
	}
	if ((rc = tr_keystore_mac(iss->ks, TOKEN_PURPOSE, token,
	    (size_t)(d2 - token), mac)) < 0)
		goto out;
	if (tr_base64url_decode(given, sizeof(given), &glen, d2 + 1,
	    len - (size_t)(d2 + 1 - token)) < 0 || glen != sizeof(mac) ||
	    !tr_ct_eq(given, mac, sizeof(mac))) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token signature is invalid (forged, altered, or "
		    "issued under another root key)");
		goto out;
	}
	if ((rc = decode_part(d1 + 1, (size_t)(d2 - d1 - 1), &claims)) < 0)
		goto out;
	exp = json_integer_value(json_object_get(claims, "exp"));
	/* seconds since the epoch, before year 10000: no overflow below */
	if (exp < 0 || exp > INT64_C(253402300799)) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token has an invalid expiry time");
		goto out;
	}
	if (exp <= now) {
		tr_time_rfc3339(when, exp * 1000);
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token expired at %s; obtain a new token", when);
		goto out;
	}
	if (json_integer_value(json_object_get(claims, "iat")) >
	    now + CLOCK_SKEW_SEC) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token is issued in the future");
		goto out;
	}
	sub = json_string_value(json_object_get(claims, "sub"));
	ptype = json_string_value(json_object_get(claims, "ptype"));
	tenant = json_string_value(json_object_get(claims, "res_tenant"));
	if (sub == NULL || ptype == NULL || tenant == NULL) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token lacks its subject claims");
		goto out;
	}
	/* the workload must still be enrolled */
	rc = st->ops->obj_get(st, &w, sub, "workload");
	if (rc == TRESOR_ENOTFOUND || (rc == 0 && (strcmp(w.state,
	    "ACTIVE") != 0 || strcmp(w.tenancy_id, tenant) != 0))) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "session token names workload %s, which is no longer "
		    "enrolled", sub);
		goto out;
	}
	if (rc < 0)
		goto out;
	if ((rc = key_of_jwk(json_object_get(claims, "jwk"),
	    session_key_out)) < 0)
		goto out;
	a = json_loads(w.attrs == NULL ? "{}" : w.attrs, 0, NULL);
	memset(out, 0, sizeof(*out));
	out->kind = strcmp(ptype, "instance") == 0 ? TR_PRINCIPAL_INSTANCE :
	    TR_PRINCIPAL_RESOURCE;
	(void)snprintf(out->id, sizeof(out->id), "%s", w.id);
	(void)snprintf(out->tenancy_id, sizeof(out->tenancy_id), "%s",
	    w.tenancy_id);
	(void)snprintf(out->compartment_id, sizeof(out->compartment_id), "%s",
	    w.compartment_id);
	(void)snprintf(out->resource_type, sizeof(out->resource_type), "%s",
	    json_string_value(json_object_get(a, "resourceType")) == NULL ?
	    "" : json_string_value(json_object_get(a, "resourceType")));
	(void)snprintf(out->key_id, sizeof(out->key_id), "session-token");
	rc = 0;
out:
	if (rc < 0) {
		EVP_PKEY_free(*session_key_out);
		*session_key_out = NULL;
	}
	json_decref(a);
	json_decref(hdr);
	json_decref(claims);
	tr_obj_dispose(&w);
	return rc;
}
