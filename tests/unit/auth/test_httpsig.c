/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP signature verification.
 *
 * Two sources of truth: the verification vector captured from the
 * official OCI TypeScript SDK (oci-wire.md 2.7: its public key, two
 * requests and their signatures), and signatures made by the openssl(1)
 * command in the test over signing strings of our own requests.  Each
 * negative case (wrong key, altered body, altered query, old date,
 * missing header...) must fail with a message naming the check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/auth.h"
#include "auth/httpsig.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"

static const char sdk_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0qwZYqiwrIG08EVyhwqA\n"
    "gYAx9fNAy3Egrn5l9v3o2sJqfX7uYQ1vFI6PBHfy42Pecb22YPz98tqOFQ+FfSaY\n"
    "D3vRaRtcgnrN0heLlAZLAZ1fXCxp3qL6IsrcO5H/FPSOaxAW/1Iy08pHxQuS2T5J\n"
    "lYAIRf1ZFG8ld5EN+wzqUljSCX89N61jEmd7TcRgIph2UmnR4hs/8fnBl9jf7+BS\n"
    "02LD+5a3gebzNUaMKbFR058gvQPrEwKbOHW0ojDF0+YOXrEMQDFs4DJBgovhh455\n"
    "vwKakTG+1DIVMt8/Fe9iS6FsrrCTQ2ntWytkGhfR5pebPIMPF+GxVbqhY7TIGQ72\n"
    "ZQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char get_auth[] =
    "Signature version=\"1\",keyId=\"ocid1.tenancy.oc1..tenant/ocid1.user."
    "oc1..user/63:c3:43:76:85:1b:82:25:24:f7:c5:83:54:56:ba:a3\","
    "algorithm=\"rsa-sha256\",headers=\"x-date (request-target) host\","
    "signature=\"s/pVqvQegaHwWFUAJc/ibqnwKt665l/FmRxUMyvLtg6Vwup0DchQesjK"
    "CDd/+4VEEpBzC+cjC9GGg+2cZA3kEqW/pykQBfSr+PGq5AsE8jF1seHt+TuMfSzwFLOH"
    "DH+BTv5sAeHS4txXlkk5vzltPWNuSwsxtLRCSx47+NlgBit/xRGlyJLs78ZLe6SocCsm"
    "I9pYf3rwMXnor9pop1rEKSCfkI3ca0Xjy7ttR2r62kfxTFGI2sJu/9LQg5i1IxJhXXWi"
    "cdejRrVUPues2cxjJ4f1YIWSwzzCque4Jeu8tWDRFlHmFWIjuXPVhoRZ+QqmPHTAWYO2"
    "bcaC+nggguI4Fg==\"";

static const char post_auth[] =
    "Signature version=\"1\",keyId=\"ocid1.tenancy.oc1..tenant/ocid1.user."
    "oc1..user/63:c3:43:76:85:1b:82:25:24:f7:c5:83:54:56:ba:a3\","
    "algorithm=\"rsa-sha256\",headers=\"x-date (request-target) host "
    "Content-Type Content-Length x-content-sha256\",signature=\"AsekUAK3V"
    "uAIEd4EFEUYL1pd9EXFwX0gMTHBvHcctBBeMRA//GwxOdHQrrEoXMD5dff0ew7elBCj"
    "kmioAvIG5nIbThOcy7jhHs14oK8omzvndJ6gFufroAQoFouW+Gg2w12+7rS/KACM4aqp"
    "/vU8zW2YAVcunILnOJQQH45yVo3f5pq1XdiX4bm8w1H6BfNWG0lxRs/a2+HrXUme4kqH"
    "bwjEOxx6wx6SVSoVukllBTKjXnoaA0gg03RkgdnDQpeT/z7O4FXMWsBwbNpG8ILWThk6"
    "Vp0d4tIfKhAApo/FVZdedMkVIUnQGeiX0mRLJqf2X6+7Z7mE/WMmLyiknE1CEw==\"";

