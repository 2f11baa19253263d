/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity (IdentityClient, /20160918): the tenancy, compartments, users,
 * groups and memberships, API keys, dynamic groups and policies, for the
 * subset a vault needs (oci-wire.md 4.7, oci-iam.md 4-7).
 *
 * The five named resource types (compartment, user, group, dynamic
 * group, policy) share one table-driven implementation of create, get,
 * list, update and delete; what differs per type (extra fields, checks,
 * delete rules) hangs off struct idtype.  Every write of an identity
 * object moves the store's IAM generation, so every thread rebuilds its
 * policy snapshot before its next decision.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/api_int.h"
#include "auth/auth.h"
#include "auth/httpsig.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/ocid.h"

#define MAX_API_KEYS 3
#define MAX_STATEMENTS 100
#define STATEMENT_MAX 4096
#define MAX_COMPARTMENT_DEPTH 6
#define RULE_MAX 4096

struct idtype;

typedef int (*id_check_fn)(struct tr_api_ctx *c, const struct idtype *t,
    struct tr_obj *o, json_t *attrs, bool creating);
typedef int (*id_delete_fn)(struct tr_api_ctx *c, struct tr_obj *o);

struct idtype {
	const char *type;		/* store and OCID type */
	const char *what;		/* for messages */
	bool in_tenancy;		/* lives in the tenancy only */
	const struct tr_field *create_fields;
	const struct tr_field *update_fields;
	const char *const *copy_members;	/* attrs copied from bodies */
	id_check_fn check;		/* type-specific validation */
	id_delete_fn before_delete;	/* refuse or cascade */
	int delete_status;		/* 204, or 202 for compartments */
};

/* ---------------------------------------------------------------- */
/* JSON                                                             */
/* ---------------------------------------------------------------- */

static json_t *
obj_json(const struct idtype *t, const struct tr_obj *o)
{
	json_t *a = tr_api_attrs(o->attrs), *j;
	const char *key;
	json_t *v;

	j = json_pack("{s:s, s:s, s:s, s:s, s:o}",
	    "id", o->id,
	    "compartmentId", strcmp(t->type, "compartment") == 0 ?
	    o->parent_id : o->compartment_id,
	    "name", o->name,
	    "lifecycleState", o->state,
	    "timeCreated", tr_api_time(o->time_created));
	if (j == NULL)
		goto out;
	json_object_foreach(a, key, v) {
		if (key[0] != '_')
			json_object_set(j, key, v);
	}
	if (json_object_get(j, "description") == NULL)
		json_object_set_new(j, "description", json_string(""));
	if (json_object_get(j, "freeformTags") == NULL)
		json_object_set_new(j, "freeformTags", json_object());
	if (json_object_get(j, "definedTags") == NULL)
		json_object_set_new(j, "definedTags", json_object());
	if (strcmp(t->type, "compartment") == 0)
		json_object_set_new(j, "isAccessible", json_true());
	if (strcmp(t->type, "user") == 0) {
		if (json_object_get(j, "isMfaActivated") == NULL)
			json_object_set_new(j, "isMfaActivated", json_false());
		json_object_set_new(j, "emailVerified", json_false());
	}
out:
	json_decref(a);
	return j;
}

/* ---------------------------------------------------------------- */
/* shared steps                                                     */
/* ---------------------------------------------------------------- */

/* Load an identity object of type `t` in the caller's tenancy. */
static int
load(struct tr_api_ctx *c, const struct idtype *t, const char *id,
    struct tr_obj *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = tr_ocid_valid(id, t->type) ? c->st->ops->obj_get(c->st, o, id,
	    t->type) : TRESOR_ENOTFOUND;
	if (rc == 0 && (strcmp(o->tenancy_id, tr_api_tenancy(c)) != 0 ||
	    strcmp(o->state, "DELETED") == 0))
		rc = TRESOR_ENOTFOUND;
	if (rc == TRESOR_ENOTFOUND) {
		tr_obj_dispose(o);
		tr_api_not_found(c, t->what);
		return rc;
	}
	if (rc < 0) {
		tr_obj_dispose(o);
		tr_api_error_rc(c, rc, "lookup failed");
	}
	return rc;
}

/* The compartment an identity object is authorised in. */
static const char *
authz_compartment(const struct idtype *t, const struct tr_obj *o)
{
	/* a compartment is governed by its parent, like OCI */
	if (strcmp(t->type, "compartment") == 0)
		return o->parent_id;
	return o->compartment_id;
}

static int
authorize_in(struct tr_api_ctx *c, const char *compartment,
    const char *what)
{
	struct tr_api_target target = { 0 };

	target.compartment_id = compartment;
	return tr_api_authorize(c, &target, NULL, what);
}

