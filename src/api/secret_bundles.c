/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret content (SecretsClient, /20190301/secretbundles): the hot path.
 *
 * GetSecretBundle: authenticate (done by the router), look up the secret
 * and the chosen version, authorise SECRET_BUNDLE_READ on the secret and
 * (tenancy setting secret_reads_require_key_use) KEY_DECRYPT on its key,
 * unwrap the version's data key with the master key version, open the
 * content, answer it base64 in JSON.  The content is never logged and
 * the response body is zeroed after it is sent.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "crypto/envelope.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/ocid.h"
#include "util/parse.h"

/* Which version a request selects: by number, name and/or stage. */
struct selector {
	uint64_t number;	/* 0: any */
	const char *name;	/* NULL: any */
	unsigned int stage;	/* 0: any */
};

static int
read_selector(struct tr_api_ctx *c, struct selector *sel)
{
	const char *num = tr_api_query(c, "versionNumber");
	const char *stage = tr_api_query(c, "stage");

	memset(sel, 0, sizeof(*sel));
	sel->name = tr_api_query(c, "secretVersionName");
	if (num != NULL && tr_parse_u64(num, strlen(num), 1, INT64_MAX,
	    &sel->number) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "query parameter 'versionNumber' must be a positive "
		    "integer");
		return TRESOR_EINVAL;
	}
	if (stage != NULL && tr_api_stage_parse(stage, &sel->stage) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "query parameter 'stage' must be CURRENT, PENDING, LATEST,"
		    " PREVIOUS or DEPRECATED");
		return TRESOR_EINVAL;
	}
	if (sel->number == 0 && sel->name == NULL && sel->stage == 0)
		sel->stage = TR_STAGE_CURRENT;
	return 0;
}

/* Find the selected version of `s` (with its blobs). */
static int
select_version(struct tr_api_ctx *c, const struct tr_obj *s,
    const json_t *a, const struct selector *sel,
    struct tr_secret_version *out)
{
	struct tr_secret_version *vs = NULL;
	size_t n = 0, i;
	uint64_t number = sel->number;
	json_int_t hint;
	int rc;

	memset(out, 0, sizeof(*out));
	/*
	 * The common read, CURRENT: the secret names its current version;
	 * that version is taken when it does carry the stage (only one
	 * version can), else the versions are searched as for any stage.
	 */
	if (number == 0 && sel->name == NULL && sel->stage == TR_STAGE_CURRENT &&
	    (hint = json_integer_value(json_object_get(a,
	    "currentVersionNumber"))) > 0) {
		rc = c->st->ops->sv_get(c->st, out, s->id, (uint64_t)hint);
		if (rc == 0 && (out->stages & TR_STAGE_CURRENT) != 0)
			return 0;
		tr_secret_version_dispose(out);
		memset(out, 0, sizeof(*out));
		if (rc < 0 && rc != TRESOR_ENOTFOUND)
			return rc;
	}
	if (number == 0) {
		if ((rc = c->st->ops->sv_list(c->st, &vs, &n, s->id,
		    false)) < 0)
			return rc;
		for (i = 0; i < n; i++) {
			if (sel->name != NULL && strcmp(vs[i].name,
			    sel->name) != 0)
				continue;
			if (sel->stage != 0 && (vs[i].stages & sel->stage) == 0)
				continue;
			number = vs[i].number;
			break;
		}
		tr_secret_version_list_free(vs, n);
		if (number == 0)
			return tr_error_set(TRESOR_ENOTFOUND,
			    "no such secret version");
	}
	if ((rc = c->st->ops->sv_get(c->st, out, s->id, number)) < 0)
		return rc;
	if ((sel->name != NULL && strcmp(out->name, sel->name) != 0) ||
	    (sel->stage != 0 && (out->stages & sel->stage) == 0)) {
		tr_secret_version_dispose(out);
		return tr_error_set(TRESOR_ENOTFOUND, "no such secret version");
	}
	return 0;
}

/*
 * The checks every content read shares: authorisation on the secret,
 * the secret's state, the key's state and the key permission.  Fills
 * `key`.
 */
static int
content_checks(struct tr_api_ctx *c, const struct tr_obj *s,
    const json_t *a, struct tr_obj *key)
{
	struct tr_api_target t;
	const char *kid;
	int rc;

	tr_api_secret_target(s, &t);
	if ((rc = tr_api_authorize(c, &t, NULL, "secret")) < 0)
		return rc;
	if ((rc = tr_api_secret_active(c, s)) < 0)
		return rc;
	kid = json_string_value(json_object_get(a, "keyId"));
	rc = tr_api_load_key(c, key, NULL, kid == NULL ? "" : kid, NULL);
	if (rc < 0)
		return rc;
	if ((rc = tr_api_authorize_key_use(c, key, false)) < 0)
		return rc;
	if (strcmp(key->state, "ENABLED") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "the secret's master encryption key %s is %s; its content "
		    "cannot be read until the key is enabled", key->id,
		    key->state);
		return TRESOR_ECONFLICT;
	}
	return 0;
}