static const char post_body[] =
    "{\"compartmentId\":\"ocid1.compartment.oc1..comp\",\"vaultId\":\"ocid1"
    ".vault.oc1..vvvv\",\"keyId\":\"ocid1.key.oc1..kkkk\",\"secretName\":\""
    "db-pass\",\"description\":\"d\",\"secretContent\":{\"contentType\":\""
    "BASE64\",\"content\":\"czNjcjN0\",\"name\":\"v1\",\"stage\":\"CURRENT\""
    "},\"secretRules\":[{\"ruleType\":\"SECRET_EXPIRY_RULE\",\"secretVersio"
    "nExpiryInterval\":\"P30D\",\"isSecretContentRetrievalBlockedOnExpiry\""
    ":true},{\"ruleType\":\"SECRET_REUSE_RULE\",\"isEnforcedOnDeletedSecret"
    "Versions\":true}],\"freeformTags\":{\"a\":\"b\"},\"definedTags\":{\"ns"
    "\":{\"k\":\"v\"}},\"metadata\":{\"m\":1}}";

#define SDK_DATE "Sun, 29 Nov 2026 01:27:50 GMT"
#define GET_TARGET "/secretsvc/abc/20190301/secretbundles/" \
	"ocid1.vaultsecret.oc1..ssss?versionNumber=2&stage=CURRENT"

static struct tr_header hdrs[8];

static void
hdr(size_t i, const char *name, const char *value)
{
	hdrs[i].name = name;
	hdrs[i].name_len = strlen(name);
	hdrs[i].value = value;
	hdrs[i].value_len = strlen(value);
}

/* The SDK's GET, as logged. */
static void
sdk_get(struct tr_request *r, const char *target, const char *date)
{
	memset(r, 0, sizeof(*r));
	hdr(0, "host", "127.0.0.1:38089");
	hdr(1, "x-date", date);
	hdr(2, "authorization", get_auth);
	r->method = "GET";
	r->method_len = 3;
	r->target = target;
	r->target_len = strlen(target);
	r->headers = hdrs;
	r->nheaders = 3;
	r->body = "";
}

/* The SDK's POST, as logged. */
static void
sdk_post(struct tr_request *r, const char *body)
{
	memset(r, 0, sizeof(*r));
	hdr(0, "host", "127.0.0.1:38089");
	hdr(1, "x-date", SDK_DATE);
	hdr(2, "content-type", "application/json");
	hdr(3, "content-length", "527");
	hdr(4, "x-content-sha256", "XM03fbkhd3k2oOIG/8IdD994EXGTcj4LENJ0pV3Pf6Y=");
	hdr(5, "authorization", post_auth);
	r->method = "POST";
	r->method_len = 4;
	r->target = "/vaultsvc/20180608/secrets";
	r->target_len = strlen(r->target);
	r->headers = hdrs;
	r->nheaders = 6;
	r->body = body;
	r->body_len = strlen(body);
}

static int64_t
sdk_now(void)
{
	int64_t t;

	assert_int_equal(tr_time_parse_http(SDK_DATE, strlen(SDK_DATE), &t), 0);
	return t;
}

/* Full verification of `r` with `pub` at time `now`. */
static int
verify(const struct tr_request *r, EVP_PKEY *pub, int64_t now)
{
	struct tr_sig_params p;
	struct tr_buf ss;
	const char *auth;
	size_t alen;
	int rc;

	auth = tr_request_header(r, "authorization", &alen, NULL);
	if ((rc = tr_httpsig_parse(&p, auth, alen)) < 0)
		return rc;
	if ((rc = tr_httpsig_check(r, &p, now, TR_SIG_MAX_SKEW_SEC)) < 0)
		return rc;
	tr_buf_init(&ss, 65536);
	rc = tr_httpsig_signing_string(&ss, r, &p, false);
	if (rc == 0)
		rc = tr_httpsig_verify(pub, ss.ptr, ss.len, p.signature,
		    p.signature_len);
	tr_buf_dispose(&ss);
	return rc;
}

static EVP_PKEY *
sdk_key(void)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(tr_auth_parse_public_key(&k, sdk_pub,
	    strlen(sdk_pub)), 0);
	return k;
}

static void
test_sdk_vector_get_verifies(void **state)
{
	struct tr_request r;
	EVP_PKEY *k = sdk_key();

	(void)state;
	sdk_get(&r, GET_TARGET, SDK_DATE);
	assert_int_equal(verify(&r, k, sdk_now()), 0);
	EVP_PKEY_free(k);
}

static void
test_sdk_vector_post_verifies(void **state)
{
	struct tr_request r;
	EVP_PKEY *k = sdk_key();

	(void)state;
	sdk_post(&r, post_body);
	assert_int_equal(r.body_len, 527);
	assert_int_equal(verify(&r, k, sdk_now()), 0);
	EVP_PKEY_free(k);
}

