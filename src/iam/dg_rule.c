/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dynamic-group matching rules (spec oci-iam.md section 5.1): parser,
 * validator and matcher.
 *
 *   <rule> ::= <cond> | ANY { <rule>, ... } | ALL { <rule>, ... }
 *   <cond> ::= <var> = '<v>' | <var> != '<v>' | tag.<ns>.<key>.value
 *              [ = '<v>' | != '<v>' ]
 *   <var>  ::= instance.id | instance.compartment.id | resource.id
 *            | resource.type | resource.compartment.id
 *
 * Keywords and variables are case-insensitive, values are compared
 * case-insensitively.  A bare comma list without ANY/ALL is refused, as
 * OCI does since identity domains.  Nesting is bounded by
 * TR_IAM_RULE_DEPTH_MAX.  Interface: iam.h (tr_iam_rule_validate) and
 * iam_int.h.
 */
#include <string.h>

#include "iam/iam_int.h"
#include "util/alloc.h"
#include "util/error.h"

struct rule_parser {
	struct tr_iam_lex lx;
	size_t nodes;
};

struct rule_var_def {
	const char *name;
	enum tr_iam_rule_var var;
};

static const struct rule_var_def rule_vars[] = {
	{ "instance.id", TR_IAM_RV_INSTANCE_ID },
	{ "instance.compartment.id", TR_IAM_RV_INSTANCE_COMPARTMENT_ID },
	{ "resource.id", TR_IAM_RV_RESOURCE_ID },
	{ "resource.type", TR_IAM_RV_RESOURCE_TYPE },
	{ "resource.compartment.id", TR_IAM_RV_RESOURCE_COMPARTMENT_ID },
};

/* Free a rule tree; NULL is fine.  Depth is bounded by the parser. */
void
tr_iam_rule_free(struct tr_iam_rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nkids; i++)
		tr_iam_rule_free(r->kids[i]);
	tr_free(r->kids);
	tr_free(r->tag_ns);
	tr_free(r->tag_key);
	tr_free(r->value);
	tr_free(r);
}

/*
 * tag.<ns>.<key>.value: split the word into namespace and key.  Returns
 * 0, 1 when the word is not of that shape, or TRESOR_ENOMEM.
 */
