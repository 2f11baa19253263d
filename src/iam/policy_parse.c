/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser of OCI policy statements (spec oci-iam.md sections 1 and 2):
 *
 *   Allow <subject> to <verb> <resource-type> in <location> [where <cond>]
 *   Allow <subject> to { PERM, ... } in <location> [where <cond>]
 *
 * into the AST of iam_int.h.  Keywords are case-insensitive, blanks are
 * insignificant.  Every error is TRESOR_EINVAL with "column N: expected
 * X, found Y".  Recursion (all {} / any {}) is bounded by
 * TR_IAM_COND_DEPTH_MAX and the AST size by the limits of iam_int.h.
 * Names are resolved against a world later (world.c); this file only
 * knows the grammar.
 */
#include <stdio.h>
#include <string.h>

#include "iam/iam_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/ocid.h"

#define NAME_MAX_LEN	255	/* group, compartment and domain names */
#define PATH_MAX_PARTS	16	/* a:b:c compartment paths */

struct parser {
	struct tr_iam_lex lx;
	size_t nodes;		/* condition nodes so far */
};

/* ---------------------------------------------------------------- */
/* variables                                                        */
/* ---------------------------------------------------------------- */

struct var_def {
	const char *name;
	enum tr_iam_var var;
};

static const struct var_def var_defs[] = {
	{ "request.operation", TR_IAM_V_REQUEST_OPERATION },
	{ "request.permission", TR_IAM_V_REQUEST_PERMISSION },
	{ "request.principal.type", TR_IAM_V_REQUEST_PRINCIPAL_TYPE },
	{ "request.principal.id", TR_IAM_V_REQUEST_PRINCIPAL_ID },
	{ "request.principal.compartment.id",
	  TR_IAM_V_REQUEST_PRINCIPAL_COMPARTMENT_ID },
	{ "request.user.id", TR_IAM_V_REQUEST_USER_ID },
	{ "request.user.name", TR_IAM_V_REQUEST_USER_NAME },
	{ "request.groups.id", TR_IAM_V_REQUEST_GROUPS_ID },
	{ "request.groups.name", TR_IAM_V_REQUEST_GROUPS_NAME },
	{ "request.dynamicgroup.id", TR_IAM_V_REQUEST_DYNAMICGROUP_ID },
	{ "request.dynamicgroup.name", TR_IAM_V_REQUEST_DYNAMICGROUP_NAME },
	{ "request.instance.id", TR_IAM_V_REQUEST_INSTANCE_ID },
	{ "request.instance.compartment.id",
	  TR_IAM_V_REQUEST_INSTANCE_COMPARTMENT_ID },
	{ "request.resource.compartment.id",
	  TR_IAM_V_REQUEST_RESOURCE_COMPARTMENT_ID },
	{ "request.includePlainTextKey",
	  TR_IAM_V_REQUEST_INCLUDE_PLAINTEXT_KEY },
	{ "request.utc-timestamp", TR_IAM_V_REQUEST_UTC_TIMESTAMP },
	{ "request.utc-timestamp.month-of-year",
	  TR_IAM_V_REQUEST_UTC_MONTH_OF_YEAR },
	{ "request.utc-timestamp.day-of-month",
	  TR_IAM_V_REQUEST_UTC_DAY_OF_MONTH },
	{ "request.utc-timestamp.day-of-week",
	  TR_IAM_V_REQUEST_UTC_DAY_OF_WEEK },
	{ "request.utc-timestamp.time-of-day",
	  TR_IAM_V_REQUEST_UTC_TIME_OF_DAY },
	{ "target.compartment.id", TR_IAM_V_TARGET_COMPARTMENT_ID },
	{ "target.compartment.name", TR_IAM_V_TARGET_COMPARTMENT_NAME },
	{ "target.vault.id", TR_IAM_V_TARGET_VAULT_ID },
	{ "target.key.id", TR_IAM_V_TARGET_KEY_ID },
	{ "target.secret.name", TR_IAM_V_TARGET_SECRET_NAME },
	{ "target.secret.id", TR_IAM_V_TARGET_SECRET_ID },
	/* an older revision of Oracle's Vault page spells it so */
	{ "target.secret.ocid", TR_IAM_V_TARGET_SECRET_ID },
	{ "target.tenant.id", TR_IAM_V_TARGET_TENANT_ID },
	{ "target.tenant.name", TR_IAM_V_TARGET_TENANT_NAME },
	/* OCI variables that no tresor request carries: always false */
	{ "request.region", TR_IAM_V_UNSUPPORTED },
	{ "request.ad", TR_IAM_V_UNSUPPORTED },
	{ "request.networkSource.name", TR_IAM_V_UNSUPPORTED },
	{ "request.user.mfaTotpVerified", TR_IAM_V_UNSUPPORTED },
	{ "request.kms-key.id", TR_IAM_V_UNSUPPORTED },
	{ "target.boot-volume.kms-key.id", TR_IAM_V_UNSUPPORTED },
	{ "target.user.id", TR_IAM_V_UNSUPPORTED },
	{ "target.user.name", TR_IAM_V_UNSUPPORTED },
	{ "target.group.id", TR_IAM_V_UNSUPPORTED },
	{ "target.group.name", TR_IAM_V_UNSUPPORTED },
	{ "target.group.member", TR_IAM_V_UNSUPPORTED },
	{ "target.policy.id", TR_IAM_V_UNSUPPORTED },
	{ "target.policy.name", TR_IAM_V_UNSUPPORTED },
	{ "target.policy.type", TR_IAM_V_UNSUPPORTED },
};

