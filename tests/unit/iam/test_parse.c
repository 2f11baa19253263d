/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the IAM language pieces: the statement parser (accepted forms
 * and error messages with column and expectation), policy validation
 * (spec oci-iam.md section 10 case 19), the linter, dynamic-group rules,
 * the permission tables and the world's compartment tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"
#include "iam/iam.h"
#include "iam/iam_int.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

/* ---------------------------------------------------------------- */
/* statements                                                       */
/* ---------------------------------------------------------------- */

static const char *const good_statements[] = {
	"Allow group Readers to read secret-family in tenancy",
	"allow GROUP Readers TO Manage ALL-RESOURCES IN TENANCY",
	"Allow group A,B, 'C D' to use keys in compartment X",
	"Allow group 'Default'/'Sec Ops' to inspect vaults in tenancy",
	"Allow group Default/Readers to inspect vaults in tenancy",
	"Allow group id ocid1.group.oc1..aaaa, id ocid1.group.oc1..bbbb to "
	"read keys in tenancy",
	"Allow dynamic-group FnA, id ocid1.dynamicgroup.oc1..aaaa to read "
	"secret-bundles in compartment A:B:C",
	"Allow any-user to {SECRET_BUNDLE_READ, secret_read} in compartment "
	"'A' where request.principal.type = 'iotdomain'",
	"Allow any-group to read key-family in compartment id "
	"ocid1.compartment.oc1..aaaa",
	"Allow group G to use key-delegate in tenancy",
	"Allow group G to manage hsm-cluster in tenancy",
	"Allow group G to manage compartments in tenancy",
	"Allow group G to manage users in tenancy",
	"Allow group G to manage groups in tenancy",
	"Allow group G to manage dynamic-groups in tenancy",
	"Allow group G to manage policies in tenancy",
	"Allow group G to inspect tenancies in tenancy",
	"Allow group G to read secret-versions in tenancy",
	"Allow group G to read secrets in tenancy where all "
	"{target.secret.name = /db-*/, any {request.permission = "
	"'SECRET_READ', request.operation = 'GetSecret'}}",
	"Allow group G to read secrets in tenancy where "
	"request.principal.compartment.id = target.compartment.id",
	"Allow group G to read secrets in tenancy where "
	"target.secret.name!='x'",
	"Allow group G to read secrets in tenancy where "
	"request.utc-timestamp before '2030-01-01T00:00:00.000Z'",
	"Allow group G to read secrets in tenancy where "
	"request.utc-timestamp after '2020-01-01T00:00+02:00'",
	"Allow group G to read secrets in tenancy where "
	"request.utc-timestamp.time-of-day between '17:00:00Z' and '01:00Z'",
	"Allow group G to read secrets in tenancy where "
	"request.utc-timestamp.month-of-year in ('6', 'July', 'aug')",
	"Allow group G to read secrets in tenancy where "
	"request.utc-timestamp.day-of-week not in ('Sat', 'sunday', '7')",
	"Allow group G to read secrets in tenancy where "
	"target.resource.tag.Ops.Env in ('prod', /stag*/)",
	"Allow group G to read secrets in tenancy where "
	"request.principal.group.tag.ops.team = 'x'",
	"Allow group G to read secrets in tenancy where "
	"target.group.name != 'Administrators'",
	"Allow group G to read secrets in tenancy where all{all{all{all{all{"
	"all{all{all{target.secret.name='x'}}}}}}}}",
	"Allow group G to read secrets in tenancy where target.secret.name "
	"= ''",
	"Allow\n\tgroup\r\nG\nto\nread\nsecrets\nin\ntenancy\n",
};

static void
test_parse_good(void **state)
{
	struct tr_iam_stmt *st;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(good_statements) / sizeof(good_statements[0]);
	    i++) {
		st = NULL;
		rc = tr_iam_stmt_parse(&st, good_statements[i]);
		if (rc != 0)
			print_error("%s\n  -> %s\n", good_statements[i],
			    tresor_error_last());
		assert_int_equal(rc, 0);
		assert_non_null(st);
		tr_iam_stmt_free(st);
	}
}

static void
test_parse_ast(void **state)
{
	struct tr_iam_stmt *st = NULL;

	(void)state;
	assert_int_equal(tr_iam_stmt_parse(&st, "Allow group "
	    "'Default'/'Sec Ops', id ocid1.group.oc1..aaaa to read "
	    "secret-family in compartment A:B where any {target.secret.name "
	    "= /db-*/, target.vault.id = 'V'}"), 0);
	assert_int_equal(st->subject, TR_IAM_SUBJ_GROUP);
	assert_int_equal(st->nitems, 2);
	assert_string_equal(st->items[0].domain, "Default");
	assert_string_equal(st->items[0].name, "Sec Ops");
	assert_string_equal(st->items[1].id, "ocid1.group.oc1..aaaa");
	assert_int_equal(st->verb, TR_IAM_VERB_READ);
	assert_int_equal(st->rtype, TR_IAM_T_SECRET_FAMILY);
	assert_true(tr_iam_permset_has(&st->perms, TR_IAM_P_SECRET_READ));
	assert_true(tr_iam_permset_has(&st->perms,
	    TR_IAM_P_SECRET_BUNDLE_READ));
	assert_false(tr_iam_permset_has(&st->perms, TR_IAM_P_SECRET_UPDATE));
	assert_int_equal(st->loc, TR_IAM_LOC_PATH);
	assert_int_equal(st->nloc_parts, 2);
	assert_string_equal(st->loc_parts[1], "B");
	assert_int_equal(st->cond->kind, TR_IAM_COND_ANY);
	assert_int_equal(st->cond->nkids, 2);
	assert_int_equal(st->cond->kids[0]->vals[0].kind, TR_IAM_VAL_PATTERN);
	assert_string_equal(st->cond->kids[0]->vals[0].s, "db-*");
	tr_iam_stmt_free(st);
}

struct bad {
	const char *stmt;
	const char *msg;	/* the whole message */
};

#define W "Allow group G to read secrets in tenancy where "
#define RSF_A "Allow group Readers to read secret-family in compartment A"
#define RSF_QW RSF_A " where target.secret.name = 'db-*'"

