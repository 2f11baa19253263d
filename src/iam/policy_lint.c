/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policies at write time: validation (CreatePolicy / UpdatePolicy refuse
 * what OCI refuses, spec oci-iam.md sections 1.5 and 4) and the linter
 * (risky or useless statements, spec section 9).  Interface: iam.h
 * (tr_iam_policy_validate, tr_iam_policy_lint, tr_iam_policy_lint_at).
 *
 * Lint rules:
 *   any-user-sensitive            any-user may read/use/manage secrets
 *                                 or keys
 *   tenancy-manage-secret-family  manage secret-family (or more) in tenancy
 *   tenancy-wide-secret-read      a group reads secret contents across the
 *                                 tenancy without a condition
 *   quoted-wildcard               '*' in a quoted value is literal
 *   secret-read-without-key-use   content reads need `use keys` too when
 *                                 secret_reads_require_key_use is on
 *   variable-never-set            a condition on a variable tresor never
 *                                 sets is always false
 *   parse-error / location        the statement would be refused
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "iam/iam_int.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/json.h"

/* ---------------------------------------------------------------- */
/* validation                                                       */
/* ---------------------------------------------------------------- */

/* Re-set the current error message with "statement I, " in front. */
static int
prefix_error(int rc, size_t i)
{
	char msg[512];

	if (rc == TRESOR_EINVAL) {
		(void)snprintf(msg, sizeof(msg), "%s", tresor_error_last());
		rc = tr_error_set(rc, "statement %zu, %s", i, msg);
	}
	return rc;
}

/* Every group / dynamic group the statement names must exist. */
static int
check_subjects(const struct tr_iam_world *w, const struct tr_iam_stmt *st)
{
	const struct tr_iam_subject_item *it;
	const char *what;
	size_t i;
	int rc = 0;

	if (st->subject != TR_IAM_SUBJ_GROUP &&
	    st->subject != TR_IAM_SUBJ_DYNAMIC_GROUP)
		goto out;
	what = st->subject == TR_IAM_SUBJ_GROUP ? "group" : "dynamic group";
	for (i = 0; i < st->nitems; i++) {
		it = &st->items[i];
		if (tr_iam_world_resolve_subject(w, st->subject, it) !=
		    TR_IAM_NONE)
			continue;
		if (it->domain != NULL && !tr_iam_streq_ci(it->domain,
		    "Default"))
			rc = tr_iam_lex_fail_at(it->col, "expected the "
			    "'Default' identity domain: domain '%s' does not "
			    "exist in tresor", it->domain);
		else if (it->id != NULL)
			rc = tr_iam_lex_fail_at(it->col, "The %s %s "
			    "specified in the policy statement does not exist",
			    what, it->id);
		else
			rc = tr_iam_lex_fail_at(it->col, "The %s %s specified "
			    "in the policy statement does not exist under "
			    "current compartment hierarchy", what, it->name);
		goto out;
	}
out:
	return rc;
}

/* Refuse what CreatePolicy/UpdatePolicy must refuse (spec 1.5, 4). */
int
tr_iam_policy_validate(const struct tr_iam_world *w,
    const char *compartment_id, const char *const *statements, size_t n)
{
	struct tr_iam_stmt *st = NULL;
	uint32_t attach, loc;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	if (w == NULL || compartment_id == NULL ||
	    (n > 0 && statements == NULL)) {
		rc = tr_error_set(TRESOR_EINVAL, "no world, compartment or "
		    "statements to validate");
		goto out;
	}
	if (n == 0) {
		rc = tr_error_set(TRESOR_EINVAL, "a policy needs at least one "
		    "statement");
		goto out;
	}
	if (n > TR_IAM_POLICY_STATEMENTS_MAX) {
		rc = tr_error_set(TRESOR_EINVAL, "a policy holds at most %d "
		    "statements", TR_IAM_POLICY_STATEMENTS_MAX);
		goto out;
	}
	attach = tr_iam_world_comp(w, compartment_id);
	if (attach == TR_IAM_NONE || !w->comps[attach].in_tree) {
		rc = tr_error_set(TRESOR_EINVAL, "compartment %s does not "
		    "exist", compartment_id);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = tr_iam_stmt_parse(&st, statements[i]);
		if (rc == 0)
			rc = tr_iam_world_resolve_location(w, st, attach, &loc);
		if (rc == 0)
			rc = check_subjects(w, st);
		tr_iam_stmt_free(st);
		st = NULL;
		if (rc < 0) {
			rc = prefix_error(rc, i);
			goto out;
		}
	}
	rc = 0;
out:
	tr_iam_stmt_free(st);
	return rc;
}