struct tag_var_def {
	const char *prefix;
	enum tr_iam_var var;
};

static const struct tag_var_def tag_var_defs[] = {
	{ "target.resource.tag.", TR_IAM_V_TARGET_RESOURCE_TAG },
	{ "target.resource.compartment.tag.",
	  TR_IAM_V_TARGET_COMPARTMENT_TAG },
	{ "request.principal.compartment.tag.",
	  TR_IAM_V_REQUEST_PRINCIPAL_COMPARTMENT_TAG },
	{ "request.principal.group.tag.", TR_IAM_V_UNSUPPORTED },
};

static bool
is_list_var(enum tr_iam_var v)
{
	return v == TR_IAM_V_REQUEST_GROUPS_ID ||
	    v == TR_IAM_V_REQUEST_GROUPS_NAME ||
	    v == TR_IAM_V_REQUEST_DYNAMICGROUP_ID ||
	    v == TR_IAM_V_REQUEST_DYNAMICGROUP_NAME;
}

static bool
is_time_var(enum tr_iam_var v)
{
	return v >= TR_IAM_V_REQUEST_UTC_TIMESTAMP &&
	    v <= TR_IAM_V_REQUEST_UTC_TIME_OF_DAY;
}

static void
varref_dispose(struct tr_iam_varref *r)
{
	TR_FREE_AND_NULL(r->name);
	TR_FREE_AND_NULL(r->tag_ns);
	TR_FREE_AND_NULL(r->tag_key);
}

/*
 * Look the word (w, n) up as a variable into *r.  Returns 0,
 * TRESOR_ENOMEM, or 1 when the word is no variable (nothing allocated).
 */
static int
var_lookup(struct tr_iam_varref *r, const char *w, size_t n)
{
	const char *rest, *dot;
	size_t i, plen, rlen;
	int rc = 1;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < sizeof(var_defs) / sizeof(var_defs[0]) && rc == 1;
	    i++) {
		if (tr_iam_eq_ci(w, n, var_defs[i].name,
		    strlen(var_defs[i].name))) {
			r->var = var_defs[i].var;
			rc = 0;
		}
	}
	for (i = 0; i < sizeof(tag_var_defs) / sizeof(tag_var_defs[0]) &&
	    rc == 1; i++) {
		plen = strlen(tag_var_defs[i].prefix);
		if (n <= plen || !tr_iam_eq_ci(w, plen, tag_var_defs[i].prefix,
		    plen))
			continue;
		/* <ns>.<key>: exactly one dot, nothing empty */
		rest = w + plen;
		rlen = n - plen;
		dot = memchr(rest, '.', rlen);
		if (dot == NULL || dot == rest || dot == rest + rlen - 1 ||
		    memchr(dot + 1, '.', rlen - (size_t)(dot + 1 - rest)) !=
		    NULL || memchr(rest, ':', rlen) != NULL)
			goto out;
		r->var = tag_var_defs[i].var;
		r->tag_ns = tr_strndup(rest, (size_t)(dot - rest));
		r->tag_key = tr_strndup(dot + 1,
		    rlen - (size_t)(dot + 1 - rest));
		if (r->tag_ns == NULL || r->tag_key == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		rc = 0;
	}
	if (rc == 0) {
		r->name = tr_strndup(w, n);
		if (r->name == NULL)
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
out:
	if (rc != 0)
		varref_dispose(r);
	return rc;
}

/* ---------------------------------------------------------------- */
/* time values                                                      */
/* ---------------------------------------------------------------- */

static const char *const month_names[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"
};

static const char *const day_names[] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday"
};

/* Small decimal number of 1-2 digits, or -1. */
static int
small_num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 2)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Index+1 of the name (full or 3-letter abbreviation), or -1. */
static int
name_index(const char *const *names, int count, const char *s, size_t n)
{
	int i;

	for (i = 0; i < count; i++) {
		if (tr_iam_eq_ci(s, n, names[i], strlen(names[i])) ||
		    (n == 3 && tr_iam_eq_ci(s, n, names[i], 3)))
			return i + 1;
	}
	return -1;
}

/* Numeric value of a month, day or weekday literal; -1 if invalid. */
int
tr_iam_time_part_value(enum tr_iam_var var, const char *s, size_t n)
{
	int v;

	v = small_num(s, n);
	switch (var) {
	case TR_IAM_V_REQUEST_UTC_MONTH_OF_YEAR:
		if (v < 0)
			v = name_index(month_names, 12, s, n);
		return v >= 1 && v <= 12 ? v : -1;
	case TR_IAM_V_REQUEST_UTC_DAY_OF_MONTH:
		return v >= 1 && v <= 31 ? v : -1;
	case TR_IAM_V_REQUEST_UTC_DAY_OF_WEEK:
		if (v < 0)
			v = name_index(day_names, 7, s, n);
		return v >= 1 && v <= 7 ? v : -1;
	default:
		return -1;
	}
}

/*
 * '2030-01-02', '2030-01-02T03:04Z', '2030-01-02T03:04:05[.fff]Z' or
 * with an offset, into ms since the epoch.
 */