static void
test_sdk_key_fingerprint(void **state)
{
	EVP_PKEY *k = sdk_key();
	char fp[48];

	(void)state;
	assert_int_equal(tr_httpsig_fingerprint(fp, k), 0);
	assert_string_equal(fp, "63:c3:43:76:85:1b:82:25:24:f7:c5:83:54:56:"
	    "ba:a3");
	EVP_PKEY_free(k);
}

static void
test_altered_body_fails(void **state)
{
	struct tr_request r;
	EVP_PKEY *k = sdk_key();
	char body[600];

	(void)state;
	(void)snprintf(body, sizeof(body), "%s", post_body);
	body[strlen(body) - 3] = '2';	/* "m":1 -> "m":2 */
	sdk_post(&r, body);
	assert_int_equal(verify(&r, k, sdk_now()), TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "x-content-sha256"));
	EVP_PKEY_free(k);
}

static void
test_altered_query_fails(void **state)
{
	struct tr_request r;
	EVP_PKEY *k = sdk_key();

	(void)state;
	sdk_get(&r, "/secretsvc/abc/20190301/secretbundles/"
	    "ocid1.vaultsecret.oc1..ssss?versionNumber=1&stage=CURRENT",
	    SDK_DATE);
	assert_int_equal(verify(&r, k, sdk_now()), TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "signature verification"));
	EVP_PKEY_free(k);
}

static void
test_old_and_future_dates_fail(void **state)
{
	struct tr_request r;
	EVP_PKEY *k = sdk_key();

	(void)state;
	sdk_get(&r, GET_TARGET, SDK_DATE);
	assert_int_equal(verify(&r, k, sdk_now() + 301), TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "behind the server clock"));
	assert_int_equal(verify(&r, k, sdk_now() - 3600), TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "ahead of"));
	/* inside the window */
	assert_int_equal(verify(&r, k, sdk_now() + 299), 0);
	EVP_PKEY_free(k);
}

static void
test_wrong_key_fails(void **state)
{
	struct tr_request r;
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	(void)state;
	assert_non_null(other);
	sdk_get(&r, GET_TARGET, SDK_DATE);
	assert_int_equal(verify(&r, other, sdk_now()), TRESOR_EAUTH);
	EVP_PKEY_free(other);
}

static void
test_required_headers(void **state)
{
	struct tr_request r;
	struct tr_sig_params p;
	const char *a1 = "Signature keyId=\"a/b/c\",algorithm=\"rsa-sha256\","
	    "headers=\"x-date host\",signature=\"AA==\"";
	const char *a2 = "Signature keyId=\"a/b/c\",algorithm=\"rsa-sha256\","
	    "headers=\"x-date (request-target) host\",signature=\"AA==\"";

	(void)state;
	sdk_get(&r, GET_TARGET, SDK_DATE);
	assert_int_equal(tr_httpsig_parse(&p, a1, strlen(a1)), 0);
	assert_int_equal(tr_httpsig_check(&r, &p, sdk_now(), 300),
	    TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "(request-target)"));
	/* a POST must sign the body headers */
	sdk_post(&r, post_body);
	assert_int_equal(tr_httpsig_parse(&p, a2, strlen(a2)), 0);
	assert_int_equal(tr_httpsig_check(&r, &p, sdk_now(), 300),
	    TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "content-type"));
	/* a listed header that is absent */
	sdk_get(&r, GET_TARGET, SDK_DATE);
	r.nheaders = 1;		/* host only */
	assert_int_equal(tr_httpsig_parse(&p, a2, strlen(a2)), 0);
	assert_int_equal(tr_httpsig_check(&r, &p, sdk_now(), 300),
	    TRESOR_EAUTH);
	assert_non_null(strstr(tresor_error_last(), "missing"));
}

static void
test_parse_errors(void **state)
{
	static const char *bad[] = {
		"",
		"Basic Zm9vOmJhcg==",
		"Signature keyId=\"a/b/c\"",
		"Signature keyId=\"a/b/c\",algorithm=\"hmac-sha256\","
		    "headers=\"date\",signature=\"AA==\"",
		"Signature version=\"2\",keyId=\"a/b/c\","
		    "algorithm=\"rsa-sha256\",headers=\"date\","
		    "signature=\"AA==\"",
		"Signature keyId=\"a\",keyId=\"b\",algorithm=\"rsa-sha256\","
		    "headers=\"date\",signature=\"AA==\"",
		"Signature keyId=\"a/b/c,algorithm=\"rsa-sha256\"",
		"Signature keyId=a/b/c,algorithm=\"rsa-sha256\"",
	};
	struct tr_sig_params p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tr_httpsig_parse(&p, bad[i], strlen(bad[i])),
		    TRESOR_EAUTH);
}

