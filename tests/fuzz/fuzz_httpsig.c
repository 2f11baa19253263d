/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for OCI request signatures (src/auth/httpsig.c): the
 * input is a whole request in the text format of fuzz_common.h; its
 * Authorization header goes through tr_httpsig_parse(), the request
 * through tr_httpsig_check() at the fixed time of the SDK's capture
 * (oci-wire.md 2.7, so the seeds taken from it pass the date check), then
 * both signing strings (raw and legacy target) are built and verified
 * against the SDK's public key.  The header is also parsed on its own
 * from the raw input, so every byte can be a header.
 *
 * Invariants checked (a failure traps): the parsed slices lie inside the
 * header, the header list stays within TR_SIG_MAX_HEADERS, the signing
 * string has one line per signed header.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (scripts/fuzz.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/httpsig.h"
#include "util/buf.h"
#include "util/log.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sun, 29 Nov 2026 01:27:50 GMT: the date of the SDK's captured requests */
#define SDK_NOW 1795915670LL

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

static EVP_PKEY *pub;

static EVP_PKEY *
load_pub(void)
{
	BIO *bio = BIO_new_mem_buf(sdk_pub, (int)sizeof(sdk_pub) - 1);
	EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return k;
}

/* The slices of `p` must all point inside [h, h + len). */
static void
check_params(const struct tr_sig_params *p, const char *h, size_t len)
{
	size_t i;

#define INSIDE(s, n) ((s) == NULL || ((s) >= h && (s) + (n) <= h + len))
	FZ_CHECK(INSIDE(p->key_id, p->key_id_len), "keyId slice outside");
	FZ_CHECK(INSIDE(p->algorithm, p->algorithm_len), "alg slice outside");
	FZ_CHECK(INSIDE(p->signature, p->signature_len), "sig slice outside");
	FZ_CHECK(p->nheaders <= TR_SIG_MAX_HEADERS, "too many headers: %zu",
	    p->nheaders);
	for (i = 0; i < p->nheaders; i++) {
		FZ_CHECK(INSIDE(p->headers[i].name, p->headers[i].len),
		    "header name %zu outside", i);
		FZ_CHECK(p->headers[i].len > 0, "empty header name %zu", i);
		FZ_CHECK(memchr(p->headers[i].name, ' ', p->headers[i].len) ==
		    NULL, "space inside header name %zu", i);
	}
#undef INSIDE
}

static void
signing_strings(const struct tr_request *req, const struct tr_sig_params *p)
{
	struct tr_buf ss;
	size_t i, lines;
	bool legacy;

	for (legacy = false; ; legacy = true) {
		tr_buf_init(&ss, 64 * 1024);
		if (tr_httpsig_signing_string(&ss, req, p, legacy) == 0) {
			/* one line per signed header, unless a value holds LF */
			lines = ss.len > 0 || p->nheaders > 0 ? 1 : 0;
			for (i = 0; i < ss.len; i++)
				if (ss.ptr[i] == '\n')
					lines++;
			FZ_CHECK(lines >= p->nheaders,
			    "signing string has %zu lines for %zu headers",
			    lines, p->nheaders);
			if (pub != NULL)
				(void)tr_httpsig_verify(pub, ss.ptr, ss.len,
				    p->signature, p->signature_len);
		}
		tr_buf_dispose(&ss);
		if (legacy)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_sig_params p;
	struct fz_request fr;
	const char *auth;
	size_t alen;

	if (pub == NULL) {
		tr_log_set_level(TR_LOG_NONE);
		pub = load_pub();
	}
	/* the raw input as an Authorization header on its own */
	if (tr_httpsig_parse(&p, (const char *)data, size) == 0)
		check_params(&p, (const char *)data, size);

	fz_parse_request(&fr, (const char *)data, size);
	(void)tr_httpsig_legacy_differs(&fr.req);
	auth = tr_request_header(&fr.req, "authorization", &alen, NULL);
	if (auth == NULL)
		return 0;
	if (tr_httpsig_parse(&p, auth, alen) < 0)
		return 0;
	check_params(&p, auth, alen);
	/* build the strings whether or not the checks pass: more paths */
	if (tr_httpsig_check(&fr.req, &p, SDK_NOW, TR_SIG_MAX_SKEW_SEC) == 0 ||
	    (size > 0 && (data[size - 1] & 1) != 0))
		signing_strings(&fr.req, &p);
	return 0;
}
