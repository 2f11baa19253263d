/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresor's own endpoints under /tresor/v1 (docs/api/tresor-v1.md): the
 * policy simulator and linter, workload enrollment, resource-principal
 * session tokens, the instance-metadata capability URLs and OCI's X.509
 * federation call for instance principals.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/api_int.h"
#include "auth/auth.h"
#include "auth/httpsig.h"
#include "auth/token.h"
#include "crypto/keystore.h"
#include "crypto/x509ca.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/ocid.h"
#include "util/rand.h"

#define INSTANCE_KEY_LABEL "tresor/instance-leaf-key/v1"
#define CERT_DAYS 365
#define TTL_MIN 60
#define TTL_MAX 86400

/* ---------------------------------------------------------------- */
/* simulator                                                        */
/* ---------------------------------------------------------------- */

/* Split the trace buffer's lines into a JSON array. */
static json_t *
trace_json(const struct tr_buf *b)
{
	json_t *arr = json_array();
	const char *p = tr_buf_cstr(b), *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p)
			json_array_append_new(arr, json_stringn(p,
			    (size_t)(nl - p)));
		p = *nl == '\0' ? nl : nl + 1;
	}
	return arr;
}

/* The principal to simulate, from the request body (default: caller). */
static int
sim_principal(struct tr_api_ctx *c, const json_t *spec,
    struct tr_principal *p, char *tags, size_t tagcap)
{
	static const char *const read_policies[] = { "POLICY_READ", NULL };
	struct tr_api_target t = { 0 };
	const char *uid, *uname, *wid;
	struct tr_obj o;
	json_t *a;
	int rc;

	*p = c->principal;
	tags[0] = '\0';
	if (spec == NULL || json_is_null(spec))
		return 0;
	uid = json_string_value(json_object_get(spec, "userId"));
	uname = json_string_value(json_object_get(spec, "userName"));
	wid = json_string_value(json_object_get(spec, "workloadId"));
	if ((uid != NULL) + (uname != NULL) + (wid != NULL) != 1) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'principal' needs exactly one of userId, userName, "
		    "workloadId");
		return TRESOR_EINVAL;
	}
	if ((uid != NULL && strcmp(uid, c->principal.id) == 0) ||
	    (wid != NULL && strcmp(wid, c->principal.id) == 0))
		return 0;
	/* simulating someone else reveals policy: read policies */
	t.compartment_id = tr_api_tenancy(c);
	if ((rc = tr_api_authorize(c, &t, read_policies, "tenancy")) < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	if (uname != NULL)
		rc = c->st->ops->obj_get_by_name(c->st, &o, "user",
		    tr_api_tenancy(c), NULL, uname);
	else
		rc = c->st->ops->obj_get(c->st, &o, uid != NULL ? uid : wid,
		    uid != NULL ? "user" : "workload");
	if (rc == 0 && strcmp(o.tenancy_id, tr_api_tenancy(c)) != 0)
		rc = TRESOR_ENOTFOUND;
	if (rc < 0) {
		tr_obj_dispose(&o);
		if (rc == TRESOR_ENOTFOUND)
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'principal' names no such user or workload");
		else
			tr_api_error_rc(c, rc, "principal lookup failed");
		return rc;
	}
	memset(p, 0, sizeof(*p));
	(void)snprintf(p->id, sizeof(p->id), "%s", o.id);
	(void)snprintf(p->tenancy_id, sizeof(p->tenancy_id), "%s",
	    o.tenancy_id);
	(void)snprintf(p->compartment_id, sizeof(p->compartment_id), "%s",
	    o.compartment_id);
	if (strcmp(o.type, "user") == 0) {
		p->kind = TR_PRINCIPAL_USER;
		(void)snprintf(p->resource_type, sizeof(p->resource_type),
		    "user");
		(void)snprintf(p->name, sizeof(p->name), "%s", o.name);
	} else {
		char *d;

		a = tr_api_attrs(o.attrs);
		p->kind = strcmp(json_string_value(json_object_get(a,
		    "kind")) == NULL ? "" : json_string_value(
		    json_object_get(a, "kind")), "INSTANCE") == 0 ?
		    TR_PRINCIPAL_INSTANCE : TR_PRINCIPAL_RESOURCE;
		(void)snprintf(p->resource_type, sizeof(p->resource_type),
		    "%s", json_string_value(json_object_get(a,
		    "resourceType")) == NULL ? "" : json_string_value(
		    json_object_get(a, "resourceType")));
		d = json_dumps(json_object_get(a, "definedTags"),
		    JSON_COMPACT);
		if (d != NULL && strlen(d) < tagcap) {
			(void)snprintf(tags, tagcap, "%s", d);
			p->defined_tags_json = tags;
		}
		tr_free(d);
		json_decref(a);
	}
	tr_obj_dispose(&o);
	return 0;
}

/* One check of the simulation: permissions on a target. */
static int
sim_check(struct tr_api_ctx *c, const struct tr_principal *p, json_t *checks,
    const char *on, const char *target_id, const struct tr_api_target *t,
    const char *const *perms, struct tr_iam_decision *dec)
{
	struct tr_buf trace;
	json_t *o, *pa;
	size_t i;
	int rc;

	tr_buf_init(&trace, 1024 * 1024);
	rc = tr_api_decide(c, p, t, perms, dec, &trace);
	if (rc < 0) {
		tr_buf_dispose(&trace);
		return rc;
	}
	pa = json_array();
	for (i = 0; perms[i] != NULL; i++)
		json_array_append_new(pa, json_string(perms[i]));
	o = json_pack("{s:o, s:s, s:s?, s:s?, s:b, s:o}", "permissions", pa,
	    "on", on, "targetId", target_id, "compartmentId",
	    t->compartment_id, "allowed", dec->allowed, "trace",
	    trace_json(&trace));
	if (dec->allowed)
		json_object_set_new(o, "grantedBy",
		    json_string(dec->granted_by));
	else
		json_object_set_new(o, "missingPermission",
		    json_string(dec->missing_permission));
	json_array_append_new(checks, o);
	tr_buf_dispose(&trace);
	return 0;
}

