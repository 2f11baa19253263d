/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Changes to a secret and its versions, shared by UpdateSecret, RotateSecret
 * and the rotation scheduler: one function adds a version (given or
 * generated content) or promotes one, applying OCI's stage rules, the
 * secret's rules (reuse, expiry) and the version limits, under the
 * secret's etag so concurrent writers re-read and retry.  Also here:
 * content generation (passphrases, SSH keys, random bytes, with OCI's
 * templates), rotation, and scheduled deletion of secret versions.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/api_int.h"
#include "api/secret_stages.h"
#include "crypto/envelope.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/error.h"
#include "util/log.h"
#include "util/ocid.h"
#include "util/parse.h"
#include "util/rand.h"

#define CAS_RETRIES 32
#define MAX_ACTIVE_VERSIONS 30
#define MAX_PENDING_DELETION 30

/* Fail with an OCI status and code for the caller to answer. */
static int
fail(struct tr_change_error *e, int status, const char *code, int rc,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct tr_change_error *e, int status, const char *code, int rc,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->status = status;
	e->code = code;
	return tr_error_set(rc, "%s", msg);
}

void
tr_api_change_error(struct tr_api_ctx *c, int rc,
    const struct tr_change_error *e)
{
	if (e->status != 0)
		tr_api_error(c, e->status, e->code, "%s", tresor_error_last());
	else
		tr_api_error_rc(c, rc, "cannot change the secret");
}

/* Parse "P<n>D" (days, as OCI supports). */
int
tr_api_parse_days(const char *s, uint64_t *days)
{
	size_t len = strlen(s);

	if (len < 3 || s[0] != 'P' || s[len - 1] != 'D')
		return TRESOR_EINVAL;
	return tr_parse_u64(s + 1, len - 2, 0, 100000, days);
}

/* The secret's rule of `type` (borrowed from attrs), or NULL. */
const json_t *
tr_api_secret_rule(const json_t *attrs, const char *type)
{
	const json_t *rules = json_object_get(attrs, "secretRules"), *r;
	size_t i;

	json_array_foreach(rules, i, r) {
		const char *t = json_string_value(json_object_get(r,
		    "ruleType"));

		if (t != NULL && strcmp(t, type) == 0)
			return r;
	}
	return NULL;
}

int64_t
tr_api_version_expiry(const json_t *attrs, int64_t created)
{
	const json_t *r = tr_api_secret_rule(attrs, "SECRET_EXPIRY_RULE");
	const char *s;
	uint64_t days;
	int64_t t = 0, abs_t;

	if (r == NULL)
		return 0;
	s = json_string_value(json_object_get(r,
	    "secretVersionExpiryInterval"));
	if (s != NULL && tr_api_parse_days(s, &days) == 0)
		t = created + (int64_t)days * TR_API_DAY_MS;
	s = json_string_value(json_object_get(r, "timeOfAbsoluteExpiry"));
	if (s != NULL && tr_time_parse_rfc3339(s, &abs_t) == 0 &&
	    (t == 0 || abs_t < t))
		t = abs_t;
	return t;
}

static const char hexd[] = "0123456789abcdef";

static void
mac_hex(const unsigned char mac[32], char out[65])
{
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hexd[mac[i] >> 4];
		out[2 * i + 1] = hexd[mac[i] & 15];
	}
	out[64] = '\0';
}

/* The reuse rule: content may not repeat an earlier version's. */
static int
check_reuse(struct tr_change_error *e, const json_t *attrs,
    const struct tr_secret_version *vs, size_t n, const unsigned char *mac)
{
	const json_t *r = tr_api_secret_rule(attrs, "SECRET_REUSE_RULE");
	const json_t *gone = json_object_get(attrs, "_deletedMacs"), *h;
	bool on_deleted;
	char hex[65];
	size_t i;

	if (r == NULL)
		return 0;
	on_deleted = json_is_true(json_object_get(r,
	    "isEnforcedOnDeletedSecretVersions"));
	for (i = 0; i < n; i++) {
		if (!vs[i].has_mac || (vs[i].state[0] != '\0' && !on_deleted))
			continue;
		if (tr_ct_eq(vs[i].content_mac, mac, 32))
			return fail(e, 400, "InvalidParameter", TRESOR_EINVAL,
			    "the secret's reuse rule forbids content equal to "
			    "an earlier version's (version %llu)",
			    (unsigned long long)vs[i].number);
	}
	if (on_deleted) {
		mac_hex(mac, hex);
		json_array_foreach(gone, i, h) {
			const char *s = json_string_value(h);

			if (s != NULL && strlen(s) == 64 &&
			    tr_ct_eq(s, hex, 64))
				return fail(e, 400, "InvalidParameter",
				    TRESOR_EINVAL, "the secret's reuse rule "
				    "forbids content equal to a deleted "
				    "version's");
		}
	}
	return 0;
}

