/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP signature parsing, checks and RSA-SHA256 verification (see
 * httpsig.h).  Everything here reads untrusted bytes: each parser moves
 * a cursor inside explicit lengths and never reads past them.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth/httpsig.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/error.h"

static bool
eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	return alen == blen && strncasecmp(a, b, alen) == 0;
}

int
tr_httpsig_parse(struct tr_sig_params *out, const char *auth, size_t len)
{
	const char *p = auth, *end = auth + len, *name, *val;
	const char *hdrs = NULL;
	size_t nlen, vlen, hlen = 0;
	bool seen_version = false;

	memset(out, 0, sizeof(*out));
	if (len > TR_AUTH_HEADER_MAX)
		return tr_error_set(TRESOR_EAUTH,
		    "Authorization header longer than %d bytes",
		    TR_AUTH_HEADER_MAX);
	if (len < 10 || strncasecmp(p, "Signature ", 10) != 0)
		return tr_error_set(TRESOR_EAUTH,
		    "Authorization header must start with 'Signature ' "
		    "(OCI HTTP signature scheme)");
	p += 10;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p == end)
			break;
		name = p;
		while (p < end && *p != '=' && *p != ',' && *p != ' ')
			p++;
		nlen = (size_t)(p - name);
		if (p == end || *p != '=' || p + 1 == end || p[1] != '"')
			return tr_error_set(TRESOR_EAUTH,
			    "Authorization header: expected name=\"value\" at "
			    "offset %zu", (size_t)(name - auth));
		p += 2;
		val = p;
		p = memchr(p, '"', (size_t)(end - p));
		if (p == NULL)
			return tr_error_set(TRESOR_EAUTH,
			    "Authorization header: unterminated quoted value");
		vlen = (size_t)(p - val);
		p++;
		if (eq_nocase(name, nlen, "keyId")) {
			if (out->key_id != NULL)
				goto dup;
			out->key_id = val;
			out->key_id_len = vlen;
		} else if (eq_nocase(name, nlen, "algorithm")) {
			if (out->algorithm != NULL)
				goto dup;
			out->algorithm = val;
			out->algorithm_len = vlen;
		} else if (eq_nocase(name, nlen, "signature")) {
			if (out->signature != NULL)
				goto dup;
			out->signature = val;
			out->signature_len = vlen;
		} else if (eq_nocase(name, nlen, "headers")) {
			if (hdrs != NULL)
				goto dup;
			hdrs = val;
			hlen = vlen;
		} else if (eq_nocase(name, nlen, "version")) {
			if (seen_version)
				goto dup;
			seen_version = true;
			if (vlen != 1 || val[0] != '1')
				return tr_error_set(TRESOR_EAUTH,
				    "unsupported signature version (only "
				    "version=\"1\" is accepted)");
		}
		/* unknown parameters are ignored, as draft-cavage says */
	}
	if (out->key_id == NULL || out->key_id_len == 0)
		return tr_error_set(TRESOR_EAUTH,
		    "Authorization header has no keyId");
	if (out->signature == NULL || out->signature_len == 0)
		return tr_error_set(TRESOR_EAUTH,
		    "Authorization header has no signature");
	if (out->algorithm == NULL)
		return tr_error_set(TRESOR_EAUTH,
		    "Authorization header has no algorithm");
	if (!eq_nocase(out->algorithm, out->algorithm_len, "rsa-sha256"))
		return tr_error_set(TRESOR_EAUTH,
		    "unsupported signature algorithm '%.*s': only rsa-sha256 "
		    "is accepted", (int)(out->algorithm_len > 32 ? 32 :
		    out->algorithm_len), out->algorithm);
	if (hdrs == NULL || hlen == 0)
		return tr_error_set(TRESOR_EAUTH,
		    "Authorization header has no headers list");
	/* split the list on spaces */
	p = hdrs;
	end = hdrs + hlen;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		name = p;
		while (p < end && *p != ' ')
			p++;
		if (out->nheaders == TR_SIG_MAX_HEADERS)
			return tr_error_set(TRESOR_EAUTH,
			    "signature covers more than %d headers",
			    TR_SIG_MAX_HEADERS);
		out->headers[out->nheaders].name = name;
		out->headers[out->nheaders].len = (size_t)(p - name);
		out->nheaders++;
	}
	return 0;