static const struct bad bad_statements[] = {
	{ "Deny group G to read secrets in tenancy",
	  "column 1: expected 'Allow': 'deny' statements are not supported "
	  "by tresor" },
	{ "define tenancy Acme as ocid1.tenancy.oc1..aaaa",
	  "column 1: expected 'Allow': 'define' statements are not "
	  "supported by tresor" },
	{ "Endorse group G to read secrets in tenancy Acme",
	  "column 1: expected 'Allow': 'endorse' statements are not "
	  "supported by tresor" },
	{ "  ADMIT group G of tenancy Acme to read secrets in tenancy",
	  "column 3: expected 'Allow': 'admit' statements are not "
	  "supported by tresor" },
	{ "", "column 1: expected 'Allow' at the start of the statement, "
	  "found end of text" },
	{ "Allow group Readers read secrets in tenancy",
	  "column 21: expected 'to' after the subject, found 'read'" },
	{ "Allow group Readers to reed secrets in tenancy",
	  "column 24: expected a verb (inspect, read, use, manage) or a "
	  "permission list {...}, found 'reed'" },
	{ "Allow group Readers to read secretz in tenancy",
	  "column 29: expected a resource type (e.g. secret-family, secrets, "
	  "secret-bundles, keys, vaults, all-resources), found 'secretz'" },
	{ "Allow group Readers to read secrets tenancy",
	  "column 37: expected 'in' and a location, found 'tenancy'" },
	{ "Allow group Readers to read secrets",
	  "column 36: expected 'in' and a location, found end of text" },
	{ "Allow group Readers to read secrets in compartment "
	  "ocid1.compartment.oc1..aaaa",
	  "column 52: expected 'id' before a compartment OCID (write 'in "
	  "compartment id ocid1.compartment.oc1..aaaa')" },
	{ "Allow group Readers to read secrets in compartment",
	  "column 51: expected a compartment name, a path a:b:c or 'id "
	  "<ocid>', found end of text" },
	{ "Allow group Readers to read secrets in compartment A::B",
	  "column 54: expected a compartment name in the path" },
	{ "Allow group Readers to read secrets in bucket",
	  "column 40: expected 'tenancy' or 'compartment' after 'in', found "
	  "'bucket'" },
	{ "Allow group Readers to read secrets in tenancy extra",
	  "column 48: expected 'where' or the end of the statement, found "
	  "'extra'" },
	{ "Allow group id readers to read secrets in tenancy",
	  "column 16: expected an OCID (ocid1.<type>.<realm>..<unique>) after "
	  "'id', found 'readers'" },
	{ "Allow group 'Readers to read secrets in tenancy",
	  "column 13: expected a closing ' for the quote opened here" },
	{ "Allow group '' to read secrets in tenancy",
	  "column 13: expected a group name between the quotes" },
	{ "Allow service objectstorage to use keys in tenancy",
	  "column 7: expected group, dynamic-group, any-user or any-group: "
	  "service principals are not supported by tresor" },
	{ "Allow user alice to read secrets in tenancy",
	  "column 7: expected a subject (group, dynamic-group, any-user or "
	  "any-group) after 'Allow', found 'user'" },
	{ "Allow group Readers to {} in tenancy",
	  "column 25: expected a permission name such as SECRET_BUNDLE_READ, "
	  "found '}'" },
	{ "Allow group Readers to {SECRET_READ, BUCKET_READ} in tenancy",
	  "column 38: expected a permission name such as SECRET_BUNDLE_READ, "
	  "found unknown permission 'BUCKET_READ'" },
	{ "Allow group Readers to {SECRET_READ in tenancy",
	  "column 37: expected ',' or '}' in the permission list, found 'in'" },
	{ "Allow group R\xc3\xa9 to read secrets in tenancy",
	  "column 14: expected 'to' after the subject, found byte 0xc3" },
	{ W, "column 48: expected a condition: a variable such as "
	  "target.secret.name, or all {...} / any {...}, found end of text" },
	{ W "target.secret.name = db",
	  "column 69: invalid right-hand side in condition: expected a "
	  "quoted value, a /pattern/ or a variable name, found 'db'" },
	{ W "target.secret.nmae = 'x'",
	  "column 48: expected a variable such as target.secret.name or "
	  "request.principal.type, found unknown variable "
	  "'target.secret.nmae'" },
	{ W "target.secret.name = 'x",
	  "column 69: expected a closing ' for the quote opened here" },
	{ W "target.secret.name == 'x'",
	  "column 68: expected a quoted value, a /pattern/ or a variable "
	  "name, found '='" },
	{ W "target.secret.name ~ 'x'",
	  "column 67: expected an operator (=, !=, in, not in, before, "
	  "after, between), found '~'" },
	{ W "all {target.secret.name = 'x'",
	  "column 77: expected ',' or '}', found end of text" },
	{ W "target.secret.name = 'a' target.vault.id = 'b'",
	  "column 73: expected the end of the statement, found "
	  "'target.vault.id'" },
	{ W "all{all{all{all{all{all{all{all{all{target.secret.name='x'}}}}}"
	  "}}}}",
	  "column 80: expected at most 8 nested all {} / any {} groups" },
	{ W "target.secret.name = //",
	  "column 69: expected a non-empty /pattern/" },
	{ W "target.secret.name = /db-*",
	  "column 69: expected a closing / for the pattern opened here" },
	{ W "target.secret.name in 'x'",
	  "column 70: expected '(' and a list of quoted values, found a "
	  "quote" },
	{ W "target.secret.name in ('x', db)",
	  "column 76: expected a quoted value or a /pattern/, found 'db'" },
	{ W "target.secret.name not ('x')",
	  "column 71: expected 'in' after 'not', found '('" },
	{ W "request.groups.id = request.groups.name",
	  "column 68: expected a single-valued variable on the right-hand "
	  "side, found request.groups.name" },
	{ W "request.utc-timestamp = '2020-01-01'",
	  "column 70: expected 'before' or 'after' after "
	  "request.utc-timestamp" },
	{ W "request.utc-timestamp before 'yesterday'",
	  "column 77: expected an ISO 8601 UTC timestamp, e.g. "
	  "'2030-01-01T00:00:00Z'" },
	{ W "request.utc-timestamp before 2020",
	  "column 77: expected a quoted UTC timestamp, e.g. "
	  "'2030-01-01T00:00:00Z', found '2020'" },
	{ W "target.secret.name before 'x'",
	  "column 67: expected = or != (before, after and between apply only "
	  "to request.utc-timestamp)" },
	{ W "request.utc-timestamp.time-of-day = '17:00:00Z'",
	  "column 82: expected 'between' after "
	  "request.utc-timestamp.time-of-day" },
	{ W "request.utc-timestamp.time-of-day between '25:00Z' and '01:00Z'",
	  "column 90: expected a time of day 'HH:MM:SSZ', e.g. '17:00:00Z'" },
	{ W "request.utc-timestamp.time-of-day between '17:00Z' '01:00Z'",
	  "column 99: expected 'and' between the two times, found a quote" },
	{ W "request.utc-timestamp.day-of-week = 'Funday'",
	  "column 84: expected a quoted "
	  "request.utc-timestamp.day-of-week value, e.g. 'Monday'" },
	{ W "request.utc-timestamp.month-of-year = '13'",
	  "column 86: expected a quoted "
	  "request.utc-timestamp.month-of-year value, e.g. '6'" },
	{ W "target.resource.tag.ops = 'x'",
	  "column 48: expected a variable such as target.secret.name or "
	  "request.principal.type, found unknown variable "
	  "'target.resource.tag.ops'" },
	{ W "all target.secret.name = 'x'",
	  "column 52: expected '{' after 'all', found 'target.secret.name'" },
};