/* ,"name":<time or null> */
static void
put_time(struct tr_buf *b, const char *name, int64_t ms)
{
	char t[TR_TIME_RFC3339_LEN];

	(void)tr_buf_addstr(b, ",\"");
	(void)tr_buf_addstr(b, name);
	if (ms == 0) {
		(void)tr_buf_addstr(b, "\":null");
		return;
	}
	tr_time_rfc3339(t, ms);
	(void)tr_buf_addstr(b, "\":\"");
	(void)tr_buf_addstr(b, t);
	(void)tr_buf_addc(b, '"');
}

/*
 * The SecretBundle as text, written straight into the answer (the hot
 * read: no jansson values).  Members in the order of
 * tr_api_version_summary_json(v, true) and then the content and the
 * metadata, as before.  The base64 content is encoded into the body's
 * room reserved up front, so the buffer never grows (and copies) with
 * secret bytes in it.
 */
static int
bundle_body(struct tr_api_ctx *c, const json_t *a,
    const struct tr_secret_version *v, const struct tr_secret *pt)
{
	struct tr_buf head, tail, *body = &c->resp->body;
	const json_t *md = json_object_get(a, "metadata");
	size_t b64len = tr_base64_encoded_len(pt->len);
	int rc;

	tr_buf_init(&head, 64 * 1024);
	tr_buf_init(&tail, TR_BUF_MAX_DEFAULT);
	(void)tr_buf_reserve(&head, 512);
	(void)tr_buf_addstr(&head, "{\"secretId\":");
	(void)tr_json_add_string(&head, v->secret_id);
	(void)tr_buf_addstr(&head, ",\"versionNumber\":");
	(void)tr_buf_add_u64(&head, v->number);
	(void)tr_buf_addstr(&head, ",\"stages\":");
	tr_api_stages_text(&head, v->stages);
	put_time(&head, "timeCreated", v->time_created);
	put_time(&head, "timeOfDeletion", v->time_of_deletion);
	if (v->name[0] != '\0') {
		(void)tr_buf_addstr(&head, ",\"versionName\":");
		(void)tr_json_add_string(&head, v->name);
	}
	put_time(&head, "timeOfExpiry", v->time_of_expiry);
	(void)tr_buf_addstr(&head, ",\"secretBundleContent\":{\"contentType\":"
	    "\"BASE64\",\"content\":\"");
	(void)tr_buf_addstr(&tail, "\"}");
	if (md != NULL && !json_is_null(md)) {
		(void)tr_buf_addstr(&tail, ",\"metadata\":");
		(void)tr_json_dump_buf(&tail, md, false);
	}
	(void)tr_buf_addc(&tail, '}');
	if ((rc = tr_buf_error(&head)) < 0 || (rc = tr_buf_error(&tail)) < 0)
		goto out;
	tr_buf_reset(body);
	if ((rc = tr_buf_reserve(body, head.len + b64len + 1 + tail.len)) < 0)
		goto out;
	(void)tr_buf_add(body, head.ptr, head.len);
	if ((rc = tr_base64_encode(body->ptr + body->len, b64len + 1, pt->ptr,
	    pt->len)) < 0)
		goto out;
	body->len += b64len;
	(void)tr_buf_add(body, tail.ptr, tail.len);
	rc = tr_buf_error(body);
out:
	tr_buf_dispose(&head);
	tr_buf_dispose(&tail);
	return rc;
}