static int
split_tag(struct tr_iam_rule *r, const char *w, size_t n)
{
	const char *ns, *key, *end;
	size_t rest;
	int rc = 1;

	if (n < 4 + 1 + 1 + 1 + 6 || !tr_iam_eq_ci(w, 4, "tag.", 4) ||
	    !tr_iam_eq_ci(w + n - 6, 6, ".value", 6))
		goto out;
	ns = w + 4;
	end = w + n - 6;
	rest = (size_t)(end - ns);
	key = memchr(ns, '.', rest);
	if (key == NULL || key == ns || key + 1 >= end ||
	    memchr(key + 1, '.', (size_t)(end - key - 1)) != NULL ||
	    memchr(ns, ':', rest) != NULL)
		goto out;
	r->tag_ns = tr_strndup(ns, (size_t)(key - ns));
	r->tag_key = tr_strndup(key + 1, (size_t)(end - key - 1));
	if (r->tag_ns == NULL || r->tag_key == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* One condition into r (already allocated). */
static int
parse_rule_cond(struct rule_parser *ps, struct tr_iam_rule *r)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *w, *v;
	size_t n, vn, i, col;
	int rc = TRESOR_EINTERNAL;

	r->kind = TR_IAM_COND_CMP;
	col = tr_iam_lex_col(lx);
	if (!tr_iam_lex_word(lx, &w, &n)) {
		rc = tr_iam_lex_fail(lx, "a condition such as resource.type = "
		    "'fnfunc', or ANY {...} / ALL {...}");
		goto out;
	}
	for (i = 0; i < sizeof(rule_vars) / sizeof(rule_vars[0]); i++) {
		if (tr_iam_eq_ci(w, n, rule_vars[i].name,
		    strlen(rule_vars[i].name))) {
			r->var = rule_vars[i].var;
			break;
		}
	}
	if (r->var == 0) {
		rc = split_tag(r, w, n);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			rc = tr_iam_lex_fail_at(col, "expected instance.id, "
			    "instance.compartment.id, resource.id, "
			    "resource.type, resource.compartment.id or "
			    "tag.<namespace>.<key>.value, found '%.*s'",
			    (int)(n > 64 ? 64 : n), w);
			goto out;
		}
		r->var = TR_IAM_RV_TAG;
	}
	if (tr_iam_lex_accept(lx, '=')) {
		r->negate = false;
	} else if (tr_iam_lex_peek(lx) == '!' && lx->pos + 1 < lx->len &&
	    lx->s[lx->pos + 1] == '=') {
		lx->pos += 2;
		r->negate = true;
	} else if (r->var == TR_IAM_RV_TAG) {
		r->presence = true;
		rc = 0;
		goto out;
	} else {
		rc = tr_iam_lex_fail(lx, "'=' or '!='");
		goto out;
	}
	col = tr_iam_lex_col(lx);
	if (tr_iam_lex_peek(lx) != '\'') {
		rc = tr_iam_lex_fail(lx, "a quoted value such as 'fnfunc'");
		goto out;
	}
	if ((rc = tr_iam_lex_delimited(lx, '\'', &v, &vn)) < 0)
		goto out;
	if (vn == 0 || memchr(v, '\0', vn) != NULL) {
		rc = tr_iam_lex_fail_at(col, "expected a non-empty value "
		    "between the quotes");
		goto out;
	}
	r->value = tr_strndup(v, vn);
	if (r->value == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

static int
parse_rule(struct rule_parser *ps, size_t depth, struct tr_iam_rule **out)
{
	struct tr_iam_lex *lx = &ps->lx;
	struct tr_iam_rule *r = NULL, *kid = NULL, **nk;
	size_t col, save;
	bool group = false;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	col = tr_iam_lex_col(lx);
	if (ps->nodes >= TR_IAM_RULE_NODES_MAX) {
		rc = tr_iam_lex_fail_at(col, "expected at most %d conditions "
		    "in a matching rule", TR_IAM_RULE_NODES_MAX);
		goto out;
	}
	ps->nodes++;
	r = tr_calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	save = lx->pos;
	if (tr_iam_lex_keyword(lx, "any")) {
		r->kind = TR_IAM_COND_ANY;
		group = true;
	} else if (tr_iam_lex_keyword(lx, "all")) {
		r->kind = TR_IAM_COND_ALL;
		group = true;
	}
	if (!group) {
		lx->pos = save;
		if ((rc = parse_rule_cond(ps, r)) < 0)
			goto out;
		goto done;
	}
	if (!tr_iam_lex_accept(lx, '{')) {
		rc = tr_iam_lex_fail(lx, "'{' after ANY or ALL");
		goto out;
	}
	if (depth >= TR_IAM_RULE_DEPTH_MAX) {
		rc = tr_iam_lex_fail_at(col, "expected at most %d nested "
		    "ANY {} / ALL {} groups", TR_IAM_RULE_DEPTH_MAX);
		goto out;
	}
	for (;;) {
		if (r->nkids >= TR_IAM_LIST_MAX) {
			rc = tr_iam_lex_fail_at(tr_iam_lex_col(lx), "expected "
			    "at most %d conditions in one group",
			    TR_IAM_LIST_MAX);
			goto out;
		}
		if ((rc = parse_rule(ps, depth + 1, &kid)) < 0)
			goto out;
		nk = tr_reallocarray(r->kids, r->nkids + 1, sizeof(*nk));
		if (nk == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		r->kids = nk;
		r->kids[r->nkids++] = kid;
		kid = NULL;
		if (tr_iam_lex_accept(lx, ','))
			continue;
		if (tr_iam_lex_accept(lx, '}'))
			break;
		rc = tr_iam_lex_fail(lx, "',' or '}'");
		goto out;
	}
done:
	*out = r;
	r = NULL;
	rc = 0;
out:
	tr_iam_rule_free(kid);
	tr_iam_rule_free(r);
	return rc;
}

/* Parse a matching rule into *out (caller frees with tr_iam_rule_free). */
int
tr_iam_rule_parse(struct tr_iam_rule **out, const char *text)
{
	struct tr_iam_rule *r = NULL;
	struct rule_parser ps;
	size_t len;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (text == NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "column 1: expected a "
		    "matching rule");
		goto out;
	}
	len = strnlen(text, TR_IAM_RULE_MAX + 1);
	if (len > TR_IAM_RULE_MAX) {
		rc = tr_iam_lex_fail_at(TR_IAM_RULE_MAX + 1, "expected a "
		    "matching rule of at most %d characters", TR_IAM_RULE_MAX);
		goto out;
	}
	memset(&ps, 0, sizeof(ps));
	tr_iam_lex_init(&ps.lx, text, len);
	if ((rc = parse_rule(&ps, 0, &r)) < 0)
		goto out;
	if (tr_iam_lex_peek(&ps.lx) == ',') {
		rc = tr_iam_lex_fail(&ps.lx, "the end of the rule (wrap "
		    "several conditions in ANY {...} or ALL {...})");
		goto out;
	}
	if (!tr_iam_lex_eof(&ps.lx)) {
		rc = tr_iam_lex_fail(&ps.lx, "the end of the rule");
		goto out;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	tr_iam_rule_free(r);
	return rc;
}

/* Syntax check only: OCIDs in a rule are not resolved (as in OCI). */
int
tr_iam_rule_validate(const char *rule)
{
	struct tr_iam_rule *r = NULL;
	int rc;

	rc = tr_iam_rule_parse(&r, rule);
	tr_iam_rule_free(r);
	return rc;
}

/* Whether matching needs the principal's tags parsed. */
bool
tr_iam_rule_uses_tags(const struct tr_iam_rule *r)
{
	size_t i;

	if (r == NULL)
		return false;
	if (r->kind == TR_IAM_COND_CMP)
		return r->var == TR_IAM_RV_TAG;
	for (i = 0; i < r->nkids; i++)
		if (tr_iam_rule_uses_tags(r->kids[i]))
			return true;
	return false;
}

/* "" means "not carried". */
static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* The value of the rule's variable for workload `p`, or NULL. */
static const char *
rule_var_value(const struct tr_iam_rule *r, const struct tr_principal *p,
    const json_t *tags)
{
	bool inst = p->kind == TR_PRINCIPAL_INSTANCE;
	bool res = p->kind == TR_PRINCIPAL_RESOURCE;

	switch (r->var) {
	case TR_IAM_RV_INSTANCE_ID:
		return inst ? nonempty(p->id) : NULL;
	case TR_IAM_RV_INSTANCE_COMPARTMENT_ID:
		return inst ? nonempty(p->compartment_id) : NULL;
	case TR_IAM_RV_RESOURCE_ID:
		return res ? nonempty(p->id) : NULL;
	case TR_IAM_RV_RESOURCE_TYPE:
		return res ? nonempty(p->resource_type) : NULL;
	case TR_IAM_RV_RESOURCE_COMPARTMENT_ID:
		return res ? nonempty(p->compartment_id) : NULL;
	case TR_IAM_RV_TAG:
		return tr_iam_tag_get(tags, r->tag_ns, r->tag_key);
	}
	return NULL;
}

static bool
rule_match(const struct tr_iam_rule *r, const struct tr_principal *p,
    const json_t *tags)
{
	const char *v;
	size_t i;

	switch (r->kind) {
	case TR_IAM_COND_ALL:
		for (i = 0; i < r->nkids; i++)
			if (!rule_match(r->kids[i], p, tags))
				return false;
		return r->nkids > 0;
	case TR_IAM_COND_ANY:
		for (i = 0; i < r->nkids; i++)
			if (rule_match(r->kids[i], p, tags))
				return true;
		return false;
	case TR_IAM_COND_CMP:
		v = rule_var_value(r, p, tags);
		if (v == NULL)
			return false;
		if (r->presence)
			return true;
		return tr_iam_streq_ci(v, r->value) != r->negate;
	}
	return false;
}

/* Match a workload against a rule, now (no cached membership). */
bool
tr_iam_rule_match(const struct tr_iam_rule *r, const struct tr_principal *p,
    const json_t *tags)
{
	if (r == NULL || p == NULL)
		return false;
	if (p->kind != TR_PRINCIPAL_INSTANCE &&
	    p->kind != TR_PRINCIPAL_RESOURCE)
		return false;
	return rule_match(r, p, tags);
}
