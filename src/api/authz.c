/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authorisation glue between the handlers and the IAM engine: loading
 * the IAM snapshot (struct tr_iam_world) from the store when its IAM
 * generation moves, and the one question every handler asks,
 * tr_api_authorize().  Denials answer 404 NotAuthorizedOrNotFound so
 * that existence does not leak; the one exception is a caller who may
 * read a secret but lacks the key permission for its content, who gets
 * a 403 naming what is missing (tr_api_authorize_key_use()).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"

/* Every object of `type` in `tenancy` (not DELETED), in creation order. */
static int
list_all(struct tr_store *st, const char *type, const char *tenancy,
    struct tr_obj **out, size_t *nout)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj *all = NULL, *page = NULL, *grown;
	char after_id[TR_ID_MAX];
	size_t n = 0, np = 0, i;
	bool more = true;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	f.type = type;
	f.tenancy_id = tenancy;
	f.hide_deleted = true;
	pg.limit = 1000;
	pg.sort_by = TR_SORT_TIME;
	while (more) {
		if ((rc = st->ops->obj_list(st, &page, &np, &more, &f,
		    &pg)) < 0)
			goto out;
		if (np > 0) {
			grown = tr_reallocarray(all, n + np, sizeof(*all));
			if (grown == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			all = grown;
			memcpy(all + n, page, np * sizeof(*page));
			n += np;
			pg.has_after = true;
			pg.after_time = page[np - 1].time_created;
			(void)snprintf(after_id, sizeof(after_id), "%s",
			    page[np - 1].id);
			pg.after_id = after_id;
		}
		tr_free(page);	/* the items moved into `all` */
		page = NULL;
		np = 0;
	}
	*out = all;
	*nout = n;
	all = NULL;
out:
	tr_obj_list_free(page, np);
	if (all != NULL) {
		for (i = 0; i < n; i++)
			tr_obj_dispose(&all[i]);
		tr_free(all);
	}
	return rc;
}

struct world_load {
	struct tr_obj tenancy;
	struct tr_obj *comps, *groups, *members, *dgs, *pols;
	size_t ncomps, ngroups, nmembers, ndgs, npols;
	json_t **pol_attrs;
	json_t **dg_attrs;
	const char ***stmts;
};

static void
world_load_dispose(struct world_load *l)
{
	size_t i;

	tr_obj_dispose(&l->tenancy);
	tr_obj_list_free(l->comps, l->ncomps);
	tr_obj_list_free(l->groups, l->ngroups);
	tr_obj_list_free(l->members, l->nmembers);
	for (i = 0; l->pol_attrs != NULL && i < l->npols; i++) {
		json_decref(l->pol_attrs[i]);
		if (l->stmts != NULL)
			tr_free(l->stmts[i]);
	}
	for (i = 0; l->dg_attrs != NULL && i < l->ndgs; i++)
		json_decref(l->dg_attrs[i]);
	tr_free(l->pol_attrs);
	tr_free(l->dg_attrs);
	tr_free(l->stmts);
	tr_obj_list_free(l->dgs, l->ndgs);
	tr_obj_list_free(l->pols, l->npols);
}