/* Decrypt version `v` of `s` and answer the SecretBundle. */
static void
send_bundle(struct tr_api_ctx *c, const struct tr_obj *s, const json_t *a,
    const struct tr_secret_version *v)
{
	struct tr_key_version kv;
	struct tr_secret *pt = NULL;
	struct tr_keyref ref;
	size_t n;
	int rc;

	memset(&kv, 0, sizeof(kv));
	if ((rc = c->st->ops->kv_get(c->st, &kv, v->key_version_id)) < 0)
		goto fail;
	ref.version_id = kv.id;
	ref.wrapped = kv.wrapped;
	ref.wrapped_len = kv.wrapped_len;
	if ((rc = tr_envelope_open_cached(c->t->deks, c->t->env->ks, &ref,
	    s->id, v->number,
	    v->wrapped_dek, v->wrapped_dek_len, v->content, v->content_len,
	    &pt)) < 0) {
		if (rc == TRESOR_EAUTH)
			rc = tr_error_set(TRESOR_EINTERNAL,
			    "secret %s version %llu does not decrypt", s->id,
			    (unsigned long long)v->number);
		goto fail;
	}
	c->resp->body_is_secret = true;
	if (bundle_body(c, a, v, pt) < 0) {
		tr_buf_reset(&c->resp->body);
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	c->resp->status = 200;
	/* the hot read: a copy, not snprintf (0.2 % of the loop) */
	n = strnlen(s->id, sizeof(c->usage_target) - 1);
	memcpy(c->usage_target, s->id, n);
	c->usage_target[n] = '\0';
	tr_api_set_etag(c, s->etag);
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot read the secret");
out:
	tr_secret_free(pt);
	tr_key_version_dispose(&kv);
}

/*
 * The expiry rule: a version past its expiry (under the secret's current
 * rules) is refused when the rule blocks retrieval on expiry.
 */
static bool
expired_and_blocked(struct tr_api_ctx *c, const struct tr_obj *s,
    const json_t *a, struct tr_secret_version *v)
{
	const json_t *r = tr_api_secret_rule(a, "SECRET_EXPIRY_RULE");
	char when[TR_TIME_RFC3339_LEN];
	int64_t exp = tr_api_version_expiry(a, v->time_created);
	bool blocked = false;

	if (exp != 0)
		v->time_of_expiry = exp;
	if (r != NULL && exp != 0 && tr_now_ms() >= exp &&
	    json_is_true(json_object_get(r,
	    "isSecretContentRetrievalBlockedOnExpiry"))) {
		tr_time_rfc3339(when, exp);
		tr_api_error(c, 409, "Conflict",
		    "version %llu of secret %s expired at %s, and the secret's "
		    "expiry rule blocks retrieval after expiry; add a new "
		    "version", (unsigned long long)v->number, s->id, when);
		blocked = true;
	}
	return blocked;
}

/* Shared tail of the two bundle reads, once the secret is loaded. */
static void
bundle_of(struct tr_api_ctx *c, struct tr_obj *s)
{
	struct tr_secret_version v;
	struct selector sel;
	struct tr_obj key;
	json_t *a = tr_api_attrs_shared(c, s->attrs);	/* read only */
	int rc;

	memset(&v, 0, sizeof(v));
	memset(&key, 0, sizeof(key));
	if (read_selector(c, &sel) < 0 || content_checks(c, s, a, &key) < 0)
		goto out;
	rc = select_version(c, s, a, &sel, &v);
	if (rc == TRESOR_ENOTFOUND) {
		tr_api_not_found(c, "secret version");
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "version lookup failed");
		goto out;
	}
	if (v.state[0] != '\0') {
		tr_api_error(c, 409, "Conflict",
		    "version %llu of secret %s is %s",
		    (unsigned long long)v.number, s->id, v.state);
		goto out;
	}
	if (expired_and_blocked(c, s, a, &v))
		goto out;
	send_bundle(c, s, a, &v);
out:
	json_decref(a);
	tr_secret_version_dispose(&v);
	tr_obj_dispose(&key);
}

void
tr_api_get_secret_bundle(struct tr_api_ctx *c)
{
	struct tr_obj s;

	if (tr_api_load_secret(c, &s, c->param[0]) < 0)
		return;
	bundle_of(c, &s);
	tr_obj_dispose(&s);
}

void
tr_api_get_secret_bundle_by_name(struct tr_api_ctx *c)
{
	const char *name = tr_api_query(c, "secretName");
	const char *vault = tr_api_query(c, "vaultId");
	struct tr_obj s;
	int rc;

	memset(&s, 0, sizeof(s));
	if (name == NULL || vault == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required query parameter '%s'",
		    name == NULL ? "secretName" : "vaultId");
		return;
	}
	if (!tr_ocid_valid(vault, "vault")) {
		tr_api_error(c, 400, "InvalidParameter",
		    "query parameter 'vaultId' is not a vault OCID");
		return;
	}
	rc = c->st->ops->obj_get_by_name(c->st, &s, "vaultsecret",
	    tr_api_tenancy(c), vault, name);
	if (rc == TRESOR_ENOTFOUND) {
		tr_api_not_found(c, "secret");
		return;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "secret lookup failed");
		return;
	}
	bundle_of(c, &s);
	tr_obj_dispose(&s);
}

void
tr_api_list_secret_bundle_versions(struct tr_api_ctx *c)
{
	struct tr_secret_version *vs = NULL;
	struct tr_obj s, key;
	size_t n = 0, i, limit, emitted = 0, idx;
	uint64_t after;
	bool desc, has_after;
	json_t *arr, *a;
	int rc;

	memset(&key, 0, sizeof(key));
	if (tr_api_version_page(c, &limit, &desc, &has_after, &after) < 0)
		return;
	if (tr_api_load_secret(c, &s, c->param[0]) < 0)
		return;
	a = tr_api_attrs(s.attrs);
	rc = content_checks(c, &s, a, &key);
	json_decref(a);
	if (rc < 0)
		goto out;
	if ((rc = c->st->ops->sv_list(c->st, &vs, &n, s.id, false)) < 0) {
		tr_api_error_rc(c, rc, "cannot list versions");
		goto out;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		idx = desc ? n - 1 - i : i;
		if (has_after && (desc ? vs[idx].number >= after :
		    vs[idx].number <= after))
			continue;
		if (emitted == limit) {
			tr_api_version_next(c, vs[desc ? idx + 1 :
			    idx - 1].number);
			break;
		}
		json_array_append_new(arr, tr_api_version_summary_json(&vs[idx],
		    true));
		emitted++;
	}
	tr_api_send_json(c, 200, arr);
out:
	tr_secret_version_list_free(vs, n);
	tr_obj_dispose(&key);
	tr_obj_dispose(&s);
}