void
tr_api_simulate_policy(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "principal", TR_F_OBJECT, false },
		{ "operation", TR_F_STRING, true },
		{ "target", TR_F_OBJECT, true },
		{ NULL, 0, false }
	};
	static const struct tr_field tfields[] = {
		{ "secretId", TR_F_STRING, false },
		{ "secretName", TR_F_STRING, false },
		{ "vaultId", TR_F_STRING, false },
		{ "keyId", TR_F_STRING, false },
		{ "compartmentId", TR_F_STRING, false },
		{ NULL, 0, false }
	};
	static const char *const vault_create_secret[] = {
		"VAULT_CREATE_SECRET", NULL };
	static const char *const secret_create[] = { "SECRET_CREATE", NULL };
	static const char *const key_create[] = { "KEY_CREATE", NULL };
	static const char *const vault_create_key[] = { "VAULT_CREATE_KEY",
		NULL };
	struct tr_principal p;
	struct tr_api_target t = { 0 }, kt = { 0 };
	struct tr_iam_decision dec;
	struct tr_iam_world *w;
	struct tr_iam_request req;
	struct tr_obj sec, key, vault;
	const json_t *tg;
	const char *op, *const *perms, *const *kperms = NULL;
	const char *sid, *sname, *vid, *kid, *comp;
	char tags[4096], suggestion[1024] = "";
	json_t *checks = NULL, *resp, *ka = NULL;
	bool allowed = true, key_denied = false, content_op;
	int status = 200;

	memset(&sec, 0, sizeof(sec));
	memset(&key, 0, sizeof(key));
	memset(&vault, 0, sizeof(vault));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	tg = json_object_get(c->body, "target");
	if (tr_api_check_fields(c, tg, tfields, "target.") < 0)
		return;
	op = json_string_value(json_object_get(c->body, "operation"));
	perms = tr_iam_op_permissions(op);
	if (perms == NULL) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'operation': '%.64s' is not an operation tresor "
		    "knows (e.g. GetSecretBundle, CreateSecret, Encrypt)", op);
		return;
	}
	if (sim_principal(c, json_object_get(c->body, "principal"), &p, tags,
	    sizeof(tags)) < 0)
		return;
	sid = json_string_value(json_object_get(tg, "secretId"));
	sname = json_string_value(json_object_get(tg, "secretName"));
	vid = json_string_value(json_object_get(tg, "vaultId"));
	kid = json_string_value(json_object_get(tg, "keyId"));
	comp = json_string_value(json_object_get(tg, "compartmentId"));
	/* look the target up (no authorisation: this is a simulation) */
	if (sid != NULL) {
		if (c->st->ops->obj_get(c->st, &sec, sid, "vaultsecret") < 0 ||
		    strcmp(sec.tenancy_id, tr_api_tenancy(c)) != 0)
			goto nosuch;
	} else if (sname != NULL && vid != NULL &&
	    c->st->ops->obj_get_by_name(c->st, &sec, "vaultsecret",
	    tr_api_tenancy(c), vid, sname) < 0) {
		memset(&sec, 0, sizeof(sec));
	}
	if (sec.id[0] != '\0') {
		json_t *a = tr_api_attrs(sec.attrs);
		const char *k = json_string_value(json_object_get(a, "keyId"));

		if (k != NULL && kid == NULL)
			(void)c->st->ops->obj_get(c->st, &key, k, "key");
		json_decref(a);
		t.secret_id = sec.id;
		t.secret_name = sec.name;
		t.vault_id = sec.parent_id;
		t.compartment_id = sec.compartment_id;
	}
	if (kid != NULL && (c->st->ops->obj_get(c->st, &key, kid, "key") < 0 ||
	    strcmp(key.tenancy_id, tr_api_tenancy(c)) != 0))
		goto nosuch;
	if (vid != NULL && (c->st->ops->obj_get(c->st, &vault, vid,
	    "vault") < 0 || strcmp(vault.tenancy_id, tr_api_tenancy(c)) != 0))
		goto nosuch;
	if (key.id[0] != '\0') {
		kt.compartment_id = key.compartment_id;
		kt.vault_id = key.parent_id;
		kt.key_id = key.id;
	}
	if (sec.id[0] == '\0' && key.id[0] != '\0' && sname == NULL) {
		t = kt;
	} else if (sec.id[0] == '\0' && vault.id[0] != '\0') {
		t.vault_id = vault.id;
		t.compartment_id = vault.compartment_id;
	}
	/* explicit fields override what was looked up */
	if (sname != NULL)
		t.secret_name = sname;
	if (comp != NULL)
		t.compartment_id = comp;
	if (t.compartment_id == NULL) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'target' names nothing to check: give secretId, "
		    "secretName + vaultId, keyId, vaultId or compartmentId");
		goto out;
	}
	if ((tr_api_world(c, &w)) < 0) {
		tr_api_error(c, 500, "InternalServerError",
		    "cannot load policies");
		goto out;
	}
	checks = json_array();
	c->operation = op;
	content_op = strcmp(op, "CreateSecret") == 0;
	if (strcmp(op, "CreateSecret") == 0) {
		if (sim_check(c, &p, checks, "compartment", NULL, &t,
		    secret_create, &dec) < 0)
			goto fail;
		allowed = dec.allowed;
		if (allowed && vault.id[0] != '\0') {
			struct tr_api_target vt = { 0 };

			vt.compartment_id = vault.compartment_id;
			vt.vault_id = vault.id;
			if (sim_check(c, &p, checks, "vault", vault.id, &vt,
			    vault_create_secret, &dec) < 0)
				goto fail;
			allowed = dec.allowed;
		}
	} else if (strcmp(op, "CreateKey") == 0) {
		if (sim_check(c, &p, checks, "compartment", NULL, &t,
		    key_create, &dec) < 0)
			goto fail;
		allowed = dec.allowed;
		if (allowed && vault.id[0] != '\0') {
			struct tr_api_target vt = { 0 };

			vt.compartment_id = vault.compartment_id;
			vt.vault_id = vault.id;
			if (sim_check(c, &p, checks, "vault", vault.id, &vt,
			    vault_create_key, &dec) < 0)
				goto fail;
			allowed = dec.allowed;
		}
	} else {
		if (sim_check(c, &p, checks, t.secret_id != NULL ? "secret" :
		    t.key_id != NULL ? "key" : t.vault_id != NULL ? "vault" :
		    "compartment", t.secret_id != NULL ? t.secret_id :
		    t.key_id != NULL ? t.key_id : t.vault_id, &t, perms,
		    &dec) < 0)
			goto fail;
		allowed = dec.allowed;
	}
	/* the key permission of content operations */
	if (allowed && key.id[0] != '\0' && sec.id[0] != '\0') {
		kperms = tr_iam_op_key_permissions(op,
		    tr_iam_world_secret_reads_require_key_use(w),
		    strcmp(op, "UpdateSecret") == 0);
	} else if (allowed && content_op && key.id[0] != '\0') {
		kperms = tr_iam_op_key_permissions(op, true, true);
	}
	if (kperms != NULL) {
		if (sim_check(c, &p, checks, "key", key.id, &kt, kperms,
		    &dec) < 0)
			goto fail;
		if (!dec.allowed) {
			allowed = false;
			key_denied = !content_op;
		}
	}
	if (!allowed) {
		memset(&req, 0, sizeof(req));
		req.principal = &p;
		req.operation = op;
		req.compartment_id = key_denied ? kt.compartment_id :
		    t.compartment_id;
		req.vault_id = key_denied ? kt.vault_id : t.vault_id;
		req.key_id = key_denied ? kt.key_id : t.key_id;
		req.secret_id = key_denied ? NULL : t.secret_id;
		req.secret_name = key_denied ? NULL : t.secret_name;
		req.now_ms = tr_now_ms();
		(void)tr_iam_suggest_statement(w, &req, dec.missing_permission,
		    suggestion, sizeof(suggestion));
		status = key_denied ? 403 : 404;
	}
	resp = json_pack("{s:s, s:i, s:o}", "decision", allowed ? "ALLOW" :
	    "DENY", "httpStatus", status, "checks", checks);
	checks = NULL;
	json_object_set_new(resp, "missingPermission", allowed ? json_null() :
	    json_string(dec.missing_permission));
	json_object_set_new(resp, "suggestedStatement", allowed ? json_null() :
	    json_string(suggestion));
	c->operation = "SimulatePolicy";
	tr_api_send_json(c, 200, resp);
	goto out;
