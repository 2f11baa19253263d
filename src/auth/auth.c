/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request authentication (see auth.h).
 */
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "auth/auth.h"
#include "auth/httpsig.h"
#include "auth/token.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"

#define CACHE_SLOTS 256

struct key_entry {
	struct key_entry *next;
	char *key_id;
	EVP_PKEY *pub;
	struct tr_principal principal;
};

struct tr_auth {
	uint64_t generation;
	bool have_generation;
	struct key_entry *slots[CACHE_SLOTS];
	struct tr_token_issuer *issuer;
};

int
tr_auth_new(struct tr_auth **out)
{
	*out = tr_calloc(1, sizeof(**out));
	return *out == NULL ? tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
}

static void
cache_clear(struct tr_auth *a)
{
	struct key_entry *e, *next;
	size_t i;

	for (i = 0; i < CACHE_SLOTS; i++) {
		for (e = a->slots[i]; e != NULL; e = next) {
			next = e->next;
			tr_free(e->key_id);
			EVP_PKEY_free(e->pub);
			tr_free(e);
		}
		a->slots[i] = NULL;
	}
}

void
tr_auth_free(struct tr_auth *a)
{
	if (a == NULL)
		return;
	cache_clear(a);
	tr_free(a);
}

void
tr_auth_set_token_issuer(struct tr_auth *a, struct tr_token_issuer *issuer)
{
	a->issuer = issuer;
}

static size_t
slot_of(const char *s, size_t len)
{
	return tr_hash_bytes(s, len) % CACHE_SLOTS;
}

int
tr_auth_parse_public_key(EVP_PKEY **out, const char *pem, size_t len)
{
	BIO *bio;
	EVP_PKEY *k;

	*out = NULL;
	if (len > 16384)
		return tr_error_set(TRESOR_EINVAL, "public key too long");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		return tr_error_set(TRESOR_EINVAL,
		    "API keys must be RSA public keys");
	}
	if (EVP_PKEY_get_bits(k) < 2048) {
		EVP_PKEY_free(k);
		return tr_error_set(TRESOR_EINVAL,
		    "API keys must be RSA keys of at least 2048 bits");
	}
	*out = k;
	return 0;
}

/* Copy `len` bytes into a fixed buffer of `cap`, refusing overflow. */
static int
copy_part(char *dst, size_t cap, const char *src, size_t len,
    const char *what)
{
	if (len == 0 || len >= cap)
		return tr_error_set(TRESOR_EAUTH, "keyId has an invalid %s",
		    what);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/*
 * Resolve an API keyId "<tenancy>/<user>/<fingerprint>" to its public
 * key and principal, through the cache.
 */
static int
resolve_api_key(struct tr_auth *a, struct tr_store *st, const char *kid,
    size_t kidlen, struct key_entry **out)
{
	char tenancy[TR_ID_MAX], user[TR_ID_MAX], fp[64];
	const char *s1, *s2, *pem;
	struct tr_obj key = { 0 }, usr = { 0 };
	struct key_entry *e = NULL;
	json_t *attrs = NULL;
	size_t slot = slot_of(kid, kidlen), i;
	bool is_user;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	for (e = a->slots[slot]; e != NULL; e = e->next) {
		if (strlen(e->key_id) == kidlen &&
		    memcmp(e->key_id, kid, kidlen) == 0) {
			*out = e;
			return 0;
		}
	}
	s1 = memchr(kid, '/', kidlen);
	s2 = s1 == NULL ? NULL : memchr(s1 + 1, '/',
	    kidlen - (size_t)(s1 + 1 - kid));
	if (s1 == NULL || s2 == NULL ||
	    memchr(s2 + 1, '/', kidlen - (size_t)(s2 + 1 - kid)) != NULL)
		return tr_error_set(TRESOR_EAUTH,
		    "keyId must be <tenancy OCID>/<user OCID>/<fingerprint> or "
		    "ST$<session token>");
	if ((rc = copy_part(tenancy, sizeof(tenancy), kid,
	    (size_t)(s1 - kid), "tenancy")) < 0 ||
	    (rc = copy_part(user, sizeof(user), s1 + 1, (size_t)(s2 - s1 - 1),
	    "user")) < 0 ||
	    (rc = copy_part(fp, sizeof(fp), s2 + 1,
	    kidlen - (size_t)(s2 + 1 - kid), "fingerprint")) < 0)
		return rc;
	for (i = 0; fp[i] != '\0'; i++)
		if (fp[i] >= 'A' && fp[i] <= 'Z')
			fp[i] = (char)(fp[i] + 32);
	rc = st->ops->obj_get_by_name(st, &key, "apikey", tenancy, user, fp);
	if (rc == TRESOR_ENOTFOUND || (rc == 0 && strcmp(key.state,
	    "ACTIVE") != 0)) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "unknown API key: no active key with fingerprint %s for "
		    "user %s in tenancy %s", fp, user, tenancy);
		goto out;
	}
	if (rc < 0)
		goto out;
	/* the key belongs to a user, or is a workload's enrollment key */
	is_user = strncmp(user, "ocid1.user.", 11) == 0;
	rc = st->ops->obj_get(st, &usr, user, is_user ? "user" : "workload");
	if (rc == TRESOR_ENOTFOUND || (rc == 0 && (strcmp(usr.state,
	    "ACTIVE") != 0 || strcmp(usr.tenancy_id, tenancy) != 0))) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "%s %s is not an active %s of tenancy %s",
		    is_user ? "user" : "workload", user,
		    is_user ? "user" : "workload", tenancy);
		goto out;
	}
	if (rc < 0)
		goto out;
	attrs = json_loads(key.attrs == NULL ? "{}" : key.attrs, 0, NULL);
	pem = json_string_value(json_object_get(attrs, "keyValue"));
	if (pem == NULL) {
		rc = tr_error_set(TRESOR_EINTERNAL, "stored API key has no PEM");
		goto out;
	}
	e = tr_calloc(1, sizeof(*e));
	if (e == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	e->key_id = tr_strndup(kid, kidlen);
	if (e->key_id == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = tr_auth_parse_public_key(&e->pub, pem, strlen(pem))) < 0)
		goto out;
	e->principal.kind = is_user ? TR_PRINCIPAL_USER :
	    TR_PRINCIPAL_RESOURCE;
	e->principal.via_enrollment_key = !is_user;
	(void)snprintf(e->principal.id, sizeof(e->principal.id), "%s", user);
	(void)snprintf(e->principal.tenancy_id,
	    sizeof(e->principal.tenancy_id), "%s", tenancy);
	(void)snprintf(e->principal.compartment_id,
	    sizeof(e->principal.compartment_id), "%s", is_user ? tenancy :
	    usr.compartment_id);
	(void)snprintf(e->principal.resource_type,
	    sizeof(e->principal.resource_type), "%s", is_user ? "user" :
	    "workload");
	(void)snprintf(e->principal.name, sizeof(e->principal.name), "%s",
	    is_user ? usr.name : "");
	(void)snprintf(e->principal.key_id, sizeof(e->principal.key_id), "%s",
	    fp);
	e->next = a->slots[slot];
	a->slots[slot] = e;
	*out = e;
	e = NULL;
	rc = 0;