int
tr_api_seal_version(struct tr_keystore *ks, const struct tr_key_version *kv,
    const struct tr_secret *pt, struct tr_secret_version *v)
{
	struct tr_keyref ref = { kv->id, kv->wrapped, kv->wrapped_len };
	int rc;

	(void)snprintf(v->key_version_id, sizeof(v->key_version_id), "%s",
	    kv->id);
	if ((rc = tr_envelope_seal(ks, &ref, v->secret_id, v->number, pt,
	    &v->wrapped_dek, &v->wrapped_dek_len, &v->content,
	    &v->content_len)) < 0 ||
	    (rc = tr_keystore_content_mac(ks, v->secret_id, pt,
	    v->content_mac)) < 0)
		return rc;
	v->has_mac = true;
	return 0;
}

/* The secret's key with its current version, usable for new content. */
static int
usable_key(struct tr_store *st, struct tr_change_error *e, const char *kid,
    struct tr_obj *key, struct tr_key_version *kv)
{
	json_t *a;
	const char *alg, *cur;
	int rc;

	memset(key, 0, sizeof(*key));
	memset(kv, 0, sizeof(*kv));
	if ((rc = st->ops->obj_get(st, key, kid, "key")) < 0)
		return fail(e, 409, "Conflict", TRESOR_ECONFLICT,
		    "the secret's master encryption key %s no longer exists",
		    kid);
	if (strcmp(key->state, "ENABLED") != 0) {
		rc = fail(e, 409, "Conflict", TRESOR_ECONFLICT,
		    "master encryption key %s is %s; secret content needs an "
		    "ENABLED key", key->id, key->state);
		goto out;
	}
	a = tr_api_attrs(key->attrs);
	alg = json_string_value(json_object_get(a, "algorithm"));
	cur = json_string_value(json_object_get(a, "currentKeyVersion"));
	if (alg == NULL || strcmp(alg, "AES") != 0 || cur == NULL) {
		json_decref(a);
		rc = fail(e, 400, "InvalidParameter", TRESOR_EINVAL,
		    "key %s is not a symmetric (AES) key", key->id);
		goto out;
	}
	rc = st->ops->kv_get(st, kv, cur);
	json_decref(a);
out:
	if (rc < 0) {
		tr_obj_dispose(key);
		tr_key_version_dispose(kv);
	}
	return rc;
}

int
tr_secret_change(struct tr_store *st, struct tr_keystore *ks,
    const char *secret_id, const struct tr_version_req *req,
    struct tr_obj *out, struct tr_change_error *e)
{
	struct tr_secret_version *vs = NULL, nv;
	struct tr_store_write *w = NULL;
	struct tr_key_version kv;
	struct tr_obj s, key;
	unsigned int *stages = NULL;
	char old[TR_ETAG_MAX], when[TR_TIME_RFC3339_LEN];
	json_t *attrs = NULL;
	const char *kid, *k;
	json_t *v;
	size_t n = 0, i, nw, active;
	int rc = 0, attempt;