dup:
	return tr_error_set(TRESOR_EAUTH,
	    "Authorization header repeats parameter '%.*s'",
	    (int)(nlen > 32 ? 32 : nlen), name);
}

static bool
listed(const struct tr_sig_params *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nheaders; i++)
		if (eq_nocase(p->headers[i].name, p->headers[i].len, name))
			return true;
	return false;
}

static bool
has_body_method(const struct tr_request *req)
{
	return eq_nocase(req->method, req->method_len, "POST") ||
	    eq_nocase(req->method, req->method_len, "PUT") ||
	    eq_nocase(req->method, req->method_len, "PATCH");
}

int
tr_httpsig_check(const struct tr_request *req, const struct tr_sig_params *p,
    int64_t now_sec, int64_t max_skew)
{
	static const char *body_required[] = { "content-type",
		"content-length", "x-content-sha256", NULL };
	unsigned char digest[32];
	char b64[64], name[64], lenbuf[24];
	const char *v, *datehdr;
	size_t vlen, count, i;
	int64_t t, skew;
	int n;

	if (!listed(p, "(request-target)"))
		return tr_error_set(TRESOR_EAUTH,
		    "the signature does not cover (request-target)");
	if (!listed(p, "host"))
		return tr_error_set(TRESOR_EAUTH,
		    "the signature does not cover the host header");
	if (listed(p, "x-date"))
		datehdr = "x-date";
	else if (listed(p, "date"))
		datehdr = "date";
	else
		return tr_error_set(TRESOR_EAUTH,
		    "the signature covers neither x-date nor date");
	if (has_body_method(req)) {
		for (i = 0; body_required[i] != NULL; i++)
			if (!listed(p, body_required[i]))
				return tr_error_set(TRESOR_EAUTH,
				    "the signature of a %.*s request must "
				    "cover %s", (int)req->method_len,
				    req->method, body_required[i]);
	}
	for (i = 0; i < p->nheaders; i++) {
		if (eq_nocase(p->headers[i].name, p->headers[i].len,
		    "(request-target)"))
			continue;
		if (p->headers[i].len >= sizeof(name))
			return tr_error_set(TRESOR_EAUTH,
			    "signed header name too long");
		memcpy(name, p->headers[i].name, p->headers[i].len);
		name[p->headers[i].len] = '\0';
		v = tr_request_header(req, name, &vlen, &count);
		if (v == NULL)
			return tr_error_set(TRESOR_EAUTH,
			    "signed header '%s' is missing from the request",
			    name);
		if (count > 1)
			return tr_error_set(TRESOR_EAUTH,
			    "signed header '%s' occurs more than once", name);
	}
	v = tr_request_header(req, datehdr, &vlen, NULL);
	if (tr_time_parse_http(v, vlen, &t) < 0)
		return tr_error_set(TRESOR_EAUTH,
		    "signed %s header is not an RFC 7231 date (e.g. 'Sun, 29 "
		    "Nov 2026 01:27:30 GMT')", datehdr);
	skew = t > now_sec ? t - now_sec : now_sec - t;
	if (skew > max_skew)
		return tr_error_set(TRESOR_EAUTH,
		    "signed %s is %lld seconds %s the server clock (allowed: "
		    "%lld); check the client's clock or resend the request",
		    datehdr, (long long)skew, t > now_sec ? "ahead of" :
		    "behind", (long long)max_skew);
	if (listed(p, "x-content-sha256")) {
		v = tr_request_header(req, "x-content-sha256", &vlen, NULL);
		EVP_Digest(req->body, req->body_len, digest, NULL,
		    EVP_sha256(), NULL);
		if (tr_base64_encode(b64, sizeof(b64), digest, 32) < 0 ||
		    vlen != 44 || !tr_ct_eq(v, b64, 44))
			return tr_error_set(TRESOR_EAUTH,
			    "x-content-sha256 does not match the body "
			    "received (the body was altered or truncated)");
	}
	if (listed(p, "content-length")) {
		v = tr_request_header(req, "content-length", &vlen, NULL);
		n = snprintf(lenbuf, sizeof(lenbuf), "%zu", req->body_len);
		if (n < 0 || vlen != (size_t)n || memcmp(v, lenbuf, vlen) != 0)
			return tr_error_set(TRESOR_EAUTH,
			    "content-length does not match the body received");
	}
	return 0;
}