nosuch:
	tr_api_error(c, 400, "InvalidParameter",
	    "field 'target' names an object that does not exist in this "
	    "tenancy");
	goto out;
fail:
	c->operation = "SimulatePolicy";
	tr_api_error(c, 500, "InternalServerError", "simulation failed");
out:
	json_decref(checks);
	json_decref(ka);
	tr_obj_dispose(&sec);
	tr_obj_dispose(&key);
	tr_obj_dispose(&vault);
}

/* ---------------------------------------------------------------- */
/* linter                                                           */
/* ---------------------------------------------------------------- */

void
tr_api_lint_policy(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "statements", TR_F_ARRAY, false },
		{ "policyId", TR_F_STRING, false },
		{ "compartmentId", TR_F_STRING, false },
		{ NULL, 0, false }
	};
	static const char *const read_policies[] = { "POLICY_READ", NULL };
	const json_t *arr;
	struct tr_api_target t = { 0 };
	struct tr_iam_world *w;
	struct tr_obj pol;
	struct tr_buf out;
	const char **stmts = NULL, *pid, *comp;
	json_t *attrs = NULL, *findings;
	size_t i, n;
	int rc;

	memset(&pol, 0, sizeof(pol));
	tr_buf_init(&out, 4 * 1024 * 1024);
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	pid = json_string_value(json_object_get(c->body, "policyId"));
	comp = json_string_value(json_object_get(c->body, "compartmentId"));
	arr = json_object_get(c->body, "statements");
	if ((pid == NULL) == (arr == NULL)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "give either 'statements' or 'policyId'");
		return;
	}
	if (pid != NULL) {
		rc = tr_ocid_valid(pid, "policy") ? c->st->ops->obj_get(c->st,
		    &pol, pid, "policy") : TRESOR_ENOTFOUND;
		if (rc == 0 && strcmp(pol.tenancy_id, tr_api_tenancy(c)) != 0)
			rc = TRESOR_ENOTFOUND;
		if (rc < 0) {
			tr_api_not_found(c, "policy");
			goto out;
		}
		t.compartment_id = pol.compartment_id;
		if (tr_api_authorize(c, &t, read_policies, "policy") < 0)
			goto out;
		attrs = tr_api_attrs(pol.attrs);
		arr = json_object_get(attrs, "statements");
		comp = pol.compartment_id;
	}
	n = json_array_size(arr);
	if (n > 100) {
		tr_api_error(c, 400, "LimitExceeded",
		    "at most 100 statements can be linted at once");
		goto out;
	}
	stmts = tr_calloc(n + 1, sizeof(*stmts));
	if (stmts == NULL) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		stmts[i] = json_string_value(json_array_get(arr, i));
		if (stmts[i] == NULL || strlen(stmts[i]) > 4096) {
			tr_api_error(c, 400, "InvalidParameter",
			    "statement %zu must be a string of at most 4096 "
			    "characters", i);
			goto out;
		}
	}
	if ((rc = tr_api_world(c, &w)) < 0 ||
	    (rc = tr_iam_policy_lint_at(w, comp, stmts, n, &out)) < 0) {
		tr_api_error_rc(c, rc, "lint failed");
		goto out;
	}
	findings = json_loads(tr_buf_cstr(&out), 0, NULL);
	tr_api_send_json(c, 200, json_pack("{s:o}", "findings",
	    findings == NULL ? json_array() : findings));
out:
	tr_free(stmts);
	json_decref(attrs);
	tr_obj_dispose(&pol);
	tr_buf_dispose(&out);
}

/* ---------------------------------------------------------------- */
/* workloads                                                        */
/* ---------------------------------------------------------------- */