static int
parse_timestamp(const char *s, size_t n, int64_t *out)
{
	char buf[64];
	int k, rc = TRESOR_EINVAL;

	if (n == 10) {
		k = snprintf(buf, sizeof(buf), "%.*sT00:00:00Z", (int)n, s);
	} else if (n >= 17 && (s[16] == 'Z' || s[16] == 'z' || s[16] == '+' ||
	    s[16] == '-')) {
		/* no seconds: insert them */
		k = snprintf(buf, sizeof(buf), "%.16s:00%.*s", s,
		    (int)(n - 16), s + 16);
	} else {
		k = snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
	}
	if (k >= 0 && (size_t)k < sizeof(buf) && memchr(s, '\0', n) == NULL)
		rc = tr_time_parse_rfc3339(buf, out);
	return rc;
}

/* 'HH:MM[:SS][Z]' into the second of the day, or -1. */
static int64_t
parse_time_of_day(const char *s, size_t n)
{
	int h, m, sec = 0;

	if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		n--;
	if (n != 5 && n != 8)
		return -1;
	if (s[2] != ':' || (n == 8 && s[5] != ':'))
		return -1;
	h = small_num(s, 2);
	m = small_num(s + 3, 2);
	if (n == 8)
		sec = small_num(s + 6, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -1;
	return (int64_t)h * 3600 + m * 60 + sec;
}

/* ---------------------------------------------------------------- */
/* conditions                                                       */
/* ---------------------------------------------------------------- */

static void
cond_free(struct tr_iam_cond *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nkids; i++)
		cond_free(c->kids[i]);
	tr_free(c->kids);
	varref_dispose(&c->lhs);
	for (i = 0; i < c->nvals; i++) {
		tr_free(c->vals[i].s);
		varref_dispose(&c->vals[i].var);
	}
	tr_free(c->vals);
	tr_free(c);
}

static int parse_cond(struct parser *ps, size_t depth,
    struct tr_iam_cond **out);

/*
 * Read one right-hand value (quoted string, /pattern/, or when
 * `allow_var` an unquoted variable name) into *v.
 */
static int
parse_value(struct parser *ps, const struct tr_iam_cond *c, bool allow_var,
    struct tr_iam_value *v)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *s, *w;
	size_t n, wn, col;
	int ch, rc = TRESOR_EINTERNAL;

	memset(v, 0, sizeof(*v));
	col = tr_iam_lex_col(lx);
	v->col = col;
	ch = tr_iam_lex_peek(lx);
	if (ch == '\'' || ch == '/') {
		if ((rc = tr_iam_lex_delimited(lx, (char)ch, &s, &n)) < 0)
			goto out;
		if (ch == '/' && n == 0) {
			rc = tr_iam_lex_fail_at(col,
			    "expected a non-empty /pattern/");
			goto out;
		}
		if (memchr(s, '\0', n) != NULL) {
			rc = tr_iam_lex_fail_at(col,
			    "expected a value without NUL bytes");
			goto out;
		}
		v->kind = ch == '\'' ? TR_IAM_VAL_STRING : TR_IAM_VAL_PATTERN;
		v->s = tr_strndup(s, n);
		if (v->s == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		v->len = n;
	} else if (allow_var && tr_iam_lex_word(lx, &w, &wn)) {
		rc = var_lookup(&v->var, w, wn);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			rc = tr_iam_lex_fail_at(col, "invalid right-hand side "
			    "in condition: expected a quoted value, a "
			    "/pattern/ or a variable name, found '%.*s'",
			    (int)(wn > 64 ? 64 : wn), w);
			goto out;
		}
		if (is_list_var(v->var.var) || is_time_var(v->var.var)) {
			rc = tr_iam_lex_fail_at(col, "expected a single-valued "
			    "variable on the right-hand side, found %s",
			    v->var.name);
			goto out;
		}
		v->kind = TR_IAM_VAL_VAR;
	} else {
		rc = tr_iam_lex_fail(lx, allow_var ?
		    "a quoted value, a /pattern/ or a variable name" :
		    "a quoted value or a /pattern/");
		goto out;
	}
	if (c->lhs.var >= TR_IAM_V_REQUEST_UTC_MONTH_OF_YEAR &&
	    c->lhs.var <= TR_IAM_V_REQUEST_UTC_DAY_OF_WEEK) {
		v->num = v->kind == TR_IAM_VAL_STRING ?
		    tr_iam_time_part_value(c->lhs.var, v->s, v->len) : -1;
		if (v->num < 0) {
			rc = tr_iam_lex_fail_at(col, "expected a quoted %s "
			    "value, e.g. %s", c->lhs.name,
			    c->lhs.var == TR_IAM_V_REQUEST_UTC_DAY_OF_WEEK ?
			    "'Monday'" : "'6'");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0) {
		TR_FREE_AND_NULL(v->s);
		varref_dispose(&v->var);
	}
	return rc;
}

/* Append a value slot to c->vals; returns it zeroed or NULL. */
static struct tr_iam_value *
add_value(struct tr_iam_cond *c)
{
	struct tr_iam_value *nv;

	nv = tr_reallocarray(c->vals, c->nvals + 1, sizeof(*nv));
	if (nv == NULL)
		return NULL;
	c->vals = nv;
	memset(&nv[c->nvals], 0, sizeof(nv[0]));
	return &nv[c->nvals];
}