/* Characters the SDK's signer percent-encodes in a query (spec 1.6). */
static bool
legacy_query_char(unsigned char c)
{
	return c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' ||
	    c == '`';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Rewrite the target into the form Node's legacy url.parse produced. */
static int
legacy_target(struct tr_buf *out, const char *t, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	bool in_query = false;
	size_t i;
	int h, l;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '?')
			in_query = true;
		if (!in_query && c == '\'') {
			tr_buf_addstr(out, "%27");
		} else if (in_query && legacy_query_char(c)) {
			tr_buf_addc(out, '%');
			tr_buf_addc(out, hex[c >> 4]);
			tr_buf_addc(out, hex[c & 15]);
		} else if (in_query && c == '%' && i + 2 < len &&
		    hexval(t[i + 1]) >= 8 && hexval(t[i + 2]) >= 0) {
			h = hexval(t[i + 1]);
			l = hexval(t[i + 2]);
			tr_buf_addc(out, (char)(h << 4 | l));
			i += 2;
		} else {
			tr_buf_addc(out, (char)c);
		}
	}
	return tr_buf_error(out);
}

bool
tr_httpsig_legacy_differs(const struct tr_request *req)
{
	bool in_query = false;
	size_t i;

	for (i = 0; i < req->target_len; i++) {
		unsigned char c = (unsigned char)req->target[i];

		if (c == '?')
			in_query = true;
		if ((!in_query && c == '\'') ||
		    (in_query && (legacy_query_char(c) || (c == '%' &&
		    i + 1 < req->target_len && hexval(req->target[i + 1]) >= 8))))
			return true;
	}
	return false;
}