/* ---------------------------------------------------------------- */
/* lint                                                             */
/* ---------------------------------------------------------------- */

/* A statement seen by the linter: the policy's own, or the world's. */
struct lstmt {
	const struct tr_iam_stmt *st;
	const uint32_t *subj;	/* resolved subject items */
	uint32_t location;	/* TR_IAM_NONE when it does not resolve */
};

struct linter {
	const struct tr_iam_world *w;
	uint32_t attach;
	json_t *arr;
	struct tr_iam_permset sensitive;
	struct tr_iam_permset manage_sf;
};

static const char *
subject_kind_text(enum tr_iam_subject_kind k)
{
	switch (k) {
	case TR_IAM_SUBJ_GROUP:
		return "group";
	case TR_IAM_SUBJ_DYNAMIC_GROUP:
		return "dynamic-group";
	case TR_IAM_SUBJ_ANY_USER:
		return "any-user";
	case TR_IAM_SUBJ_ANY_GROUP:
		return "any-group";
	}
	return "?";
}

/* The subject as a statement would write it, e.g. "group A, B". */
static void
subject_text(const struct tr_iam_stmt *st, char *out, size_t outsz)
{
	size_t i, used;
	int k;

	k = snprintf(out, outsz, "%s", subject_kind_text(st->subject));
	if (k < 0)
		return;
	used = (size_t)k;
	for (i = 0; i < st->nitems && used < outsz; i++) {
		if (st->items[i].id != NULL)
			k = snprintf(out + used, outsz - used, "%s id %s",
			    i == 0 ? "" : ",", st->items[i].id);
		else if (strchr(st->items[i].name, ' ') != NULL)
			k = snprintf(out + used, outsz - used, "%s '%s'",
			    i == 0 ? "" : ",", st->items[i].name);
		else
			k = snprintf(out + used, outsz - used, "%s %s",
			    i == 0 ? "" : ",", st->items[i].name);
		if (k < 0)
			return;
		used += (size_t)k;
	}
}

/* The location as written, "tenancy" or "compartment A:B". */
static void
location_text(const struct tr_iam_stmt *st, char *out, size_t outsz)
{
	size_t i, used;
	int k;

	if (st->loc == TR_IAM_LOC_TENANCY) {
		(void)snprintf(out, outsz, "tenancy");
		return;
	}
	if (st->loc == TR_IAM_LOC_ID) {
		(void)snprintf(out, outsz, "compartment id %s",
		    st->loc_parts[0]);
		return;
	}
	k = snprintf(out, outsz, "compartment ");
	if (k < 0)
		return;
	used = (size_t)k;
	for (i = 0; i < st->nloc_parts && used < outsz; i++) {
		k = snprintf(out + used, outsz - used, "%s%s",
		    i == 0 ? "" : ":", st->loc_parts[i]);
		if (k < 0)
			return;
		used += (size_t)k;
	}
}

static bool
permset_intersects(const struct tr_iam_permset *a,
    const struct tr_iam_permset *b)
{
	size_t i;

	for (i = 0; i < TR_IAM_PERM_WORDS; i++)
		if ((a->w[i] & b->w[i]) != 0)
			return true;
	return false;
}

static bool
permset_contains(const struct tr_iam_permset *a,
    const struct tr_iam_permset *b)
{
	size_t i;

	for (i = 0; i < TR_IAM_PERM_WORDS; i++)
		if ((a->w[i] & b->w[i]) != b->w[i])
			return false;
	return true;
}

/*
 * A JSON string of `s`; bytes that are not valid UTF-8 (a statement may
 * hold anything) become '?'.  NULL only when out of memory.
 */
static json_t *
jstr(const char *s)
{
	json_t *v;
	char *copy;
	size_t i;

	v = json_string(s);
	if (v != NULL)
		return v;
	copy = tr_strdup(s);
	if (copy == NULL)
		return NULL;
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80 ||
		    (unsigned char)copy[i] < 0x20)
			copy[i] = '?';
	v = json_string(copy);
	tr_free(copy);
	return v;
}