static json_t *
workload_json(const struct tr_obj *o)
{
	json_t *a = tr_api_attrs(o->attrs), *j;

	j = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s, s:o}", "id", o->id,
	    "compartmentId", o->compartment_id, "displayName", o->name,
	    "kind", json_object_get(a, "kind"), "resourceType",
	    json_object_get(a, "resourceType"), "lifecycleState", o->state,
	    "timeCreated", tr_api_time(o->time_created));
	json_object_set_new(j, "freeformTags",
	    tr_api_object_or_empty(a, "freeformTags"));
	json_object_set_new(j, "definedTags",
	    tr_api_object_or_empty(a, "definedTags"));
	tr_api_copy_member(j, a, "fingerprint");
	json_decref(a);
	return j;
}

static bool
resource_type_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9')))
			return false;
	return true;
}

/* SHA-256 hex of a capability, its lookup name. */
static void
cap_hash(const char *cap, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	int i;

	EVP_Digest(cap, strlen(cap), d, NULL, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

static void
child_obj(struct tr_obj *o, const char *type, const struct tr_obj *parent,
    const char *name)
{
	memset(o, 0, sizeof(*o));
	(void)tr_ocid_new(o->id, sizeof(o->id), type, NULL);
	(void)tr_store_new_etag(o->etag);
	(void)snprintf(o->type, sizeof(o->type), "%s", type);
	(void)snprintf(o->tenancy_id, sizeof(o->tenancy_id), "%s",
	    parent->tenancy_id);
	(void)snprintf(o->compartment_id, sizeof(o->compartment_id), "%s",
	    parent->tenancy_id);
	(void)snprintf(o->parent_id, sizeof(o->parent_id), "%s", parent->id);
	(void)snprintf(o->name, sizeof(o->name), "%s", name);
	(void)snprintf(o->state, sizeof(o->state), "ACTIVE");
	o->time_created = parent->time_created;
}

void
tr_api_create_workload(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "compartmentId", TR_F_STRING, true },
		{ "displayName", TR_F_STRING, true },
		{ "kind", TR_F_STRING, true },
		{ "resourceType", TR_F_STRING, false },
		{ "publicKey", TR_F_STRING, false },
		{ "freeformTags", TR_F_OBJECT, false },
		{ "definedTags", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	static const char *const perms[] = { "DYNAMIC_GROUP_CREATE", NULL };
	struct tr_api_target t = { 0 };
	struct tr_store_write w[3];
	struct tr_obj wl, child;
	struct tr_secret *keypem = NULL;
	EVP_PKEY *pub = NULL;
	unsigned char capraw[32], *sealed = NULL;
	char fp[48], cap[64], hash[65], *certpem = NULL, *b64 = NULL;
	const char *comp, *name, *kind, *rtype, *pem;
	json_t *attrs = NULL, *resp = NULL;
	size_t sealed_len = 0, b64len;
	bool instance;
	int rc;

	memset(&wl, 0, sizeof(wl));
	memset(&child, 0, sizeof(child));
	memset(w, 0, sizeof(w));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0)
		return;
	comp = json_string_value(json_object_get(c->body, "compartmentId"));
	name = json_string_value(json_object_get(c->body, "displayName"));
	kind = json_string_value(json_object_get(c->body, "kind"));
	rtype = json_string_value(json_object_get(c->body, "resourceType"));
	pem = json_string_value(json_object_get(c->body, "publicKey"));
	if (tr_api_check_name(c, "displayName", name, true) < 0)
		return;
	if (strcmp(kind, "RESOURCE") != 0 && strcmp(kind, "INSTANCE") != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'kind' must be RESOURCE or INSTANCE");
		return;
	}
	instance = strcmp(kind, "INSTANCE") == 0;
	if (instance && rtype == NULL)
		rtype = "instance";
	if (rtype == NULL || !resource_type_ok(rtype) ||
	    (instance && strcmp(rtype, "instance") != 0)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'resourceType' must be 1-32 lowercase letters or "
		    "digits (e.g. fnfunc), and 'instance' for instances");
		return;
	}
	if (!instance) {
		if (pem == NULL) {
			tr_api_error(c, 400, "MissingParameter",
			    "missing required field 'publicKey' (the PEM "
			    "public key the workload signs token requests "
			    "with)");
			return;
		}
		if (tr_auth_parse_public_key(&pub, pem, strlen(pem)) < 0 ||
		    tr_httpsig_fingerprint(fp, pub) < 0) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'publicKey': %s", tresor_error_last());
			goto out;
		}
	} else if (c->t->env->ca == NULL) {
		tr_api_error(c, 503, "ServiceUnavailable",
		    "instance principals are not available: no CA");
		goto out;
	}
	if (tr_api_compartment_exists(c, "compartmentId", comp) < 0)
		goto out;
	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "tenancy") < 0)
		goto out;
	if ((rc = tr_ocid_new(wl.id, sizeof(wl.id), rtype,
	    c->t->env->region)) < 0 || (rc = tr_store_new_etag(wl.etag)) < 0)
		goto fail;
	(void)snprintf(wl.type, sizeof(wl.type), "workload");
	(void)snprintf(wl.tenancy_id, sizeof(wl.tenancy_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(wl.compartment_id, sizeof(wl.compartment_id), "%s",
	    comp);
	(void)snprintf(wl.name, sizeof(wl.name), "%s", name);
	(void)snprintf(wl.state, sizeof(wl.state), "ACTIVE");
	wl.time_created = tr_now_ms();
	attrs = json_pack("{s:s, s:s}", "kind", kind, "resourceType", rtype);
	json_object_set_new(attrs, "freeformTags",
	    tr_api_object_or_empty(c->body, "freeformTags"));
	json_object_set_new(attrs, "definedTags",
	    tr_api_object_or_empty(c->body, "definedTags"));
	if (!instance) {
		json_object_set_new(attrs, "fingerprint", json_string(fp));
		child_obj(&child, "apikey", &wl, fp);
		child.attrs = tr_json_dump_take(json_pack("{s:s, s:s}",
		    "keyValue", pem, "fingerprint", fp));
	} else {
		if ((rc = tr_ca_issue(c->t->env->ca, wl.tenancy_id, comp,
		    wl.id, CERT_DAYS, &certpem, &keypem)) < 0 ||
		    (rc = tr_keystore_seal_root(c->t->env->ks,
		    INSTANCE_KEY_LABEL, keypem->ptr, keypem->len, &sealed,
		    &sealed_len)) < 0)
			goto fail;
		b64len = tr_base64_encoded_len(sealed_len) + 1;
		b64 = tr_malloc(b64len);
		if (b64 == NULL || tr_base64_encode(b64, b64len, sealed,
		    sealed_len) < 0 || tr_random_bytes(capraw,
		    sizeof(capraw)) < 0 || tr_base64url_encode(cap, sizeof(cap),
		    capraw, sizeof(capraw)) < 0) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto fail;
		}
		json_object_set_new(attrs, "certificatePem",
		    json_string(certpem));
		json_object_set_new(attrs, "_sealedKey", json_string(b64));
		cap_hash(cap, hash);
		child_obj(&child, "imdscap", &wl, hash);
		child.attrs = tr_strdup("{}");
	}
	wl.attrs = json_dumps(attrs, JSON_COMPACT);
	if (wl.attrs == NULL || child.attrs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &wl;
	w[1].kind = TR_W_OBJ_PUT;
	w[1].obj = &child;
	rc = c->st->ops->apply(c->st, w, 2);
	if (rc == TRESOR_EEXISTS) {
		tr_api_error(c, 409, "Conflict",
		    "a workload named '%s' already exists", name);
		goto out;
	}
	if (rc < 0)
		goto fail;
	resp = workload_json(&wl);
	if (instance) {
		char url[700];

		(void)snprintf(url, sizeof(url), "%s/tresor/v1/imds/%s/opc/v2/",
		    c->base_url, cap);
		json_object_set_new(resp, "metadataBaseUrl", json_string(url));
		(void)snprintf(url, sizeof(url), "%s/auth", c->base_url);
		json_object_set_new(resp, "federationEndpoint",
		    json_string(url));
		c->resp->body_is_secret = true;
	}
	tr_api_set_etag(c, wl.etag);
	tr_api_send_json(c, 200, resp);
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot enroll the workload");
out:
	tr_secure_zero(capraw, sizeof(capraw));
	tr_secure_zero(cap, sizeof(cap));
	json_decref(attrs);
	tr_free(b64);
	tr_free(sealed);
	tr_free(certpem);
	tr_secret_free(keypem);
	EVP_PKEY_free(pub);
	tr_obj_dispose(&wl);
	tr_obj_dispose(&child);
}

static int
load_workload(struct tr_api_ctx *c, struct tr_obj *o, const char *id)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = tr_ocid_valid(id, NULL) ? c->st->ops->obj_get(c->st, o, id,
	    "workload") : TRESOR_ENOTFOUND;
	if (rc == 0 && strcmp(o->tenancy_id, tr_api_tenancy(c)) != 0)
		rc = TRESOR_ENOTFOUND;
	if (rc == TRESOR_ENOTFOUND)
		tr_api_not_found(c, "workload");
	else if (rc < 0)
		tr_api_error_rc(c, rc, "workload lookup failed");
	if (rc < 0)
		tr_obj_dispose(o);
	return rc;
}