	memset(e, 0, sizeof(*e));
	memset(&s, 0, sizeof(s));
	memset(&key, 0, sizeof(key));
	memset(&kv, 0, sizeof(kv));
	memset(&nv, 0, sizeof(nv));
	memset(out, 0, sizeof(*out));
	for (attempt = 0; attempt < CAS_RETRIES; attempt++) {
		tr_secret_version_list_free(vs, n);
		vs = NULL;
		n = 0;
		tr_secret_version_dispose(&nv);
		memset(&nv, 0, sizeof(nv));
		TR_FREE_AND_NULL(stages);
		TR_FREE_AND_NULL(w);
		json_decref(attrs);
		attrs = NULL;
		tr_obj_dispose(&s);
		if ((rc = st->ops->obj_get(st, &s, secret_id,
		    "vaultsecret")) < 0)
			goto out;
		if (req->if_match != NULL && strcmp(req->if_match,
		    s.etag) != 0) {
			rc = fail(e, 412, "NoEtagMatch", TRESOR_EPRECOND,
			    "the if-match etag does not match the secret's "
			    "current etag; fetch it again");
			goto out;
		}
		if (strcmp(s.state, "ACTIVE") != 0) {
			if (s.time_of_deletion != 0) {
				tr_time_rfc3339(when, s.time_of_deletion);
				rc = fail(e, 409, "IncorrectState",
				    TRESOR_ECONFLICT, "secret %s is %s "
				    "(deletion scheduled for %s); cancel the "
				    "deletion first", s.id, s.state, when);
			} else {
				rc = fail(e, 409, "IncorrectState",
				    TRESOR_ECONFLICT, "secret %s is %s", s.id,
				    s.state);
			}
			goto out;
		}
		attrs = tr_api_attrs(s.attrs);
		kid = json_string_value(json_object_get(attrs, "keyId"));
		if (req->pt != NULL && key.id[0] == '\0' &&
		    (rc = usable_key(st, e, kid == NULL ? "" : kid, &key,
		    &kv)) < 0)
			goto out;
		if ((rc = st->ops->sv_list(st, &vs, &n, s.id, false)) < 0)
			goto out;
		stages = tr_calloc(n + 1, sizeof(*stages));
		w = tr_calloc(n + 2 + req->nextra, sizeof(*w));
		if (stages == NULL || w == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0, active = 0; i < n; i++) {
			stages[i] = vs[i].stages;
			if (vs[i].state[0] == '\0')
				active++;
		}
		if (req->pt != NULL) {
			if (active >= MAX_ACTIVE_VERSIONS) {
				rc = fail(e, 400, "LimitExceeded",
				    TRESOR_ELIMIT, "secret %s already has %d "
				    "versions in use, the most allowed; "
				    "schedule DEPRECATED versions for deletion "
				    "first", s.id, MAX_ACTIVE_VERSIONS);
				goto out;
			}
			(void)snprintf(nv.secret_id, sizeof(nv.secret_id),
			    "%s", s.id);
			nv.number = s.seq + 1;
			nv.time_created = tr_now_ms();
			if (req->name != NULL) {
				for (i = 0; i < n; i++) {
					if (strcmp(vs[i].name, req->name) != 0)
						continue;
					rc = fail(e, 409, "Conflict",
					    TRESOR_EEXISTS, "secret %s already "
					    "has a version named '%s'", s.id,
					    req->name);
					goto out;
				}
				(void)snprintf(nv.name, sizeof(nv.name), "%s",
				    req->name);
			}
			if ((rc = tr_api_seal_version(ks, &kv, req->pt,
			    &nv)) < 0)
				goto out;
			if ((rc = check_reuse(e, attrs, vs, n,
			    nv.content_mac)) < 0)
				goto out;
			if (req->generated)
				nv.attrs = tr_strdup(
				    "{\"isContentAutoGenerated\":true}");
			nv.stages = tr_stages_add(stages, n, req->pending);
			nv.time_of_expiry = tr_api_version_expiry(attrs,
			    nv.time_created);
			s.seq = nv.number;
			if (!req->pending) {
				json_object_set_new(attrs,
				    "currentVersionNumber",
				    json_integer((json_int_t)nv.number));
				json_object_set_new(attrs,
				    "timeOfCurrentVersionExpiry",
				    tr_api_time(nv.time_of_expiry));
			}
		} else if (req->promote != 0) {
			for (i = 0; i < n; i++)
				if (vs[i].number == req->promote)
					break;
			if (i == n || vs[i].state[0] != '\0') {
				rc = fail(e, 400, "InvalidParameter",
				    TRESOR_EINVAL, "secret %s has no version "
				    "%llu that can become current", s.id,
				    (unsigned long long)req->promote);
				goto out;
			}
			tr_stages_promote(stages, n, i);
			json_object_set_new(attrs, "currentVersionNumber",
			    json_integer((json_int_t)req->promote));
			json_object_set_new(attrs, "timeOfCurrentVersionExpiry",
			    tr_api_time(vs[i].time_of_expiry));
		}
		json_object_foreach((json_t *)req->attr_updates, k, v)
			json_object_set(attrs, k, v);
		tr_free(s.attrs);
		s.attrs = json_dumps(attrs, JSON_COMPACT);
		if (s.attrs == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		(void)snprintf(old, sizeof(old), "%s", s.etag);
		if ((rc = tr_store_new_etag(s.etag)) < 0)
			goto out;
		nw = 0;
		w[nw].kind = TR_W_OBJ_PUT;
		w[nw].obj = &s;
		w[nw].expect_etag = old;
		nw++;
		for (i = 0; i < n; i++) {
			if (stages[i] == vs[i].stages)
				continue;
			vs[i].stages = stages[i];
			w[nw].kind = TR_W_SV_UPDATE;
			w[nw].sv = &vs[i];
			nw++;
		}
		if (req->pt != NULL) {
			w[nw].kind = TR_W_SV_INSERT;
			w[nw].sv = &nv;
			nw++;
		}
		for (i = 0; i < req->nextra; i++)
			w[nw++] = req->extra[i];
		rc = st->ops->apply(st, w, nw);
		if (rc != TRESOR_EPRECOND)
			break;
	}
	if (rc == TRESOR_EPRECOND)
		rc = fail(e, 409, "IncorrectState", TRESOR_ECONFLICT,
		    "the secret is being changed by other requests; retry");
	else if (rc == TRESOR_EEXISTS)
		rc = fail(e, 409, "Conflict", TRESOR_EEXISTS,
		    "a version with that number or name already exists");
	if (rc < 0)
		goto out;
	*out = s;
	memset(&s, 0, sizeof(s));
out:
	tr_free(stages);
	tr_free(w);
	json_decref(attrs);
	tr_secret_version_list_free(vs, n);
	tr_secret_version_dispose(&nv);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&key);
	tr_obj_dispose(&s);
	return rc;
}