static void
test_parse_any_order_no_version(void **state)
{
	const char *a = "Signature signature=\"AA==\",headers=\"date\","
	    "algorithm=\"RSA-SHA256\",keyId=\"t/u/f\"";
	struct tr_sig_params p;

	(void)state;
	assert_int_equal(tr_httpsig_parse(&p, a, strlen(a)), 0);
	assert_int_equal(p.key_id_len, 5);
	assert_int_equal(p.nheaders, 1);
}

/*
 * Sign a signing string with the openssl command, independent of the
 * code under test, and check that it verifies (and that a flipped byte
 * does not).
 */
static void
test_openssl_cli_signature(void **state)
{
	char dir[] = "/tmp/tresor-sigtest-XXXXXX", cmd[1024], path[512];
	char sig_b64[1024];
	unsigned char sig[600];
	struct tr_buf ss;
	struct tr_request r;
	struct tr_sig_params p;
	EVP_PKEY *key;
	FILE *f;
	size_t n;
	const char *auth;
	char authbuf[2048], fp[48], date[TR_TIME_HTTP_LEN];
	int64_t now = tr_now_ms() / 1000;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(cmd, sizeof(cmd), "openssl genrsa -out %s/k.pem 2048 "
	    "2>/dev/null && openssl rsa -in %s/k.pem -pubout -out %s/p.pem "
	    "2>/dev/null", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	(void)snprintf(path, sizeof(path), "%s/p.pem", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(key);

	/* our request and its signing string */
	tr_time_http(date, now);
	memset(&r, 0, sizeof(r));
	hdr(0, "host", "127.0.0.1:8200");
	hdr(1, "x-date", date);
	r.method = "GET";
	r.method_len = 3;
	r.target = "/20180608/vaults?compartmentId=ocid1.tenancy.oc1..x";
	r.target_len = strlen(r.target);
	r.headers = hdrs;
	r.nheaders = 2;
	r.body = "";
	auth = "Signature keyId=\"t/u/f\",algorithm=\"rsa-sha256\","
	    "headers=\"x-date (request-target) host\",signature=\"AA==\"";
	assert_int_equal(tr_httpsig_parse(&p, auth, strlen(auth)), 0);
	tr_buf_init(&ss, 4096);
	assert_int_equal(tr_httpsig_signing_string(&ss, &r, &p, false), 0);
	(void)snprintf(path, sizeof(path), "%s/ss", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(ss.ptr, 1, ss.len, f);
	fclose(f);
	(void)snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -sign %s/k.pem "
	    "-out %s/sig %s/ss", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	(void)snprintf(path, sizeof(path), "%s/sig", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(sig, 1, sizeof(sig), f);
	fclose(f);
	assert_int_equal(n, 256);
	assert_int_equal(tr_base64_encode(sig_b64, sizeof(sig_b64), sig, n), 0);
	(void)snprintf(authbuf, sizeof(authbuf), "Signature version=\"1\","
	    "keyId=\"t/u/f\",algorithm=\"rsa-sha256\",headers=\"x-date "
	    "(request-target) host\",signature=\"%s\"", sig_b64);
	hdr(2, "authorization", authbuf);
	r.nheaders = 3;
	assert_int_equal(verify(&r, key, now), 0);
	sig[10] ^= 1;
	assert_int_equal(tr_base64_encode(sig_b64, sizeof(sig_b64), sig, n), 0);
	(void)snprintf(authbuf, sizeof(authbuf), "Signature version=\"1\","
	    "keyId=\"t/u/f\",algorithm=\"rsa-sha256\",headers=\"x-date "
	    "(request-target) host\",signature=\"%s\"", sig_b64);
	assert_int_equal(verify(&r, key, now), TRESOR_EAUTH);

	/* the fingerprint agrees with openssl's */
	(void)snprintf(cmd, sizeof(cmd), "openssl rsa -in %s/k.pem -pubout "
	    "-outform DER 2>/dev/null | openssl md5 -c | sed 's/.*= //' "
	    "> %s/fp", dir, dir);
	assert_int_equal(system(cmd), 0);
	(void)snprintf(path, sizeof(path), "%s/fp", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(cmd, sizeof(cmd), f));
	fclose(f);
	cmd[strcspn(cmd, "\n")] = '\0';
	assert_int_equal(tr_httpsig_fingerprint(fp, key), 0);
	assert_string_equal(fp, cmd);

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	tr_buf_dispose(&ss);
	EVP_PKEY_free(key);
}

static void
test_legacy_target_form(void **state)
{
	struct tr_request r;
	struct tr_sig_params p;
	struct tr_buf ss;
	const char *a = "Signature keyId=\"t/u/f\",algorithm=\"rsa-sha256\","
	    "headers=\"(request-target)\",signature=\"AA==\"";

	(void)state;
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.method_len = 3;
	r.target = "/a/it's?x={y}&n=%C3%A9";
	r.target_len = strlen(r.target);
	r.body = "";
	assert_true(tr_httpsig_legacy_differs(&r));
	assert_int_equal(tr_httpsig_parse(&p, a, strlen(a)), 0);
	tr_buf_init(&ss, 1024);
	assert_int_equal(tr_httpsig_signing_string(&ss, &r, &p, true), 0);
	assert_string_equal(ss.ptr,
	    "(request-target): get /a/it%27s?x=%7By%7D&n=\xc3\xa9");
	tr_buf_dispose(&ss);
}

/*
 * tr_httpsig_verify on its own, against signatures made by OpenSSL's
 * EVP_DigestSign: RSASSA-PKCS1-v1_5 with SHA-256 only.
 */
#define MSG "(request-target): get /x\nhost: h\ndate: d"

/* Sign MSG with `k` (digest `md`, padding `pad`); base64 into `b64`. */
static void
sign_raw(EVP_PKEY *k, const EVP_MD *md, int pad, const char *msg,
    unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	assert_non_null(c);
	*siglen = 1024;
	assert_int_equal(EVP_DigestSignInit(c, &pc, md, NULL, k), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, pad), 1);
	assert_int_equal(EVP_DigestSign(c, sig, siglen,
	    (const unsigned char *)msg, strlen(msg)), 1);
	EVP_MD_CTX_free(c);
}

static int
verify_raw(EVP_PKEY *k, const char *msg, const unsigned char *sig,
    size_t siglen)
{
	char b64[1400];

	assert_int_equal(tr_base64_encode(b64, sizeof(b64), sig, siglen), 0);
	return tr_httpsig_verify(k, msg, strlen(msg), b64, strlen(b64));
}

static void
test_verify_key_sizes(void **state)
{
	static const unsigned int bits[] = { 2048, 2056, 3072, 4096 };
	unsigned char sig[1024];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)bits[i]);

		assert_non_null(k);
		sign_raw(k, EVP_sha256(), RSA_PKCS1_PADDING, MSG, sig, &n);
		assert_int_equal(n, (size_t)EVP_PKEY_get_size(k));
		assert_int_equal(verify_raw(k, MSG, sig, n), 0);
		/* again: now from the thread's cached slot */
		assert_int_equal(verify_raw(k, MSG, sig, n), 0);
		assert_int_equal(verify_raw(k, MSG "x", sig, n),
		    TRESOR_EAUTH);
		sig[n / 2] ^= 0x10;
		assert_int_equal(verify_raw(k, MSG, sig, n), TRESOR_EAUTH);
		EVP_PKEY_free(k);
	}
}