static int
add_finding(struct linter *l, size_t idx, const char *text, const char *rule,
    const char *severity, const char *risk, const char *fix)
{
	json_t *o;
	int rc = TRESOR_EINTERNAL;

	o = json_pack("{s:I, s:o*, s:s, s:s, s:o*, s:o*}",
	    "statementIndex", (json_int_t)idx,
	    "statement", jstr(text != NULL ? text : ""),
	    "rule", rule,
	    "severity", severity,
	    "risk", jstr(risk),
	    "fix", jstr(fix));
	/* a NULL from jstr() leaves its member out: out of memory */
	if (o == NULL || json_object_size(o) != 6 ||
	    json_array_append(l->arr, o) < 0) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* Are the subject items i of `a` and j of `b` the same principal set? */
static bool
same_item(const struct lstmt *a, size_t i, const struct lstmt *b, size_t j)
{
	const struct tr_iam_subject_item *x = &a->st->items[i];
	const struct tr_iam_subject_item *y = &b->st->items[j];

	if (a->subj[i] != TR_IAM_NONE || b->subj[j] != TR_IAM_NONE)
		return a->subj[i] == b->subj[j];
	if (x->id != NULL || y->id != NULL)
		return x->id != NULL && y->id != NULL &&
		    strcmp(x->id, y->id) == 0;
	return tr_iam_streq_ci(x->name, y->name);
}

/* Does the subject of `k` include every principal the subject of `r`? */
static bool
subject_covers(const struct lstmt *k, const struct lstmt *r)
{
	size_t i, j;
	bool found;

	switch (k->st->subject) {
	case TR_IAM_SUBJ_ANY_USER:
		return true;
	case TR_IAM_SUBJ_ANY_GROUP:
		return r->st->subject != TR_IAM_SUBJ_ANY_USER;
	case TR_IAM_SUBJ_GROUP:
	case TR_IAM_SUBJ_DYNAMIC_GROUP:
		if (r->st->subject != k->st->subject)
			return false;
		for (i = 0; i < r->st->nitems; i++) {
			found = false;
			for (j = 0; j < k->st->nitems && !found; j++)
				found = same_item(r, i, k, j);
			if (!found)
				return false;
		}
		return true;
	}
	return false;
}

/* Does `k` hold KEY_DECRYPT for the subject and location of `r`? */
static bool
key_use_covers(const struct linter *l, const struct lstmt *k,
    const struct lstmt *r)
{
	if (k->st == NULL || k->location == TR_IAM_NONE)
		return false;
	if (!tr_iam_permset_has(&k->st->perms, TR_IAM_P_KEY_DECRYPT))
		return false;
	if (!tr_iam_world_comp_below(l->w, r->location, k->location))
		return false;
	return subject_covers(k, r);
}

static bool
has_key_use(const struct linter *l, const struct lstmt *own, size_t n,
    const struct lstmt *r)
{
	const struct tr_iam_wstmt *ws;
	struct lstmt k;
	size_t i;

	for (i = 0; i < n; i++)
		if (key_use_covers(l, &own[i], r))
			return true;
	for (i = 0; i < l->w->nstmts; i++) {
		ws = &l->w->stmts[i];
		if (ws->error != NULL || ws->st == NULL)
			continue;
		k.st = ws->st;
		k.subj = ws->subj;
		k.location = ws->location;
		if (key_use_covers(l, &k, r))
			return true;
	}
	return false;
}

static int
lint_one(struct linter *l, const struct lstmt *all, size_t n, size_t i,
    const char *text)
{
	const struct lstmt *s = &all[i];
	const struct tr_iam_stmt *st = s->st;
	char risk[1200], fix[1200], subj[300], loc[300], grant[300];
	const char *var = NULL;
	bool manage_sf, reads;
	int rc = 0;

	subject_text(st, subj, sizeof(subj));
	location_text(st, loc, sizeof(loc));
	tr_iam_stmt_grant_text(st, grant, sizeof(grant));

	if (st->subject == TR_IAM_SUBJ_ANY_USER &&
	    permset_intersects(&st->perms, &l->sensitive)) {
		(void)snprintf(risk, sizeof(risk), "any-user covers every "
		    "principal of the tenancy (users in no group, instances, "
		    "resource principals): all of them may %s in %s%s", grant,
		    loc, st->cond != NULL ? " when the condition holds" : "");
		(void)snprintf(fix, sizeof(fix), "Name the callers: Allow "
		    "group <group> to %s in %s, or Allow dynamic-group <dg> "
		    "...; if any-user is needed, narrow it with where "
		    "request.principal.type = '<type>' or "
		    "request.principal.id = '<ocid>'", grant, loc);
		if ((rc = add_finding(l, i, text, "any-user-sensitive",
		    st->cond != NULL ? "medium" : "high", risk, fix)) < 0)
			goto out;
	}

	manage_sf = st->loc == TR_IAM_LOC_TENANCY &&
	    permset_contains(&st->perms, &l->manage_sf);
	if (manage_sf) {
		(void)snprintf(risk, sizeof(risk), "%s may create, read, "
		    "change and delete every secret of the tenancy%s", subj,
		    st->cond != NULL ? " when the condition holds" : "");
		(void)snprintf(fix, sizeof(fix), "Grant in the compartment "
		    "that holds the secrets (Allow %s to %s in compartment "
		    "<name>) and scope it with where target.vault.id = "
		    "'<vault ocid>'", subj, grant);
		if ((rc = add_finding(l, i, text,
		    "tenancy-manage-secret-family", "high", risk, fix)) < 0)
			goto out;
	}

	reads = tr_iam_permset_has(&st->perms, TR_IAM_P_SECRET_BUNDLE_READ);
	if (reads && !manage_sf && st->loc == TR_IAM_LOC_TENANCY &&
	    st->cond == NULL && st->subject != TR_IAM_SUBJ_ANY_USER) {
		(void)snprintf(risk, sizeof(risk), "%s may read the content of "
		    "every secret in the tenancy, including secrets created "
		    "later in any compartment", subj);
		(void)snprintf(fix, sizeof(fix), "Grant in the compartment of "
		    "the secrets the callers need, or add a condition such as "
		    "where target.secret.name = /<prefix>*/ or "
		    "target.vault.id = '<vault ocid>'");
		if ((rc = add_finding(l, i, text, "tenancy-wide-secret-read",
		    "medium", risk, fix)) < 0)
			goto out;
	}

	if (tr_iam_cond_has_quoted_star(st->cond)) {
		(void)snprintf(risk, sizeof(risk), "'*' inside a quoted value "
		    "is a literal character: 'db-*' matches only a name that "
		    "is exactly db-*, so this statement probably grants less "
		    "than intended");
		(void)snprintf(fix, sizeof(fix), "Write a pattern between "
		    "slashes, e.g. target.secret.name = /db-*/");
		if ((rc = add_finding(l, i, text, "quoted-wildcard", "medium",
		    risk, fix)) < 0)
			goto out;
	}

	if (reads && l->w->secret_reads_require_key_use &&
	    s->location != TR_IAM_NONE &&
	    !tr_iam_permset_has(&st->perms, TR_IAM_P_KEY_DECRYPT) &&
	    !has_key_use(l, all, n, s)) {
		(void)snprintf(risk, sizeof(risk), "this tenancy has "
		    "secret_reads_require_key_use on: reading a secret's "
		    "content also needs KEY_DECRYPT on its key, and no "
		    "statement gives it to %s in %s, so readers get 403 "
		    "NotAuthorized", subj, loc);
		(void)snprintf(fix, sizeof(fix), "Add: Allow %s to use keys in "
		    "%s (optionally where target.key.id = '<key ocid>')",
		    subj, loc);
		if ((rc = add_finding(l, i, text,
		    "secret-read-without-key-use", "low", risk, fix)) < 0)
			goto out;
	}

	if (tr_iam_cond_has_unsupported(st->cond, &var)) {
		(void)snprintf(risk, sizeof(risk), "tresor never sets %s, so "
		    "the condition on it is always false and the statement "
		    "grants nothing", var);
		(void)snprintf(fix, sizeof(fix), "Remove the condition or use "
		    "a variable tresor supports, such as target.secret.name, "
		    "target.vault.id or request.principal.type");
		if ((rc = add_finding(l, i, text, "variable-never-set", "low",
		    risk, fix)) < 0)
			goto out;
	}
out:
	return rc;
}

/* Lint a policy attached to `compartment_id` into a JSON array. */
int
tr_iam_policy_lint_at(const struct tr_iam_world *w,
    const char *compartment_id, const char *const *statements, size_t n,
    struct tr_buf *out)
{
	struct tr_iam_stmt **sts = NULL;
	struct lstmt *ls = NULL;
	uint32_t **subj = NULL;
	struct linter l;
	char **errs = NULL, *dump = NULL;
	size_t i, k;
	int rc = TRESOR_EINTERNAL;

	memset(&l, 0, sizeof(l));
	if (w == NULL || out == NULL || (n > 0 && statements == NULL)) {
		rc = tr_error_set(TRESOR_EINVAL, "nothing to lint");
		goto out;
	}
	if (n > TR_IAM_POLICY_STATEMENTS_MAX) {
		rc = tr_error_set(TRESOR_EINVAL, "a policy holds at most %d "
		    "statements", TR_IAM_POLICY_STATEMENTS_MAX);
		goto out;
	}
	l.w = w;
	l.attach = compartment_id != NULL ? tr_iam_world_comp(w,
	    compartment_id) : w->root;
	if (l.attach == TR_IAM_NONE)
		l.attach = w->root;
	tr_iam_type_perms(TR_IAM_T_SECRET_FAMILY, TR_IAM_VERB_MANAGE,
	    &l.manage_sf);
	{
		struct tr_iam_permset keys, insp_sf, insp_keys;

		tr_iam_type_perms(TR_IAM_T_KEYS, TR_IAM_VERB_MANAGE, &keys);
		tr_iam_type_perms(TR_IAM_T_SECRET_FAMILY, TR_IAM_VERB_INSPECT,
		    &insp_sf);
		tr_iam_type_perms(TR_IAM_T_KEYS, TR_IAM_VERB_INSPECT,
		    &insp_keys);
		for (k = 0; k < TR_IAM_PERM_WORDS; k++)
			l.sensitive.w[k] = (l.manage_sf.w[k] | keys.w[k]) &
			    ~(insp_sf.w[k] | insp_keys.w[k]);
	}
	l.arr = json_array();
	sts = tr_calloc(n, sizeof(*sts));
	ls = tr_calloc(n, sizeof(*ls));
	subj = tr_calloc(n, sizeof(*subj));
	errs = tr_calloc(n, sizeof(*errs));
	if (l.arr == NULL || sts == NULL || ls == NULL || subj == NULL ||
	    errs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	/*
	 * Parse and resolve everything first (the key-use rule looks across
	 * statements), then report in statement order.
	 */
	for (i = 0; i < n; i++) {
		ls[i].location = TR_IAM_NONE;
		rc = tr_iam_stmt_parse(&sts[i], statements[i]);
		if (rc == 0) {
			ls[i].st = sts[i];
			subj[i] = tr_calloc(sts[i]->nitems, sizeof(**subj));
			if (subj[i] == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			for (k = 0; k < sts[i]->nitems; k++)
				subj[i][k] = tr_iam_world_resolve_subject(w,
				    sts[i]->subject, &sts[i]->items[k]);
			ls[i].subj = subj[i];
			rc = tr_iam_world_resolve_location(w, sts[i],
			    l.attach, &ls[i].location);
		}
		if (rc == TRESOR_ENOMEM)
			goto out;
		if (rc < 0) {
			errs[i] = tr_strdup(tresor_error_last());
			if (errs[i] == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (ls[i].st == NULL) {
			if ((rc = add_finding(&l, i, statements[i],
			    "parse-error", "error", errs[i], "Fix the "
			    "statement: it would be refused")) < 0)
				goto out;
			continue;
		}
		if (errs[i] != NULL) {
			if ((rc = add_finding(&l, i, statements[i], "location",
			    "error", errs[i], "Name the policy's compartment, "
			    "one of its direct children, a path a:b:c below "
			    "it, or use compartment id <ocid>")) < 0)
				goto out;
		}
		if ((rc = lint_one(&l, ls, n, i, statements[i])) < 0)
			goto out;
	}
	dump = tr_json_dump(l.arr);
	if (dump == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = tr_buf_addstr(out, dump)) < 0)
		goto out;
	rc = 0;
out:
	if (sts != NULL)
		for (i = 0; i < n; i++)
			tr_iam_stmt_free(sts[i]);
	if (subj != NULL)
		for (i = 0; i < n; i++)
			tr_free(subj[i]);
	if (errs != NULL)
		for (i = 0; i < n; i++)
			tr_free(errs[i]);
	tr_free(sts);
	tr_free(subj);
	tr_free(ls);
	tr_free(errs);
	tr_free(dump);
	json_decref(l.arr);
	return rc;
}

/* Lint as if the policy were attached to the tenancy. */
int
tr_iam_policy_lint(const struct tr_iam_world *w,
    const char *const *statements, size_t n, struct tr_buf *out)
{
	return tr_iam_policy_lint_at(w, NULL, statements, n, out);
}