static void
test_parse_errors(void **state)
{
	struct tr_iam_stmt *st;
	size_t i, failures = 0;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad_statements) / sizeof(bad_statements[0]);
	    i++) {
		st = NULL;
		rc = tr_iam_stmt_parse(&st, bad_statements[i].stmt);
		assert_null(st);
		if (rc != TRESOR_EINVAL || strcmp(tresor_error_last(),
		    bad_statements[i].msg) != 0) {
			print_error("%s\n  got:  %d %s\n  want: %s\n",
			    bad_statements[i].stmt, rc, tresor_error_last(),
			    bad_statements[i].msg);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void
test_parse_limits(void **state)
{
	struct tr_iam_stmt *st = NULL;
	struct tr_buf b;
	int i;

	(void)state;
	/* statement length */
	tr_buf_init(&b, 0);
	(void)tr_buf_addstr(&b, "Allow group G to read secrets in tenancy");
	while (b.len <= TR_IAM_STATEMENT_MAX)
		(void)tr_buf_addc(&b, ' ');
	assert_int_equal(tr_iam_stmt_parse(&st, tr_buf_cstr(&b)),
	    TRESOR_EINVAL);
	assert_string_equal(tresor_error_last(), "column 4097: expected a "
	    "statement of at most 4096 characters");
	b.len = TR_IAM_STATEMENT_MAX;
	b.ptr[b.len] = '\0';
	assert_int_equal(tr_iam_stmt_parse(&st, tr_buf_cstr(&b)), 0);
	tr_iam_stmt_free(st);
	st = NULL;
	/* too many subjects */
	tr_buf_reset(&b);
	(void)tr_buf_addstr(&b, "Allow group g0");
	for (i = 1; i <= 32; i++)
		(void)tr_buf_addf(&b, ", g%d", i);
	(void)tr_buf_addstr(&b, " to read secrets in tenancy");
	assert_int_equal(tr_iam_stmt_parse(&st, tr_buf_cstr(&b)),
	    TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "expected at most 32 "
	    "names in the subject"));
	/* too many conditions */
	tr_buf_reset(&b);
	(void)tr_buf_addstr(&b, W "any {");
	for (i = 0; i < 4; i++) {
		int j;

		(void)tr_buf_addf(&b, "%sany {", i == 0 ? "" : ", ");
		for (j = 0; j < 32; j++)
			(void)tr_buf_addf(&b, "%st.x = 'y'", j == 0 ? "" :
			    ", ");
		(void)tr_buf_addstr(&b, "}");
	}
	(void)tr_buf_addstr(&b, "}");
	assert_int_equal(tr_iam_stmt_parse(&st, tr_buf_cstr(&b)),
	    TRESOR_EINVAL);
	tr_buf_reset(&b);
	(void)tr_buf_addstr(&b, W "any {");
	for (i = 0; i < 4; i++) {
		int j;

		(void)tr_buf_addf(&b, "%sany {", i == 0 ? "" : ", ");
		for (j = 0; j < 31; j++)
			(void)tr_buf_addf(&b, "%starget.vault.id = 'y'",
			    j == 0 ? "" : ", ");
		(void)tr_buf_addstr(&b, "}");
	}
	(void)tr_buf_addstr(&b, "}");
	assert_int_equal(tr_iam_stmt_parse(&st, tr_buf_cstr(&b)),
	    TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "expected at most 128 "
	    "conditions in a statement"));
	tr_buf_dispose(&b);
	/* NULL */
	assert_int_equal(tr_iam_stmt_parse(&st, NULL), TRESOR_EINVAL);
}

/* Every allocation of the parser may fail. */
static void
test_parse_fault_injection(void **state)
{
	struct tr_iam_stmt *st;
	long n;
	int rc = TRESOR_ENOMEM;

	(void)state;
	for (n = 0; n < 500 && rc != 0; n++) {
		st = NULL;
		tr_alloc_fail_after(n);
		rc = tr_iam_stmt_parse(&st, good_statements[18]);
		tr_alloc_fail_after(-1);
		assert_true(rc == 0 || rc == TRESOR_ENOMEM);
		tr_iam_stmt_free(st);
	}
	assert_int_equal(rc, 0);
}

/* ---------------------------------------------------------------- */
/* patterns                                                         */
/* ---------------------------------------------------------------- */

static bool
glob(const char *p, const char *s)
{
	return tr_iam_glob_ci(p, strlen(p), s, strlen(s));
}

static void
test_glob(void **state)
{
	char s[2001];

	(void)state;
	assert_true(glob("db-*", "db-password"));
	assert_true(glob("DB-*", "db-password"));
	assert_true(glob("*word", "db-password"));
	assert_true(glob("*-pass*", "db-password"));
	assert_true(glob("d*s*d", "db-password"));
	assert_true(glob("*", ""));
	assert_true(glob("**", "x"));
	assert_true(glob("db-password", "DB-PASSWORD"));
	assert_false(glob("db-*", "api-token"));
	assert_false(glob("db-pass", "db-password"));
	assert_false(glob("*x", "db-password"));
	assert_false(glob("", "x"));
	assert_true(glob("", ""));
	assert_true(glob("a*b*c", "aXbYc"));
	assert_false(glob("a*b*c", "aXbY"));
	/* a hostile pattern stays cheap */
	memset(s, 'a', 2000);
	s[2000] = '\0';
	assert_false(glob("*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
}

/* ---------------------------------------------------------------- */
/* validation (spec section 10, case 19)                            */
/* ---------------------------------------------------------------- */

static int
validate1(const struct tr_iam_world *w, const char *attach, const char *s)
{
	return tr_iam_policy_validate(w, attach, &s, 1);
}

static void
test_validate(void **state)
{
	const char *three[] = {
		"Allow group Readers to read secrets in compartment B",
		"Allow any-user to inspect vaults in compartment B",
		"Allow group Readers foo",
	};
	const char *many[TR_IAM_POLICY_STATEMENTS_MAX + 1];
	struct tr_iam_world *w = NULL;
	size_t i;

	(void)state;
	assert_int_equal(fx_world(&w, NULL, 0, NULL, 0), 0);
	/* attached to A: B is a direct child */
	assert_int_equal(validate1(w, FX_A, "Allow group Readers to read "
	    "secrets in compartment B"), 0);
	/* attached to A: C is outside its subtree */
	assert_int_equal(validate1(w, FX_A, "Allow group Readers to read "
	    "secrets in compartment C"), TRESOR_EINVAL);
	assert_string_equal(tresor_error_last(), "statement 0, column 52: "
	    "The compartment C specified in the policy statement does not "
	    "exist under current compartment hierarchy (expected the "
	    "policy's compartment, one of its direct children, or a path "
	    "a:b:c below it)");
	/* attached to the root: B needs A:B */
	assert_int_equal(validate1(w, FX_T, "Allow group Readers to read "
	    "secrets in compartment B"), TRESOR_EINVAL);
	assert_int_equal(validate1(w, FX_T, "Allow group Readers to read "
	    "secrets in compartment A:B"), 0);
	assert_int_equal(validate1(w, FX_T, "Allow group Readers to read "
	    "secrets in compartment a:b:d"), 0);
	/* OCID without `id` */
	assert_int_equal(validate1(w, FX_T, "Allow group Readers to read "
	    "secrets in compartment " FX_B), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "statement 0, column 52: "
	    "expected 'id' before a compartment OCID"));
	/* by OCID: inside and outside the subtree */
	assert_int_equal(validate1(w, FX_A, "Allow group Readers to read "
	    "secrets in compartment id " FX_D), 0);
	assert_int_equal(validate1(w, FX_A, "Allow group Readers to read "
	    "secrets in compartment id " FX_C), TRESOR_EINVAL);
	assert_string_equal(tresor_error_last(), "statement 0, column 55: "
	    "Compartment {" FX_C "} does not exist or is not part of the "
	    "policy compartment subtree");
	assert_int_equal(validate1(w, FX_T, "Allow group Readers to read "
	    "secrets in compartment id ocid1.compartment.oc1..gone"),
	    TRESOR_EINVAL);
	/* in tenancy only from the root */
	assert_int_equal(validate1(w, FX_T, "Allow group Readers to read "
	    "secrets in tenancy"), 0);
	assert_int_equal(validate1(w, FX_A, "Allow group Readers to read "
	    "secrets in tenancy"), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "'in tenancy' is allowed "
	    "only in a policy attached to the tenancy"));
	/* the attachment compartment itself */
	assert_int_equal(validate1(w, FX_A, "Allow group Readers to read "
	    "secrets in compartment A"), 0);
	/* groups and dynamic groups must exist */
	assert_int_equal(validate1(w, FX_T, "Allow group readers, 'SEC OPS' "
	    "to read secrets in tenancy"), 0);
	assert_int_equal(validate1(w, FX_T, "Allow group Readers, Nobody to "
	    "read secrets in tenancy"), TRESOR_EINVAL);
	assert_string_equal(tresor_error_last(), "statement 0, column 22: "
	    "The group Nobody specified in the policy statement does not "
	    "exist under current compartment hierarchy");
	assert_int_equal(validate1(w, FX_T, "Allow dynamic-group Ghost to "
	    "read secrets in tenancy"), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "The dynamic group Ghost "
	    "specified"));
	assert_int_equal(validate1(w, FX_T, "Allow group id "
	    "ocid1.group.oc1..gone to read secrets in tenancy"),
	    TRESOR_EINVAL);
	assert_int_equal(validate1(w, FX_T, "Allow group 'Partners'/'Readers' "
	    "to read secrets in tenancy"), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "domain 'Partners' does "
	    "not exist"));
	assert_int_equal(validate1(w, FX_T, "Allow dynamic-group id " FX_FNA
	    " to read secrets in tenancy"), 0);
	/* the index of the failing statement */
	assert_int_equal(tr_iam_policy_validate(w, FX_A, three, 3),
	    TRESOR_EINVAL);
	assert_string_equal(tresor_error_last(), "statement 2, column 21: "
	    "expected 'to' after the subject, found 'foo'");
	/* the attachment compartment must exist */
	assert_int_equal(tr_iam_policy_validate(w,
	    "ocid1.compartment.oc1..gone", three, 1), TRESOR_EINVAL);
	/* counts */
	assert_int_equal(tr_iam_policy_validate(w, FX_T, three, 0),
	    TRESOR_EINVAL);
	for (i = 0; i < TR_IAM_POLICY_STATEMENTS_MAX + 1; i++)
		many[i] = "Allow any-user to inspect vaults in tenancy";
	assert_int_equal(tr_iam_policy_validate(w, FX_T, many,
	    TR_IAM_POLICY_STATEMENTS_MAX), 0);
	assert_int_equal(tr_iam_policy_validate(w, FX_T, many,
	    TR_IAM_POLICY_STATEMENTS_MAX + 1), TRESOR_EINVAL);
	tr_iam_world_unlink(w);
}