int
tr_httpsig_signing_string(struct tr_buf *out, const struct tr_request *req,
    const struct tr_sig_params *p, bool legacy)
{
	char name[64];
	const char *v;
	size_t i, k, vlen;

	for (i = 0; i < p->nheaders; i++) {
		if (i > 0)
			tr_buf_addc(out, '\n');
		if (p->headers[i].len >= sizeof(name))
			return tr_error_set(TRESOR_EAUTH,
			    "signed header name too long");
		for (k = 0; k < p->headers[i].len; k++) {
			char c = p->headers[i].name[k];

			name[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		name[k] = '\0';
		tr_buf_addstr(out, name);
		tr_buf_addstr(out, ": ");
		if (strcmp(name, "(request-target)") == 0) {
			for (k = 0; k < req->method_len; k++) {
				char c = req->method[k];

				tr_buf_addc(out, (c >= 'A' && c <= 'Z') ?
				    (char)(c + 32) : c);
			}
			tr_buf_addc(out, ' ');
			if (legacy)
				legacy_target(out, req->target,
				    req->target_len);
			else
				tr_buf_add(out, req->target, req->target_len);
			continue;
		}
		v = tr_request_header(req, name, &vlen, NULL);
		if (v == NULL)
			return tr_error_set(TRESOR_EAUTH,
			    "signed header '%s' is missing from the request",
			    name);
		tr_buf_add(out, v, vlen);
	}
	return tr_buf_error(out);
}

/*
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 8.2.2), by encoding and
 * comparing: m = s^e mod n, then m must equal EM, EMSA-PKCS1-v1_5 of the
 * SHA-256 of the signing string; nothing the signer sent is parsed.  EM
 * is compared as two numbers: the part before the digest (padding and
 * DigestInfo's algorithm, the same for every signature of a key: made
 * once per key) against m >> 256, and the digest against m's low 256
 * bits.  The arithmetic is OpenSSL's (BN_mod_exp_mont, what
 * EVP_PKEY_verify runs too).  Done here rather than through
 * EVP_PKEY_verify because that call costs 0.7 us beyond the 16 us of the
 * exponentiation on this project's machine (a BN_CTX, six allocations,
 * the parameter lookups, a constant-time conversion of the result: bench
 * notes in issue 6), on every signed request.
 *
 * Each thread keeps, for the last few keys it saw, the modulus, the
 * exponent and the Montgomery form of the modulus (a slot holds a
 * reference to its key, so a key's address cannot be reused while it is
 * here), and its own BN_CTX and numbers.  The values compared are public
 * (anyone can compute s^e mod n from the request and the public key), so
 * BN_cmp, which is not constant-time, is right here; STYLE S3 is about
 * secrets.
 */
#define VERIFY_SLOTS 8
#define SIG_MAX 1024			/* an RSA-8192 signature */

struct verify_slot {
	EVP_PKEY *pub;			/* a reference: identity only */
	BIGNUM *n, *e;
	BN_MONT_CTX *mont;
	BIGNUM *prefix;			/* EM without the digest */
	int k;				/* the modulus' length in bytes */
};

struct verify_cache {
	struct verify_slot slot[VERIFY_SLOTS];
	unsigned int next;
	BN_CTX *bn;
	BIGNUM *s, *m, *t;
};

static pthread_key_t verify_key;
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
slot_clear(struct verify_slot *sl)
{
	EVP_PKEY_free(sl->pub);
	BN_free(sl->n);
	BN_free(sl->e);
	BN_MONT_CTX_free(sl->mont);
	BN_free(sl->prefix);
	memset(sl, 0, sizeof(*sl));
}

static void
verify_cache_free(void *p)
{
	struct verify_cache *vc = p;
	size_t i;

	for (i = 0; i < VERIFY_SLOTS; i++)
		slot_clear(&vc->slot[i]);
	BN_free(vc->s);
	BN_free(vc->m);
	BN_free(vc->t);
	BN_CTX_free(vc->bn);
	tr_free(vc);
}

static void
verify_init_once(void)
{
	(void)pthread_key_create(&verify_key, verify_cache_free);
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static struct verify_cache *
verify_cache(void)
{
	struct verify_cache *vc;

	(void)pthread_once(&verify_once, verify_init_once);
	if (sha256_md == NULL)
		return NULL;
	vc = pthread_getspecific(verify_key);
	if (vc != NULL)
		return vc;
	vc = tr_calloc(1, sizeof(*vc));
	if (vc == NULL)
		return NULL;
	vc->bn = BN_CTX_new();
	vc->s = BN_new();
	vc->m = BN_new();
	vc->t = BN_new();
	if (vc->bn == NULL || vc->s == NULL || vc->m == NULL ||
	    vc->t == NULL || pthread_setspecific(verify_key, vc) != 0) {
		verify_cache_free(vc);
		return NULL;
	}
	return vc;
}

/* DER of DigestInfo's algorithm for SHA-256 (RFC 8017 9.2, note 1). */
static const unsigned char sha256_prefix[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

/*
 * EM = 0x00 0x01 0xff.. 0x00 DigestInfo(SHA-256, digest) is `k` bytes; its
 * first k - 32 (all but the digest) as a number, or NULL.
 */
static BIGNUM *
emsa_pkcs1_sha256_prefix(size_t k)
{
	unsigned char em[SIG_MAX];
	size_t t = sizeof(sha256_prefix) + 32;

	if (k < t + 11 || k > sizeof(em))
		return NULL;
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - t - 3);
	em[k - t - 1] = 0x00;
	memcpy(em + k - t, sha256_prefix, sizeof(sha256_prefix));
	return BN_bin2bn(em, (int)(k - 32), NULL);
}

/* The slot of RSA key `pub` in this thread's cache, filled if new. */
static struct verify_slot *
verify_slot(struct verify_cache *vc, EVP_PKEY *pub)
{
	struct verify_slot *sl;
	size_t i;

	if (pub == NULL)
		return NULL;
	for (i = 0; i < VERIFY_SLOTS; i++)
		if (vc->slot[i].pub == pub)
			return &vc->slot[i];
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
		return NULL;
	sl = &vc->slot[vc->next++ % VERIFY_SLOTS];
	slot_clear(sl);
	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &sl->n) != 1 ||
	    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &sl->e) != 1 ||
	    (sl->mont = BN_MONT_CTX_new()) == NULL ||
	    /* e = 1 would make s = EM a signature: odd, 3 and up */
	    !BN_is_odd(sl->n) || !BN_is_odd(sl->e) || BN_is_one(sl->e) ||
	    BN_num_bits(sl->e) > 64 ||
	    BN_MONT_CTX_set(sl->mont, sl->n, vc->bn) != 1 ||
	    (sl->prefix = emsa_pkcs1_sha256_prefix(
	    (size_t)BN_num_bytes(sl->n))) == NULL ||
	    EVP_PKEY_up_ref(pub) != 1) {
		slot_clear(sl);
		ERR_clear_error();
		return NULL;
	}
	sl->pub = pub;
	sl->k = BN_num_bytes(sl->n);
	return sl;
}

