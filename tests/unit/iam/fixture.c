/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM test fixture (see fixture.h): the world of spec oci-iam.md
 * section 10 and a helper that decides a request the way the API layer
 * does (operation permissions, then key permissions on the key).
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "iam/iam.h"

static const struct fx_obj objs[] = {
	{ "S", FX_B, FX_V, NULL, FX_S, "db-password", NULL, FX_K },
	{ "S2", FX_B, FX_V, NULL, FX_S2, "api-token", NULL, FX_K },
	{ "S3", FX_B, FX_V, NULL, FX_S3, "db-*", NULL, FX_K },
	{ "S4", FX_D, FX_V, NULL, FX_S4, "prod-db", NULL, FX_K },
	{ "S5", FX_B, FX_V, NULL, FX_S5, "tagged",
	  "{\"ops\": {\"env\": \"prod\"}}", FX_K },
	{ "K", FX_A, FX_V, FX_K, NULL, NULL, NULL, NULL },
	{ "K2", FX_C, FX_V, FX_K2, NULL, NULL, NULL, NULL },
	{ "V", FX_A, FX_V, NULL, NULL, NULL, NULL, NULL },
	/* a secret being created in B with key K (or K2) of vault V */
	{ "new@B", FX_B, FX_V, NULL, NULL, NULL, NULL, FX_K },
	{ "new@B/K2", FX_B, FX_V, NULL, NULL, NULL, NULL, FX_K2 },
	{ "T", FX_T, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "A", FX_A, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "B", FX_B, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "C", FX_C, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "D", FX_D, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "X", "ocid1.compartment.oc1..nowhere0001", NULL, NULL, NULL, NULL,
	  NULL, NULL },
};

const struct fx_obj *
fx_obj(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (strcmp(objs[i].name, name) == 0)
			return &objs[i];
	return NULL;
}

static const struct fx_obj *
key_obj(const char *key_id)
{
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (objs[i].key != NULL && strcmp(objs[i].key, key_id) == 0)
			return &objs[i];
	return NULL;
}

static void
set(char *dst, size_t n, const char *s)
{
	(void)snprintf(dst, n, "%s", s);
}

bool
fx_principal(struct tr_principal *p, const char *who, unsigned flags)
{
	static const struct {
		const char *who;
		enum tr_principal_kind kind;
		const char *id;
		const char *comp;
		const char *type;
		const char *tags;
	} tab[] = {
		{ "alice", TR_PRINCIPAL_USER, FX_ALICE, NULL, "user", NULL },
		{ "bob", TR_PRINCIPAL_USER, FX_BOB, NULL, "user", NULL },
		{ "carol", TR_PRINCIPAL_USER, FX_CAROL, NULL, "user", NULL },
		{ "dave", TR_PRINCIPAL_USER, FX_DAVE, NULL, "user", NULL },
		{ "F", TR_PRINCIPAL_RESOURCE, FX_F, FX_A, "fnfunc", NULL },
		{ "F2", TR_PRINCIPAL_RESOURCE, FX_F2, FX_B, "fnfunc", NULL },
		{ "I", TR_PRINCIPAL_INSTANCE, FX_I, FX_A, "instance",
		  "{\"ops\": {\"env\": \"prod\"}}" },
		{ "I2", TR_PRINCIPAL_INSTANCE, FX_I2, FX_C, "instance", NULL },
	};
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(tab[i].who, who) != 0)
			continue;
		p->kind = tab[i].kind;
		set(p->id, sizeof(p->id), tab[i].id);
		set(p->tenancy_id, sizeof(p->tenancy_id), (flags &
		    FX_FOREIGN) != 0 ? "ocid1.tenancy.oc1..other0001" : FX_T);
		set(p->compartment_id, sizeof(p->compartment_id),
		    tab[i].comp != NULL ? tab[i].comp : "");
		set(p->resource_type, sizeof(p->resource_type), tab[i].type);
		if (p->kind == TR_PRINCIPAL_USER)
			set(p->name, sizeof(p->name), who);
		p->defined_tags_json = (flags & FX_NO_TAG) != 0 ? NULL :
		    tab[i].tags;
		return true;
	}
	return false;
}