/* ---------------------------------------------------------------- */
/* generation                                                       */
/* ---------------------------------------------------------------- */

/* Uniform random index below `n` (rejection sampling, no bias). */
static int
rand_below(unsigned int n, unsigned int *out)
{
	unsigned int limit = 0xffffffffu - (0xffffffffu % n), v;
	int rc;

	do {
		if ((rc = tr_random_bytes(&v, sizeof(v))) < 0)
			return rc;
	} while (v >= limit);
	*out = v % n;
	return 0;
}

/*
 * A passphrase of `len` characters with at least `min_each` of each
 * class; DBAAS passwords start with a letter and use only # _ - as
 * special characters (Oracle Database's rules).
 */
static int
gen_passphrase(struct tr_secret *out, size_t len, bool dbaas)
{
	static const char *const classes[4] = {
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"abcdefghijklmnopqrstuvwxyz",
		"0123456789",
		"!#$%&()*+,-.:;<=>?@[]^_{|}~"
	};
	const char *cls[4] = { classes[0], classes[1], classes[2],
		dbaas ? "#_-" : classes[3] };
	unsigned int min_each = dbaas ? 2 : 1, idx, c;
	size_t i, j, total;
	char all[128];
	int rc;

	(void)snprintf(all, sizeof(all), "%s%s%s%s", cls[0], cls[1], cls[2],
	    cls[3]);
	total = strlen(all);
	/* the mandatory characters, then the rest, then shuffle */
	for (i = 0, c = 0; c < 4; c++) {
		for (j = 0; j < min_each; j++, i++) {
			if ((rc = rand_below((unsigned int)strlen(cls[c]),
			    &idx)) < 0)
				return rc;
			out->ptr[i] = (unsigned char)cls[c][idx];
		}
	}
	for (; i < len; i++) {
		if ((rc = rand_below((unsigned int)total, &idx)) < 0)
			return rc;
		out->ptr[i] = (unsigned char)all[idx];
	}
	for (i = len - 1; i > 0; i--) {
		unsigned char t;

		if ((rc = rand_below((unsigned int)(i + 1), &idx)) < 0)
			return rc;
		t = out->ptr[i];
		out->ptr[i] = out->ptr[idx];
		out->ptr[idx] = t;
	}
	if (dbaas && !((out->ptr[0] >= 'A' && out->ptr[0] <= 'Z') ||
	    (out->ptr[0] >= 'a' && out->ptr[0] <= 'z'))) {
		/* swap a letter to the front */
		for (i = 1; i < len; i++) {
			unsigned char t = out->ptr[i];

			if ((t >= 'A' && t <= 'Z') || (t >= 'a' && t <= 'z')) {
				out->ptr[i] = out->ptr[0];
				out->ptr[0] = t;
				break;
			}
		}
	}
	return 0;
}

/* Replace every `ph` in `tmpl` by `val` (JSON-escaped if `json`). */
static int
substitute(struct tr_buf *out, const char *tmpl, const char *ph,
    const char *val, size_t vlen, bool json)
{
	const char *p = tmpl, *hit;
	size_t i, plen = strlen(ph);

	while ((hit = strstr(p, ph)) != NULL) {
		tr_buf_add(out, p, (size_t)(hit - p));
		for (i = 0; i < vlen; i++) {
			if (json && val[i] == '\n')
				tr_buf_addstr(out, "\\n");
			else if (json && (val[i] == '"' || val[i] == '\\')) {
				tr_buf_addc(out, '\\');
				tr_buf_addc(out, val[i]);
			} else
				tr_buf_addc(out, val[i]);
		}
		p = hit + plen;
	}
	tr_buf_addstr(out, p);
	return tr_buf_error(out);
}