int
tr_httpsig_verify(EVP_PKEY *pub, const char *data, size_t len,
    const char *sig_b64, size_t sig_b64_len)
{
	unsigned char sig[SIG_MAX], dgst[32];
	unsigned int dlen = 0;
	struct verify_cache *vc;
	struct verify_slot *sl;
	size_t siglen;

	if (tr_base64_decode(sig, sizeof(sig), &siglen, sig_b64,
	    sig_b64_len) < 0)
		return tr_error_set(TRESOR_EAUTH,
		    "the signature is not valid base64");
	if ((vc = verify_cache()) == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if ((sl = verify_slot(vc, pub)) == NULL)
		return tr_error_set(TRESOR_EAUTH,
		    "the API key cannot verify rsa-sha256 signatures");
	if (EVP_Digest(data, len, dgst, &dlen, sha256_md, NULL) != 1 ||
	    dlen != sizeof(dgst))
		return tr_error_set(TRESOR_EINTERNAL, "SHA-256 failed");
	/*
	 * 8.2.2 step 1 wants the signature exactly as long as the modulus;
	 * like EVP_PKEY_verify, a shorter one (leading zero bytes left out
	 * by a signer) is read as the same number.
	 */
	if (siglen == 0 || siglen > (size_t)sl->k ||
	    BN_bin2bn(sig, (int)siglen, vc->s) == NULL ||
	    BN_cmp(vc->s, sl->n) >= 0 ||
	    BN_mod_exp_mont(vc->m, vc->s, sl->e, sl->n, vc->bn,
	    sl->mont) != 1 ||
	    BN_rshift(vc->t, vc->m, 256) != 1 ||
	    BN_cmp(vc->t, sl->prefix) != 0 ||
	    BN_mask_bits(vc->m, 256) != 1 ||
	    BN_bin2bn(dgst, (int)sizeof(dgst), vc->t) == NULL ||
	    BN_cmp(vc->m, vc->t) != 0) {
		ERR_clear_error();
		return tr_error_set(TRESOR_EAUTH,
		    "signature verification failed: the signature does not "
		    "match the signing string (wrong private key, or the "
		    "request was altered in transit)");
	}
	return 0;
}

int
tr_httpsig_sign(struct tr_buf *out, EVP_PKEY *key, const char *data,
    size_t len)
{
	unsigned char sig[1024];
	char b64[1400];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t siglen = sizeof(sig);
	int rc = TRESOR_EINTERNAL;

	if (md == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)data,
	    len) != 1 || siglen > sizeof(sig) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)data,
	    len) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "signing failed");
		goto out;
	}
	if ((rc = tr_base64_encode(b64, sizeof(b64), sig, siglen)) < 0)
		goto out;
	rc = tr_buf_addstr(out, b64);
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int
tr_httpsig_fingerprint(char out[48], EVP_PKEY *pub)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *der = NULL, md5[16];
	int dlen, i;

	dlen = i2d_PUBKEY(pub, &der);
	if (dlen <= 0)
		return tr_error_set(TRESOR_EINVAL, "cannot encode public key");
	if (EVP_Digest(der, (size_t)dlen, md5, NULL, EVP_md5(), NULL) != 1) {
		OPENSSL_free(der);
		return tr_error_set(TRESOR_EINTERNAL, "MD5 unavailable");
	}
	OPENSSL_free(der);
	for (i = 0; i < 16; i++) {
		out[i * 3] = hex[md5[i] >> 4];
		out[i * 3 + 1] = hex[md5[i] & 15];
		out[i * 3 + 2] = i == 15 ? '\0' : ':';
	}
	return 0;
}