/* Build the IAM snapshot of `tenancy` from the store. */
static int
world_load(struct tr_store *st, const char *tenancy, struct tr_iam_world **out)
{
	struct world_load l;
	struct tr_iam_world_input in;
	struct tr_iam_compartment *comps = NULL;
	struct tr_iam_group *groups = NULL;
	struct tr_iam_membership *members = NULL;
	struct tr_iam_dynamic_group *dgs = NULL;
	struct tr_iam_policy *pols = NULL;
	char *setting = NULL;
	size_t i, k;
	int rc;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	memset(&in, 0, sizeof(in));
	if ((rc = st->ops->obj_get(st, &l.tenancy, tenancy, "tenancy")) < 0 ||
	    (rc = list_all(st, "compartment", tenancy, &l.comps,
	    &l.ncomps)) < 0 ||
	    (rc = list_all(st, "group", tenancy, &l.groups, &l.ngroups)) < 0 ||
	    (rc = list_all(st, "groupmembership", tenancy, &l.members,
	    &l.nmembers)) < 0 ||
	    (rc = list_all(st, "dynamicgroup", tenancy, &l.dgs, &l.ndgs)) < 0 ||
	    (rc = list_all(st, "policy", tenancy, &l.pols, &l.npols)) < 0)
		goto out;
	comps = tr_calloc(l.ncomps + 1, sizeof(*comps));
	groups = tr_calloc(l.ngroups + 1, sizeof(*groups));
	members = tr_calloc(l.nmembers + 1, sizeof(*members));
	dgs = tr_calloc(l.ndgs + 1, sizeof(*dgs));
	pols = tr_calloc(l.npols + 1, sizeof(*pols));
	l.pol_attrs = tr_calloc(l.npols + 1, sizeof(*l.pol_attrs));
	l.dg_attrs = tr_calloc(l.ndgs + 1, sizeof(*l.dg_attrs));
	l.stmts = tr_calloc(l.npols + 1, sizeof(*l.stmts));
	if (comps == NULL || groups == NULL || members == NULL || dgs == NULL ||
	    pols == NULL || l.pol_attrs == NULL || l.dg_attrs == NULL ||
	    l.stmts == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	comps[0].id = l.tenancy.id;
	comps[0].parent_id = NULL;
	comps[0].name = l.tenancy.name;
	for (i = 0; i < l.ncomps; i++) {
		comps[i + 1].id = l.comps[i].id;
		comps[i + 1].parent_id = l.comps[i].parent_id;
		comps[i + 1].name = l.comps[i].name;
	}
	for (i = 0; i < l.ngroups; i++) {
		groups[i].id = l.groups[i].id;
		groups[i].name = l.groups[i].name;
	}
	for (i = 0; i < l.nmembers; i++) {
		members[i].user_id = l.members[i].parent_id;
		members[i].group_id = l.members[i].name;
	}
	for (i = 0; i < l.ndgs; i++) {
		l.dg_attrs[i] = tr_api_attrs(l.dgs[i].attrs);
		dgs[i].id = l.dgs[i].id;
		dgs[i].name = l.dgs[i].name;
		dgs[i].matching_rule = json_string_value(json_object_get(
		    l.dg_attrs[i], "matchingRule"));
		if (dgs[i].matching_rule == NULL)
			dgs[i].matching_rule = "";
	}
	for (i = 0; i < l.npols; i++) {
		json_t *arr;

		l.pol_attrs[i] = tr_api_attrs(l.pols[i].attrs);
		arr = json_object_get(l.pol_attrs[i], "statements");
		l.stmts[i] = tr_calloc(json_array_size(arr) + 1,
		    sizeof(**l.stmts));
		if (l.stmts[i] == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		for (k = 0; k < json_array_size(arr); k++) {
			const char *s = json_string_value(
			    json_array_get(arr, k));

			l.stmts[i][k] = s == NULL ? "" : s;
		}
		pols[i].id = l.pols[i].id;
		pols[i].name = l.pols[i].name;
		pols[i].compartment_id = l.pols[i].compartment_id;
		pols[i].statements = l.stmts[i];
		pols[i].nstatements = json_array_size(arr);
	}
	in.tenancy_id = l.tenancy.id;
	in.tenancy_name = l.tenancy.name;
	in.compartments = comps;
	in.ncompartments = l.ncomps + 1;
	in.groups = groups;
	in.ngroups = l.ngroups;
	in.memberships = members;
	in.nmemberships = l.nmembers;
	in.dynamic_groups = dgs;
	in.ndynamic_groups = l.ndgs;
	in.policies = pols;
	in.npolicies = l.npols;
	in.secret_reads_require_key_use = true;
	rc = st->ops->setting_get(st, &setting, "secret_reads_require_key_use");
	if (rc == 0 && strcmp(setting, "false") == 0)
		in.secret_reads_require_key_use = false;
	else if (rc < 0 && rc != TRESOR_ENOTFOUND)
		goto out;
	rc = tr_iam_world_build(out, &in);
out:
	tr_free(setting);
	tr_free(comps);
	tr_free(groups);
	tr_free(members);
	tr_free(dgs);
	tr_free(pols);
	world_load_dispose(&l);
	return rc;
}

static void note_missing(struct tr_api_ctx *c,
    const struct tr_iam_decision *dec);

const char *
tr_api_tenancy(struct tr_api_ctx *c)
{
	return c->principal.tenancy_id;
}

int
tr_api_world(struct tr_api_ctx *c, struct tr_iam_world **out)
{
	struct tr_api_thread *t = c->t;
	struct tr_iam_world *w = NULL;
	uint64_t gen;
	int rc;

	*out = NULL;
	if ((rc = c->st->ops->iam_generation(c->st, &gen)) < 0)
		return rc;
	if (t->have_world && gen == t->world_generation &&
	    strcmp(t->tenancy_id, tr_api_tenancy(c)) == 0) {
		*out = t->world;
		return 0;
	}
	if ((rc = world_load(c->st, tr_api_tenancy(c), &w)) < 0)
		return rc;
	if (t->world != NULL)
		tr_iam_world_unlink(t->world);
	t->world = w;
	t->world_generation = gen;
	t->have_world = true;
	(void)snprintf(t->tenancy_id, sizeof(t->tenancy_id), "%s",
	    tr_api_tenancy(c));
	*out = w;
	return 0;
}

/*
 * Decisions, remembered per thread for the world they were made in: a
 * decision depends only on the world and the request's fields unless a
 * condition reads the clock (then nothing is remembered).  The key holds
 * every field the evaluator reads.
 */
#define DECISION_SLOTS 256

struct decision_slot {
	uint64_t generation;		/* of the world; 0: empty */
	uint64_t hash;
	char *key;
	size_t keylen;
	struct tr_iam_decision dec;
};

#define DECISION_KEY_MAX 4096

/* Append `s` and a separator; false when the key would not fit. */
static bool
key_add(char *k, size_t *len, const char *s)
{
	size_t n = s == NULL ? 1 : strlen(s);

	if (*len + n + 1 >= DECISION_KEY_MAX)
		return false;
	if (s == NULL)
		k[*len] = '\001';
	else
		memcpy(k + *len, s, n);
	*len += n;
	k[(*len)++] = '\037';
	return true;
}

static bool
decision_key(char *k, size_t *len, const struct tr_principal *p,
    const char *operation, const char *const *permissions,
    const struct tr_api_target *t)
{
	*len = 0;
	memcpy(k, &p->kind, sizeof(p->kind));
	memcpy(k + sizeof(p->kind), &permissions, sizeof(permissions));
	*len = sizeof(p->kind) + sizeof(permissions);
	return key_add(k, len, p->id) && key_add(k, len, p->tenancy_id) &&
	    key_add(k, len, p->compartment_id) &&
	    key_add(k, len, p->resource_type) && key_add(k, len, p->name) &&
	    key_add(k, len, p->defined_tags_json) &&
	    key_add(k, len, operation) &&
	    key_add(k, len, t->compartment_id) &&
	    key_add(k, len, t->vault_id) && key_add(k, len, t->key_id) &&
	    key_add(k, len, t->secret_id) && key_add(k, len, t->secret_name) &&
	    key_add(k, len, t->include_plaintext_key);
}

void
tr_api_decisions_free(struct tr_api_thread *t)
{
	size_t i;

	if (t->decisions == NULL)
		return;
	for (i = 0; i < DECISION_SLOTS; i++)
		tr_free(t->decisions[i].key);
	tr_free(t->decisions);
	t->decisions = NULL;
}

int
tr_api_decide(struct tr_api_ctx *c, const struct tr_principal *p,
    const struct tr_api_target *target, const char *const *permissions,
    struct tr_iam_decision *dec, struct tr_buf *trace)
{
	struct tr_api_thread *t = c->t;
	struct tr_iam_world *w;
	struct tr_iam_request req;
	struct decision_slot *sl = NULL;
	char key[DECISION_KEY_MAX];
	size_t keylen = 0;
	uint64_t h = 0;
	int rc;

	memset(dec, 0, sizeof(*dec));
	if (permissions == NULL)
		permissions = tr_iam_op_permissions(c->operation);
	if (permissions == NULL)
		return tr_error_set(TRESOR_EINTERNAL,
		    "no permission table entry for %s", c->operation);
	if ((rc = tr_api_world(c, &w)) < 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.principal = p;
	req.operation = c->operation;
	req.permissions = permissions;
	req.compartment_id = target->compartment_id;
	req.vault_id = target->vault_id;
	req.key_id = target->key_id;
	req.secret_id = target->secret_id;
	req.secret_name = target->secret_name;
	req.include_plaintext_key = target->include_plaintext_key;
	req.now_ms = tr_now_ms();
	if (trace != NULL || tr_iam_world_time_dependent(w))
		return tr_iam_authorize(w, &req, dec, trace);

	if (decision_key(key, &keylen, p, c->operation, permissions,
	    target)) {
		h = tr_hash_bytes(key, keylen);
		if (t->decisions == NULL)
			t->decisions = tr_calloc(DECISION_SLOTS,
			    sizeof(*t->decisions));
		if (t->decisions != NULL)
			sl = &t->decisions[h % DECISION_SLOTS];
	}
	if (sl != NULL && sl->generation == t->world_generation &&
	    sl->hash == h && sl->keylen == keylen &&
	    memcmp(sl->key, key, keylen) == 0) {
		*dec = sl->dec;
		return 0;
	}
	rc = tr_iam_authorize(w, &req, dec, NULL);
	if (rc == 0 && sl != NULL) {
		tr_free(sl->key);
		sl->key = tr_malloc(keylen);
		sl->generation = 0;
		if (sl->key != NULL) {
			memcpy(sl->key, key, keylen);
			sl->keylen = keylen;
			sl->hash = h;
			sl->generation = t->world_generation;
			sl->dec = *dec;
		}
	}
	return rc;
}

int
tr_api_allowed(struct tr_api_ctx *c, const struct tr_api_target *target,
    const char *const *permissions, bool *allowed)
{
	struct tr_iam_decision dec;
	int rc;

	*allowed = false;
	if ((rc = tr_api_decide(c, &c->principal, target, permissions, &dec,
	    NULL)) < 0)
		return rc;
	*allowed = dec.allowed;
	note_missing(c, &dec);
	return 0;
}

int
tr_api_authorize(struct tr_api_ctx *c, const struct tr_api_target *target,
    const char *const *permissions, const char *what)
{
	bool allowed;
	int rc;

	if ((rc = tr_api_allowed(c, target, permissions, &allowed)) < 0) {
		tr_api_error_rc(c, rc, "authorisation failed");
		return rc;
	}
	if (!allowed) {
		tr_api_not_found(c, what);
		return TRESOR_EDENIED;
	}
	return 0;
}

/* Remember what a denial lacked, for the audit record. */
static void
note_missing(struct tr_api_ctx *c, const struct tr_iam_decision *dec)
{
	if (!dec->allowed && dec->missing_permission[0] != '\0')
		(void)snprintf(c->missing_permission,
		    sizeof(c->missing_permission), "%s",
		    dec->missing_permission);
}

int
tr_api_authorize_key_use(struct tr_api_ctx *c, const struct tr_obj *key,
    bool has_new_content)
{
	struct tr_api_target target = { 0 };
	struct tr_iam_request req;
	struct tr_iam_world *w;
	const char *const *perms;
	char suggestion[1024];
	bool allowed;
	int rc;

	if ((rc = tr_api_world(c, &w)) < 0) {
		tr_api_error_rc(c, rc, "authorisation failed");
		return rc;
	}
	perms = tr_iam_op_key_permissions(c->operation,
	    tr_iam_world_secret_reads_require_key_use(w), has_new_content);
	if (perms == NULL)
		return 0;
	target.compartment_id = key->compartment_id;
	target.vault_id = key->parent_id;
	target.key_id = key->id;
	if ((rc = tr_api_allowed(c, &target, perms, &allowed)) < 0) {
		tr_api_error_rc(c, rc, "authorisation failed");
		return rc;
	}
	if (allowed)
		return 0;
	memset(&req, 0, sizeof(req));
	req.principal = &c->principal;
	req.operation = c->operation;
	req.permissions = perms;
	req.compartment_id = key->compartment_id;
	req.vault_id = key->parent_id;
	req.key_id = key->id;
	req.now_ms = tr_now_ms();
	if (tr_iam_suggest_statement(w, &req, perms[0], suggestion,
	    sizeof(suggestion)) < 0)
		(void)snprintf(suggestion, sizeof(suggestion),
		    "Allow group <your group> to use keys in compartment id "
		    "%s where target.key.id = '%s'", key->compartment_id,
		    key->id);
	tr_api_error(c, 403, "NotAuthorized",
	    "%s needs permission %s (granted by 'use keys') on the secret's "
	    "master encryption key %s in compartment %s, and the caller lacks "
	    "it (tenancy setting secret_reads_require_key_use is on). A "
	    "policy statement that would grant it: %s", c->operation,
	    perms[0], key->id, key->compartment_id, suggestion);
	return TRESOR_EDENIED;
}

int
tr_api_compartment_exists(struct tr_api_ctx *c, const char *field,
    const char *id)
{
	struct tr_obj o = { 0 };
	int rc;

	if (strcmp(id, tr_api_tenancy(c)) == 0)
		return 0;
	rc = c->st->ops->obj_get(c->st, &o, id, "compartment");
	if (rc == 0 && (strcmp(o.tenancy_id, tr_api_tenancy(c)) != 0 ||
	    strcmp(o.state, "ACTIVE") != 0))
		rc = TRESOR_ENOTFOUND;
	tr_obj_dispose(&o);
	if (rc == TRESOR_ENOTFOUND) {
		tr_api_error(c, 404, "NotAuthorizedOrNotFound",
		    "Authorization failed or requested resource not found: "
		    "compartment %s (field '%s')", id, field);
		return rc;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "compartment lookup failed");
		return rc;
	}
	return 0;
}