/* ( value, value, ... ) */
static int
parse_value_list(struct parser *ps, struct tr_iam_cond *c)
{
	struct tr_iam_lex *lx = &ps->lx;
	struct tr_iam_value *v;
	int rc = TRESOR_EINTERNAL;

	if (!tr_iam_lex_accept(lx, '(')) {
		rc = tr_iam_lex_fail(lx, "'(' and a list of quoted values");
		goto out;
	}
	for (;;) {
		if (c->nvals >= TR_IAM_LIST_MAX) {
			rc = tr_iam_lex_fail_at(tr_iam_lex_col(lx),
			    "expected at most %d values in a list",
			    TR_IAM_LIST_MAX);
			goto out;
		}
		v = add_value(c);
		if (v == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = parse_value(ps, c, false, v)) < 0)
			goto out;
		c->nvals++;
		if (tr_iam_lex_accept(lx, ','))
			continue;
		if (tr_iam_lex_accept(lx, ')'))
			break;
		rc = tr_iam_lex_fail(lx, "',' or ')'");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* A quoted time for before/after/between, into ms or second of day. */
static int
parse_time_value(struct parser *ps, bool time_of_day, int64_t *out)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *s;
	size_t n, col;
	int64_t t;
	int rc = TRESOR_EINTERNAL;

	col = tr_iam_lex_col(lx);
	if (tr_iam_lex_peek(lx) != '\'') {
		rc = tr_iam_lex_fail(lx, time_of_day ?
		    "a quoted time of day, e.g. '17:00:00Z'" :
		    "a quoted UTC timestamp, e.g. '2030-01-01T00:00:00Z'");
		goto out;
	}
	if ((rc = tr_iam_lex_delimited(lx, '\'', &s, &n)) < 0)
		goto out;
	if (time_of_day) {
		t = parse_time_of_day(s, n);
		if (t < 0) {
			rc = tr_iam_lex_fail_at(col, "expected a time of day "
			    "'HH:MM:SSZ', e.g. '17:00:00Z'");
			goto out;
		}
	} else if (parse_timestamp(s, n, &t) < 0) {
		rc = tr_iam_lex_fail_at(col, "expected an ISO 8601 UTC "
		    "timestamp, e.g. '2030-01-01T00:00:00Z'");
		goto out;
	}
	*out = t;
	rc = 0;
out:
	return rc;
}

/* <variable> <op> <value(s)> */
static int
parse_cmp(struct parser *ps, struct tr_iam_cond *c)
{
	struct tr_iam_lex *lx = &ps->lx;
	struct tr_iam_value *v;
	const char *w;
	size_t n, col, opcol;
	int rc = TRESOR_EINTERNAL;

	c->kind = TR_IAM_COND_CMP;
	col = tr_iam_lex_col(lx);
	if (!tr_iam_lex_word(lx, &w, &n)) {
		rc = tr_iam_lex_fail(lx, "a condition: a variable such as "
		    "target.secret.name, or all {...} / any {...}");
		goto out;
	}
	rc = var_lookup(&c->lhs, w, n);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		rc = tr_iam_lex_fail_at(col, "expected a variable such as "
		    "target.secret.name or request.principal.type, found "
		    "unknown variable '%.*s'", (int)(n > 64 ? 64 : n), w);
		goto out;
	}
	opcol = tr_iam_lex_col(lx);
	if (tr_iam_lex_accept(lx, '=')) {
		c->op = TR_IAM_OP_EQ;
	} else if (tr_iam_lex_peek(lx) == '!' && lx->pos + 1 < lx->len &&
	    lx->s[lx->pos + 1] == '=') {
		lx->pos += 2;
		c->op = TR_IAM_OP_NE;
	} else if (tr_iam_lex_keyword(lx, "in")) {
		c->op = TR_IAM_OP_IN;
	} else if (tr_iam_lex_keyword(lx, "not")) {
		if (!tr_iam_lex_keyword(lx, "in")) {
			rc = tr_iam_lex_fail(lx, "'in' after 'not'");
			goto out;
		}
		c->op = TR_IAM_OP_NOT_IN;
	} else if (tr_iam_lex_keyword(lx, "before")) {
		c->op = TR_IAM_OP_BEFORE;
	} else if (tr_iam_lex_keyword(lx, "after")) {
		c->op = TR_IAM_OP_AFTER;
	} else if (tr_iam_lex_keyword(lx, "between")) {
		c->op = TR_IAM_OP_BETWEEN;
	} else {
		rc = tr_iam_lex_fail(lx, "an operator (=, !=, in, not in, "
		    "before, after, between)");
		goto out;
	}

	/* which operators a variable takes */
	if (c->lhs.var == TR_IAM_V_REQUEST_UTC_TIMESTAMP) {
		if (c->op != TR_IAM_OP_BEFORE && c->op != TR_IAM_OP_AFTER) {
			rc = tr_iam_lex_fail_at(opcol, "expected 'before' or "
			    "'after' after request.utc-timestamp");
			goto out;
		}
		rc = parse_time_value(ps, false, &c->t0);
		goto out;
	}
	if (c->lhs.var == TR_IAM_V_REQUEST_UTC_TIME_OF_DAY) {
		if (c->op != TR_IAM_OP_BETWEEN) {
			rc = tr_iam_lex_fail_at(opcol, "expected 'between' "
			    "after request.utc-timestamp.time-of-day");
			goto out;
		}
		if ((rc = parse_time_value(ps, true, &c->t0)) < 0)
			goto out;
		if (!tr_iam_lex_keyword(lx, "and")) {
			rc = tr_iam_lex_fail(lx, "'and' between the two times");
			goto out;
		}
		rc = parse_time_value(ps, true, &c->t1);
		goto out;
	}
	if (c->op == TR_IAM_OP_BEFORE || c->op == TR_IAM_OP_AFTER ||
	    c->op == TR_IAM_OP_BETWEEN) {
		rc = tr_iam_lex_fail_at(opcol, "expected = or != (before, "
		    "after and between apply only to request.utc-timestamp)");
		goto out;
	}
	if (c->op == TR_IAM_OP_IN || c->op == TR_IAM_OP_NOT_IN) {
		rc = parse_value_list(ps, c);
		goto out;
	}
	v = add_value(c);
	if (v == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_value(ps, c, true, v)) < 0)
		goto out;
	c->nvals = 1;
	rc = 0;