void
tr_api_get_workload(struct tr_api_ctx *c)
{
	static const char *const perms[] = { "DYNAMIC_GROUP_INSPECT", NULL };
	struct tr_api_target t = { 0 };
	struct tr_obj o;

	if (load_workload(c, &o, c->param[0]) < 0)
		return;
	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "workload") == 0) {
		tr_api_set_etag(c, o.etag);
		tr_api_send_json(c, 200, workload_json(&o));
	}
	tr_obj_dispose(&o);
}

void
tr_api_list_workloads(struct tr_api_ctx *c)
{
	static const char *const perms[] = { "DYNAMIC_GROUP_INSPECT", NULL };
	struct tr_api_target t = { 0 };
	struct tr_obj_filter f = { 0 };
	struct tr_obj *items = NULL;
	struct tr_page pg;
	char key[512];
	json_t *arr;
	size_t n = 0, i;
	bool more = false;
	int rc;

	if (tr_api_page(c, &pg, "DISPLAYNAME", key, sizeof(key)) < 0)
		return;
	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "tenancy") < 0)
		return;
	f.type = "workload";
	f.tenancy_id = tr_api_tenancy(c);
	f.compartment_id = tr_api_query(c, "compartmentId");
	if (f.compartment_id != NULL && tr_api_compartment_exists(c,
	    "compartmentId", f.compartment_id) < 0)
		return;
	if ((rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f,
	    &pg)) < 0) {
		tr_api_error_rc(c, rc, "cannot list workloads");
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, workload_json(&items[i]));
	if (more && n > 0)
		tr_api_next_page(c, &pg, &items[n - 1]);
	tr_api_send_json(c, 200, arr);
	tr_obj_list_free(items, n);
}

void
tr_api_delete_workload(struct tr_api_ctx *c)
{
	static const char *const perms[] = { "DYNAMIC_GROUP_DELETE", NULL };
	struct tr_api_target t = { 0 };
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_store_write w[8];
	struct tr_obj o, *kids = NULL;
	size_t n = 0, i, nw = 0;
	bool more;
	int rc;

	memset(w, 0, sizeof(w));
	if (load_workload(c, &o, c->param[0]) < 0)
		return;
	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "workload") < 0 ||
	    tr_api_if_match(c, o.etag) < 0)
		goto out;
	f.parent_id = o.id;
	pg.limit = 3;
	w[nw].kind = TR_W_OBJ_DELETE;
	w[nw++].obj = &o;
	f.type = "apikey";
	if ((rc = c->st->ops->obj_list(c->st, &kids, &n, &more, &f,
	    &pg)) < 0)
		goto fail;
	for (i = 0; i < n && nw < 4; i++) {
		w[nw].kind = TR_W_OBJ_DELETE;
		w[nw++].obj = &kids[i];
	}
	if ((rc = c->st->ops->apply(c->st, w, nw)) < 0)
		goto fail;
	/* the capability URL goes too (not an IAM object) */
	tr_obj_list_free(kids, n);
	kids = NULL;
	n = 0;
	f.type = "imdscap";
	if (c->st->ops->obj_list(c->st, &kids, &n, &more, &f, &pg) == 0 &&
	    n > 0) {
		w[0].kind = TR_W_OBJ_DELETE;
		w[0].obj = &kids[0];
		(void)c->st->ops->apply(c->st, w, 1);
	}
	tr_api_send_empty(c, 204);
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot delete the workload");
out:
	tr_obj_list_free(kids, n);
	tr_obj_dispose(&o);
}

