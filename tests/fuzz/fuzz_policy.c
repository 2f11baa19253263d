/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the policy language: parses the input as one
 * statement, and when it parses, builds a small world around it and
 * evaluates a request against it (with and without a trace), validates
 * and lints it.  Build: clang -fsanitize=fuzzer,address,undefined.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iam/iam.h"
#include "iam/iam_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T "ocid1.tenancy.oc1..fuzz0001"
#define A "ocid1.compartment.oc1..fuzza001"
#define B "ocid1.compartment.oc1..fuzzb001"

static void
evaluate(const char *stmt)
{
	static const struct tr_iam_compartment comps[] = {
		{ T, NULL, "root", NULL },
		{ A, T, "A", "{\"ops\": {\"env\": \"prod\"}}" },
		{ B, A, "B", NULL },
	};
	static const struct tr_iam_group groups[] = {
		{ "ocid1.group.oc1..g1", "G" },
		{ "ocid1.group.oc1..g2", "Readers" },
	};
	static const struct tr_iam_membership members[] = {
		{ "ocid1.user.oc1..u1", "ocid1.group.oc1..g1" },
	};
	static const struct tr_iam_dynamic_group dgs[] = {
		{ "ocid1.dynamicgroup.oc1..d1", "D",
		  "ANY {resource.type = 'fnfunc', tag.ops.env.value}" },
	};
	static const char *const perms[] = { "SECRET_READ", "KEY_DECRYPT",
		"SECRET_BUNDLE_READ", NULL };
	const char *stmts[1] = { stmt };
	struct tr_iam_policy pol = { "ocid1.policy.oc1..p", "p", T, stmts, 1 };
	struct tr_iam_world_input in = {
		.tenancy_id = T, .tenancy_name = "root",
		.compartments = comps, .ncompartments = 3,
		.groups = groups, .ngroups = 2,
		.memberships = members, .nmemberships = 1,
		.dynamic_groups = dgs, .ndynamic_groups = 1,
		.policies = &pol, .npolicies = 1,
		.secret_reads_require_key_use = true,
	};
	struct tr_iam_world *w = NULL;
	struct tr_iam_request req;
	struct tr_iam_decision d;
	struct tr_principal p;
	struct tr_buf b;

	if (tr_iam_world_build(&w, &in) < 0)
		return;
	memset(&p, 0, sizeof(p));
	p.kind = TR_PRINCIPAL_USER;
	memcpy(p.id, "ocid1.user.oc1..u1", sizeof("ocid1.user.oc1..u1"));
	memcpy(p.name, "u1", 3);
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.operation = "GetSecret";
	req.permissions = perms;
	req.compartment_id = B;
	req.secret_name = "db-password";
	req.secret_id = "ocid1.vaultsecret.oc1.phx.s1";
	req.vault_id = "ocid1.vault.oc1.phx.v1";
	req.target_tags_json = "{\"ops\": {\"env\": \"prod\"}}";
	req.now_ms = 1750069800000LL;
	(void)tr_iam_authorize(w, &req, &d, NULL);
	tr_buf_init(&b, 1 << 20);
	(void)tr_iam_authorize(w, &req, &d, &b);
	/* the same as a resource principal */
	p.kind = TR_PRINCIPAL_RESOURCE;
	memcpy(p.resource_type, "fnfunc", 7);
	memcpy(p.compartment_id, A, sizeof(A));
	p.defined_tags_json = "{\"ops\": {\"env\": \"prod\"}}";
	(void)tr_iam_authorize(w, &req, &d, NULL);
	tr_buf_reset(&b);
	(void)tr_iam_authorize(w, &req, &d, &b);
	tr_buf_reset(&b);
	(void)tr_iam_policy_validate(w, A, stmts, 1);
	(void)tr_iam_policy_lint(w, stmts, 1, &b);
	tr_buf_dispose(&b);
	tr_iam_world_unlink(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_iam_stmt *st = NULL;
	char *s;

	tr_log_set_level(TR_LOG_NONE);
	if (size > TR_IAM_STATEMENT_MAX + 16)
		return 0;
	s = tr_strndup((const char *)data, size);
	if (s == NULL)
		return 0;
	if (tr_iam_stmt_parse(&st, s) == 0) {
		tr_iam_stmt_free(st);
		evaluate(s);
	}
	tr_free(s);
	return 0;
}