/* Write `o` (new when expect is NULL) and answer with it. */
static void
save_and_answer(struct tr_api_ctx *c, const struct idtype *t, struct tr_obj *o,
    json_t *attrs, const char *expect, struct tr_api_retry *retry)
{
	struct tr_store_write w[2];
	char old[TR_ETAG_MAX];
	json_t *resp;
	int rc;

	memset(w, 0, sizeof(w));
	tr_free(o->attrs);
	o->attrs = json_dumps(attrs, JSON_COMPACT);
	if (o->attrs == NULL) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		return;
	}
	if (expect != NULL)
		(void)snprintf(old, sizeof(old), "%s", expect);
	if ((rc = tr_store_new_etag(o->etag)) < 0) {
		tr_api_error_rc(c, rc, "cannot save");
		return;
	}
	resp = obj_json(t, o);
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = o;
	w[0].expect_etag = expect == NULL ? NULL : old;
	if (retry != NULL)
		rc = tr_api_apply_create(c, retry, w, 1, resp, o->etag);
	else
		rc = c->st->ops->apply(c->st, w, 1);
	if (rc == TRESOR_EEXISTS) {
		json_decref(resp);
		tr_api_error(c, 409, "Conflict",
		    "a %s named '%s' already exists%s", t->what, o->name,
		    strcmp(t->type, "compartment") == 0 ?
		    " in that parent compartment" : " in the tenancy");
		return;
	}
	if (rc == TRESOR_EPRECOND) {
		json_decref(resp);
		tr_api_error(c, 409, "Conflict",
		    "the %s was changed by another request; retry", t->what);
		return;
	}
	if (rc < 0) {
		json_decref(resp);
		tr_api_error_rc(c, rc, "cannot save");
		return;
	}
	tr_api_set_etag(c, o->etag);
	tr_api_send_json(c, 200, resp);
}

static void
id_create(struct tr_api_ctx *c, const struct idtype *t)
{
	struct tr_api_retry retry = { 0 };
	struct tr_obj o;
	json_t *attrs = NULL;
	const char *comp, *name, *desc;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, t->create_fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0)
		return;
	comp = json_string_value(json_object_get(c->body, "compartmentId"));
	name = json_string_value(json_object_get(c->body, "name"));
	desc = json_string_value(json_object_get(c->body, "description"));
	if (tr_api_check_name(c, "name", name, strcmp(t->type,
	    "policy") != 0) < 0)
		return;
	if (desc != NULL && strlen(desc) > TR_API_DESCRIPTION_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'description' is longer than %d characters",
		    TR_API_DESCRIPTION_MAX);
		return;
	}
	if (t->in_tenancy && strcmp(comp, tr_api_tenancy(c)) != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'compartmentId' must be the tenancy OCID: %ss live "
		    "in the tenancy", t->what);
		return;
	}
	if (tr_api_compartment_exists(c, "compartmentId", comp) < 0 ||
	    authorize_in(c, comp, "compartment") < 0)
		return;
	if ((rc = tr_api_retry_begin(c, &retry)) != 0)
		return;
	if ((rc = tr_ocid_new(o.id, sizeof(o.id), t->type, NULL)) < 0) {
		tr_api_error_rc(c, rc, "cannot create");
		goto out;
	}
	(void)snprintf(o.type, sizeof(o.type), "%s", t->type);
	(void)snprintf(o.tenancy_id, sizeof(o.tenancy_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(o.compartment_id, sizeof(o.compartment_id), "%s",
	    strcmp(t->type, "compartment") == 0 ? tr_api_tenancy(c) : comp);
	if (strcmp(t->type, "compartment") == 0)
		(void)snprintf(o.parent_id, sizeof(o.parent_id), "%s", comp);
	(void)snprintf(o.name, sizeof(o.name), "%s", name);
	(void)snprintf(o.state, sizeof(o.state), "ACTIVE");
	o.time_created = tr_now_ms();
	attrs = json_object();
	json_object_set_new(attrs, "description", json_string(desc == NULL ?
	    "" : desc));
	json_object_set_new(attrs, "freeformTags",
	    tr_api_object_or_empty(c->body, "freeformTags"));
	json_object_set_new(attrs, "definedTags",
	    tr_api_object_or_empty(c->body, "definedTags"));
	for (i = 0; t->copy_members != NULL && t->copy_members[i] != NULL;
	    i++)
		tr_api_copy_member(attrs, c->body, t->copy_members[i]);
	if (t->check != NULL && t->check(c, t, &o, attrs, true) < 0)
		goto out;
	save_and_answer(c, t, &o, attrs, NULL, &retry);
out:
	tr_api_retry_end(c, &retry);
	json_decref(attrs);
	tr_obj_dispose(&o);
}

static void
id_get(struct tr_api_ctx *c, const struct idtype *t)
{
	struct tr_obj o;

	if (load(c, t, c->param[0], &o) < 0)
		return;
	if (authorize_in(c, authz_compartment(t, &o), t->what) == 0) {
		tr_api_set_etag(c, o.etag);
		tr_api_send_json(c, 200, obj_json(t, &o));
	}
	tr_obj_dispose(&o);
}

static void
id_update(struct tr_api_ctx *c, const struct idtype *t)
{
	struct tr_obj o;
	json_t *attrs = NULL;
	const char *desc, *name;
	size_t i;

	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, t->update_fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0)
		return;
	desc = json_string_value(json_object_get(c->body, "description"));
	name = json_string_value(json_object_get(c->body, "name"));
	if (desc != NULL && strlen(desc) > TR_API_DESCRIPTION_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'description' is longer than %d characters",
		    TR_API_DESCRIPTION_MAX);
		return;
	}
	if (name != NULL && tr_api_check_name(c, "name", name, true) < 0)
		return;
	if (load(c, t, c->param[0], &o) < 0)
		return;
	if (authorize_in(c, authz_compartment(t, &o), t->what) < 0 ||
	    tr_api_if_match(c, o.etag) < 0)
		goto out;
	attrs = tr_api_attrs(o.attrs);
	if (name != NULL)
		(void)snprintf(o.name, sizeof(o.name), "%s", name);
	tr_api_copy_member(attrs, c->body, "description");
	tr_api_copy_member(attrs, c->body, "freeformTags");
	tr_api_copy_member(attrs, c->body, "definedTags");
	for (i = 0; t->copy_members != NULL && t->copy_members[i] != NULL;
	    i++)
		tr_api_copy_member(attrs, c->body, t->copy_members[i]);
	if (t->check != NULL && t->check(c, t, &o, attrs, false) < 0)
		goto out;
	save_and_answer(c, t, &o, attrs, o.etag, NULL);