/* ---------------------------------------------------------------- */
/* session tokens                                                   */
/* ---------------------------------------------------------------- */

/* Principal of an enrolled workload object. */
static void
workload_principal(const struct tr_obj *o, struct tr_principal *p)
{
	json_t *a = tr_api_attrs(o->attrs);
	const char *kind = json_string_value(json_object_get(a, "kind"));
	const char *rt = json_string_value(json_object_get(a, "resourceType"));

	memset(p, 0, sizeof(*p));
	p->kind = kind != NULL && strcmp(kind, "INSTANCE") == 0 ?
	    TR_PRINCIPAL_INSTANCE : TR_PRINCIPAL_RESOURCE;
	(void)snprintf(p->id, sizeof(p->id), "%s", o->id);
	(void)snprintf(p->tenancy_id, sizeof(p->tenancy_id), "%s",
	    o->tenancy_id);
	(void)snprintf(p->compartment_id, sizeof(p->compartment_id), "%s",
	    o->compartment_id);
	(void)snprintf(p->resource_type, sizeof(p->resource_type), "%s",
	    rt == NULL ? "" : rt);
	json_decref(a);
}

/* An RSA session key from base64 DER SubjectPublicKeyInfo. */
static int
session_key(const char *b64, EVP_PKEY **out)
{
	unsigned char der[2048];
	const unsigned char *p = der;
	size_t n;

	*out = NULL;
	if (b64 == NULL || tr_base64_decode(der, sizeof(der), &n, b64,
	    strlen(b64)) < 0)
		return TRESOR_EINVAL;
	*out = d2i_PUBKEY(NULL, &p, (long)n);
	if (*out == NULL || EVP_PKEY_get_base_id(*out) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(*out) < 2048) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return TRESOR_EINVAL;
	}
	return 0;
}

void
tr_api_rp_session_token(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "sessionPublicKey", TR_F_STRING, true },
		{ "ttlSeconds", TR_F_INT, false },
		{ NULL, 0, false }
	};
	struct tr_principal p;
	struct tr_obj o;
	EVP_PKEY *key = NULL;
	char when[TR_TIME_RFC3339_LEN], *tok = NULL;
	int64_t exp, ttl = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	if (!c->principal.via_enrollment_key) {
		tr_api_error(c, 401, "NotAuthenticated",
		    "sign this request with the workload's enrollment key "
		    "(keyId <tenancy>/<workload OCID>/<fingerprint>)");
		return;
	}
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	if (json_object_get(c->body, "ttlSeconds") != NULL) {
		ttl = json_integer_value(json_object_get(c->body,
		    "ttlSeconds"));
		if (ttl < TTL_MIN || ttl > TTL_MAX) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'ttlSeconds' must be %d to %d", TTL_MIN,
			    TTL_MAX);
			return;
		}
	}
	if (session_key(json_string_value(json_object_get(c->body,
	    "sessionPublicKey")), &key) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'sessionPublicKey' must be base64 DER "
		    "SubjectPublicKeyInfo of an RSA key of 2048 bits or more");
		return;
	}
	if ((rc = c->st->ops->obj_get(c->st, &o, c->principal.id,
	    "workload")) < 0) {
		tr_api_error_rc(c, rc, "workload lookup failed");
		goto out;
	}
	workload_principal(&o, &p);
	if ((rc = tr_token_issue(c->t->env->issuer, &p, key, ttl, &tok,
	    &exp)) < 0) {
		tr_api_error_rc(c, rc, "cannot issue a token");
		goto out;
	}
	tr_time_rfc3339(when, exp * 1000);
	c->resp->body_is_secret = true;
	tr_api_send_json(c, 200, json_pack("{s:s, s:s}", "token", tok,
	    "expiresAt", when));
out:
	if (tok != NULL)
		tr_freezero(tok, strlen(tok));
	EVP_PKEY_free(key);
	tr_obj_dispose(&o);
}

/* ---------------------------------------------------------------- */
/* instance metadata and X.509 federation                           */
/* ---------------------------------------------------------------- */

/* The workload behind a capability URL, or 404. */
static int
imds_workload(struct tr_api_ctx *c, struct tr_obj *wl)
{
	struct tr_obj capobj;
	const char *bearer;
	char hash[65];
	size_t blen;
	int rc;

	memset(&capobj, 0, sizeof(capobj));
	memset(wl, 0, sizeof(*wl));
	bearer = tr_request_header(c->req, "authorization", &blen, NULL);
	if (bearer == NULL || blen != 13 || memcmp(bearer, "Bearer Oracle",
	    13) != 0) {
		tr_api_error(c, 401, "NotAuthenticated",
		    "instance metadata requests carry 'Authorization: Bearer "
		    "Oracle'");
		return TRESOR_EAUTH;
	}
	cap_hash(c->param[0], hash);
	rc = c->st->ops->obj_get_by_name(c->st, &capobj, "imdscap", NULL,
	    NULL, hash);
	if (rc == 0)
		rc = c->st->ops->obj_get(c->st, wl, capobj.parent_id,
		    "workload");
	if (rc == 0 && strcmp(wl->state, "ACTIVE") != 0)
		rc = TRESOR_ENOTFOUND;
	tr_obj_dispose(&capobj);
	if (rc < 0) {
		tr_obj_dispose(wl);
		tr_api_error(c, 404, "NotFound", "no such instance");
	}
	return rc;
}

