/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KMS vault management (KmsVaultClient, /20180608/vaults): create, get,
 * list, update, scheduled deletion, usage.
 *
 * A vault's managementEndpoint and cryptoEndpoint are this server's base
 * URL plus /kms/<vault OCID>/management and /kms/<vault OCID>/crypto,
 * so the KMS clients reach "the vault's" endpoint (oci-wire.md 2.3).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/ocid.h"

json_t *
tr_api_vault_json(struct tr_api_ctx *c, const struct tr_obj *v, bool summary)
{
	json_t *a = tr_api_attrs(v->attrs), *o;
	char mgmt[700], crypto[700];

	(void)snprintf(mgmt, sizeof(mgmt), "%s/kms/%s/management", c->base_url,
	    v->id);
	(void)snprintf(crypto, sizeof(crypto), "%s/kms/%s/crypto", c->base_url,
	    v->id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:O, s:O, s:O}",
	    "id", v->id,
	    "compartmentId", v->compartment_id,
	    "displayName", v->name,
	    "cryptoEndpoint", crypto,
	    "managementEndpoint", mgmt,
	    "lifecycleState", v->state,
	    "timeCreated", tr_api_time(v->time_created),
	    "vaultType", json_object_get(a, "vaultType"),
	    "freeformTags", json_object_get(a, "freeformTags"),
	    "definedTags", json_object_get(a, "definedTags"));
	if (o != NULL && !summary) {
		json_object_set(o, "wrappingkeyId",
		    json_object_get(a, "wrappingkeyId"));
		json_object_set_new(o, "timeOfDeletion",
		    tr_api_time(v->time_of_deletion));
		json_object_set_new(o, "isPrimary", json_true());
		json_object_set_new(o, "isVaultReplicable", json_false());
	}
	json_decref(a);
	return o;
}

int
tr_api_load_vault(struct tr_api_ctx *c, struct tr_obj *out, const char *id)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!tr_ocid_valid(id, "vault")) {
		tr_api_not_found(c, "vault");
		return TRESOR_ENOTFOUND;
	}
	rc = c->st->ops->obj_get(c->st, out, id, "vault");
	if (rc == 0 && (strcmp(out->tenancy_id, tr_api_tenancy(c)) != 0 ||
	    strcmp(out->state, "DELETED") == 0))
		rc = TRESOR_ENOTFOUND;
	if (rc == TRESOR_ENOTFOUND) {
		tr_obj_dispose(out);
		tr_api_not_found(c, "vault");
		return rc;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "vault lookup failed");
		return rc;
	}
	return 0;
}

/* Load the vault of the path and authorise the operation on it. */
static int
vault_for_op(struct tr_api_ctx *c, struct tr_obj *v)
{
	struct tr_api_target t = { 0 };
	int rc;

	if ((rc = tr_api_load_vault(c, v, c->param[0])) < 0)
		return rc;
	t.compartment_id = v->compartment_id;
	t.vault_id = v->id;
	if ((rc = tr_api_authorize(c, &t, NULL, "vault")) < 0) {
		tr_obj_dispose(v);
		return rc;
	}
	return 0;
}

static void
send_vault(struct tr_api_ctx *c, const struct tr_obj *v)
{
	tr_api_set_etag(c, v->etag);
	tr_api_send_json(c, 200, tr_api_vault_json(c, v, false));
}