/* ---------------------------------------------------------------- */
/* lint                                                             */
/* ---------------------------------------------------------------- */

/* Lint `stmts` in `w` at `attach`; returns the parsed findings. */
static json_t *
lint(const struct tr_iam_world *w, const char *attach,
    const char *const *stmts, size_t n)
{
	struct tr_buf b;
	json_error_t err;
	json_t *v;

	tr_buf_init(&b, 0);
	assert_int_equal(tr_iam_policy_lint_at(w, attach, stmts, n, &b), 0);
	v = json_loads(tr_buf_cstr(&b), 0, &err);
	if (v == NULL)
		print_error("not JSON: %s\n", tr_buf_cstr(&b));
	assert_non_null(v);
	assert_true(json_is_array(v));
	tr_buf_dispose(&b);
	return v;
}

/* The findings of rule `rule` for statement `idx`. */
static size_t
count_rule(const json_t *arr, const char *rule, long idx)
{
	const json_t *f;
	size_t i, n = 0;

	json_array_foreach(arr, i, f) {
		assert_true(json_is_integer(json_object_get(f,
		    "statementIndex")));
		assert_true(json_is_string(json_object_get(f, "statement")));
		assert_true(json_is_string(json_object_get(f, "risk")));
		assert_true(json_is_string(json_object_get(f, "fix")));
		if (strcmp(json_string_value(json_object_get(f, "rule")),
		    rule) == 0 && (idx < 0 || json_integer_value(
		    json_object_get(f, "statementIndex")) == idx))
			n++;
	}
	return n;
}

static void
test_lint(void **state)
{
	const char *risky[] = {
		/* 0 */ "Allow any-user to read secret-bundles in "
		"compartment A",
		/* 1 */ "Allow any-user to read secret-bundles in "
		"compartment A where request.principal.type = 'fnfunc'",
		/* 2 */ "Allow group Writers to manage secret-family in "
		"tenancy",
		/* 3 */ "Allow group Readers to read secret-family in tenancy",
		/* 4 */ RSF_QW,
		/* 5 */ "Allow group Writers to inspect users in tenancy where "
		"target.group.name != 'Administrators'",
		/* 6 */ "Allow group Readers to read secrets in tenancy frob",
		/* 7 */ "Allow group Readers to read secrets in compartment B",
		/* 8 */ "Allow any-user to inspect secrets in tenancy",
		/* 9 */ "Allow group Readers to read secret-family in "
		"compartment A where target.vault.id = 'x'",
	};
	json_t *v;

	(void)state;
	{
		struct tr_iam_world *w = NULL;

		assert_int_equal(fx_world(&w, NULL, 0, NULL, 0), 0);
		v = lint(w, NULL, risky, 10);
		assert_int_equal(count_rule(v, "any-user-sensitive", 0), 1);
		assert_int_equal(count_rule(v, "any-user-sensitive", 1), 1);
		assert_int_equal(count_rule(v, "any-user-sensitive", 8), 0);
		assert_int_equal(count_rule(v,
		    "tenancy-manage-secret-family", 2), 1);
		assert_int_equal(count_rule(v, "tenancy-wide-secret-read", 2),
		    0);
		assert_int_equal(count_rule(v, "tenancy-wide-secret-read", 3),
		    1);
		assert_int_equal(count_rule(v, "tenancy-wide-secret-read", 9),
		    0);
		assert_int_equal(count_rule(v, "quoted-wildcard", 4), 1);
		assert_int_equal(count_rule(v, "variable-never-set", 5), 1);
		assert_int_equal(count_rule(v, "parse-error", 6), 1);
		assert_int_equal(count_rule(v, "location", 7), 1);
		/* the setting is off: no key-use finding */
		assert_int_equal(count_rule(v, "secret-read-without-key-use",
		    -1), 0);
		json_decref(v);
		tr_iam_world_unlink(w);
	}
}