static void
test_verify_other_schemes_refused(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	unsigned char sig[1024];
	size_t n;

	(void)state;
	assert_non_null(k);
	sign_raw(k, EVP_sha1(), RSA_PKCS1_PADDING, MSG, sig, &n);
	assert_int_equal(verify_raw(k, MSG, sig, n), TRESOR_EAUTH);
	sign_raw(k, EVP_sha512(), RSA_PKCS1_PADDING, MSG, sig, &n);
	assert_int_equal(verify_raw(k, MSG, sig, n), TRESOR_EAUTH);
	sign_raw(k, EVP_sha256(), RSA_PKCS1_PSS_PADDING, MSG, sig, &n);
	assert_int_equal(verify_raw(k, MSG, sig, n), TRESOR_EAUTH);
	EVP_PKEY_free(k);

	/* not an RSA key */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(k);
	memset(sig, 1, 256);
	assert_int_equal(verify_raw(k, MSG, sig, 256), TRESOR_EAUTH);
	EVP_PKEY_free(k);
}

static void
test_verify_signature_lengths(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	unsigned char sig[1024], big[1024];
	char msg[64];
	BIGNUM *nb = NULL;
	size_t n = 0;
	int i;

	(void)state;
	assert_non_null(k);
	/* a signature whose first byte is 0 (one in 256): without it, the
	 * same number, accepted as EVP_PKEY_verify accepts it */
	for (i = 0; i < 5000; i++) {
		(void)snprintf(msg, sizeof(msg), MSG "%d", i);
		sign_raw(k, EVP_sha256(), RSA_PKCS1_PADDING, msg, sig, &n);
		if (sig[0] == 0)
			break;
	}
	assert_int_equal(sig[0], 0);
	assert_int_equal(verify_raw(k, msg, sig + 1, n - 1), 0);
	/* one byte more than the modulus */
	big[0] = 0;
	memcpy(big + 1, sig, n);
	assert_int_equal(verify_raw(k, msg, big, n + 1), TRESOR_EAUTH);
	/* empty, and the modulus itself (s >= n) */
	assert_int_equal(tr_httpsig_verify(k, msg, strlen(msg), "", 0),
	    TRESOR_EAUTH);
	assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &nb), 1);
	assert_int_equal(BN_bn2binpad(nb, big, (int)n), (int)n);
	assert_int_equal(verify_raw(k, msg, big, n), TRESOR_EAUTH);
	BN_free(nb);
	EVP_PKEY_free(k);
}

