/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The resource-principal session-token request (include/tresor/workload.h,
 * docs/api/tresor-v1.md "Workloads"): POST
 * /tresor/v1/authentication/resourcePrincipalSessionToken signed with the
 * workload's enrollment key, with the public half of a fresh RSA-2048
 * session key; the token and the session key's PEM are written 0600 for
 * the resource-principal 2.2 environment to point at.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"

int
tresor_rp_token_request(tresor_client *c, unsigned int ttl_seconds,
    const char *token_path, const char *private_key_path,
    int64_t *expires_at_ms)
{
	static const struct tr_json_limits lim = { 256 * 1024, 8, 100, 100 };
	tresor_request req = TRESOR_REQUEST_INIT;
	tresor_response *resp = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	char *spki = NULL, *body = NULL, *pem = NULL;
	const char *rbody, *tok, *exp;
	json_t *req_o = NULL, *o = NULL;
	size_t rlen, b64len;
	long pemlen;
	int dlen, rc = TRESOR_EINTERNAL;

	if (expires_at_ms != NULL)
		*expires_at_ms = 0;
	if (c == NULL || token_path == NULL || private_key_path == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "a client, a token path and a key path are required");
		goto out;
	}
	key = EVP_RSA_gen(2048);
	if (key == NULL) {
		ERR_clear_error();
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "cannot generate a session key");
		goto out;
	}
	dlen = i2d_PUBKEY(key, &der);
	if (dlen <= 0) {
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "cannot encode the session public key");
		goto out;
	}
	b64len = tr_base64_encoded_len((size_t)dlen) + 1;
	spki = tr_malloc(b64len);
	if (spki == NULL ||
	    tr_base64_encode(spki, b64len, der, (size_t)dlen) < 0) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	req_o = json_pack("{s:s}", "sessionPublicKey", spki);
	if (req_o != NULL && ttl_seconds != 0)
		json_object_set_new(req_o, "ttlSeconds",
		    json_integer((json_int_t)ttl_seconds));
	body = req_o == NULL ? NULL : json_dumps(req_o, JSON_COMPACT);
	if (body == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	req.method = "POST";
	req.path = "/tresor/v1/authentication/resourcePrincipalSessionToken";
	req.body = body;
	req.body_len = strlen(body);
	req.retry = TRESOR_RETRY_ALL;	/* another token: harmless */
	if ((rc = tresor_client_call(c, &req, &resp)) < 0)
		goto out;
	rbody = tresor_response_body(resp, &rlen);
	if ((rc = tr_json_parse_object(&o, rbody, rlen, &lim)) < 0)
		goto out;
	tok = json_string_value(json_object_get(o, "token"));
	if (tok == NULL || tok[0] == '\0') {
		rc = tr_error_set(TRESOR_EINVAL,
		    "the token answer has no 'token'");
		goto out;
	}
	exp = json_string_value(json_object_get(o, "expiresAt"));
	if (exp != NULL && expires_at_ms != NULL &&
	    tr_time_parse_rfc3339(exp, expires_at_ms) < 0)
		*expires_at_ms = 0;
	/* the key first: a token without its key is useless */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL) != 1) {
		ERR_clear_error();
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "cannot encode the session key");
		goto out;
	}
	pemlen = BIO_get_mem_data(bio, &pem);
	if (pemlen <= 0) {
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "cannot encode the session key");
		goto out;
	}
	if ((rc = tresor_secret_write_file(private_key_path, pem,
	    (size_t)pemlen, NULL)) < 0 ||
	    (rc = tresor_secret_write_file(token_path, tok, strlen(tok),
	    NULL)) < 0)
		goto out;
	rc = 0;
out:
	if (o != NULL) {
		json_t *t = json_object_get(o, "token");

		if (json_is_string(t))
			tr_secure_zero((char *)(uintptr_t)json_string_value(t),
			    json_string_length(t));
	}
	json_decref(o);
	json_decref(req_o);
	tresor_response_free(resp);
	if (body != NULL) {
		json_malloc_t jm;
		json_free_t jf;

		json_get_alloc_funcs(&jm, &jf);
		jf(body);
	}
	tr_free(spki);
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return rc;
}