out:
	return rc;
}

/* all { ... } / any { ... } or a comparison; `depth` counts groups. */
static int
parse_cond(struct parser *ps, size_t depth, struct tr_iam_cond **out)
{
	struct tr_iam_lex *lx = &ps->lx;
	struct tr_iam_cond *c = NULL, **nk, *kid = NULL;
	size_t col, save;
	bool group;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	col = tr_iam_lex_col(lx);
	if (ps->nodes >= TR_IAM_COND_NODES_MAX) {
		rc = tr_iam_lex_fail_at(col, "expected at most %d conditions "
		    "in a statement", TR_IAM_COND_NODES_MAX);
		goto out;
	}
	ps->nodes++;
	c = tr_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	c->col = col;
	/* all/any open a group; they are never variable names */
	save = lx->pos;
	group = false;
	if (tr_iam_lex_keyword(lx, "all")) {
		c->kind = TR_IAM_COND_ALL;
		group = true;
	} else if (tr_iam_lex_keyword(lx, "any")) {
		c->kind = TR_IAM_COND_ANY;
		group = true;
	}
	if (group && tr_iam_lex_peek(lx) != '{') {
		rc = tr_iam_lex_fail(lx, c->kind == TR_IAM_COND_ALL ?
		    "'{' after 'all'" : "'{' after 'any'");
		goto out;
	}
	if (!group) {
		lx->pos = save;
		if ((rc = parse_cmp(ps, c)) < 0)
			goto out;
		goto done;
	}
	if (depth >= TR_IAM_COND_DEPTH_MAX) {
		rc = tr_iam_lex_fail_at(col, "expected at most %d nested "
		    "all {} / any {} groups", TR_IAM_COND_DEPTH_MAX);
		goto out;
	}
	(void)tr_iam_lex_accept(lx, '{');
	for (;;) {
		if (c->nkids >= TR_IAM_LIST_MAX) {
			rc = tr_iam_lex_fail_at(tr_iam_lex_col(lx), "expected "
			    "at most %d conditions in one group",
			    TR_IAM_LIST_MAX);
			goto out;
		}
		if ((rc = parse_cond(ps, depth + 1, &kid)) < 0)
			goto out;
		nk = tr_reallocarray(c->kids, c->nkids + 1, sizeof(*nk));
		if (nk == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		c->kids = nk;
		c->kids[c->nkids++] = kid;
		kid = NULL;
		if (tr_iam_lex_accept(lx, ','))
			continue;
		if (tr_iam_lex_accept(lx, '}'))
			break;
		rc = tr_iam_lex_fail(lx, "',' or '}'");
		goto out;
	}
done:
	*out = c;
	c = NULL;
	rc = 0;
out:
	cond_free(kid);
	cond_free(c);
	return rc;
}

/* ---------------------------------------------------------------- */
/* subject, permissions, location                                   */
/* ---------------------------------------------------------------- */

/* A name: bare word or 'quoted', copied into *out. */
static int
parse_name(struct parser *ps, const char *what, char **out)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *s;
	size_t n, col;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	col = tr_iam_lex_col(lx);
	if (tr_iam_lex_peek(lx) == '\'') {
		if ((rc = tr_iam_lex_delimited(lx, '\'', &s, &n)) < 0)
			goto out;
		if (n == 0 || memchr(s, '\0', n) != NULL) {
			rc = tr_iam_lex_fail_at(col, "expected %s between "
			    "the quotes", what);
			goto out;
		}
	} else if (!tr_iam_lex_word(lx, &s, &n)) {
		rc = tr_iam_lex_fail(lx, what);
		goto out;
	}
	if (n > NAME_MAX_LEN) {
		rc = tr_iam_lex_fail_at(col, "expected %s of at most %d "
		    "characters", what, NAME_MAX_LEN);
		goto out;
	}
	*out = tr_strndup(s, n);
	if (*out == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* An OCID after `id`, copied into *out. */
static int
parse_ocid(struct parser *ps, char **out)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *s;
	size_t n, col;
	char *id = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	col = tr_iam_lex_col(lx);
	if (!tr_iam_lex_word(lx, &s, &n)) {
		rc = tr_iam_lex_fail(lx, "an OCID after 'id'");
		goto out;
	}
	id = tr_strndup(s, n);
	if (id == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (!tr_ocid_valid(id, NULL)) {
		rc = tr_iam_lex_fail_at(col, "expected an OCID "
		    "(ocid1.<type>.<realm>..<unique>) after 'id', found '%.*s'",
		    (int)(n > 64 ? 64 : n), s);
		goto out;
	}
	*out = id;
	id = NULL;
	rc = 0;
out:
	tr_free(id);
	return rc;
}

/* group A, 'B', 'Default'/'C', id ocid1... */
static int
parse_subject_items(struct parser *ps, struct tr_iam_stmt *st)
{
	struct tr_iam_lex *lx = &ps->lx;
	struct tr_iam_subject_item *it, *ni;
	const char *what;
	int rc = TRESOR_EINTERNAL;

	what = st->subject == TR_IAM_SUBJ_GROUP ? "a group name" :
	    "a dynamic-group name";
	for (;;) {
		if (st->nitems >= TR_IAM_LIST_MAX) {
			rc = tr_iam_lex_fail_at(tr_iam_lex_col(lx), "expected "
			    "at most %d names in the subject", TR_IAM_LIST_MAX);
			goto out;
		}
		ni = tr_reallocarray(st->items, st->nitems + 1, sizeof(*ni));
		if (ni == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		st->items = ni;
		it = &st->items[st->nitems];
		memset(it, 0, sizeof(*it));
		st->nitems++;
		it->col = tr_iam_lex_col(lx);
		if (tr_iam_lex_peek(lx) != '\'' &&
		    tr_iam_lex_keyword(lx, "id")) {
			if ((rc = parse_ocid(ps, &it->id)) < 0)
				goto out;
		} else {
			if ((rc = parse_name(ps, what, &it->name)) < 0)
				goto out;
			if (tr_iam_lex_accept(lx, '/')) {
				it->domain = it->name;
				it->name = NULL;
				if ((rc = parse_name(ps, what, &it->name)) < 0)
					goto out;
			}
		}
		if (!tr_iam_lex_accept(lx, ','))
			break;
	}
	rc = 0;
out:
	return rc;
}

static int
parse_subject(struct parser *ps, struct tr_iam_stmt *st)
{
	struct tr_iam_lex *lx = &ps->lx;
	int rc = 0;

	st->subject_col = tr_iam_lex_col(lx);
	if (tr_iam_lex_keyword(lx, "any-user")) {
		st->subject = TR_IAM_SUBJ_ANY_USER;
	} else if (tr_iam_lex_keyword(lx, "any-group")) {
		st->subject = TR_IAM_SUBJ_ANY_GROUP;
	} else if (tr_iam_lex_keyword(lx, "group")) {
		st->subject = TR_IAM_SUBJ_GROUP;
		rc = parse_subject_items(ps, st);
	} else if (tr_iam_lex_keyword(lx, "dynamic-group")) {
		st->subject = TR_IAM_SUBJ_DYNAMIC_GROUP;
		rc = parse_subject_items(ps, st);
	} else if (tr_iam_lex_peek_keyword(lx, "service")) {
		rc = tr_iam_lex_fail_at(st->subject_col, "expected group, "
		    "dynamic-group, any-user or any-group: service principals "
		    "are not supported by tresor");
	} else {
		rc = tr_iam_lex_fail(lx, "a subject (group, dynamic-group, "
		    "any-user or any-group) after 'Allow'");
	}
	return rc;
}

/* { PERM_A, PERM_B } after the opening brace. */
static int
parse_perm_list(struct parser *ps, struct tr_iam_stmt *st)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *w;
	size_t n, col;
	int p, *np, rc = TRESOR_EINTERNAL;

	for (;;) {
		col = tr_iam_lex_col(lx);
		if (st->nplist >= TR_IAM_PERM_LIST_MAX) {
			rc = tr_iam_lex_fail_at(col, "expected at most %d "
			    "permissions in a list", TR_IAM_PERM_LIST_MAX);
			goto out;
		}
		if (!tr_iam_lex_word(lx, &w, &n)) {
			rc = tr_iam_lex_fail(lx, "a permission name such as "
			    "SECRET_BUNDLE_READ");
			goto out;
		}
		p = tr_iam_perm_lookup(w, n);
		if (p < 0) {
			rc = tr_iam_lex_fail_at(col, "expected a permission "
			    "name such as SECRET_BUNDLE_READ, found unknown "
			    "permission '%.*s'", (int)(n > 64 ? 64 : n), w);
			goto out;
		}
		np = tr_reallocarray(st->plist, st->nplist + 1, sizeof(*np));
		if (np == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		st->plist = np;
		st->plist[st->nplist++] = p;
		tr_iam_permset_add(&st->perms, p);
		if (tr_iam_lex_accept(lx, ','))
			continue;
		if (tr_iam_lex_accept(lx, '}'))
			break;
		rc = tr_iam_lex_fail(lx, "',' or '}' in the permission list");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* Split a:b:c into st->loc_parts. */
static int
split_path(struct tr_iam_stmt *st, const char *w, size_t n, size_t col)
{
	size_t i, start = 0;
	int rc = TRESOR_EINTERNAL;

	st->loc_parts = tr_calloc(PATH_MAX_PARTS, sizeof(*st->loc_parts));
	if (st->loc_parts == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && w[i] != ':')
			continue;
		if (i == start) {
			rc = tr_iam_lex_fail_at(col + i, "expected a "
			    "compartment name in the path");
			goto out;
		}
		if (st->nloc_parts >= PATH_MAX_PARTS) {
			rc = tr_iam_lex_fail_at(col, "expected a path of at "
			    "most %d compartments", PATH_MAX_PARTS);
			goto out;
		}
		if (i - start > NAME_MAX_LEN) {
			rc = tr_iam_lex_fail_at(col + start, "expected a "
			    "compartment name of at most %d characters",
			    NAME_MAX_LEN);
			goto out;
		}
		st->loc_parts[st->nloc_parts] = tr_strndup(w + start,
		    i - start);
		if (st->loc_parts[st->nloc_parts] == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		st->nloc_parts++;
		start = i + 1;
	}
	rc = 0;
out:
	return rc;
}

static int
parse_location(struct parser *ps, struct tr_iam_stmt *st)
{
	struct tr_iam_lex *lx = &ps->lx;
	const char *w;
	size_t n, col;
	char *name = NULL;
	int rc = TRESOR_EINTERNAL;

	st->loc_col = tr_iam_lex_col(lx);
	if (tr_iam_lex_keyword(lx, "tenancy")) {
		st->loc = TR_IAM_LOC_TENANCY;
		rc = 0;
		goto out;
	}
	if (!tr_iam_lex_keyword(lx, "compartment")) {
		rc = tr_iam_lex_fail(lx, "'tenancy' or 'compartment' after "
		    "'in'");
		goto out;
	}
	col = tr_iam_lex_col(lx);
	st->loc_col = col;
	if (tr_iam_lex_peek(lx) == '\'') {
		if ((rc = parse_name(ps, "a compartment name", &name)) < 0)
			goto out;
		st->loc = TR_IAM_LOC_PATH;
		st->loc_parts = tr_calloc(1, sizeof(*st->loc_parts));
		if (st->loc_parts == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		st->loc_parts[0] = name;
		name = NULL;
		st->nloc_parts = 1;
		rc = 0;
		goto out;
	}
	if (tr_iam_lex_keyword(lx, "id")) {
		st->loc_col = tr_iam_lex_col(lx);
		st->loc = TR_IAM_LOC_ID;
		st->loc_parts = tr_calloc(1, sizeof(*st->loc_parts));
		if (st->loc_parts == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = parse_ocid(ps, &st->loc_parts[0])) < 0)
			goto out;
		st->nloc_parts = 1;
		rc = 0;
		goto out;
	}
	if (!tr_iam_lex_word(lx, &w, &n)) {
		rc = tr_iam_lex_fail(lx, "a compartment name, a path a:b:c or "
		    "'id <ocid>'");
		goto out;
	}
	if (n > 6 && tr_iam_eq_ci(w, 6, "ocid1.", 6) &&
	    memchr(w, ':', n) == NULL) {
		rc = tr_iam_lex_fail_at(col, "expected 'id' before a "
		    "compartment OCID (write 'in compartment id %.*s')",
		    (int)(n > 64 ? 64 : n), w);
		goto out;
	}
	st->loc = TR_IAM_LOC_PATH;
	rc = split_path(st, w, n, col);
out:
	tr_free(name);
	return rc;
}

/* ---------------------------------------------------------------- */
/* statements                                                       */
/* ---------------------------------------------------------------- */

/* Free a statement and its AST; NULL is fine. */
void
tr_iam_stmt_free(struct tr_iam_stmt *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nitems; i++) {
		tr_free(st->items[i].name);
		tr_free(st->items[i].id);
		tr_free(st->items[i].domain);
	}
	tr_free(st->items);
	tr_free(st->plist);
	if (st->loc_parts != NULL)
		for (i = 0; i < st->nloc_parts; i++)
			tr_free(st->loc_parts[i]);
	tr_free(st->loc_parts);
	cond_free(st->cond);
	tr_free(st);
}

/* The statement kinds of OCI that tresor refuses, for a clear message. */
static int
refuse_kind(struct parser *ps)
{
	static const char *const kinds[] = {
		"deny", "define", "endorse", "admit"
	};
	struct tr_iam_lex *lx = &ps->lx;
	const char *kind = NULL;
	size_t i, col;
	int rc;

	col = tr_iam_lex_col(lx);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kind == NULL && tr_iam_lex_peek_keyword(lx, kinds[i]))
			kind = kinds[i];
	if (kind != NULL)
		rc = tr_iam_lex_fail_at(col, "expected 'Allow': '%s' "
		    "statements are not supported by tresor", kind);
	else
		rc = tr_iam_lex_fail(lx, "'Allow' at the start of the "
		    "statement");
	return rc;
}

/* Parse one `Allow` statement into *out; errors name a column. */
int
tr_iam_stmt_parse(struct tr_iam_stmt **out, const char *text)
{
	struct tr_iam_stmt *st = NULL;
	struct parser ps;
	const char *w;
	size_t len, n, col;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (text == NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "column 1: expected a "
		    "statement");
		goto out;
	}
	len = strnlen(text, TR_IAM_STATEMENT_MAX + 1);
	if (len > TR_IAM_STATEMENT_MAX) {
		rc = tr_iam_lex_fail_at(TR_IAM_STATEMENT_MAX + 1, "expected "
		    "a statement of at most %d characters",
		    TR_IAM_STATEMENT_MAX);
		goto out;
	}
	memset(&ps, 0, sizeof(ps));
	tr_iam_lex_init(&ps.lx, text, len);
	st = tr_calloc(1, sizeof(*st));
	if (st == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	st->rtype = -1;
	if (!tr_iam_lex_keyword(&ps.lx, "allow")) {
		rc = refuse_kind(&ps);
		goto out;
	}
	if ((rc = parse_subject(&ps, st)) < 0)
		goto out;
	if (!tr_iam_lex_keyword(&ps.lx, "to")) {
		rc = tr_iam_lex_fail(&ps.lx, "'to' after the subject");
		goto out;
	}
	col = tr_iam_lex_col(&ps.lx);
	if (tr_iam_lex_accept(&ps.lx, '{')) {
		if ((rc = parse_perm_list(&ps, st)) < 0)
			goto out;
	} else {
		if (tr_iam_lex_word(&ps.lx, &w, &n))
			st->verb = tr_iam_verb_lookup(w, n);
		if (st->verb == TR_IAM_VERB_NONE) {
			ps.lx.pos = col - 1;
			rc = tr_iam_lex_fail(&ps.lx, "a verb (inspect, read, "
			    "use, manage) or a permission list {...}");
			goto out;
		}
		col = tr_iam_lex_col(&ps.lx);
		if (tr_iam_lex_word(&ps.lx, &w, &n))
			st->rtype = tr_iam_type_lookup(w, n);
		if (st->rtype < 0) {
			ps.lx.pos = col - 1;
			rc = tr_iam_lex_fail(&ps.lx, "a resource type (e.g. "
			    "secret-family, secrets, secret-bundles, keys, "
			    "vaults, all-resources)");
			goto out;
		}
		tr_iam_type_perms(st->rtype, st->verb, &st->perms);
	}
	if (!tr_iam_lex_keyword(&ps.lx, "in")) {
		rc = tr_iam_lex_fail(&ps.lx, "'in' and a location");
		goto out;
	}
	if ((rc = parse_location(&ps, st)) < 0)
		goto out;
	if (tr_iam_lex_keyword(&ps.lx, "where")) {
		if ((rc = parse_cond(&ps, 0, &st->cond)) < 0)
			goto out;
		if (!tr_iam_lex_eof(&ps.lx)) {
			rc = tr_iam_lex_fail(&ps.lx,
			    "the end of the statement");
			goto out;
		}
	} else if (!tr_iam_lex_eof(&ps.lx)) {
		rc = tr_iam_lex_fail(&ps.lx, "'where' or the end of the "
		    "statement");
		goto out;
	}
	*out = st;
	st = NULL;
	rc = 0;
out:
	tr_iam_stmt_free(st);
	return rc;
}

/* What a statement grants, as written, for messages. */
void
tr_iam_stmt_grant_text(const struct tr_iam_stmt *st, char *out,
    size_t outsz)
{
	size_t i, used;
	int k;

	if (outsz == 0)
		return;
	out[0] = '\0';
	if (st->verb != TR_IAM_VERB_NONE) {
		(void)snprintf(out, outsz, "%s %s", tr_iam_verb_name(st->verb),
		    tr_iam_type_name(st->rtype));
		return;
	}
	used = 0;
	for (i = 0; i < st->nplist && used < outsz; i++) {
		k = snprintf(out + used, outsz - used, "%s%s",
		    i == 0 ? "{" : ", ", tr_iam_perm_name(st->plist[i]));
		if (k < 0)
			return;
		used += (size_t)k;
	}
	if (used < outsz)
		(void)snprintf(out + used, outsz - used, "}");
}

/* For the linter: a '*' inside a quoted value. */
bool
tr_iam_cond_has_quoted_star(const struct tr_iam_cond *c)
{
	size_t i;

	if (c == NULL)
		return false;
	for (i = 0; i < c->nkids; i++)
		if (tr_iam_cond_has_quoted_star(c->kids[i]))
			return true;
	for (i = 0; i < c->nvals; i++)
		if (c->vals[i].kind == TR_IAM_VAL_STRING &&
		    memchr(c->vals[i].s, '*', c->vals[i].len) != NULL)
			return true;
	return false;
}

/* For the linter: the first variable tresor never sets. */
bool
tr_iam_cond_has_unsupported(const struct tr_iam_cond *c,
    const char **name_out)
{
	size_t i;

	if (c == NULL)
		return false;
	for (i = 0; i < c->nkids; i++)
		if (tr_iam_cond_has_unsupported(c->kids[i], name_out))
			return true;
	if (c->kind == TR_IAM_COND_CMP &&
	    c->lhs.var == TR_IAM_V_UNSUPPORTED) {
		*name_out = c->lhs.name;
		return true;
	}
	for (i = 0; i < c->nvals; i++) {
		if (c->vals[i].kind == TR_IAM_VAL_VAR &&
		    c->vals[i].var.var == TR_IAM_V_UNSUPPORTED) {
			*name_out = c->vals[i].var.name;
			return true;
		}
	}
	return false;
}