int
tr_api_generation_check(const json_t *ctx, char *why, size_t whycap)
{
	const char *type = json_string_value(json_object_get(ctx,
	    "generationType"));
	const char *tmpl = json_string_value(json_object_get(ctx,
	    "generationTemplate"));
	const char *st = json_string_value(json_object_get(ctx,
	    "secretTemplate"));
	const json_t *len = json_object_get(ctx, "passphraseLength");

	if (type == NULL || tmpl == NULL)
		goto bad;
	if (strcmp(type, "PASSPHRASE") == 0) {
		bool dbaas = strcmp(tmpl, "DBAAS_DEFAULT_PASSWORD") == 0;

		if (!dbaas && strcmp(tmpl, "SECRETS_DEFAULT_PASSWORD") != 0)
			goto bad;
		if (len != NULL && (!json_is_integer(len) ||
		    json_integer_value(len) < (dbaas ? 12 : 8) ||
		    json_integer_value(len) > (dbaas ? 30 : 512))) {
			(void)snprintf(why, whycap,
			    "passphraseLength must be %d to %d for %s",
			    dbaas ? 12 : 8, dbaas ? 30 : 512, tmpl);
			return TRESOR_EINVAL;
		}
		if (st != NULL && strstr(st, "%GENERATED_PASSPHRASE%") ==
		    NULL) {
			(void)snprintf(why, whycap, "secretTemplate must "
			    "contain %%GENERATED_PASSPHRASE%%");
			return TRESOR_EINVAL;
		}
	} else if (strcmp(type, "SSH_KEY") == 0) {
		if (strcmp(tmpl, "RSA_2048") != 0 &&
		    strcmp(tmpl, "RSA_3072") != 0 &&
		    strcmp(tmpl, "RSA_4096") != 0)
			goto bad;
		if (st != NULL && (strstr(st, "%GENERATED_PUBLIC_KEY%") ==
		    NULL || strstr(st, "%GENERATED_PRIVATE_KEY%") == NULL)) {
			(void)snprintf(why, whycap, "secretTemplate must "
			    "contain %%GENERATED_PUBLIC_KEY%% and "
			    "%%GENERATED_PRIVATE_KEY%%");
			return TRESOR_EINVAL;
		}
	} else if (strcmp(type, "BYTES") == 0) {
		if (strcmp(tmpl, "BYTES_512") != 0 &&
		    strcmp(tmpl, "BYTES_1024") != 0)
			goto bad;
		if (st != NULL && strstr(st, "%GENERATED_BYTES%") == NULL) {
			(void)snprintf(why, whycap, "secretTemplate must "
			    "contain %%GENERATED_BYTES%%");
			return TRESOR_EINVAL;
		}
	} else {
		goto bad;
	}
	return 0;
bad:
	(void)snprintf(why, whycap, "secretGenerationContext must be "
	    "PASSPHRASE (SECRETS_DEFAULT_PASSWORD, DBAAS_DEFAULT_PASSWORD), "
	    "SSH_KEY (RSA_2048, RSA_3072, RSA_4096) or BYTES (BYTES_512, "
	    "BYTES_1024)");
	return TRESOR_EINVAL;
}

int
tr_api_generate(const json_t *ctx, struct tr_secret **out)
{
	const char *type = json_string_value(json_object_get(ctx,
	    "generationType"));
	const char *tmpl = json_string_value(json_object_get(ctx,
	    "generationTemplate"));
	const char *st = json_string_value(json_object_get(ctx,
	    "secretTemplate"));
	struct tr_secret *raw = NULL, *pub = NULL;
	struct tr_buf text;
	EVP_PKEY *k = NULL;
	BIO *bio = NULL;
	char *data, *b64 = NULL;
	size_t len, b64cap = 0;
	long blen;
	int rc;

	*out = NULL;
	tr_buf_init(&text, 64 * 1024);
	if (strcmp(type, "PASSPHRASE") == 0) {
		bool dbaas = strcmp(tmpl, "DBAAS_DEFAULT_PASSWORD") == 0;

		len = json_object_get(ctx, "passphraseLength") != NULL ?
		    (size_t)json_integer_value(json_object_get(ctx,
		    "passphraseLength")) : (dbaas ? 16 : 32);
		if ((rc = tr_secret_new(&raw, len)) < 0 ||
		    (rc = gen_passphrase(raw, len, dbaas)) < 0)
			goto out;
		if (st == NULL) {
			*out = raw;
			raw = NULL;
			rc = 0;
			goto out;
		}
		rc = substitute(&text, st, "%GENERATED_PASSPHRASE%",
		    (const char *)raw->ptr, raw->len, false);
	} else if (strcmp(type, "BYTES") == 0) {
		len = strcmp(tmpl, "BYTES_1024") == 0 ? 1024 : 512;
		if ((rc = tr_secret_new(&raw, len)) < 0 ||
		    (rc = tr_random_bytes(raw->ptr, raw->len)) < 0)
			goto out;
		if (st == NULL) {
			*out = raw;
			raw = NULL;
			rc = 0;
			goto out;
		}
		b64cap = tr_base64_encoded_len(len) + 1;
		b64 = tr_malloc(b64cap);
		if (b64 == NULL || tr_base64_encode(b64, b64cap, raw->ptr,
		    raw->len) < 0) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		rc = substitute(&text, st, "%GENERATED_BYTES%", b64,
		    strlen(b64), false);
	} else {
		size_t bits = strcmp(tmpl, "RSA_4096") == 0 ? 4096 :
		    strcmp(tmpl, "RSA_3072") == 0 ? 3072 : 2048;
		const char *t = st != NULL ? st :
		    "{\"publicKey\": \"%GENERATED_PUBLIC_KEY%\", "
		    "\"privateKey\": \"%GENERATED_PRIVATE_KEY%\"}";
		bool json = t[0] == '{';
		struct tr_buf step;

		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
		bio = BIO_new(BIO_s_mem());
		if (k == NULL || bio == NULL ||
		    PEM_write_bio_PUBKEY(bio, k) != 1) {
			rc = tr_error_set(TRESOR_EINTERNAL,
			    "SSH key generation failed");
			goto out;
		}
		blen = BIO_get_mem_data(bio, &data);
		if ((rc = tr_secret_from(&pub, data, (size_t)blen)) < 0)
			goto out;
		(void)BIO_reset(bio);
		if (PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
		    NULL) != 1) {
			rc = tr_error_set(TRESOR_EINTERNAL,
			    "SSH key generation failed");
			goto out;
		}
		blen = BIO_get_mem_data(bio, &data);
		if ((rc = tr_secret_from(&raw, data, (size_t)blen)) < 0)
			goto out;
		OPENSSL_cleanse(data, (size_t)blen);
		tr_buf_init(&step, 64 * 1024);
		rc = substitute(&step, t, "%GENERATED_PUBLIC_KEY%",
		    (const char *)pub->ptr, pub->len, json);
		if (rc == 0)
			rc = substitute(&text, tr_buf_cstr(&step),
			    "%GENERATED_PRIVATE_KEY%", (const char *)raw->ptr,
			    raw->len, json);
		tr_secure_zero(step.ptr, step.cap);
		tr_buf_dispose(&step);
	}
	if (rc < 0)
		goto out;
	rc = tr_secret_from(out, text.ptr, text.len);
