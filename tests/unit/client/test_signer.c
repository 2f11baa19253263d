/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libtresor's request signer: the signing string is byte for byte the
 * OCI SDK's (checked against the signature vector of oci-wire.md 2.7,
 * made by the official SDK), the Authorization header has the SDK's
 * shape, and what libtresor signs is accepted by tresord's own verifier
 * (src/auth/httpsig.c) for GET, POST, PUT and an empty POST.  Also the
 * endpoint parser, JWT expiry and the key-file checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/httpsig.h"
#include "client/client_int.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/request.h"

#include "new_file.h"

/* oci-wire.md 2.7: the SDK's key, requests and signatures */
static const char spec_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0qwZYqiwrIG08EVyhwqA\n"
    "gYAx9fNAy3Egrn5l9v3o2sJqfX7uYQ1vFI6PBHfy42Pecb22YPz98tqOFQ+FfSaY\n"
    "D3vRaRtcgnrN0heLlAZLAZ1fXCxp3qL6IsrcO5H/FPSOaxAW/1Iy08pHxQuS2T5J\n"
    "lYAIRf1ZFG8ld5EN+wzqUljSCX89N61jEmd7TcRgIph2UmnR4hs/8fnBl9jf7+BS\n"
    "02LD+5a3gebzNUaMKbFR058gvQPrEwKbOHW0ojDF0+YOXrEMQDFs4DJBgovhh455\n"
    "vwKakTG+1DIVMt8/Fe9iS6FsrrCTQ2ntWytkGhfR5pebPIMPF+GxVbqhY7TIGQ72\n"
    "ZQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char get_sig[] =
    "s/pVqvQegaHwWFUAJc/ibqnwKt665l/FmRxUMyvLtg6Vwup0DchQesjKCDd/+4VEEpBz"
    "C+cjC9GGg+2cZA3kEqW/pykQBfSr+PGq5AsE8jF1seHt+TuMfSzwFLOHDH+BTv5sAeHS"
    "4txXlkk5vzltPWNuSwsxtLRCSx47+NlgBit/xRGlyJLs78ZLe6SocCsmI9pYf3rwMXno"
    "r9pop1rEKSCfkI3ca0Xjy7ttR2r62kfxTFGI2sJu/9LQg5i1IxJhXXWicdejRrVUPues"
    "2cxjJ4f1YIWSwzzCque4Jeu8tWDRFlHmFWIjuXPVhoRZ+QqmPHTAWYO2bcaC+nggguI4"
    "Fg==";

static const char post_body[] =
    "{\"compartmentId\":\"ocid1.compartment.oc1..comp\",\"vaultId\":"
    "\"ocid1.vault.oc1..vvvv\",\"keyId\":\"ocid1.key.oc1..kkkk\","
    "\"secretName\":\"db-pass\",\"description\":\"d\",\"secretContent\":"
    "{\"contentType\":\"BASE64\",\"content\":\"czNjcjN0\",\"name\":\"v1\","
    "\"stage\":\"CURRENT\"},\"secretRules\":[{\"ruleType\":"
    "\"SECRET_EXPIRY_RULE\",\"secretVersionExpiryInterval\":\"P30D\","
    "\"isSecretContentRetrievalBlockedOnExpiry\":true},{\"ruleType\":"
    "\"SECRET_REUSE_RULE\",\"isEnforcedOnDeletedSecretVersions\":true}],"
    "\"freeformTags\":{\"a\":\"b\"},\"definedTags\":{\"ns\":{\"k\":\"v\"}},"
    "\"metadata\":{\"m\":1}}";

static const char post_sig[] =
    "AsekUAK3VuAIEd4EFEUYL1pd9EXFwX0gMTHBvHcctBBeMRA//GwxOdHQrrEoXMD5dff0"
    "ew7elBCjkmioAvIG5nIbThOcy7jhHs14oK8omzvndJ6gFufroAQoFouW+Gg2w12+7rS/"
    "KACM4aqp/vU8zW2YAVcunILnOJQQH45yVo3f5pq1XdiX4bm8w1H6BfNWG0lxRs/a2+Hr"
    "XUme4kqHbwjEOxx6wx6SVSoVukllBTKjXnoaA0gg03RkgdnDQpeT/z7O4FXMWsBwbNpG"
    "8ILWThk6Vp0d4tIfKhAApo/FVZdedMkVIUnQGeiX0mRLJqf2X6+7Z7mE/WMmLyiknE1C"
    "Ew==";