out:
	json_decref(attrs);
	tr_obj_dispose(&o);
}

static void
id_delete(struct tr_api_ctx *c, const struct idtype *t)
{
	struct tr_store_write w = { 0 };
	struct tr_obj o;
	char old[TR_ETAG_MAX];
	int rc;

	if (load(c, t, c->param[0], &o) < 0)
		return;
	if (authorize_in(c, authz_compartment(t, &o), t->what) < 0 ||
	    tr_api_if_match(c, o.etag) < 0)
		goto out;
	if (t->before_delete != NULL && t->before_delete(c, &o) < 0)
		goto out;
	if (strcmp(t->type, "compartment") == 0) {
		/* kept as DELETED, like OCI; its name can be used again */
		(void)snprintf(old, sizeof(old), "%s", o.etag);
		(void)snprintf(o.state, sizeof(o.state), "DELETED");
		(void)tr_store_new_etag(o.etag);
		w.kind = TR_W_OBJ_PUT;
		w.obj = &o;
		w.expect_etag = old;
	} else {
		w.kind = TR_W_OBJ_DELETE;
		w.obj = &o;
		w.expect_etag = o.etag;
	}
	rc = c->st->ops->apply(c->st, &w, 1);
	if (rc == TRESOR_EPRECOND) {
		tr_api_error(c, 409, "Conflict",
		    "the %s was changed by another request; retry", t->what);
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "cannot delete");
		goto out;
	}
	if (t->delete_status == 202) {
		char wr[TR_OCID_MAX];

		if (tr_ocid_new(wr, sizeof(wr), "workrequest", NULL) == 0)
			tr_response_header(c->resp, "opc-work-request-id", wr);
	}
	tr_api_send_empty(c, t->delete_status);
out:
	tr_obj_dispose(&o);
}

static void
id_list(struct tr_api_ctx *c, const struct idtype *t)
{
	struct tr_obj_filter f = { 0 };
	struct tr_obj *items = NULL;
	struct tr_page pg;
	const char *comp = tr_api_query(c, "compartmentId");
	const char *subtree = tr_api_query(c, "compartmentIdInSubtree");
	char key[512];
	json_t *arr;
	size_t n = 0, i;
	bool more = false, all_below;
	int rc;

	static const char *const states[] = { "CREATING", "ACTIVE",
		"INACTIVE", "DELETING", "DELETED", NULL };
	static const char *const bools[] = { "true", "false", NULL };
	static const char *const levels[] = { "ANY", "ACCESSIBLE", NULL };

	if (comp == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required query parameter 'compartmentId'");
		return;
	}
	if (tr_api_query_enum(c, "lifecycleState", states) < 0 ||
	    tr_api_query_enum(c, "compartmentIdInSubtree", bools) < 0 ||
	    tr_api_query_enum(c, "accessLevel", levels) < 0)
		return;
	if (tr_api_page(c, &pg, "NAME", key, sizeof(key)) < 0 ||
	    tr_api_compartment_exists(c, "compartmentId", comp) < 0 ||
	    authorize_in(c, comp, "compartment") < 0)
		return;
	all_below = strcmp(t->type, "compartment") == 0 && subtree != NULL &&
	    strcmp(subtree, "true") == 0;
	if (all_below && strcmp(comp, tr_api_tenancy(c)) != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "compartmentIdInSubtree=true needs the tenancy as "
		    "compartmentId");
		return;
	}
	f.type = t->type;
	f.tenancy_id = tr_api_tenancy(c);
	if (strcmp(t->type, "compartment") == 0) {
		if (!all_below)
			f.parent_id = comp;
	} else {
		f.compartment_id = comp;
	}
	f.name = tr_api_query(c, "name");
	f.state = tr_api_query(c, "lifecycleState");
	f.hide_deleted = f.state == NULL;
	if ((rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f,
	    &pg)) < 0) {
		tr_api_error_rc(c, rc, "cannot list");
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, obj_json(t, &items[i]));
	if (more && n > 0)
		tr_api_next_page(c, &pg, &items[n - 1]);
	tr_api_send_json(c, 200, arr);
	tr_obj_list_free(items, n);
}