int
fx_world(struct tr_iam_world **out, const char *const *stmts, size_t n,
    const char *attach, unsigned flags)
{
	static const struct tr_iam_compartment comps[] = {
		{ FX_T, NULL, "acme", NULL },
		{ FX_A, FX_T, "A", "{\"cost\": {\"center\": \"42\"}}" },
		{ FX_B, FX_A, "B", NULL },
		{ FX_C, FX_T, "C", NULL },
		{ FX_D, FX_B, "D", NULL },
	};
	static const struct tr_iam_group groups[] = {
		{ FX_READERS, "Readers" },
		{ FX_WRITERS, "Writers" },
		{ FX_SECOPS, "Sec Ops" },
	};
	static const struct tr_iam_membership members[] = {
		{ FX_BOB, FX_WRITERS },
		{ FX_DAVE, FX_READERS },
		{ FX_DAVE, FX_SECOPS },
		{ FX_ALICE, FX_READERS },
	};
	static const struct tr_iam_dynamic_group dgs[] = {
		{ FX_FNA, "FnA", "ALL {resource.type = 'fnfunc', "
		  "resource.compartment.id = '" FX_A "'}" },
		{ FX_PROD, "Prod", "ANY {instance.id = "
		  "'ocid1.instance.oc1.phx.other0001', "
		  "tag.ops.env.value = 'prod'}" },
		{ "ocid1.dynamicgroup.oc1..anyfn0001", "AnyFn",
		  "resource.type = 'fnfunc'" },
	};
	struct tr_iam_policy pol = {
		"ocid1.policy.oc1..policy0001", "case-policy",
		attach != NULL ? attach : FX_T, stmts, n
	};
	struct tr_iam_world_input in = {
		.tenancy_id = FX_T,
		.tenancy_name = "acme",
		.compartments = comps,
		.ncompartments = sizeof(comps) / sizeof(comps[0]),
		.groups = groups,
		.ngroups = sizeof(groups) / sizeof(groups[0]),
		.memberships = members,
		/* alice's membership is the last one */
		.nmemberships = sizeof(members) / sizeof(members[0]) -
		    ((flags & FX_NO_ALICE) != 0 ? 1 : 0),
		.dynamic_groups = dgs,
		.ndynamic_groups = sizeof(dgs) / sizeof(dgs[0]),
		.policies = &pol,
		.npolicies = n > 0 ? 1 : 0,
		.secret_reads_require_key_use = (flags & FX_KEYUSE_ON) != 0,
	};

	return tr_iam_world_build(out, &in);
}

int
fx_decide(const struct tr_iam_world *w, const char *who, const char *op,
    const char *obj, unsigned flags, long long now_ms, bool *allowed,
    char *missing, size_t missingsz, struct tr_buf *trace)
{
	const struct fx_obj *o, *ko;
	const char *const *kp;
	struct tr_principal p;
	struct tr_iam_request req;
	struct tr_iam_decision d;
	int rc;

	*allowed = false;
	missing[0] = '\0';
	o = fx_obj(obj);
	if (o == NULL || !fx_principal(&p, who, flags))
		return -100;
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.operation = op;
	req.permissions = tr_iam_op_permissions(op);
	if (req.permissions == NULL)
		return -101;
	req.compartment_id = o->compartment;
	req.vault_id = o->vault;
	req.key_id = o->key;
	req.secret_id = o->secret_id;
	req.secret_name = o->secret_name;
	req.target_tags_json = o->tags;
	if ((flags & FX_PLAINTEXT) != 0)
		req.include_plaintext_key = "true";
	if ((flags & FX_NO_PLAINTEXT) != 0)
		req.include_plaintext_key = "false";
	req.now_ms = now_ms != 0 ? now_ms : FX_NOW;
	if ((rc = tr_iam_authorize(w, &req, &d, trace)) < 0)
		return rc;
	if (!d.allowed) {
		set(missing, missingsz, d.missing_permission);
		return 0;
	}
	kp = tr_iam_op_key_permissions(op,
	    tr_iam_world_secret_reads_require_key_use(w),
	    (flags & FX_NEW_CONTENT) != 0);
	if (kp != NULL && o->content_key != NULL) {
		ko = key_obj(o->content_key);
		if (ko == NULL)
			return -102;
		req.permissions = kp;
		req.compartment_id = ko->compartment;
		req.vault_id = ko->vault;
		req.key_id = ko->key;
		req.secret_id = NULL;
		req.secret_name = NULL;
		req.target_tags_json = NULL;
		if ((rc = tr_iam_authorize(w, &req, &d, trace)) < 0)
			return rc;
		if (!d.allowed) {
			set(missing, missingsz, d.missing_permission);
			return 0;
		}
	}
	*allowed = true;
	return 0;
}