static EVP_PKEY *
load_pub(void)
{
	BIO *b = BIO_new_mem_buf(spec_pub, (int)strlen(spec_pub));
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);

	BIO_free(b);
	return k;
}

/* The SDK's signature verifies over libtresor's signing string. */
static void
test_signing_string_matches_sdk_get(void **state)
{
	struct tr_buf ss;
	EVP_PKEY *pub = load_pub();

	(void)state;
	assert_non_null(pub);
	tr_buf_init(&ss, 0);
	assert_int_equal(tr_sign_string(&ss, "get",
	    "/secretsvc/abc/20190301/secretbundles/ocid1.vaultsecret.oc1..ssss"
	    "?versionNumber=2&stage=CURRENT", "127.0.0.1:38089",
	    "Sun, 29 Nov 2026 01:27:50 GMT", false, NULL, NULL), 0);
	assert_string_equal(ss.ptr,
	    "x-date: Sun, 29 Nov 2026 01:27:50 GMT\n"
	    "(request-target): get /secretsvc/abc/20190301/secretbundles/"
	    "ocid1.vaultsecret.oc1..ssss?versionNumber=2&stage=CURRENT\n"
	    "host: 127.0.0.1:38089");
	assert_int_equal(tr_httpsig_verify(pub, ss.ptr, ss.len, get_sig,
	    strlen(get_sig)), 0);
	tr_buf_dispose(&ss);
	EVP_PKEY_free(pub);
}

static void
test_signing_string_matches_sdk_post(void **state)
{
	unsigned char d[32];
	char sha[64];
	struct tr_buf ss;
	EVP_PKEY *pub = load_pub();

	(void)state;
	assert_int_equal(strlen(post_body), 527);
	EVP_Digest(post_body, strlen(post_body), d, NULL, EVP_sha256(), NULL);
	assert_int_equal(tr_base64_encode(sha, sizeof(sha), d, 32), 0);
	assert_string_equal(sha,
	    "XM03fbkhd3k2oOIG/8IdD994EXGTcj4LENJ0pV3Pf6Y=");
	tr_buf_init(&ss, 0);
	assert_int_equal(tr_sign_string(&ss, "post",
	    "/vaultsvc/20180608/secrets", "127.0.0.1:38089",
	    "Sun, 29 Nov 2026 01:27:50 GMT", true, "527", sha), 0);
	assert_int_equal(tr_httpsig_verify(pub, ss.ptr, ss.len, post_sig,
	    strlen(post_sig)), 0);
	assert_string_equal(tr_sign_header_list(true),
	    "x-date (request-target) host Content-Type Content-Length "
	    "x-content-sha256");
	assert_string_equal(tr_sign_header_list(false),
	    "x-date (request-target) host");
	tr_buf_dispose(&ss);
	EVP_PKEY_free(pub);
}

/* A fresh RSA key as PEM (tr_malloc'd) and its public half. */
static char *
new_key(EVP_PKEY **pub_out)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem;
	long n;

	assert_non_null(k);
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	n = BIO_get_mem_data(b, &data);
	pem = calloc(1, (size_t)n + 1);
	memcpy(pem, data, (size_t)n);
	BIO_free(b);
	*pub_out = k;
	return pem;
}