/* ---------------------------------------------------------------- */
/* per-type rules                                                   */
/* ---------------------------------------------------------------- */

/* Depth of compartment `id` below the tenancy (tenancy = 0). */
static int
compartment_depth(struct tr_api_ctx *c, const char *id)
{
	char cur[TR_ID_MAX];
	struct tr_obj o;
	int depth = 0;

	(void)snprintf(cur, sizeof(cur), "%s", id);
	while (strcmp(cur, tr_api_tenancy(c)) != 0 && depth < 64) {
		memset(&o, 0, sizeof(o));
		if (c->st->ops->obj_get(c->st, &o, cur, "compartment") < 0)
			break;
		(void)snprintf(cur, sizeof(cur), "%s", o.parent_id);
		tr_obj_dispose(&o);
		depth++;
	}
	return depth;
}

static int
check_compartment(struct tr_api_ctx *c, const struct idtype *t,
    struct tr_obj *o, json_t *attrs, bool creating)
{
	if (creating && compartment_depth(c, o->parent_id) + 1 >
	    MAX_COMPARTMENT_DEPTH) {
		tr_api_error(c, 400, "LimitExceeded",
		    "compartments nest at most %d levels deep",
		    MAX_COMPARTMENT_DEPTH);
		return TRESOR_ELIMIT;
	}
	return 0;
}

/* True when any live object of `type` has `field` equal to `value`. */
static int
any_with(struct tr_api_ctx *c, const char *type, const char *parent,
    const char *compartment, bool *found)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj *items = NULL;
	size_t n = 0;
	bool more;
	int rc;

	f.type = type;
	f.parent_id = parent;
	f.compartment_id = compartment;
	f.tenancy_id = tr_api_tenancy(c);
	f.hide_deleted = true;
	pg.limit = 1;
	rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f, &pg);
	*found = rc == 0 && n > 0;
	tr_obj_list_free(items, n);
	return rc;
}

static int
before_delete_compartment(struct tr_api_ctx *c, struct tr_obj *o)
{
	static const char *const contents[] = { "vault", "key", "vaultsecret",
		"policy", NULL };
	bool found = false;
	size_t i;
	int rc;

	if ((rc = any_with(c, "compartment", o->id, NULL, &found)) < 0)
		goto fail;
	if (found) {
		tr_api_error(c, 409, "Conflict",
		    "compartment %s still holds compartments; delete them "
		    "first", o->id);
		return TRESOR_ECONFLICT;
	}
	for (i = 0; contents[i] != NULL; i++) {
		if ((rc = any_with(c, contents[i], NULL, o->id, &found)) < 0)
			goto fail;
		if (found) {
			tr_api_error(c, 409, "Conflict",
			    "compartment %s still holds resources (%s); "
			    "delete or move them first", o->id, contents[i]);
			return TRESOR_ECONFLICT;
		}
	}
	return 0;
fail:
	tr_api_error_rc(c, rc, "cannot check the compartment");
	return rc;
}

static int
before_delete_user(struct tr_api_ctx *c, struct tr_obj *o)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj *items = NULL;
	struct tr_store_write *w = NULL;
	bool found, more;
	size_t n = 0, i;
	int rc;

	if ((rc = any_with(c, "groupmembership", o->id, NULL, &found)) < 0) {
		tr_api_error_rc(c, rc, "cannot check the user");
		return rc;
	}
	if (found) {
		tr_api_error(c, 409, "Conflict",
		    "user %s still belongs to groups; remove the user from "
		    "every group first", o->id);
		return TRESOR_ECONFLICT;
	}
	/* the user's API keys go with the user */
	f.type = "apikey";
	f.parent_id = o->id;
	pg.limit = 100;
	if ((rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f,
	    &pg)) < 0)
		goto out;
	if (n > 0) {
		w = tr_calloc(n, sizeof(*w));
		if (w == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++) {
			w[i].kind = TR_W_OBJ_DELETE;
			w[i].obj = &items[i];
		}
		rc = c->st->ops->apply(c->st, w, n);
	}
out:
	if (rc < 0)
		tr_api_error_rc(c, rc, "cannot delete the user's API keys");
	tr_free(w);
	tr_obj_list_free(items, n);
	return rc;
}

static int
before_delete_group(struct tr_api_ctx *c, struct tr_obj *o)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj *items = NULL;
	size_t n = 0;
	bool more;
	int rc;

	/* memberships are stored under the user, named by the group */
	f.type = "groupmembership";
	f.tenancy_id = tr_api_tenancy(c);
	f.name = o->id;
	pg.limit = 1;
	rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f, &pg);
	tr_obj_list_free(items, n);
	if (rc < 0) {
		tr_api_error_rc(c, rc, "cannot check the group");
		return rc;
	}
	if (n > 0) {
		tr_api_error(c, 409, "Conflict",
		    "group %s still has members; remove them first", o->id);
		return TRESOR_ECONFLICT;
	}
	return 0;
}

