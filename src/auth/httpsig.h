/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI's HTTP request signatures (draft-cavage as the OCI SDKs produce
 * them; ../shared/spec/oci-wire.md section 1): parsing the Authorization
 * header, checking the signed headers, the date and the body hash,
 * building the signing string and verifying RSA-SHA256.
 *
 * Every check that fails returns TRESOR_EAUTH with a message that says
 * which check failed; the message is safe to send to the caller.
 */
#ifndef TR_AUTH_HTTPSIG_H
#define TR_AUTH_HTTPSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/request.h"

#define TR_SIG_MAX_HEADERS 16
#define TR_SIG_MAX_SKEW_SEC 300
#define TR_AUTH_HEADER_MAX 16384

/* The parameters of an Authorization header; slices of the header. */
struct tr_sig_params {
	const char *key_id;
	size_t key_id_len;
	const char *algorithm;
	size_t algorithm_len;
	const char *signature;
	size_t signature_len;
	size_t nheaders;
	struct {
		const char *name;	/* as listed; case-insensitive */
		size_t len;
	} headers[TR_SIG_MAX_HEADERS];
};

/*
 * Parse `Signature version="1",keyId="...",algorithm="...",headers="...",
 * signature="..."` (any order; version optional and must be 1).
 */
int tr_httpsig_parse(struct tr_sig_params *out, const char *auth, size_t len);

/*
 * Check what must hold besides the signature itself (spec 1.7 points
 * 2-4): the list covers the required headers, every listed header is
 * present once, the signed date is within `max_skew` seconds of `now`,
 * and for POST/PUT/PATCH the x-content-sha256 and content-length match
 * the body received.
 */
int tr_httpsig_check(const struct tr_request *req,
    const struct tr_sig_params *p, int64_t now_sec, int64_t max_skew);

/*
 * Build the signing string into `out`.  With `legacy` set, the request
 * target is rewritten the way the SDK's signer sees it (spec 1.6).
 */
int tr_httpsig_signing_string(struct tr_buf *out, const struct tr_request *req,
    const struct tr_sig_params *p, bool legacy);

/* True when the legacy form of the target differs from the raw one. */
bool tr_httpsig_legacy_differs(const struct tr_request *req);

/*
 * Verify an RSASSA-PKCS1-v1_5 SHA-256 signature (base64) over `data`.
 * Returns 0 or TRESOR_EAUTH.
 */
int tr_httpsig_verify(EVP_PKEY *pub, const char *data, size_t len,
    const char *sig_b64, size_t sig_b64_len);

/*
 * Sign `data` with `key` (RSASSA-PKCS1-v1_5 SHA-256) into base64 text in
 * `out`.  Used by the client library and the tests.
 */
int tr_httpsig_sign(struct tr_buf *out, EVP_PKEY *key, const char *data,
    size_t len);

/*
 * OCI's API key fingerprint of a public key: MD5 over the DER
 * SubjectPublicKeyInfo as 16 lowercase hex pairs joined by ':' (48 bytes
 * with the NUL).
 */
int tr_httpsig_fingerprint(char out[48], EVP_PKEY *pub);

#endif /* TR_AUTH_HTTPSIG_H */