/* Verify a libtresor-signed request with tresord's verifier. */
static void
server_verifies(EVP_PKEY *pub, const char *method, const char *target,
    const char *body, size_t len, const tresor_signed_headers *h)
{
	struct tr_header hdrs[8];
	struct tr_request req;
	struct tr_sig_params p;
	struct tr_buf ss;
	size_t n = 0;

	memset(&req, 0, sizeof(req));
	hdrs[n].name = "host";
	hdrs[n].name_len = 4;
	hdrs[n].value = "127.0.0.1:8200";
	hdrs[n++].value_len = 14;
	hdrs[n].name = "x-date";
	hdrs[n].name_len = 6;
	hdrs[n].value = h->x_date;
	hdrs[n++].value_len = strlen(h->x_date);
	hdrs[n].name = "Content-Type";
	hdrs[n].name_len = 12;
	hdrs[n].value = h->content_type;
	hdrs[n++].value_len = strlen(h->content_type);
	if (h->x_content_sha256[0] != '\0') {
		hdrs[n].name = "x-content-sha256";
		hdrs[n].name_len = 16;
		hdrs[n].value = h->x_content_sha256;
		hdrs[n++].value_len = strlen(h->x_content_sha256);
		hdrs[n].name = "content-length";
		hdrs[n].name_len = 14;
		hdrs[n].value = h->content_length;
		hdrs[n++].value_len = strlen(h->content_length);
	}
	hdrs[n].name = "authorization";
	hdrs[n].name_len = 13;
	hdrs[n].value = h->authorization;
	hdrs[n++].value_len = strlen(h->authorization);
	req.method = method;
	req.method_len = strlen(method);
	req.target = target;
	req.target_len = strlen(target);
	req.headers = hdrs;
	req.nheaders = n;
	req.body = body;
	req.body_len = len;
	assert_int_equal(tr_httpsig_parse(&p, h->authorization,
	    strlen(h->authorization)), 0);
	assert_int_equal(tr_httpsig_check(&req, &p, time(NULL), 300), 0);
	tr_buf_init(&ss, 0);
	assert_int_equal(tr_httpsig_signing_string(&ss, &req, &p, false), 0);
	assert_int_equal(tr_httpsig_verify(pub, ss.ptr, ss.len, p.signature,
	    p.signature_len), 0);
	tr_buf_dispose(&ss);
}