/* Answer a text/plain body (PEM); the HTTP layer adds the headers. */
static void
send_text(struct tr_api_ctx *c, const char *text, size_t len)
{
	tr_buf_reset(&c->resp->body);
	tr_buf_add(&c->resp->body, text, len);
	c->resp->status = 200;
	c->resp->content_type = "text/plain";
}

void
tr_api_imds(struct tr_api_ctx *c)
{
	struct tr_secret *key = NULL;
	unsigned char *blob = NULL;
	struct tr_obj wl;
	const char *what = c->param[1], *v;
	json_t *a;
	size_t blen = 0, max;

	if (imds_workload(c, &wl) < 0)
		return;
	a = tr_api_attrs(wl.attrs);
	if (strcmp(what, "cert.pem") == 0) {
		v = json_string_value(json_object_get(a, "certificatePem"));
		send_text(c, v == NULL ? "" : v, v == NULL ? 0 : strlen(v));
	} else if (strcmp(what, "intermediate.pem") == 0) {
		v = tr_ca_cert_pem(c->t->env->ca);
		send_text(c, v, strlen(v));
	} else if (strcmp(what, "key.pem") == 0) {
		v = json_string_value(json_object_get(a, "_sealedKey"));
		max = v == NULL ? 0 : tr_base64_decoded_max(strlen(v));
		blob = max == 0 ? NULL : tr_malloc(max);
		if (blob == NULL || tr_base64_decode(blob, max, &blen, v,
		    strlen(v)) < 0 || tr_keystore_open_root(c->t->env->ks,
		    INSTANCE_KEY_LABEL, blob, blen, &key) < 0) {
			tr_api_error(c, 500, "InternalServerError",
			    "the instance key does not open");
			goto out;
		}
		c->resp->body_is_secret = true;
		send_text(c, (const char *)key->ptr, key->len);
	} else {
		tr_api_error(c, 404, "NotFound", "no such metadata");
	}
out:
	tr_secret_free(key);
	tr_free(blob);
	json_decref(a);
	tr_obj_dispose(&wl);
}

void
tr_api_imds_region(struct tr_api_ctx *c)
{
	struct tr_obj wl;

	if (imds_workload(c, &wl) < 0)
		return;
	send_text(c, c->t->env->region, strlen(c->t->env->region));
	tr_obj_dispose(&wl);
}

/* SHA-1 fingerprint of a certificate, lowercase colon hex. */
static void
cert_fp(X509 *x, char out[60])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[20];
	unsigned int n = 0;
	int i;

	X509_digest(x, EVP_sha1(), d, &n);
	for (i = 0; i < 20; i++) {
		out[i * 3] = hex[d[i] >> 4];
		out[i * 3 + 1] = hex[d[i] & 15];
		out[i * 3 + 2] = i == 19 ? '\0' : ':';
	}
}

void
tr_api_x509_federation(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "certificate", TR_F_STRING, true },
		{ "publicKey", TR_F_STRING, true },
		{ "intermediateCertificates", TR_F_ARRAY, false },
		{ "purpose", TR_F_STRING, false },
		{ "fingerprintAlgorithm", TR_F_STRING, false },
		{ NULL, 0, false }
	};
	struct tr_sig_params sp;
	struct tr_principal p;
	struct tr_obj wl;
	struct tr_buf ss;
	unsigned char der[8192];
	const unsigned char *dp = der;
	char fp[60], kid[600], tenant[256], inst[256], *tok = NULL;
	const char *auth, *b64, *stored;
	size_t alen, n, i;
	EVP_PKEY *skey = NULL;
	X509 *leaf = NULL, *stored_x = NULL;
	json_t *a = NULL;
	BIO *bio = NULL;
	int rc;

	memset(&wl, 0, sizeof(wl));
	tr_buf_init(&ss, 65536);
	if (c->t->env->ca == NULL) {
		tr_api_error(c, 503, "ServiceUnavailable",
		    "instance principals are not available: no CA");
		goto out;
	}
	auth = tr_request_header(c->req, "authorization", &alen, NULL);
	if (auth == NULL) {
		tr_api_error(c, 401, "NotAuthenticated",
		    "the federation request is not signed");
		goto out;
	}
	if (tr_httpsig_parse(&sp, auth, alen) < 0 ||
	    tr_httpsig_check(c->req, &sp, tr_real_now_ms() / 1000,
	    TR_SIG_MAX_SKEW_SEC) < 0) {
		tr_api_error(c, 401, "NotAuthenticated", "%s",
		    tresor_error_last());
		goto out;
	}
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		goto out;
	b64 = json_string_value(json_object_get(c->body, "certificate"));
	if (tr_base64_decode(der, sizeof(der), &n, b64, strlen(b64)) < 0 ||
	    (leaf = d2i_X509(NULL, &dp, (long)n)) == NULL) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'certificate' is not base64 DER of a certificate");
		goto out;
	}
	if (tr_ca_verify_leaf(c->t->env->ca, leaf, tr_real_now_ms() / 1000) < 0 ||
	    tr_ca_subject_value(leaf, "opc-tenant:", tenant,
	    sizeof(tenant)) < 0 ||
	    tr_ca_subject_value(leaf, "opc-instance:", inst,
	    sizeof(inst)) < 0) {
		tr_api_error(c, 401, "NotAuthenticated", "%s",
		    tr_error_has_message() ? tresor_error_last() :
		    "the certificate does not name a tenancy and instance");
		goto out;
	}
	cert_fp(leaf, fp);
	(void)snprintf(kid, sizeof(kid), "%s/fed-x509/%s", tenant, fp);
	if (sp.key_id_len != strlen(kid) || strncasecmp(sp.key_id, kid,
	    sp.key_id_len) != 0) {
		tr_api_error(c, 401, "NotAuthenticated",
		    "keyId does not match the certificate (expected "
		    "<tenancy>/fed-x509/<SHA-1 fingerprint of the certificate>)");
		goto out;
	}
	if (tr_httpsig_signing_string(&ss, c->req, &sp, false) < 0 ||
	    tr_httpsig_verify(X509_get0_pubkey(leaf), ss.ptr, ss.len,
	    sp.signature, sp.signature_len) < 0) {
		tr_api_error(c, 401, "NotAuthenticated", "%s",
		    tresor_error_last());
		goto out;
	}
	/* the instance must still be enrolled, with this very certificate */
	rc = c->st->ops->obj_get(c->st, &wl, inst, "workload");
	if (rc == 0 && (strcmp(wl.state, "ACTIVE") != 0 ||
	    strcmp(wl.tenancy_id, tenant) != 0))
		rc = TRESOR_ENOTFOUND;
	if (rc == 0) {
		a = tr_api_attrs(wl.attrs);
		stored = json_string_value(json_object_get(a,
		    "certificatePem"));
		bio = stored == NULL ? NULL : BIO_new_mem_buf(stored, -1);
		stored_x = bio == NULL ? NULL : PEM_read_bio_X509(bio, NULL,
		    NULL, NULL);
		if (stored_x == NULL || X509_cmp(stored_x, leaf) != 0)
			rc = TRESOR_ENOTFOUND;
	}
	if (rc < 0) {
		tr_api_error(c, 401, "NotAuthenticated",
		    "instance %s is not enrolled (or its certificate was "
		    "replaced)", inst);
		goto out;
	}
	if (session_key(json_string_value(json_object_get(c->body,
	    "publicKey")), &skey) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'publicKey' must be base64 DER SubjectPublicKeyInfo "
		    "of an RSA key of 2048 bits or more");
		goto out;
	}
	workload_principal(&wl, &p);
	if ((rc = tr_token_issue(c->t->env->issuer, &p, skey, 0, &tok,
	    NULL)) < 0) {
		tr_api_error_rc(c, rc, "cannot issue a token");
		goto out;
	}
	c->resp->body_is_secret = true;
	tr_api_send_json(c, 200, json_pack("{s:s}", "token", tok));
	(void)i;