static void
test_lint_key_use(void **state)
{
	const char *alone[] = { RSF_A };
	const char *paired[] = { RSF_A, "Allow group Readers to use keys in "
	    "compartment A where target.key.id = '" FX_K "'" };
	const char *elsewhere[] = { RSF_A, "Allow group Readers to use keys "
	    "in compartment C" };
	const char *other_group[] = { RSF_A, "Allow group Writers to use keys "
	    "in tenancy" };
	const char *any_group[] = { RSF_A, "Allow any-group to use keys in "
	    "tenancy" };
	const char *world_keys[] = { "Allow group Readers to use keys in "
	    "tenancy" };
	struct tr_iam_world *w = NULL;
	json_t *v;

	(void)state;
	assert_int_equal(fx_world(&w, NULL, 0, NULL, FX_KEYUSE_ON), 0);
	v = lint(w, NULL, alone, 1);
	assert_int_equal(count_rule(v, "secret-read-without-key-use", 0), 1);
	json_decref(v);
	v = lint(w, NULL, paired, 2);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	v = lint(w, NULL, elsewhere, 2);
	assert_int_equal(count_rule(v, "secret-read-without-key-use", 0), 1);
	json_decref(v);
	v = lint(w, NULL, other_group, 2);
	assert_int_equal(count_rule(v, "secret-read-without-key-use", 0), 1);
	json_decref(v);
	v = lint(w, NULL, any_group, 2);
	assert_int_equal(count_rule(v, "secret-read-without-key-use", 0), 0);
	json_decref(v);
	tr_iam_world_unlink(w);

	/* a key grant already in the world counts */
	assert_int_equal(fx_world(&w, world_keys, 1, NULL, FX_KEYUSE_ON), 0);
	v = lint(w, NULL, alone, 1);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	/* lint at A: bare names resolve from A */
	{
		const char *at_a[] = { "Allow group Readers to read "
		    "secret-family in compartment B" };

		v = lint(w, FX_A, at_a, 1);
		assert_int_equal(json_array_size(v), 0);
		json_decref(v);
	}
	tr_iam_world_unlink(w);
}

static void
test_lint_output(void **state)
{
	const char *bad_utf8[] = { "Allow group R\xff to read secrets in "
	    "tenancy" };
	const char *clean[] = { "Allow group Readers to read secrets in "
	    "compartment A" };
	struct tr_iam_world *w = NULL;
	struct tr_buf b;
	json_t *v;

	(void)state;
	assert_int_equal(fx_world(&w, NULL, 0, NULL, 0), 0);
	tr_buf_init(&b, 0);
	assert_int_equal(tr_iam_policy_lint(w, clean, 1, &b), 0);
	assert_string_equal(tr_buf_cstr(&b), "[]");
	tr_buf_dispose(&b);
	v = lint(w, NULL, bad_utf8, 1);
	assert_int_equal(count_rule(v, "parse-error", 0), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    v, 0), "statement")), "Allow group R? to read secrets in tenancy");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    v, 0), "severity")), "error");
	json_decref(v);
	tr_iam_world_unlink(w);
}

/* ---------------------------------------------------------------- */
/* dynamic-group rules                                              */
/* ---------------------------------------------------------------- */

static void
test_rule_validate(void **state)
{
	static const char *const good[] = {
		"resource.type = 'fnfunc'",
		"instance.compartment.id = 'ocid1.compartment.oc1..aaaa'",
		"ANY {instance.id = 'a', tag.ops.env.value}",
		"all {resource.type='fnfunc', resource.compartment.id='x'}",
		("Any { All {instance.compartment.id = 'a', tag.o.k.value = "
		"'v'}, All {resource.id != 'b'}, instance.id = 'c' }"),
		"tag.ops.env.value = 'prod'",
		"ANY{ANY{ANY{ANY{instance.id='x'}}}}",
	};
	static const struct bad bad[] = {
		{ "instance.id = 'a', instance.id = 'b'",
		  "column 18: expected the end of the rule (wrap several "
		  "conditions in ANY {...} or ALL {...}), found ','" },
		{ "ANY instance.id = 'x'",
		  "column 5: expected '{' after ANY or ALL, found "
		  "'instance.id'" },
		{ "instance.name = 'x'",
		  "column 1: expected instance.id, instance.compartment.id, "
		  "resource.id, resource.type, resource.compartment.id or "
		  "tag.<namespace>.<key>.value, found 'instance.name'" },
		{ "instance.id = x",
		  "column 15: expected a quoted value such as 'fnfunc', found "
		  "'x'" },
		{ "instance.id",
		  "column 12: expected '=' or '!=', found end of text" },
		{ "instance.id = ''",
		  "column 15: expected a non-empty value between the quotes" },
		{ "ANY{ANY{ANY{ANY{ANY{instance.id='x'}}}}}",
		  "column 17: expected at most 4 nested ANY {} / ALL {} "
		  "groups" },
		{ "", "column 1: expected a condition such as resource.type = "
		  "'fnfunc', or ANY {...} / ALL {...}, found end of text" },
		{ "ANY {}", "column 6: expected a condition such as "
		  "resource.type = 'fnfunc', or ANY {...} / ALL {...}, found "
		  "'}'" },
		{ "tag.ops.value",
		  "column 1: expected instance.id, instance.compartment.id, "
		  "resource.id, resource.type, resource.compartment.id or "
		  "tag.<namespace>.<key>.value, found 'tag.ops.value'" },
		{ "ALL {resource.type = 'fnfunc' resource.id = 'x'}",
		  "column 31: expected ',' or '}', found 'resource.id'" },
		{ "resource.type = 'fnfunc' extra",
		  "column 26: expected the end of the rule, found 'extra'" },
		{ "resource.type = 'fnfunc",
		  "column 17: expected a closing ' for the quote opened here" },
	};
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = tr_iam_rule_validate(good[i]);
		if (rc != 0)
			print_error("%s -> %s\n", good[i], tresor_error_last());
		assert_int_equal(rc, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = tr_iam_rule_validate(bad[i].stmt);
		if (rc != TRESOR_EINVAL || strcmp(tresor_error_last(),
		    bad[i].msg) != 0)
			print_error("%s\n  got:  %s\n  want: %s\n", bad[i].stmt,
			    tresor_error_last(), bad[i].msg);
		assert_int_equal(rc, TRESOR_EINVAL);
		assert_string_equal(tresor_error_last(), bad[i].msg);
	}
	assert_int_equal(tr_iam_rule_validate(NULL), TRESOR_EINVAL);
}

static bool
rule_matches(const char *rule, const char *who, unsigned flags)
{
	struct tr_iam_rule *r = NULL;
	struct tr_principal p;
	json_t *tags = NULL;
	bool m;

	assert_int_equal(tr_iam_rule_parse(&r, rule), 0);
	assert_true(fx_principal(&p, who, flags));
	assert_int_equal(tr_iam_tags_parse(&tags, p.defined_tags_json), 0);
	m = tr_iam_rule_match(r, &p, tags);
	json_decref(tags);
	tr_iam_rule_free(r);
	return m;
}