void
tr_api_create_vault(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "compartmentId", TR_F_STRING, true },
		{ "displayName", TR_F_STRING, true },
		{ "vaultType", TR_F_STRING, true },
		{ "freeformTags", TR_F_OBJECT, false },
		{ "definedTags", TR_F_OBJECT, false },
		{ "externalKeyManagerMetadata", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	struct tr_api_retry retry = { 0 };
	struct tr_api_target t = { 0 };
	struct tr_store_write w[2];
	struct tr_obj v;
	json_t *attrs = NULL, *resp = NULL;
	const char *comp, *name, *type;
	char kid[TR_OCID_MAX];
	int rc;

	memset(&v, 0, sizeof(v));
	memset(w, 0, sizeof(w));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0)
		return;
	comp = json_string_value(json_object_get(c->body, "compartmentId"));
	name = json_string_value(json_object_get(c->body, "displayName"));
	type = json_string_value(json_object_get(c->body, "vaultType"));
	if (tr_api_check_name(c, "displayName", name, false) < 0)
		return;
	if (strcmp(type, "DEFAULT") != 0 &&
	    strcmp(type, "VIRTUAL_PRIVATE") != 0) {
		if (strcmp(type, "EXTERNAL") == 0)
			tr_api_error(c, 400, "InvalidParameter",
			    "vaultType EXTERNAL (external key managers) is not "
			    "supported by tresor; use DEFAULT or "
			    "VIRTUAL_PRIVATE");
		else
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'vaultType' must be DEFAULT, "
			    "VIRTUAL_PRIVATE or EXTERNAL");
		return;
	}
	if (json_object_get(c->body, "externalKeyManagerMetadata") != NULL &&
	    !json_is_null(json_object_get(c->body,
	    "externalKeyManagerMetadata"))) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'externalKeyManagerMetadata' is not supported");
		return;
	}
	if (tr_api_check_ocid(c, "compartmentId", comp, NULL) < 0 ||
	    tr_api_compartment_exists(c, "compartmentId", comp) < 0)
		return;
	t.compartment_id = comp;
	if (tr_api_authorize(c, &t, NULL, "compartment") < 0)
		return;
	if ((rc = tr_api_retry_begin(c, &retry)) != 0)
		return;

	if ((rc = tr_ocid_new(v.id, sizeof(v.id), "vault",
	    c->t->env->region)) < 0 ||
	    (rc = tr_ocid_new(kid, sizeof(kid), "key", c->t->env->region)) < 0 ||
	    (rc = tr_store_new_etag(v.etag)) < 0)
		goto fail;
	(void)snprintf(v.type, sizeof(v.type), "vault");
	(void)snprintf(v.tenancy_id, sizeof(v.tenancy_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(v.compartment_id, sizeof(v.compartment_id), "%s", comp);
	(void)snprintf(v.name, sizeof(v.name), "%s", name);
	(void)snprintf(v.state, sizeof(v.state), "ACTIVE");
	v.time_created = tr_now_ms();
	attrs = json_pack("{s:s, s:s}", "vaultType", type, "wrappingkeyId",
	    kid);
	if (attrs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	json_object_set_new(attrs, "freeformTags",
	    tr_api_object_or_empty(c->body, "freeformTags"));
	json_object_set_new(attrs, "definedTags",
	    tr_api_object_or_empty(c->body, "definedTags"));
	v.attrs = json_dumps(attrs, JSON_COMPACT);
	if (v.attrs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	resp = tr_api_vault_json(c, &v, false);
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &v;
	if ((rc = tr_api_apply_create(c, &retry, w, 1, resp, v.etag)) < 0)
		goto fail;
	tr_api_set_etag(c, v.etag);
	tr_api_send_json(c, 200, resp);
	resp = NULL;
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot create the vault");
out:
	tr_api_retry_end(c, &retry);
	json_decref(resp);
	json_decref(attrs);
	tr_obj_dispose(&v);
}

void
tr_api_get_vault(struct tr_api_ctx *c)
{
	struct tr_obj v;

	if (vault_for_op(c, &v) < 0)
		return;
	send_vault(c, &v);
	tr_obj_dispose(&v);
}

void
tr_api_list_vaults(struct tr_api_ctx *c)
{
	struct tr_api_target t = { 0 };
	struct tr_obj_filter f = { 0 };
	struct tr_page pg;
	struct tr_obj *items = NULL;
	char key[512];
	const char *comp = tr_api_query(c, "compartmentId");
	json_t *arr = NULL;
	size_t n = 0, i;
	bool more = false;
	int rc;

	if (comp == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required query parameter 'compartmentId'");
		return;
	}
	if (tr_api_page(c, &pg, "DISPLAYNAME", key, sizeof(key)) < 0 ||
	    tr_api_compartment_exists(c, "compartmentId", comp) < 0)
		return;
	t.compartment_id = comp;
	if (tr_api_authorize(c, &t, NULL, "compartment") < 0)
		return;
	f.type = "vault";
	f.tenancy_id = tr_api_tenancy(c);
	f.compartment_id = comp;
	f.hide_deleted = true;
	if ((rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f,
	    &pg)) < 0) {
		tr_api_error_rc(c, rc, "cannot list vaults");
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, tr_api_vault_json(c, &items[i],
		    true));
	if (more && n > 0)
		tr_api_next_page(c, &pg, &items[n - 1]);
	tr_api_send_json(c, 200, arr);
	tr_obj_list_free(items, n);
}

/* Apply a change to vault `v` guarded by its etag and answer with it. */
static void
save_vault(struct tr_api_ctx *c, struct tr_obj *v, json_t *attrs)
{
	struct tr_store_write w = { 0 };
	char old[TR_ETAG_MAX];
	int rc;

	if (attrs != NULL) {
		char *s = json_dumps(attrs, JSON_COMPACT);

		if (s == NULL) {
			tr_api_error(c, 500, "InternalServerError",
			    "out of memory");
			return;
		}
		tr_free(v->attrs);
		v->attrs = s;
	}
	(void)snprintf(old, sizeof(old), "%s", v->etag);
	if ((rc = tr_store_new_etag(v->etag)) < 0) {
		tr_api_error_rc(c, rc, "cannot update the vault");
		return;
	}
	w.kind = TR_W_OBJ_PUT;
	w.obj = v;
	w.expect_etag = old;
	if ((rc = c->st->ops->apply(c->st, &w, 1)) < 0) {
		if (rc == TRESOR_EPRECOND)
			tr_api_error(c, 409, "Conflict",
			    "the vault was changed by another request; "
			    "retry");
		else
			tr_api_error_rc(c, rc, "cannot update the vault");
		return;
	}
	send_vault(c, v);
}

void
tr_api_update_vault(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "displayName", TR_F_STRING, false },
		{ "freeformTags", TR_F_OBJECT, false },
		{ "definedTags", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	struct tr_obj v;
	json_t *attrs;
	const char *name;

	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0)
		return;
	name = json_string_value(json_object_get(c->body, "displayName"));
	if (name != NULL && tr_api_check_name(c, "displayName", name,
	    false) < 0)
		return;
	if (vault_for_op(c, &v) < 0)
		return;
	if (tr_api_if_match(c, v.etag) < 0)
		goto out;
	if (strcmp(v.state, "ACTIVE") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "vault %s is %s; only an ACTIVE vault can be updated",
		    v.id, v.state);
		goto out;
	}
	attrs = tr_api_attrs(v.attrs);
	if (name != NULL)
		(void)snprintf(v.name, sizeof(v.name), "%s", name);
	tr_api_copy_member(attrs, c->body, "freeformTags");
	tr_api_copy_member(attrs, c->body, "definedTags");
	save_vault(c, &v, attrs);
	json_decref(attrs);
out:
	tr_obj_dispose(&v);
}