out:
	if (text.ptr != NULL)
		tr_secure_zero(text.ptr, text.cap);
	tr_buf_dispose(&text);
	tr_freezero(b64, b64cap);
	tr_secret_free(raw);
	tr_secret_free(pub);
	BIO_free(bio);
	EVP_PKEY_free(k);
	return rc;
}

/* ---------------------------------------------------------------- */
/* rotation                                                         */
/* ---------------------------------------------------------------- */

/* Generate and add a version of `secret_id`; `out` is the new secret. */
static int
rotate_now(struct tr_store *st, struct tr_keystore *ks, const char *secret_id,
    struct tr_obj *out, struct tr_change_error *e)
{
	struct tr_version_req req;
	struct tr_secret *pt = NULL;
	struct tr_obj s;
	json_t *a = NULL, *upd = NULL;
	const json_t *ctx;
	char when[TR_TIME_RFC3339_LEN];
	int64_t iv;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(&req, 0, sizeof(req));
	if ((rc = st->ops->obj_get(st, &s, secret_id, "vaultsecret")) < 0)
		return rc;
	a = tr_api_attrs(s.attrs);
	ctx = json_object_get(a, "secretGenerationContext");
	if (!json_is_object(ctx) ||
	    !json_is_true(json_object_get(a, "isAutoGenerationEnabled"))) {
		rc = fail(e, 400, "InvalidParameter", TRESOR_EINVAL,
		    "secret %s has no automatic generation "
		    "(secretGenerationContext with enableAutoGeneration); "
		    "rotate it by uploading new content", s.id);
		goto out;
	}
	if ((rc = tr_api_generate(ctx, &pt)) < 0)
		goto out;
	tr_time_rfc3339(when, tr_now_ms());
	upd = json_pack("{s:s}", "lastRotationTime", when);
	iv = tr_api_rotation_interval(json_object_get(a, "rotationConfig"));
	if (upd != NULL && iv > 0)
		json_object_set_new(upd, "nextRotationTime",
		    tr_api_time(tr_now_ms() + iv));
	req.pt = pt;
	req.generated = true;
	req.attr_updates = upd;
	rc = tr_secret_change(st, ks, secret_id, &req, out, e);
out:
	json_decref(upd);
	json_decref(a);
	tr_secret_free(pt);
	tr_obj_dispose(&s);
	return rc;
}

/* Interval of a rotation config in ms, 0 when not scheduled. */
int64_t
tr_api_rotation_interval(const json_t *rc)
{
	const char *iv = json_string_value(json_object_get(rc,
	    "rotationInterval"));
	uint64_t days;

	if (!json_is_true(json_object_get(rc, "isScheduledRotationEnabled")) ||
	    iv == NULL || tr_api_parse_days(iv, &days) < 0 || days == 0)
		return 0;
	return (int64_t)days * TR_API_DAY_MS;
}