static void
test_rule_match(void **state)
{
	(void)state;
	assert_true(rule_matches("resource.type = 'FNFUNC'", "F", 0));
	assert_false(rule_matches("resource.type = 'apigateway'", "F", 0));
	assert_true(rule_matches("resource.type != 'apigateway'", "F", 0));
	/* resource.* does not apply to instances, even with != */
	assert_false(rule_matches("resource.type != 'fnfunc'", "I", 0));
	assert_false(rule_matches("instance.id != 'x'", "F", 0));
	assert_true(rule_matches("instance.id = '" FX_I "'", "I", 0));
	assert_true(rule_matches("instance.compartment.id = '" FX_A "'", "I",
	    0));
	assert_false(rule_matches("instance.compartment.id = '" FX_A "'",
	    "I2", 0));
	assert_true(rule_matches("resource.id = '" FX_F "'", "F", 0));
	/* tags */
	assert_true(rule_matches("tag.ops.env.value", "I", 0));
	assert_true(rule_matches("tag.OPS.ENV.value = 'Prod'", "I", 0));
	assert_false(rule_matches("tag.ops.env.value", "I", FX_NO_TAG));
	assert_false(rule_matches("tag.ops.env.value != 'dev'", "I",
	    FX_NO_TAG));
	assert_true(rule_matches("tag.ops.env.value != 'dev'", "I", 0));
	assert_false(rule_matches("tag.ops.team.value", "I", 0));
	/* ANY / ALL */
	assert_true(rule_matches("ANY {resource.type = 'x', instance.id = '"
	    FX_I "'}", "I", 0));
	assert_false(rule_matches("ALL {resource.type = 'fnfunc', "
	    "resource.compartment.id = '" FX_A "'}", "F2", 0));
	assert_true(rule_matches("ALL {resource.type = 'fnfunc', "
	    "resource.compartment.id = '" FX_A "'}", "F", 0));
	assert_true(rule_matches("any {all {resource.type = 'fnfunc', "
	    "resource.compartment.id = '" FX_B "'}, instance.id = 'x'}", "F2",
	    0));
	/* users are never members of dynamic groups */
	assert_false(rule_matches("instance.id != 'x'", "alice", 0));
}

static void
test_rule_fault_injection(void **state)
{
	struct tr_iam_rule *r;
	long n;
	int rc = TRESOR_ENOMEM;

	(void)state;
	for (n = 0; n < 200 && rc != 0; n++) {
		r = NULL;
		tr_alloc_fail_after(n);
		rc = tr_iam_rule_parse(&r, "Any { All {instance.compartment.id "
		    "= 'a', tag.o.k.value = 'v'}, instance.id = 'c' }");
		tr_alloc_fail_after(-1);
		assert_true(rc == 0 || rc == TRESOR_ENOMEM);
		tr_iam_rule_free(r);
	}
	assert_int_equal(rc, 0);
}

/* ---------------------------------------------------------------- */
/* permissions                                                      */
/* ---------------------------------------------------------------- */

static void
test_perm_table(void **state)
{
	const char *name;
	char lower[64];
	size_t i, k;

	(void)state;
	for (i = 0; i < TR_IAM_NPERMS; i++) {
		name = tr_iam_perm_name((int)i);
		/* binary search finds every name: the table is sorted */
		assert_int_equal(tr_iam_perm_lookup(name, strlen(name)),
		    (int)i);
		for (k = 0; name[k] != '\0' && k < sizeof(lower) - 1; k++)
			lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ?
			    name[k] - 'A' + 'a' : name[k]);
		lower[k] = '\0';
		assert_int_equal(tr_iam_perm_lookup(lower, k), (int)i);
		if (i > 0)
			assert_true(strcmp(tr_iam_perm_name((int)i - 1),
			    name) < 0);
	}
	assert_int_equal(tr_iam_perm_lookup("BUCKET_READ", 11), -1);
	assert_int_equal(tr_iam_perm_lookup("KEY_READX", 9), -1);
	assert_int_equal(tr_iam_perm_lookup("KEY_REA", 7), -1);
	assert_int_equal(tr_iam_perm_lookup("", 0), -1);
	assert_string_equal(tr_iam_perm_name(-1), "?");
}

static void
test_op_table(void **state)
{
	static const char *const required[] = {
		"ListVaults", "GetVault", "CreateVault", "UpdateVault",
		"ScheduleVaultDeletion", "CancelVaultDeletion",
		"ChangeVaultCompartment", "GetVaultUsage", "ListKeys",
		"ListKeyVersions", "GetKey", "GetKeyVersion", "CreateKey",
		"ImportKey", "ImportKeyVersion", "UpdateKey", "EnableKey",
		"DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion",
		"ScheduleKeyVersionDeletion", "CancelKeyVersionDeletion",
		"ChangeKeyCompartment", "CreateKeyVersion", "Encrypt",
		"GenerateDataEncryptionKey", "Decrypt", "Sign", "Verify",
		"ExportKey", "ListSecrets", "GetSecret", "CreateSecret",
		"UpdateSecret", "ScheduleSecretDeletion",
		"CancelSecretDeletion", "ChangeSecretCompartment",
		"ListSecretVersions", "GetSecretVersion",
		"ScheduleSecretVersionDeletion",
		"CancelSecretVersionDeletion", "RotateSecret",
		"CancelSecretRotation", "ListSecretBundleVersions",
		"GetSecretBundle", "GetSecretBundleByName",
		"GetCompartment", "ListCompartments", "CreateCompartment",
		"UpdateCompartment", "DeleteCompartment", "GetUser",
		"ListUsers", "CreateUser", "UpdateUser", "DeleteUser",
		"GetGroup", "ListGroups", "CreateGroup", "UpdateGroup",
		"DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
		"ListUserGroupMemberships", "GetUserGroupMembership",
		"UploadApiKey", "ListApiKeys", "DeleteApiKey",
		"GetDynamicGroup", "ListDynamicGroups", "CreateDynamicGroup",
		"UpdateDynamicGroup", "DeleteDynamicGroup", "GetPolicy",
		"ListPolicies", "CreatePolicy", "UpdatePolicy",
		"DeletePolicy", "GetTenancy",
	};
	const char *const *p;
	size_t i, k;

	(void)state;
	for (i = 0; i < tr_iam_op_count(); i++) {
		if (i > 0)
			assert_true(strcmp(tr_iam_op_name(i - 1),
			    tr_iam_op_name(i)) < 0);
		p = tr_iam_op_permissions(tr_iam_op_name(i));
		assert_non_null(p);
		assert_non_null(p[0]);
		for (k = 0; p[k] != NULL; k++)
			assert_true(tr_iam_perm_lookup(p[k], strlen(p[k])) >=
			    0);
	}
	assert_null(tr_iam_op_name(tr_iam_op_count()));
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (tr_iam_op_permissions(required[i]) == NULL)
			print_error("missing operation %s\n", required[i]);
		assert_non_null(tr_iam_op_permissions(required[i]));
	}
	assert_null(tr_iam_op_permissions("GetBucket"));
	assert_null(tr_iam_op_permissions(NULL));
	p = tr_iam_op_permissions("CreateKey");
	assert_string_equal(p[0], "KEY_CREATE");
	assert_string_equal(p[1], "VAULT_CREATE_KEY");
	assert_null(p[2]);
	p = tr_iam_op_permissions("ScheduleSecretVersionDeletion");
	assert_string_equal(p[0], "SECRET_VERSION_DELETE");
	assert_string_equal(p[1], "SECRET_UPDATE");
	assert_string_equal(tr_iam_op_permissions("ScheduleKeyVersionDeletion")
	    [0], "KEY_DELETE");
	assert_string_equal(tr_iam_op_permissions("RotateSecret")[0],
	    "SECRET_UPDATE");
	assert_string_equal(tr_iam_op_permissions("GetVaultUsage")[0],
	    "VAULT_READ");
	assert_string_equal(tr_iam_op_permissions("ExportKey")[0],
	    "KEY_EXPORT");
	assert_string_equal(tr_iam_op_permissions("UploadApiKey")[0],
	    "USER_APIKEY_ADD");
}