out:
	if (tok != NULL)
		tr_freezero(tok, strlen(tok));
	BIO_free(bio);
	X509_free(stored_x);
	X509_free(leaf);
	EVP_PKEY_free(skey);
	json_decref(a);
	tr_buf_dispose(&ss);
	tr_obj_dispose(&wl);
}

/* ---------------------------------------------------------------- */
/* tenancy settings                                                 */
/* ---------------------------------------------------------------- */

static void
send_settings(struct tr_api_ctx *c)
{
	struct tr_iam_world *w;
	int rc;

	if ((rc = tr_api_world(c, &w)) < 0) {
		tr_api_error_rc(c, rc, "cannot read settings");
		return;
	}
	tr_api_send_json(c, 200, json_pack("{s:b}",
	    "secretReadsRequireKeyUse",
	    tr_iam_world_secret_reads_require_key_use(w)));
}

void
tr_api_get_settings(struct tr_api_ctx *c)
{
	static const char *const perms[] = { "TENANCY_INSPECT", NULL };
	struct tr_api_target t = { 0 };

	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "tenancy") < 0)
		return;
	send_settings(c);
}

void
tr_api_update_settings(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "secretReadsRequireKeyUse", TR_F_BOOL, false },
		{ NULL, 0, false }
	};
	/* changing what a grant means is a policy administrator's call */
	static const char *const perms[] = { "POLICY_UPDATE", NULL };
	struct tr_api_target t = { 0 };
	struct tr_store_write w = { 0 };
	struct tr_obj ten;
	const json_t *v;
	int rc;

	memset(&ten, 0, sizeof(ten));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "tenancy") < 0)
		return;
	v = json_object_get(c->body, "secretReadsRequireKeyUse");
	if (v != NULL && (rc = c->st->ops->setting_put(c->st,
	    "secret_reads_require_key_use", json_is_true(v) ? "true" :
	    "false")) < 0)
		goto fail;
	/* touch the tenancy: the IAM generation moves, every node reloads */
	if ((rc = c->st->ops->obj_get(c->st, &ten, tr_api_tenancy(c),
	    "tenancy")) < 0 || (rc = tr_store_new_etag(ten.etag)) < 0)
		goto fail;
	w.kind = TR_W_OBJ_PUT;
	w.obj = &ten;
	w.expect_etag = "*";
	if ((rc = c->st->ops->apply(c->st, &w, 1)) < 0)
		goto fail;
	send_settings(c);
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot change settings");
out:
	tr_obj_dispose(&ten);
}

/* ---------------------------------------------------------------- */
/* testing switches (tresord serve --enable-test-clock)             */
/* ---------------------------------------------------------------- */

/* Only with the switch, and only for a policy administrator. */
static int
testing_allowed(struct tr_api_ctx *c)
{
	static const char *const perms[] = { "POLICY_UPDATE", NULL };
	struct tr_api_target t = { 0 };

	if (!c->t->env->test_clock) {
		tr_api_error(c, 404, "NotFound",
		    "testing endpoints are off (tresord serve "
		    "--enable-test-clock)");
		return TRESOR_ENOTFOUND;
	}
	t.compartment_id = tr_api_tenancy(c);
	return tr_api_authorize(c, &t, perms, "tenancy");
}

void
tr_api_test_clock(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "offsetSeconds", TR_F_INT, true },
		{ NULL, 0, false }
	};
	json_int_t off;
	char now[TR_TIME_RFC3339_LEN];

	if (testing_allowed(c) < 0 || tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	off = json_integer_value(json_object_get(c->body, "offsetSeconds"));
	if (off < -3650LL * 86400 || off > 3650LL * 86400) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'offsetSeconds' must be within ten years");
		return;
	}
	tr_clock_set_offset_ms((int64_t)off * 1000);
	tr_time_rfc3339(now, tr_now_ms());
	tr_api_send_json(c, 200, json_pack("{s:I, s:s}", "offsetSeconds",
	    off, "now", now));
}

void
tr_api_test_maintenance(struct tr_api_ctx *c)
{
	size_t done = 0;
	int rc;

	if (testing_allowed(c) < 0)
		return;
	if ((rc = tr_api_maintenance(c->t, tr_now_ms(), &done)) < 0) {
		tr_api_error_rc(c, rc, "maintenance failed");
		return;
	}
	tr_api_send_json(c, 200, json_pack("{s:I}", "jobsDone",
	    (json_int_t)done));
}