static int
check_dynamic_group(struct tr_api_ctx *c, const struct idtype *t,
    struct tr_obj *o, json_t *attrs, bool creating)
{
	const char *rule = json_string_value(json_object_get(attrs,
	    "matchingRule"));

	if (rule == NULL || strlen(rule) > RULE_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'matchingRule' must be a rule of at most %d "
		    "characters", RULE_MAX);
		return TRESOR_EINVAL;
	}
	if (tr_iam_rule_validate(rule) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'matchingRule' does not parse: %s",
		    tresor_error_last());
		return TRESOR_EINVAL;
	}
	return 0;
}

static int
check_policy(struct tr_api_ctx *c, const struct idtype *t, struct tr_obj *o,
    json_t *attrs, bool creating)
{
	const json_t *arr = json_object_get(attrs, "statements");
	const char **stmts = NULL;
	struct tr_iam_world *w;
	size_t i, n = json_array_size(arr);
	int rc;

	if (!json_is_array(arr) || n == 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'statements' must be a non-empty array of strings");
		return TRESOR_EINVAL;
	}
	if (n > MAX_STATEMENTS) {
		tr_api_error(c, 400, "LimitExceeded",
		    "a policy holds at most %d statements (this one has %zu)",
		    MAX_STATEMENTS, n);
		return TRESOR_ELIMIT;
	}
	stmts = tr_calloc(n + 1, sizeof(*stmts));
	if (stmts == NULL) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		return TRESOR_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		stmts[i] = json_string_value(json_array_get(arr, i));
		if (stmts[i] == NULL || strlen(stmts[i]) > STATEMENT_MAX) {
			tr_api_error(c, 400, "InvalidParameter",
			    "statement %zu must be a string of at most %d "
			    "characters", i, STATEMENT_MAX);
			rc = TRESOR_EINVAL;
			goto out;
		}
	}
	if ((rc = tr_api_world(c, &w)) < 0) {
		tr_api_error_rc(c, rc, "cannot load policies");
		goto out;
	}
	if ((rc = tr_iam_policy_validate(w, o->compartment_id, stmts,
	    n)) < 0) {
		tr_api_error(c, 400, "InvalidParameter", "%s",
		    tresor_error_last());
		goto out;
	}
	rc = 0;
out:
	tr_free(stmts);
	return rc;
}

/* ---------------------------------------------------------------- */
/* the tables                                                       */
/* ---------------------------------------------------------------- */

#define COMMON_CREATE						\
	{ "compartmentId", TR_F_STRING, true },			\
	{ "name", TR_F_STRING, true },				\
	{ "description", TR_F_STRING, true },			\
	{ "freeformTags", TR_F_OBJECT, false },			\
	{ "definedTags", TR_F_OBJECT, false }
#define COMMON_UPDATE						\
	{ "description", TR_F_STRING, false },			\
	{ "freeformTags", TR_F_OBJECT, false },			\
	{ "definedTags", TR_F_OBJECT, false }

static const struct tr_field comp_create[] = { COMMON_CREATE,
	{ NULL, 0, false } };
static const struct tr_field comp_update[] = { COMMON_UPDATE,
	{ "name", TR_F_STRING, false }, { NULL, 0, false } };
static const struct tr_field user_create[] = { COMMON_CREATE,
	{ "email", TR_F_STRING, false }, { NULL, 0, false } };
static const struct tr_field user_update[] = { COMMON_UPDATE,
	{ "email", TR_F_STRING, false }, { "dbUserName", TR_F_STRING, false },
	{ NULL, 0, false } };
static const struct tr_field group_create[] = { COMMON_CREATE,
	{ NULL, 0, false } };
static const struct tr_field group_update[] = { COMMON_UPDATE,
	{ NULL, 0, false } };
static const struct tr_field dg_create[] = { COMMON_CREATE,
	{ "matchingRule", TR_F_STRING, true }, { NULL, 0, false } };
static const struct tr_field dg_update[] = { COMMON_UPDATE,
	{ "matchingRule", TR_F_STRING, false }, { NULL, 0, false } };
static const struct tr_field pol_create[] = { COMMON_CREATE,
	{ "statements", TR_F_ARRAY, true }, { "versionDate", TR_F_STRING,
	false }, { NULL, 0, false } };
static const struct tr_field pol_update[] = { COMMON_UPDATE,
	{ "statements", TR_F_ARRAY, false }, { "versionDate", TR_F_STRING,
	false }, { NULL, 0, false } };

static const char *const user_members[] = { "email", "dbUserName", NULL };
static const char *const dg_members[] = { "matchingRule", NULL };
static const char *const pol_members[] = { "statements", "versionDate",
	NULL };

static const struct idtype t_compartment = { "compartment", "compartment",
	false, comp_create, comp_update, NULL, check_compartment,
	before_delete_compartment, 202 };