static void
test_sign_roundtrip_with_server_verifier(void **state)
{
	tresor_signer *s = NULL;
	tresor_signed_headers h;
	EVP_PKEY *k = NULL;
	char *pem = new_key(&k);
	const char *body = "{\"a\":\"b\"}";

	(void)state;
	assert_int_equal(tresor_signer_new_from_pem(&s,
	    "ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb", pem, strlen(pem),
	    NULL), 0);
	/* the fingerprint is the one tresord computes at UploadApiKey */
	{
		char mine[48], theirs[48];

		assert_int_equal(tresor_signer_fingerprint(s, mine), 0);
		assert_int_equal(tr_httpsig_fingerprint(theirs, k), 0);
		assert_string_equal(mine, theirs);
		assert_int_equal(strlen(mine), 47);
	}

	assert_int_equal(tresor_sign(&h, s, "GET", "127.0.0.1:8200",
	    "/20190301/secretbundles/ocid1.vaultsecret.oc1..x?stage=CURRENT",
	    NULL, 0), 0);
	assert_non_null(strstr(h.authorization, "Signature version=\"1\","
	    "keyId=\"ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb\","
	    "algorithm=\"rsa-sha256\",headers=\"x-date (request-target) "
	    "host\",signature=\""));
	assert_string_equal(h.x_content_sha256, "");
	server_verifies(k, "GET",
	    "/20190301/secretbundles/ocid1.vaultsecret.oc1..x?stage=CURRENT",
	    NULL, 0, &h);
	tresor_signed_headers_dispose(&h);

	assert_int_equal(tresor_sign(&h, s, "POST", "127.0.0.1:8200",
	    "/20180608/secrets", body, strlen(body)), 0);
	assert_string_equal(h.content_length, "9");
	server_verifies(k, "POST", "/20180608/secrets", body, strlen(body), &h);
	tresor_signed_headers_dispose(&h);

	assert_int_equal(tresor_sign(&h, s, "PUT", "127.0.0.1:8200",
	    "/20180608/secrets/x", body, strlen(body)), 0);
	server_verifies(k, "PUT", "/20180608/secrets/x", body, strlen(body),
	    &h);
	tresor_signed_headers_dispose(&h);

	/* a POST without a body signs the empty body's hash */
	assert_int_equal(tresor_sign(&h, s, "POST", "127.0.0.1:8200",
	    "/20180608/secrets/x/actions/cancelDeletion", NULL, 0), 0);
	assert_string_equal(h.x_content_sha256,
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_string_equal(h.content_length, "0");
	server_verifies(k, "POST", "/20180608/secrets/x/actions/cancelDeletion",
	    "", 0, &h);
	tresor_signed_headers_dispose(&h);

	tresor_signer_free(s);
	EVP_PKEY_free(k);
	free(pem);
}

static void
test_sign_at_is_deterministic_date(void **state)
{
	tresor_signer *s = NULL;
	tresor_signed_headers h;
	EVP_PKEY *k = NULL;
	char *pem = new_key(&k);

	(void)state;
	assert_int_equal(tresor_signer_new_from_pem(&s, "t/u/f", pem,
	    strlen(pem), NULL), 0);
	assert_int_equal(tresor_sign_at(&h, s, "get", "h", "/x", NULL, 0,
	    1796000850), 0);
	assert_string_equal(h.x_date, "Mon, 30 Nov 2026 01:07:30 GMT");
	tresor_signed_headers_dispose(&h);
	assert_null(h.authorization);
	/* bad arguments */
	assert_int_equal(tresor_sign(&h, s, "GET", "h", "no-slash", NULL, 0),
	    TRESOR_EINVAL);
	tresor_signer_free(s);
	EVP_PKEY_free(k);
	free(pem);
}

static void
test_session_token_key_id(void **state)
{
	tresor_signer *s = NULL;
	tresor_signed_headers h;
	EVP_PKEY *k = NULL;
	char *pem = new_key(&k);

	(void)state;
	assert_int_equal(tresor_signer_new_from_pem(&s, "ST$eyJh.eyJi.c2ln",
	    pem, strlen(pem), NULL), 0);
	assert_int_equal(tresor_sign(&h, s, "GET", "h:1", "/x", NULL, 0), 0);
	assert_non_null(strstr(h.authorization, "keyId=\"ST$eyJh.eyJi.c2ln\""));
	tresor_signed_headers_dispose(&h);
	tresor_signer_free(s);
	EVP_PKEY_free(k);
	free(pem);
}

static void
test_not_rsa_is_refused(void **state)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	BIO *b = BIO_new(BIO_s_mem());
	tresor_signer *s = NULL;
	char *data;
	long n;

	(void)state;
	PEM_write_bio_PrivateKey(b, ec, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &data);
	assert_int_equal(tresor_signer_new_from_pem(&s, "a/b/c", data,
	    (size_t)n, NULL), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "not an RSA key"));
	assert_int_equal(tresor_signer_new_from_pem(&s, "a/b/c", "junk", 4,
	    NULL), TRESOR_EINVAL);
	BIO_free(b);
	EVP_PKEY_free(ec);
}

static void
test_url_parse(void **state)
{
	struct tr_url u;

	(void)state;
	assert_int_equal(tr_url_parse(&u, "http://127.0.0.1:8200"), 0);
	assert_string_equal(u.host, "127.0.0.1:8200");
	assert_string_equal(u.origin, "http://127.0.0.1:8200");
	assert_string_equal(u.prefix, "");
	/* default ports are not part of the signed host */
	assert_int_equal(tr_url_parse(&u, "https://vault.example:443/a/b/"),
	    0);
	assert_string_equal(u.host, "vault.example");
	assert_string_equal(u.prefix, "/a/b");
	assert_true(u.https);
	assert_int_equal(tr_url_parse(&u, "http://h:80/kms/ocid1.vault.x/"
	    "management"), 0);
	assert_string_equal(u.host, "h");
	assert_string_equal(u.prefix, "/kms/ocid1.vault.x/management");
	assert_int_equal(tr_url_parse(&u, "http://[::1]:9/"), 0);
	assert_string_equal(u.host, "[::1]:9");
	assert_int_equal(tr_url_parse(&u, "ftp://h"), TRESOR_EINVAL);
	assert_int_equal(tr_url_parse(&u, "http://user@h"), TRESOR_EINVAL);
	assert_int_equal(tr_url_parse(&u, "http://h/?q"), TRESOR_EINVAL);
	assert_int_equal(tr_url_parse(&u, "http://h:99999"), TRESOR_EINVAL);
	assert_int_equal(tr_url_parse(&u, "http://"), TRESOR_EINVAL);
	assert_int_equal(tr_url_parse(&u, "http://h h"), TRESOR_EINVAL);
}