/*
 * Deleting a vault deletes its keys (OCI): scheduling the vault's
 * deletion puts every key in it into PENDING_DELETION with the same
 * time, remembering each key's state; cancelling restores them.  The
 * vault, its keys and the job change in one batch.
 */
static void
vault_deletion(struct tr_api_ctx *c, bool schedule, int64_t when)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_store_write *w = NULL;
	struct tr_obj v, job, *keys = NULL;
	char old[TR_ETAG_MAX], (*olds)[TR_ETAG_MAX] = NULL;
	size_t n = 0, i, nw = 0;
	bool more;
	json_t *a;
	int rc = 0;

	memset(&job, 0, sizeof(job));
	if (vault_for_op(c, &v) < 0)
		return;
	if (tr_api_if_match(c, v.etag) < 0)
		goto out;
	if (strcmp(v.state, schedule ? "ACTIVE" : "PENDING_DELETION") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "vault %s is %s; %s", v.id, v.state, schedule ?
		    "only an ACTIVE vault can be scheduled for deletion" :
		    "only a vault pending deletion can have its deletion "
		    "cancelled");
		goto out;
	}
	f.type = "key";
	f.parent_id = v.id;
	f.hide_deleted = true;
	pg.limit = 1000;
	if ((rc = c->st->ops->obj_list(c->st, &keys, &n, &more, &f,
	    &pg)) < 0)
		goto fail;
	w = tr_calloc(n + 2, sizeof(*w));
	olds = tr_calloc(n + 1, sizeof(*olds));
	if (w == NULL || olds == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		a = tr_api_attrs(keys[i].attrs);
		if (schedule) {
			json_object_set_new(a, "_prevState",
			    json_string(keys[i].state));
			(void)snprintf(keys[i].state, sizeof(keys[i].state),
			    "PENDING_DELETION");
			keys[i].time_of_deletion = when;
		} else {
			const char *prev = json_string_value(
			    json_object_get(a, "_prevState"));

			if (prev == NULL) {
				/* its own deletion, not the vault's */
				json_decref(a);
				continue;
			}
			(void)snprintf(keys[i].state, sizeof(keys[i].state),
			    "%s", prev);
			json_object_del(a, "_prevState");
			keys[i].time_of_deletion = 0;
		}
		tr_free(keys[i].attrs);
		keys[i].attrs = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		(void)snprintf(olds[i], TR_ETAG_MAX, "%s", keys[i].etag);
		if (keys[i].attrs == NULL ||
		    (rc = tr_store_new_etag(keys[i].etag)) < 0) {
			rc = rc < 0 ? rc : tr_error_set(TRESOR_ENOMEM,
			    "out of memory");
			goto fail;
		}
		w[nw].kind = TR_W_OBJ_PUT;
		w[nw].obj = &keys[i];
		w[nw++].expect_etag = olds[i];
	}
	if (schedule) {
		if ((rc = tr_api_job_new(&job, v.tenancy_id, v.id,
		    "reap-vault", when)) < 0)
			goto fail;
		w[nw].kind = TR_W_OBJ_PUT;
		w[nw++].obj = &job;
	} else if (tr_api_job_find(c->st, v.tenancy_id, v.id, "reap-vault",
	    &job) == 0) {
		w[nw].kind = TR_W_OBJ_DELETE;
		w[nw].obj = &job;
		w[nw++].expect_etag = job.etag;
	}
	(void)snprintf(v.state, sizeof(v.state), "%s", schedule ?
	    "PENDING_DELETION" : "ACTIVE");
	v.time_of_deletion = schedule ? when : 0;
	(void)snprintf(old, sizeof(old), "%s", v.etag);
	if ((rc = tr_store_new_etag(v.etag)) < 0)
		goto fail;
	w[nw].kind = TR_W_OBJ_PUT;
	w[nw].obj = &v;
	w[nw++].expect_etag = old;
	if ((rc = c->st->ops->apply(c->st, w, nw)) < 0)
		goto fail;
	send_vault(c, &v);
	goto out;