static const struct idtype t_user = { "user", "user", true, user_create,
	user_update, user_members, NULL, before_delete_user, 204 };
static const struct idtype t_group = { "group", "group", true, group_create,
	group_update, NULL, NULL, before_delete_group, 204 };
static const struct idtype t_dg = { "dynamicgroup", "dynamic group", true,
	dg_create, dg_update, dg_members, check_dynamic_group, NULL, 204 };
static const struct idtype t_policy = { "policy", "policy", false,
	pol_create, pol_update, pol_members, check_policy, NULL, 204 };

#define HANDLERS(sfx, t)						\
void tr_api_create_##sfx(struct tr_api_ctx *c) { id_create(c, &t); }	\
void tr_api_get_##sfx(struct tr_api_ctx *c) { id_get(c, &t); }		\
void tr_api_list_##sfx(struct tr_api_ctx *c) { id_list(c, &t); }	\
void tr_api_update_##sfx(struct tr_api_ctx *c) { id_update(c, &t); }	\
void tr_api_delete_##sfx(struct tr_api_ctx *c) { id_delete(c, &t); }

HANDLERS(compartment, t_compartment)
HANDLERS(user, t_user)
HANDLERS(group, t_group)
HANDLERS(dynamic_group, t_dg)
HANDLERS(policy, t_policy)

/* ---------------------------------------------------------------- */
/* tenancy                                                          */
/* ---------------------------------------------------------------- */

void
tr_api_get_tenancy(struct tr_api_ctx *c)
{
	struct tr_obj o;
	json_t *a, *j;
	int rc;

	memset(&o, 0, sizeof(o));
	if (strcmp(c->param[0], tr_api_tenancy(c)) != 0) {
		tr_api_not_found(c, "tenancy");
		return;
	}
	if ((rc = c->st->ops->obj_get(c->st, &o, c->param[0],
	    "tenancy")) < 0) {
		tr_api_error_rc(c, rc, "tenancy lookup failed");
		return;
	}
	a = tr_api_attrs(o.attrs);
	j = json_pack("{s:s, s:s, s:O, s:O}", "id", o.id, "name", o.name,
	    "description", json_object_get(a, "description"),
	    "homeRegionKey", json_object_get(a, "homeRegionKey"));
	json_object_set_new(j, "freeformTags",
	    tr_api_object_or_empty(a, "freeformTags"));
	json_object_set_new(j, "definedTags",
	    tr_api_object_or_empty(a, "definedTags"));
	tr_api_send_json(c, 200, j);
	json_decref(a);
	tr_obj_dispose(&o);
}

/* ---------------------------------------------------------------- */
/* memberships                                                      */
/* ---------------------------------------------------------------- */

static json_t *
membership_json(const struct tr_obj *m)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "id", m->id,
	    "compartmentId", m->compartment_id, "userId", m->parent_id,
	    "groupId", m->name, "timeCreated", tr_api_time(m->time_created),
	    "lifecycleState", m->state);
}