int
tr_api_rotate_scheduled(struct tr_api_thread *t, const struct tr_obj *job,
    int64_t now)
{
	struct tr_change_error e;
	struct tr_store_write w[2];
	struct tr_obj s, next;
	json_t *a = NULL;
	int64_t iv;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(&next, 0, sizeof(next));
	memset(w, 0, sizeof(w));
	/* claim the job first: exactly one node rotates */
	w[0].kind = TR_W_OBJ_DELETE;
	w[0].obj = job;
	w[0].expect_etag = job->etag;
	rc = t->store->ops->apply(t->store, w, 1);
	if (rc == TRESOR_EPRECOND)
		return 0;
	if (rc < 0)
		return rc;
	rc = rotate_now(t->store, t->env->ks, job->parent_id, &s, &e);
	if (rc == TRESOR_ENOTFOUND)
		return 0;
	if (rc < 0) {
		tr_log_warn("scheduled rotation of %s failed: %s",
		    job->parent_id, tresor_error_last());
		/* keep the schedule: try again at the next interval */
		memset(&s, 0, sizeof(s));
		if (t->store->ops->obj_get(t->store, &s, job->parent_id,
		    "vaultsecret") < 0)
			return 0;
	} else {
		tr_log_info("rotated secret %s to version %llu", s.id,
		    (unsigned long long)s.seq);
	}
	a = tr_api_attrs(s.attrs);
	iv = tr_api_rotation_interval(json_object_get(a, "rotationConfig"));
	if (iv > 0 && strcmp(s.state, "ACTIVE") == 0 &&
	    tr_api_job_new(&next, s.tenancy_id, s.id, "rotate",
	    now + iv) == 0) {
		w[0].kind = TR_W_OBJ_PUT;
		w[0].obj = &next;
		w[0].expect_etag = NULL;
		(void)t->store->ops->apply(t->store, w, 1);
	}
	json_decref(a);
	tr_obj_dispose(&next);
	tr_obj_dispose(&s);
	return 1;
}

void
tr_api_rotate_secret(struct tr_api_ctx *c)
{
	struct tr_change_error e;
	struct tr_obj s, out, key;
	const char *kid;
	json_t *a;
	char wr[TR_OCID_MAX];
	int rc;

	memset(&key, 0, sizeof(key));
	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	if (tr_api_if_match(c, s.etag) < 0 || tr_api_secret_active(c, &s) < 0)
		goto out;
	a = tr_api_attrs(s.attrs);
	kid = json_string_value(json_object_get(a, "keyId"));
	rc = tr_api_load_key(c, &key, NULL, kid == NULL ? "" : kid, NULL);
	json_decref(a);
	if (rc < 0 || tr_api_authorize_key_use(c, &key, true) < 0)
		goto out;
	rc = rotate_now(c->st, c->t->env->ks, s.id, &out, &e);
	if (rc < 0) {
		tr_api_change_error(c, rc, &e);
		goto out;
	}
	tr_obj_dispose(&out);
	if (tr_ocid_new(wr, sizeof(wr), "workrequest", NULL) == 0)
		tr_response_header(c->resp, "opc-work-request-id", wr);
	tr_api_send_empty(c, 202);
out:
	tr_obj_dispose(&key);
	tr_obj_dispose(&s);
}

void
tr_api_cancel_secret_rotation(struct tr_api_ctx *c)
{
	struct tr_obj s;

	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	/* rotation runs to completion inside RotateSecret: nothing is ever
	 * in progress to cancel */
	tr_api_error(c, 409, "Conflict",
	    "secret %s has no rotation in progress", s.id);
	tr_obj_dispose(&s);
}

/* ---------------------------------------------------------------- */
/* secret version deletion                                          */
/* ---------------------------------------------------------------- */

/* Load version `param[1]` of the secret of the path, authorised. */
static int
version_for_op(struct tr_api_ctx *c, struct tr_obj *s,
    struct tr_secret_version *v)
{
	uint64_t num;
	int rc;

	memset(v, 0, sizeof(*v));
	if (tr_api_secret_for_op(c, s, c->param[0], NULL) < 0)
		return TRESOR_ENOTFOUND;
	if (tr_parse_u64(c->param[1], strlen(c->param[1]), 1, INT64_MAX,
	    &num) < 0 || (rc = c->st->ops->sv_get(c->st, v, s->id, num)) ==
	    TRESOR_ENOTFOUND) {
		tr_api_not_found(c, "secret version");
		tr_obj_dispose(s);
		return TRESOR_ENOTFOUND;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "version lookup failed");
		tr_obj_dispose(s);
	}
	return rc;
}