fail:
	if (rc == TRESOR_EPRECOND)
		tr_api_error(c, 409, "IncorrectState",
		    "the vault or one of its keys changed meanwhile; retry");
	else
		tr_api_error_rc(c, rc, "cannot change the vault");
out:
	tr_free(w);
	tr_free(olds);
	tr_obj_list_free(keys, n);
	tr_obj_dispose(&job);
	tr_obj_dispose(&v);
}

void
tr_api_schedule_vault_deletion(struct tr_api_ctx *c)
{
	int64_t when;

	if (tr_api_deletion_time(c, 7, 30, &when) < 0)
		return;
	vault_deletion(c, true, when);
}

void
tr_api_cancel_vault_deletion(struct tr_api_ctx *c)
{
	vault_deletion(c, false, 0);
}

void
tr_api_get_vault_usage(struct tr_api_ctx *c)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj v, *items = NULL;
	struct tr_key_version *kvs = NULL;
	size_t n = 0, nkv = 0, i, k;
	long long keys_sw = 0, keys_hsm = 0, ver_sw = 0, ver_hsm = 0;
	char after[TR_ID_MAX];
	bool more = true, hsm;
	int rc = 0;

	if (vault_for_op(c, &v) < 0)
		return;
	f.type = "key";
	f.parent_id = v.id;
	f.hide_deleted = true;
	pg.limit = 1000;
	while (more && rc == 0) {
		rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f, &pg);
		for (i = 0; rc == 0 && i < n; i++) {
			hsm = items[i].attrs != NULL &&
			    strstr(items[i].attrs, "\"HSM\"") != NULL;
			if (hsm)
				keys_hsm++;
			else
				keys_sw++;
			rc = c->st->ops->kv_list(c->st, &kvs, &nkv,
			    items[i].id);
			for (k = 0; rc == 0 && k < nkv; k++) {
				if (strcmp(kvs[k].state, "DELETED") == 0)
					continue;
				if (hsm)
					ver_hsm++;
				else
					ver_sw++;
			}
			tr_key_version_list_free(kvs, nkv);
			kvs = NULL;
			nkv = 0;
		}
		if (n > 0) {
			(void)snprintf(after, sizeof(after), "%s",
			    items[n - 1].id);
			pg.has_after = true;
			pg.after_time = items[n - 1].time_created;
			pg.after_id = after;
		}
		tr_obj_list_free(items, n);
		items = NULL;
		n = 0;
	}
	if (rc < 0)
		tr_api_error_rc(c, rc, "cannot count keys");
	else
		tr_api_send_json(c, 200, json_pack("{s:I, s:I, s:I, s:I}",
		    "keyCount", keys_hsm, "keyVersionCount", ver_hsm,
		    "softwareKeyCount", keys_sw, "softwareKeyVersionCount",
		    ver_sw));
	tr_obj_dispose(&v);
}