void
tr_api_add_user_to_group(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "userId", TR_F_STRING, true },
		{ "groupId", TR_F_STRING, true },
		{ NULL, 0, false }
	};
	struct tr_api_retry retry = { 0 };
	struct tr_store_write w[2];
	struct tr_obj user, group, m;
	json_t *resp = NULL;
	int rc;

	memset(&user, 0, sizeof(user));
	memset(&group, 0, sizeof(group));
	memset(&m, 0, sizeof(m));
	memset(w, 0, sizeof(w));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	if (load(c, &t_user, json_string_value(json_object_get(c->body,
	    "userId")), &user) < 0)
		return;
	if (load(c, &t_group, json_string_value(json_object_get(c->body,
	    "groupId")), &group) < 0)
		goto out;
	if (authorize_in(c, tr_api_tenancy(c), "user or group") < 0)
		goto out;
	if ((rc = tr_api_retry_begin(c, &retry)) != 0)
		goto out;
	if ((rc = tr_ocid_new(m.id, sizeof(m.id), "groupmembership",
	    NULL)) < 0 || (rc = tr_store_new_etag(m.etag)) < 0)
		goto fail;
	(void)snprintf(m.type, sizeof(m.type), "groupmembership");
	(void)snprintf(m.tenancy_id, sizeof(m.tenancy_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(m.compartment_id, sizeof(m.compartment_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(m.parent_id, sizeof(m.parent_id), "%s", user.id);
	(void)snprintf(m.name, sizeof(m.name), "%s", group.id);
	(void)snprintf(m.state, sizeof(m.state), "ACTIVE");
	m.time_created = tr_now_ms();
	m.attrs = tr_strdup("{}");
	resp = membership_json(&m);
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &m;
	rc = tr_api_apply_create(c, &retry, w, 1, resp, m.etag);
	if (rc == TRESOR_EEXISTS) {
		tr_api_error(c, 409, "Conflict",
		    "user %s is already a member of group %s", user.id,
		    group.id);
		goto out;
	}
	if (rc < 0)
		goto fail;
	tr_api_set_etag(c, m.etag);
	tr_api_send_json(c, 200, resp);
	resp = NULL;
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot add the user to the group");
out:
	tr_api_retry_end(c, &retry);
	json_decref(resp);
	tr_obj_dispose(&m);
	tr_obj_dispose(&user);
	tr_obj_dispose(&group);
}

static int
load_membership(struct tr_api_ctx *c, struct tr_obj *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = tr_ocid_valid(c->param[0], "groupmembership") ?
	    c->st->ops->obj_get(c->st, m, c->param[0], "groupmembership") :
	    TRESOR_ENOTFOUND;
	if (rc == 0 && strcmp(m->tenancy_id, tr_api_tenancy(c)) != 0)
		rc = TRESOR_ENOTFOUND;
	if (rc == TRESOR_ENOTFOUND)
		tr_api_not_found(c, "membership");
	else if (rc < 0)
		tr_api_error_rc(c, rc, "membership lookup failed");
	if (rc < 0)
		tr_obj_dispose(m);
	return rc;
}

void
tr_api_get_user_group_membership(struct tr_api_ctx *c)
{
	struct tr_obj m;

	if (load_membership(c, &m) < 0)
		return;
	if (authorize_in(c, tr_api_tenancy(c), "membership") == 0) {
		tr_api_set_etag(c, m.etag);
		tr_api_send_json(c, 200, membership_json(&m));
	}
	tr_obj_dispose(&m);
}

void
tr_api_remove_user_from_group(struct tr_api_ctx *c)
{
	struct tr_store_write w = { 0 };
	struct tr_obj m;
	int rc;

	if (load_membership(c, &m) < 0)
		return;
	if (authorize_in(c, tr_api_tenancy(c), "membership") < 0 ||
	    tr_api_if_match(c, m.etag) < 0)
		goto out;
	w.kind = TR_W_OBJ_DELETE;
	w.obj = &m;
	if ((rc = c->st->ops->apply(c->st, &w, 1)) < 0) {
		tr_api_error_rc(c, rc, "cannot remove the membership");
		goto out;
	}
	tr_api_send_empty(c, 204);
out:
	tr_obj_dispose(&m);
}

void
tr_api_list_user_group_memberships(struct tr_api_ctx *c)
{
	struct tr_obj_filter f = { 0 };
	struct tr_obj *items = NULL;
	struct tr_page pg;
	const char *comp = tr_api_query(c, "compartmentId");
	char key[512];
	json_t *arr;
	size_t n = 0, i;
	bool more = false;
	int rc;

	if (comp == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required query parameter 'compartmentId'");
		return;
	}
	if (strcmp(comp, tr_api_tenancy(c)) != 0) {
		tr_api_not_found(c, "compartment");
		return;
	}
	if (tr_api_page(c, &pg, NULL, key, sizeof(key)) < 0 ||
	    authorize_in(c, comp, "compartment") < 0)
		return;
	f.type = "groupmembership";
	f.tenancy_id = tr_api_tenancy(c);
	f.parent_id = tr_api_query(c, "userId");
	f.name = tr_api_query(c, "groupId");
	if ((rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f,
	    &pg)) < 0) {
		tr_api_error_rc(c, rc, "cannot list memberships");
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, membership_json(&items[i]));
	if (more && n > 0)
		tr_api_next_page(c, &pg, &items[n - 1]);
	tr_api_send_json(c, 200, arr);
	tr_obj_list_free(items, n);
}

/* ---------------------------------------------------------------- */
/* API keys                                                         */
/* ---------------------------------------------------------------- */

static json_t *
apikey_json(const struct tr_obj *k)
{
	json_t *a = tr_api_attrs(k->attrs), *j;
	char kid[800];

	(void)snprintf(kid, sizeof(kid), "%s/%s/%s", k->tenancy_id,
	    k->parent_id, k->name);
	j = json_pack("{s:s, s:O, s:s, s:s, s:o, s:s}", "keyId", kid,
	    "keyValue", json_object_get(a, "keyValue"), "fingerprint", k->name,
	    "userId", k->parent_id, "timeCreated",
	    tr_api_time(k->time_created), "lifecycleState", k->state);
	json_decref(a);
	return j;
}

/*
 * The user of an API-key path: a user may manage their own keys with no
 * policy (OCI); anyone else needs the operation's permission.
 */
static int
apikey_user(struct tr_api_ctx *c, struct tr_obj *user)
{
	if (load(c, &t_user, c->param[0], user) < 0)
		return TRESOR_ENOTFOUND;
	if (c->principal.kind == TR_PRINCIPAL_USER &&
	    strcmp(c->principal.id, user->id) == 0)
		return 0;
	if (authorize_in(c, tr_api_tenancy(c), "user") < 0) {
		tr_obj_dispose(user);
		return TRESOR_EDENIED;
	}
	return 0;
}

static int
list_keys_of(struct tr_api_ctx *c, const char *user, struct tr_obj **items,
    size_t *n)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	bool more;

	f.type = "apikey";
	f.parent_id = user;
	pg.limit = 100;
	return c->st->ops->obj_list(c->st, items, n, &more, &f, &pg);
}

void
tr_api_upload_api_key(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "key", TR_F_STRING, true },
		{ NULL, 0, false }
	};
	struct tr_api_retry retry = { 0 };
	struct tr_store_write w[2];
	struct tr_obj user, k, *keys = NULL;
	EVP_PKEY *pub = NULL;
	json_t *resp = NULL;
	const char *pem;
	char fp[48];
	size_t nkeys = 0;
	int rc;

	memset(&user, 0, sizeof(user));
	memset(&k, 0, sizeof(k));
	memset(w, 0, sizeof(w));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	pem = json_string_value(json_object_get(c->body, "key"));
	if (tr_auth_parse_public_key(&pub, pem, strlen(pem)) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'key': %s", tresor_error_last());
		return;
	}
	if (tr_httpsig_fingerprint(fp, pub) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'key' cannot be fingerprinted");
		goto out;
	}
	if (apikey_user(c, &user) < 0)
		goto out;
	if ((rc = list_keys_of(c, user.id, &keys, &nkeys)) < 0) {
		tr_api_error_rc(c, rc, "cannot list the user's keys");
		goto out;
	}
	if (nkeys >= MAX_API_KEYS) {
		tr_api_error(c, 400, "LimitExceeded",
		    "user %s already has %d API keys, the most allowed; "
		    "delete one first", user.id, MAX_API_KEYS);
		goto out;
	}
	if ((rc = tr_api_retry_begin(c, &retry)) != 0)
		goto out;
	if ((rc = tr_ocid_new(k.id, sizeof(k.id), "apikey", NULL)) < 0 ||
	    (rc = tr_store_new_etag(k.etag)) < 0)
		goto fail;
	(void)snprintf(k.type, sizeof(k.type), "apikey");
	(void)snprintf(k.tenancy_id, sizeof(k.tenancy_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(k.compartment_id, sizeof(k.compartment_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(k.parent_id, sizeof(k.parent_id), "%s", user.id);
	(void)snprintf(k.name, sizeof(k.name), "%s", fp);
	(void)snprintf(k.state, sizeof(k.state), "ACTIVE");
	k.time_created = tr_now_ms();
	k.attrs = tr_json_dump_take(json_pack("{s:s, s:s}", "keyValue", pem,
	    "fingerprint", fp));
	if (k.attrs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	resp = apikey_json(&k);
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &k;
	rc = tr_api_apply_create(c, &retry, w, 1, resp, k.etag);
	if (rc == TRESOR_EEXISTS) {
		tr_api_error(c, 409, "Conflict",
		    "user %s already has an API key with fingerprint %s",
		    user.id, fp);
		goto out;
	}
	if (rc < 0)
		goto fail;
	tr_api_set_etag(c, k.etag);
	tr_api_send_json(c, 200, resp);
	resp = NULL;
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot upload the API key");
out:
	tr_api_retry_end(c, &retry);
	json_decref(resp);
	EVP_PKEY_free(pub);
	tr_obj_list_free(keys, nkeys);
	tr_obj_dispose(&k);
	tr_obj_dispose(&user);
}

void
tr_api_list_api_keys(struct tr_api_ctx *c)
{
	struct tr_obj user, *keys = NULL;
	size_t n = 0, i;
	json_t *arr;
	int rc;

	if (apikey_user(c, &user) < 0)
		return;
	if ((rc = list_keys_of(c, user.id, &keys, &n)) < 0) {
		tr_api_error_rc(c, rc, "cannot list API keys");
		goto out;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, apikey_json(&keys[i]));
	tr_api_send_json(c, 200, arr);
out:
	tr_obj_list_free(keys, n);
	tr_obj_dispose(&user);
}

void
tr_api_delete_api_key(struct tr_api_ctx *c)
{
	struct tr_store_write w = { 0 };
	struct tr_obj user, k;
	char fp[64];
	size_t i;
	int rc;

	memset(&k, 0, sizeof(k));
	if (apikey_user(c, &user) < 0)
		return;
	(void)snprintf(fp, sizeof(fp), "%s", c->param[1]);
	for (i = 0; fp[i] != '\0'; i++)
		if (fp[i] >= 'A' && fp[i] <= 'Z')
			fp[i] = (char)(fp[i] + 32);
	rc = c->st->ops->obj_get_by_name(c->st, &k, "apikey",
	    tr_api_tenancy(c), user.id, fp);
	if (rc == TRESOR_ENOTFOUND) {
		tr_api_not_found(c, "API key");
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "API key lookup failed");
		goto out;
	}
	if (tr_api_if_match(c, k.etag) < 0)
		goto out;
	w.kind = TR_W_OBJ_DELETE;
	w.obj = &k;
	if ((rc = c->st->ops->apply(c->st, &w, 1)) < 0) {
		tr_api_error_rc(c, rc, "cannot delete the API key");
		goto out;
	}
	tr_api_send_empty(c, 204);
out:
	tr_obj_dispose(&k);
	tr_obj_dispose(&user);
}