void
tr_api_schedule_version_deletion(struct tr_api_ctx *c)
{
	struct tr_secret_version v, *vs = NULL;
	struct tr_store_write w[3];
	struct tr_obj s, job;
	char old[TR_ETAG_MAX], kind[48];
	int64_t when;
	size_t n = 0, i, pending = 0;
	int rc;

	memset(&job, 0, sizeof(job));
	memset(w, 0, sizeof(w));
	if (tr_api_deletion_time(c, 1, 30, &when) < 0)
		return;
	if (version_for_op(c, &s, &v) < 0)
		return;
	if (tr_api_if_match(c, s.etag) < 0 || tr_api_secret_active(c, &s) < 0)
		goto out;
	if (v.state[0] != '\0') {
		tr_api_error(c, 409, "Conflict",
		    "version %llu of secret %s is already %s",
		    (unsigned long long)v.number, s.id, v.state);
		goto out;
	}
	if (v.stages != TR_STAGE_DEPRECATED) {
		tr_api_error(c, 400, "InvalidParameter",
		    "only a DEPRECATED secret version can be scheduled for "
		    "deletion; version %llu is in use",
		    (unsigned long long)v.number);
		goto out;
	}
	if ((rc = c->st->ops->sv_list(c->st, &vs, &n, s.id, false)) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (strcmp(vs[i].state, "PENDING_DELETION") == 0)
			pending++;
	if (pending >= MAX_PENDING_DELETION) {
		tr_api_error(c, 400, "LimitExceeded",
		    "secret %s already has %d versions pending deletion",
		    s.id, MAX_PENDING_DELETION);
		goto out;
	}
	(void)snprintf(v.state, sizeof(v.state), "PENDING_DELETION");
	v.time_of_deletion = when;
	(void)snprintf(kind, sizeof(kind), "reap-version:%llu",
	    (unsigned long long)v.number);
	if ((rc = tr_api_job_new(&job, s.tenancy_id, s.id, kind, when)) < 0)
		goto fail;
	(void)snprintf(old, sizeof(old), "%s", s.etag);
	if ((rc = tr_store_new_etag(s.etag)) < 0)
		goto fail;
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &s;
	w[0].expect_etag = old;
	w[1].kind = TR_W_SV_UPDATE;
	w[1].sv = &v;
	w[2].kind = TR_W_OBJ_PUT;
	w[2].obj = &job;
	if ((rc = c->st->ops->apply(c->st, w, 3)) < 0)
		goto fail;
	tr_api_set_etag(c, s.etag);
	tr_api_send_empty(c, 200);
	goto out;
fail:
	if (rc == TRESOR_EPRECOND || rc == TRESOR_EEXISTS)
		tr_api_error(c, 409, "IncorrectState",
		    "the secret was changed by another request; retry");
	else
		tr_api_error_rc(c, rc, "cannot schedule the deletion");
out:
	tr_secret_version_list_free(vs, n);
	tr_secret_version_dispose(&v);
	tr_obj_dispose(&job);
	tr_obj_dispose(&s);
}

void
tr_api_cancel_version_deletion(struct tr_api_ctx *c)
{
	struct tr_secret_version v;
	struct tr_store_write w[3];
	struct tr_obj s, job;
	char old[TR_ETAG_MAX], kind[48];
	size_t nw = 0;
	int rc;

	memset(&job, 0, sizeof(job));
	memset(w, 0, sizeof(w));
	if (version_for_op(c, &s, &v) < 0)
		return;
	if (tr_api_if_match(c, s.etag) < 0)
		goto out;
	if (strcmp(v.state, "PENDING_DELETION") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "version %llu of secret %s is not pending deletion",
		    (unsigned long long)v.number, s.id);
		goto out;
	}
	v.state[0] = '\0';
	v.time_of_deletion = 0;
	(void)snprintf(kind, sizeof(kind), "reap-version:%llu",
	    (unsigned long long)v.number);
	(void)snprintf(old, sizeof(old), "%s", s.etag);
	if ((rc = tr_store_new_etag(s.etag)) < 0)
		goto fail;
	w[nw].kind = TR_W_OBJ_PUT;
	w[nw].obj = &s;
	w[nw++].expect_etag = old;
	w[nw].kind = TR_W_SV_UPDATE;
	w[nw++].sv = &v;
	if (tr_api_job_find(c->st, s.tenancy_id, s.id, kind, &job) == 0) {
		w[nw].kind = TR_W_OBJ_DELETE;
		w[nw].obj = &job;
		w[nw++].expect_etag = job.etag;
	}
	if ((rc = c->st->ops->apply(c->st, w, nw)) < 0)
		goto fail;
	tr_api_set_etag(c, s.etag);
	tr_api_send_empty(c, 200);
	goto out;
fail:
	if (rc == TRESOR_EPRECOND)
		tr_api_error(c, 409, "IncorrectState",
		    "the secret was changed by another request; retry");
	else
		tr_api_error_rc(c, rc, "cannot cancel the deletion");
out:
	tr_secret_version_dispose(&v);
	tr_obj_dispose(&job);
	tr_obj_dispose(&s);
}