static void
test_key_permissions(void **state)
{
	const char *const *p;

	(void)state;
	/* CreateSecret: both, whatever the setting */
	p = tr_iam_op_key_permissions("CreateSecret", false, false);
	assert_non_null(p);
	assert_string_equal(p[0], "KEY_ENCRYPT");
	assert_string_equal(p[1], "KEY_DECRYPT");
	assert_null(p[2]);
	p = tr_iam_op_key_permissions("CreateSecret", true, true);
	assert_string_equal(p[0], "KEY_ENCRYPT");
	/* content reads: only with the setting */
	assert_null(tr_iam_op_key_permissions("GetSecretBundle", false,
	    false));
	p = tr_iam_op_key_permissions("GetSecretBundle", true, false);
	assert_string_equal(p[0], "KEY_DECRYPT");
	assert_null(p[1]);
	p = tr_iam_op_key_permissions("GetSecretBundleByName", true, false);
	assert_string_equal(p[0], "KEY_DECRYPT");
	p = tr_iam_op_key_permissions("ListSecretBundleVersions", true,
	    false);
	assert_string_equal(p[0], "KEY_DECRYPT");
	/* new content: only with the setting */
	assert_null(tr_iam_op_key_permissions("UpdateSecret", false, true));
	assert_null(tr_iam_op_key_permissions("UpdateSecret", true, false));
	p = tr_iam_op_key_permissions("UpdateSecret", true, true);
	assert_string_equal(p[0], "KEY_ENCRYPT");
	assert_null(p[1]);
	/* others never */
	assert_null(tr_iam_op_key_permissions("GetSecret", true, true));
	assert_null(tr_iam_op_key_permissions("Decrypt", true, true));
	assert_null(tr_iam_op_key_permissions(NULL, true, true));
}

static bool
subset(const struct tr_iam_permset *a, const struct tr_iam_permset *b)
{
	size_t i;

	for (i = 0; i < TR_IAM_PERM_WORDS; i++)
		if ((a->w[i] & b->w[i]) != a->w[i])
			return false;
	return true;
}

static void
test_verbs_and_families(void **state)
{
	struct tr_iam_permset lo, hi, all, fam, u, x;
	char hint[64];
	int t, v, k;

	(void)state;
	for (t = 0; t < TR_IAM_T_COUNT; t++) {
		for (v = TR_IAM_VERB_INSPECT; v < TR_IAM_VERB_MANAGE; v++) {
			tr_iam_type_perms(t, (enum tr_iam_verb)v, &lo);
			tr_iam_type_perms(t, (enum tr_iam_verb)(v + 1), &hi);
			assert_true(subset(&lo, &hi));
		}
		assert_int_equal(tr_iam_type_lookup(tr_iam_type_name(t),
		    strlen(tr_iam_type_name(t))), t);
	}
	/* all-resources covers every type, identity types included */
	tr_iam_type_perms(TR_IAM_T_ALL_RESOURCES, TR_IAM_VERB_MANAGE, &all);
	for (k = 0; k < TR_IAM_NPERMS; k++)
		assert_true(tr_iam_permset_has(&all, k));
	/* secret-family = secrets + secret-versions + secret-bundles */
	memset(&u, 0, sizeof(u));
	for (t = TR_IAM_T_SECRETS; t <= TR_IAM_T_SECRET_BUNDLES; t++) {
		tr_iam_type_perms(t, TR_IAM_VERB_USE, &x);
		for (k = 0; k < TR_IAM_PERM_WORDS; k++)
			u.w[k] |= x.w[k];
	}
	tr_iam_type_perms(TR_IAM_T_SECRET_FAMILY, TR_IAM_VERB_USE, &fam);
	assert_memory_equal(&u, &fam, sizeof(u));
	/* key-family holds vaults, keys and key-delegate */
	tr_iam_type_perms(TR_IAM_T_KEY_FAMILY, TR_IAM_VERB_USE, &fam);
	assert_true(tr_iam_permset_has(&fam, TR_IAM_P_VAULT_CREATE_KEY));
	assert_true(tr_iam_permset_has(&fam, TR_IAM_P_KEY_DECRYPT));
	assert_true(tr_iam_permset_has(&fam, TR_IAM_P_KEY_ASSOCIATE));
	assert_false(tr_iam_permset_has(&fam, TR_IAM_P_SECRET_READ));
	/* spot checks of section 3.2 */
	tr_iam_type_perms(TR_IAM_T_SECRET_FAMILY, TR_IAM_VERB_READ, &x);
	assert_true(tr_iam_permset_has(&x, TR_IAM_P_SECRET_BUNDLE_READ));
	assert_false(tr_iam_permset_has(&x, TR_IAM_P_KEY_DECRYPT));
	tr_iam_type_perms(TR_IAM_T_KEYS, TR_IAM_VERB_READ, &x);
	assert_false(tr_iam_permset_has(&x, TR_IAM_P_KEY_DECRYPT));
	tr_iam_type_perms(TR_IAM_T_KEY_DELEGATE, TR_IAM_VERB_MANAGE, &x);
	assert_false(tr_iam_permset_has(&x, TR_IAM_P_KEY_DECRYPT));
	tr_iam_type_perms(TR_IAM_T_USERS, TR_IAM_VERB_MANAGE, &x);
	assert_true(tr_iam_permset_has(&x, TR_IAM_P_USER_APIKEY_ADD));
	assert_true(tr_iam_permset_has(&x, TR_IAM_P_USER_APIKEY_REMOVE));
	tr_iam_type_perms(TR_IAM_T_USERS, TR_IAM_VERB_USE, &x);
	assert_false(tr_iam_permset_has(&x, TR_IAM_P_USER_APIKEY_ADD));
	tr_iam_type_perms(TR_IAM_T_SECRETS, TR_IAM_VERB_MANAGE, &x);
	assert_false(tr_iam_permset_has(&x, TR_IAM_P_SECRET_BUNDLE_READ));
	tr_iam_type_perms(-1, TR_IAM_VERB_MANAGE, &x);
	assert_false(tr_iam_permset_has(&x, 0));
	/* hints */
	assert_true(tr_iam_perm_grant_hint(TR_IAM_P_KEY_DECRYPT, hint,
	    sizeof(hint)));
	assert_string_equal(hint, "use keys");
	assert_true(tr_iam_perm_grant_hint(TR_IAM_P_SECRET_BUNDLE_READ, hint,
	    sizeof(hint)));
	assert_string_equal(hint, "read secret-bundles");
	assert_false(tr_iam_perm_grant_hint(-1, hint, sizeof(hint)));
}

/* ---------------------------------------------------------------- */
/* the world                                                        */
/* ---------------------------------------------------------------- */

static void
test_world_tree(void **state)
{
	struct tr_iam_world *w = NULL;

	(void)state;
	assert_int_equal(fx_world(&w, NULL, 0, NULL, FX_KEYUSE_ON), 0);
	assert_true(tr_iam_world_secret_reads_require_key_use(w));
	assert_true(tr_iam_world_in_subtree(w, FX_B, FX_A));
	assert_true(tr_iam_world_in_subtree(w, FX_D, FX_A));
	assert_true(tr_iam_world_in_subtree(w, FX_B, FX_T));
	assert_true(tr_iam_world_in_subtree(w, FX_T, FX_T));
	assert_true(tr_iam_world_in_subtree(w, FX_A, FX_A));
	assert_false(tr_iam_world_in_subtree(w, FX_A, FX_B));
	assert_false(tr_iam_world_in_subtree(w, FX_C, FX_A));
	assert_false(tr_iam_world_in_subtree(w, FX_T, FX_A));
	assert_false(tr_iam_world_in_subtree(w, "ocid1.compartment.oc1..x",
	    FX_T));
	assert_false(tr_iam_world_in_subtree(w, NULL, FX_T));
	assert_false(tr_iam_world_in_subtree(NULL, FX_A, FX_T));
	tr_iam_world_unlink(w);
	assert_false(tr_iam_world_secret_reads_require_key_use(NULL));
}