out:
	if (e != NULL) {
		tr_free(e->key_id);
		EVP_PKEY_free(e->pub);
		tr_free(e);
	}
	json_decref(attrs);
	tr_obj_dispose(&key);
	tr_obj_dispose(&usr);
	return rc;
}

int
tr_auth_request(struct tr_auth *a, struct tr_store *st,
    const struct tr_request *req, struct tr_principal *out)
{
	struct tr_sig_params p;
	struct tr_buf ss;
	struct key_entry *e = NULL;
	EVP_PKEY *pub = NULL;
	const char *auth;
	size_t alen;
	uint64_t gen;
	int rc;

	/* *out is written whole on success (a copy of the cached principal
	 * or by tr_token_verify) and zeroed on failure, below */
	tr_buf_init(&ss, 64 * 1024);
	auth = tr_request_header(req, "authorization", &alen, NULL);
	if (auth == NULL) {
		rc = tr_error_set(TRESOR_EAUTH,
		    "the request is not signed: no Authorization header (sign "
		    "requests with an OCI API key or session token)");
		goto out;
	}
	if ((rc = tr_httpsig_parse(&p, auth, alen)) < 0)
		goto out;
	if ((rc = tr_httpsig_check(req, &p, tr_real_now_ms() / 1000,
	    TR_SIG_MAX_SKEW_SEC)) < 0)
		goto out;
	if (p.key_id_len > 3 && memcmp(p.key_id, "ST$", 3) == 0) {
		if (a->issuer == NULL) {
			rc = tr_error_set(TRESOR_EAUTH,
			    "session tokens are not accepted by this server");
			goto out;
		}
		if ((rc = tr_token_verify(a->issuer, st, p.key_id + 3,
		    p.key_id_len - 3, out, &pub)) < 0)
			goto out;
	} else {
		if ((rc = st->ops->iam_generation(st, &gen)) < 0)
			goto out;
		if (!a->have_generation || gen != a->generation) {
			cache_clear(a);
			a->generation = gen;
			a->have_generation = true;
		}
		if ((rc = resolve_api_key(a, st, p.key_id, p.key_id_len,
		    &e)) < 0)
			goto out;
		*out = e->principal;
	}
	if ((rc = tr_httpsig_signing_string(&ss, req, &p, false)) < 0)
		goto out;
	rc = tr_httpsig_verify(e != NULL ? e->pub : pub, ss.ptr, ss.len,
	    p.signature, p.signature_len);
	if (rc == TRESOR_EAUTH && tr_httpsig_legacy_differs(req)) {
		char first[512];

		/* keep the first message; the legacy retry is a courtesy */
		(void)snprintf(first, sizeof(first), "%s", tresor_error_last());
		tr_buf_reset(&ss);
		if (tr_httpsig_signing_string(&ss, req, &p, true) == 0 &&
		    tr_httpsig_verify(e != NULL ? e->pub : pub, ss.ptr, ss.len,
		    p.signature, p.signature_len) == 0)
			rc = 0;
		else
			rc = tr_error_set(TRESOR_EAUTH, "%s", first);
	}
out:
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	EVP_PKEY_free(pub);
	tr_buf_dispose(&ss);
	return rc;
}