static void
test_url_encode(void **state)
{
	struct tr_buf b;

	(void)state;
	tr_buf_init(&b, 0);
	assert_int_equal(tr_url_encode(&b, "a b&c=d+e/'~x_y.z-é"), 0);
	assert_string_equal(b.ptr, "a%20b%26c%3Dd%2Be%2F%27~x_y.z-%C3%A9");
	tr_buf_dispose(&b);
}

static void
test_jwt_exp(void **state)
{
	char tok[256], payload[128];
	int64_t exp;
	const char *claims = "{\"res_tenant\":\"t\",\"exp\":1800000000}";

	(void)state;
	assert_int_equal(tr_base64url_encode(payload, sizeof(payload), claims,
	    strlen(claims)), 0);
	(void)snprintf(tok, sizeof(tok), "eyJhbGciOiJIUzI1NiJ9.%s.c2ln",
	    payload);
	assert_int_equal(tr_jwt_exp(&exp, tok, strlen(tok)), 0);
	assert_int_equal(exp, 1800000000);
	assert_int_equal(tr_jwt_exp(&exp, "abc", 3), TRESOR_EINVAL);
	assert_int_equal(tr_jwt_exp(&exp, "a.b c.d", 7), TRESOR_EINVAL);
	assert_int_equal(tr_jwt_exp(&exp, "a.@@@.d", 7), TRESOR_EINVAL);
}

static void
test_key_file_modes(void **state)
{
	char dir[] = "/tmp/tresor-keyXXXXXX", path[128];
	struct tr_secret *s = NULL;
	EVP_PKEY *k = NULL;
	char *pem = new_key(&k);
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/key.pem", dir);
	f = new_file(path, 0644);	/* others may read it */
	assert_non_null(f);
	fputs(pem, f);
	fclose(f);
	assert_int_equal(tr_key_file_read(&s, path, "key file"), TRESOR_EPERM);
	assert_non_null(strstr(tresor_error_last(),
	    "readable by group or others"));
	assert_non_null(strstr(tresor_error_last(), "chmod 600"));
	chmod(path, 0640);
	assert_int_equal(tr_key_file_read(&s, path, "key file"), TRESOR_EPERM);
	chmod(path, 0620);
	assert_int_equal(tr_key_file_read(&s, path, "key file"), TRESOR_EPERM);
	assert_non_null(strstr(tresor_error_last(), "accessible"));
	chmod(path, 0600);
	assert_int_equal(tr_key_file_read(&s, path, "key file"), 0);
	assert_int_equal(s->len, strlen(pem));
	tr_secret_free(s);
	chmod(path, 0400);
	assert_int_equal(tr_key_file_read(&s, path, "key file"), 0);
	tr_secret_free(s);
	unlink(path);
	assert_int_equal(tr_key_file_read(&s, path, "key file"),
	    TRESOR_ENOTFOUND);
	rmdir(dir);
	EVP_PKEY_free(k);
	free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signing_string_matches_sdk_get),
		cmocka_unit_test(test_signing_string_matches_sdk_post),
		cmocka_unit_test(test_sign_roundtrip_with_server_verifier),
		cmocka_unit_test(test_sign_at_is_deterministic_date),
		cmocka_unit_test(test_session_token_key_id),
		cmocka_unit_test(test_not_rsa_is_refused),
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_jwt_exp),
		cmocka_unit_test(test_key_file_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