/* A public key with exponent 1 (s^e = s): the encoding itself sent as
 * the signature must not verify; the key is refused. */
static void
test_verify_exponent_one_refused(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *weak = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *one = BN_new();
	unsigned char em[256], dgst[32];
	unsigned int dlen = 0;
	static const unsigned char prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06,
	    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
	    0x00, 0x04, 0x20 };

	(void)state;
	assert_non_null(k);
	assert_non_null(pc);
	assert_non_null(bld);
	assert_non_null(one);
	assert_int_equal(BN_set_word(one, 1), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, "n", n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, "e", one), 1);
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &weak, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	/* EM of MSG, as a forger would send it */
	assert_int_equal(EVP_Digest(MSG, strlen(MSG), dgst, &dlen,
	    EVP_sha256(), NULL), 1);
	em[0] = 0;
	em[1] = 1;
	memset(em + 2, 0xff, 256 - 3 - sizeof(prefix) - 32);
	em[256 - sizeof(prefix) - 33] = 0;
	memcpy(em + 256 - sizeof(prefix) - 32, prefix, sizeof(prefix));
	memcpy(em + 256 - 32, dgst, 32);
	assert_int_equal(verify_raw(weak, MSG, em, sizeof(em)), TRESOR_EAUTH);
	EVP_PKEY_free(weak);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pc);
	BN_free(n);
	BN_free(one);
	EVP_PKEY_free(k);
}

/* More keys than a thread's cache holds, in turns: each signature
 * verifies under its own key only, whichever slot the key is in. */
static void
test_verify_many_keys(void **state)
{
	enum { NKEYS = 11 };
	EVP_PKEY *k[NKEYS];
	unsigned char sig[NKEYS][256];
	size_t n[NKEYS];
	int i, round;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		k[i] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		assert_non_null(k[i]);
		sign_raw(k[i], EVP_sha256(), RSA_PKCS1_PADDING, MSG, sig[i],
		    &n[i]);
	}
	for (round = 0; round < 3; round++)
		for (i = 0; i < NKEYS; i++) {
			int j = (i + 1) % NKEYS;

			assert_int_equal(verify_raw(k[i], MSG, sig[i], n[i]),
			    0);
			assert_int_equal(verify_raw(k[j], MSG, sig[i], n[i]),
			    TRESOR_EAUTH);
		}
	for (i = 0; i < NKEYS; i++)
		EVP_PKEY_free(k[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdk_vector_get_verifies),
		cmocka_unit_test(test_sdk_vector_post_verifies),
		cmocka_unit_test(test_sdk_key_fingerprint),
		cmocka_unit_test(test_altered_body_fails),
		cmocka_unit_test(test_altered_query_fails),
		cmocka_unit_test(test_old_and_future_dates_fail),
		cmocka_unit_test(test_wrong_key_fails),
		cmocka_unit_test(test_required_headers),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_any_order_no_version),
		cmocka_unit_test(test_openssl_cli_signature),
		cmocka_unit_test(test_legacy_target_form),
		cmocka_unit_test(test_verify_key_sizes),
		cmocka_unit_test(test_verify_other_schemes_refused),
		cmocka_unit_test(test_verify_signature_lengths),
		cmocka_unit_test(test_verify_exponent_one_refused),
		cmocka_unit_test(test_verify_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