static void
test_world_odd_input(void **state)
{
	/* a cycle, an orphan, a duplicate id, no tenancy entry */
	static const struct tr_iam_compartment comps[] = {
		{ "ocid1.compartment.oc1..x", "ocid1.compartment.oc1..y", "X",
		  NULL },
		{ "ocid1.compartment.oc1..y", "ocid1.compartment.oc1..x", "Y",
		  NULL },
		{ "ocid1.compartment.oc1..o", "ocid1.compartment.oc1..gone",
		  "O", "not json" },
		{ FX_A, FX_T, "A", NULL },
		{ FX_A, "ocid1.compartment.oc1..x", "A2", NULL },
		{ NULL, FX_T, "nameless", NULL },
	};
	static const struct tr_iam_group groups[] = {
		{ FX_READERS, "Readers" }, { FX_READERS, "Dup" },
		{ NULL, "x" },
	};
	static const struct tr_iam_membership members[] = {
		{ FX_ALICE, FX_READERS }, { FX_ALICE, FX_READERS },
		{ FX_ALICE, "ocid1.group.oc1..gone" }, { NULL, FX_READERS },
	};
	static const struct tr_iam_dynamic_group dgs[] = {
		{ FX_FNA, "Broken", "resource.type = 'fnfunc', "
		  "resource.id = 'x'" },
		{ FX_FNA, "Dup", "resource.type = 'x'" },
		{ NULL, "none", "x" },
	};
	static const char *const stmts[] = {
		"Allow group Readers to read secrets in compartment id "
		"ocid1.compartment.oc1..x",
		"Allow group Readers to read secrets in compartment A",
		"Allow group Readers to read secrets in tenancy frob",
		"Allow group Dup, Readers, Readers to read secrets in "
		"compartment A",
	};
	struct tr_iam_policy pols[] = {
		{ "ocid1.policy.oc1..p1", "root-policy", FX_T, stmts, 4 },
		{ "ocid1.policy.oc1..p2", "lost-policy",
		  "ocid1.compartment.oc1..gone", stmts + 1, 1 },
		{ "ocid1.policy.oc1..p3", "cycle-policy",
		  "ocid1.compartment.oc1..x", stmts + 1, 1 },
	};
	struct tr_iam_world_input in = {
		.tenancy_id = FX_T, .tenancy_name = "acme",
		.compartments = comps, .ncompartments = 6,
		.groups = groups, .ngroups = 3,
		.memberships = members, .nmemberships = 4,
		.dynamic_groups = dgs, .ndynamic_groups = 3,
		.policies = pols, .npolicies = 3,
	};
	struct tr_iam_world *w = NULL;
	struct tr_buf b;
	char missing[64];
	bool allowed;
	const char *s;

	(void)state;
	assert_int_equal(tr_iam_world_build(&w, &in), 0);
	assert_false(tr_iam_world_in_subtree(w, "ocid1.compartment.oc1..x",
	    FX_T));
	assert_false(tr_iam_world_in_subtree(w, "ocid1.compartment.oc1..y",
	    "ocid1.compartment.oc1..x"));
	assert_false(tr_iam_world_in_subtree(w, "ocid1.compartment.oc1..o",
	    FX_T));
	assert_true(tr_iam_world_in_subtree(w, FX_A, FX_T));
	tr_buf_init(&b, 0);
	assert_int_equal(tr_iam_world_problems(w, &b), 0);
	s = tr_buf_cstr(&b);
	assert_non_null(strstr(s, "policy 'root-policy' statement 0: column "
	    "55: Compartment {ocid1.compartment.oc1..x} does not exist or is "
	    "not part of the policy compartment subtree\n"));
	assert_non_null(strstr(s, "policy 'root-policy' statement 2: column "
	    "48: expected 'where' or the end of the statement, found "
	    "'frob'\n"));
	assert_non_null(strstr(s, "policy 'lost-policy' statement 0: the "
	    "policy's compartment does not exist\n"));
	assert_non_null(strstr(s, "policy 'cycle-policy' statement 0: column "
	    "52: the policy's compartment is not part of the tenancy\n"));
	assert_non_null(strstr(s, "dynamic group 'Broken': matching rule: "
	    "column 25: expected the end of the rule"));
	assert_non_null(strstr(s, "policy 'root-policy' statement 3: column "
	    "13: the group Dup does not exist and matches nobody\n"));
	assert_null(strstr(s, "statement 1:"));
	tr_buf_dispose(&b);
	/* the valid statement works; an empty trace buffer is fine too */
	tr_buf_init(&b, 0);
	assert_int_equal(fx_decide(w, "alice", "GetSecret", "A", 0, 0,
	    &allowed, missing, sizeof(missing), &b), 0);
	assert_true(allowed);
	tr_buf_dispose(&b);
	tr_iam_world_unlink(w);
	/* incomplete input */
	assert_int_equal(tr_iam_world_build(&w, NULL), TRESOR_EINVAL);
	in.tenancy_id = NULL;
	assert_int_equal(tr_iam_world_build(&w, &in), TRESOR_EINVAL);
	assert_null(w);
}

static void
test_world_fault_injection(void **state)
{
	const char *stmts[] = {
		("Allow group Readers, Writers to read secret-family in "
		"compartment A where target.secret.name = /db*/"),
		"Allow dynamic-group FnA to read secrets in tenancy",
		"Allow any-group to inspect vaults in tenancy",
		"Allow any-user to inspect keys in compartment A:B",
		"Allow group Readers to read secrets in compartment nowhere",
	};
	struct tr_iam_world *w;
	long n;
	int rc = TRESOR_ENOMEM;

	(void)state;
	for (n = 0; n < 2000 && rc != 0; n++) {
		w = NULL;
		tr_alloc_fail_after(n);
		rc = fx_world(&w, stmts, 5, NULL, 0);
		tr_alloc_fail_after(-1);
		assert_true(rc == 0 || rc == TRESOR_ENOMEM);
		assert_true(rc == 0 || w == NULL);
		tr_iam_world_unlink(w);
	}
	assert_int_equal(rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_ast),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_fault_injection),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_lint),
		cmocka_unit_test(test_lint_key_use),
		cmocka_unit_test(test_lint_output),
		cmocka_unit_test(test_rule_validate),
		cmocka_unit_test(test_rule_match),
		cmocka_unit_test(test_rule_fault_injection),
		cmocka_unit_test(test_perm_table),
		cmocka_unit_test(test_op_table),
		cmocka_unit_test(test_key_permissions),
		cmocka_unit_test(test_verbs_and_families),
		cmocka_unit_test(test_world_tree),
		cmocka_unit_test(test_world_odd_input),
		cmocka_unit_test(test_world_fault_injection),
	};

	tr_log_set_level(TR_LOG_NONE);
	return cmocka_run_group_tests_name("iam_parse", tests, NULL, NULL);
}
