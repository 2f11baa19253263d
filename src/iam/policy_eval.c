/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The authorisation decision (spec oci-iam.md sections 1-5): may this
 * principal hold every permission a request needs on its target?
 * Interface: iam.h (tr_iam_authorize, tr_iam_suggest_statement).
 *
 * A statement grants permission P to a request when, in this order:
 *   1. its subject matches the principal (group membership from the
 *      world, dynamic-group rules matched now, any-user, any-group);
 *   2. P is in the permissions of its verb and resource type, or in its
 *      permission list;
 *   3. the target compartment is the statement's location or below it;
 *   4. its `where` condition holds; a variable the request does not
 *      carry makes a comparison false, with != too (section 2.3).
 * Every permission of the request must be granted, possibly by
 * different statements.
 *
 * The request path allocates nothing unless a condition or rule reads
 * tags (jansson parses the tag document once per call) or the world has
 * more than 256 dynamic groups.  Statements are found through the
 * per-subject indexes of world.c; with a trace (the policy simulator)
 * every statement of the world is considered and explained instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "iam/iam_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"

#define DG_STACK	256	/* dynamic groups tracked without malloc */
#define CAND_LISTS	64	/* statement lists merged without malloc */

struct eval {
	const struct tr_iam_world *w;
	const struct tr_iam_request *req;
	const struct tr_principal *p;
	const char *ptype;	/* request.principal.type */
	uint32_t target;	/* target compartment, or TR_IAM_NONE */
	size_t mlo, mhi;	/* the user's memberships in w->members */
	unsigned char *dg;	/* per dynamic group: matched */
	size_t ndg_matched;
	json_t *ptags;		/* the principal's defined tags */
	json_t *ttags;		/* the target's defined tags */
	bool ttags_done;
	int64_t now_ms;
	bool time_done;
	int month, mday, wday, sod;	/* wday 1 = Monday */
	const char *perm;	/* the permission being checked */
	int pidx;
	bool tracing;
	char reason[512];	/* why a condition is false (tracing) */
	int rc;			/* TRESOR_ENOMEM met on the way */
	/* last: eval_init() clears everything before it */
	unsigned char dg_stack[DG_STACK];
};

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static bool
is_user(const struct eval *e)
{
	return e->p->kind == TR_PRINCIPAL_USER;
}

static bool
is_workload(const struct eval *e)
{
	return e->p->kind == TR_PRINCIPAL_INSTANCE ||
	    e->p->kind == TR_PRINCIPAL_RESOURCE;
}

/* ---------------------------------------------------------------- */
/* variables                                                        */
/* ---------------------------------------------------------------- */

static const json_t *
target_tags(struct eval *e)
{
	int rc;

	if (!e->ttags_done) {
		e->ttags_done = true;
		rc = tr_iam_tags_parse(&e->ttags, e->req->target_tags_json);
		if (rc == TRESOR_ENOMEM)
			e->rc = rc;
	}
	return e->ttags;
}

static const json_t *
principal_comp_tags(struct eval *e)
{
	uint32_t c;

	if (!is_workload(e))
		return NULL;
	c = tr_iam_world_comp(e->w, nonempty(e->p->compartment_id));
	return c == TR_IAM_NONE ? NULL : e->w->comps[c].tags;
}

/* The value of a single-valued variable, NULL when it does not apply. */
static const char *
var_scalar(struct eval *e, const struct tr_iam_varref *v)
{
	const struct tr_iam_request *r = e->req;
	const struct tr_principal *p = e->p;
	bool inst = p->kind == TR_PRINCIPAL_INSTANCE;
	bool res = p->kind == TR_PRINCIPAL_RESOURCE;

	switch (v->var) {
	case TR_IAM_V_REQUEST_OPERATION:
		return nonempty(r->operation);
	case TR_IAM_V_REQUEST_PERMISSION:
		return nonempty(e->perm);
	case TR_IAM_V_REQUEST_PRINCIPAL_TYPE:
		return e->ptype;
	case TR_IAM_V_REQUEST_PRINCIPAL_ID:
		return nonempty(p->id);
	case TR_IAM_V_REQUEST_PRINCIPAL_COMPARTMENT_ID:
		return is_workload(e) ? nonempty(p->compartment_id) : NULL;
	case TR_IAM_V_REQUEST_PRINCIPAL_COMPARTMENT_TAG:
		return tr_iam_tag_get(principal_comp_tags(e), v->tag_ns,
		    v->tag_key);
	case TR_IAM_V_REQUEST_USER_ID:
		return is_user(e) ? nonempty(p->id) : NULL;
	case TR_IAM_V_REQUEST_USER_NAME:
		return is_user(e) ? nonempty(p->name) : NULL;
	case TR_IAM_V_REQUEST_INSTANCE_ID:
		return inst ? nonempty(p->id) : NULL;
	case TR_IAM_V_REQUEST_INSTANCE_COMPARTMENT_ID:
		return inst ? nonempty(p->compartment_id) : NULL;
	case TR_IAM_V_REQUEST_RESOURCE_COMPARTMENT_ID:
		return res ? nonempty(p->compartment_id) : NULL;
	case TR_IAM_V_REQUEST_INCLUDE_PLAINTEXT_KEY:
		return nonempty(r->include_plaintext_key);
	case TR_IAM_V_TARGET_COMPARTMENT_ID:
		return nonempty(r->compartment_id);
	case TR_IAM_V_TARGET_COMPARTMENT_NAME:
		return e->target == TR_IAM_NONE ? NULL :
		    nonempty(e->w->comps[e->target].name);
	case TR_IAM_V_TARGET_COMPARTMENT_TAG:
		return e->target == TR_IAM_NONE ? NULL :
		    tr_iam_tag_get(e->w->comps[e->target].tags, v->tag_ns,
		    v->tag_key);
	case TR_IAM_V_TARGET_RESOURCE_TAG:
		return tr_iam_tag_get(target_tags(e), v->tag_ns, v->tag_key);
	case TR_IAM_V_TARGET_VAULT_ID:
		return nonempty(r->vault_id);
	case TR_IAM_V_TARGET_KEY_ID:
		return nonempty(r->key_id);
	case TR_IAM_V_TARGET_SECRET_NAME:
		return nonempty(r->secret_name);
	case TR_IAM_V_TARGET_SECRET_ID:
		return nonempty(r->secret_id);
	case TR_IAM_V_TARGET_TENANT_ID:
		return nonempty(e->w->tenancy_id);
	case TR_IAM_V_TARGET_TENANT_NAME:
		return nonempty(e->w->tenancy_name);
	default:
		return NULL;
	}
}

static bool
is_list(enum tr_iam_var v)
{
	return v == TR_IAM_V_REQUEST_GROUPS_ID ||
	    v == TR_IAM_V_REQUEST_GROUPS_NAME ||
	    v == TR_IAM_V_REQUEST_DYNAMICGROUP_ID ||
	    v == TR_IAM_V_REQUEST_DYNAMICGROUP_NAME;
}

/* Whether a list variable applies to this principal at all. */
static bool
list_applies(const struct eval *e, enum tr_iam_var v)
{
	if (v == TR_IAM_V_REQUEST_GROUPS_ID ||
	    v == TR_IAM_V_REQUEST_GROUPS_NAME)
		return is_user(e);
	return is_workload(e);
}

/*
 * The next element of list variable `v` from *cur (start at 0), or NULL
 * at the end.
 */
static const char *
list_next(const struct eval *e, enum tr_iam_var v, size_t *cur)
{
	const struct tr_iam_world *w = e->w;
	uint32_t g;

	if (v == TR_IAM_V_REQUEST_GROUPS_ID ||
	    v == TR_IAM_V_REQUEST_GROUPS_NAME) {
		if (!is_user(e) || e->mlo + *cur >= e->mhi)
			return NULL;
		g = w->members[e->mlo + (*cur)++].group;
		return v == TR_IAM_V_REQUEST_GROUPS_ID ? w->groups[g].id :
		    w->groups[g].name;
	}
	if (!is_workload(e))
		return NULL;
	while (*cur < w->ndgs) {
		g = (uint32_t)(*cur)++;
		if (e->dg[g])
			return v == TR_IAM_V_REQUEST_DYNAMICGROUP_ID ?
			    w->dgs[g].id : w->dgs[g].name;
	}
	return NULL;
}

/* ---------------------------------------------------------------- */
/* time                                                             */
/* ---------------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Month, day of month, weekday and second of day of e->now_ms (UTC). */
static void
time_parts(struct eval *e)
{
	int64_t days, z, era, doe, yoe, doy, mp;

	if (e->time_done)
		return;
	e->time_done = true;
	days = floor_div(e->now_ms, 86400000);
	e->sod = (int)(floor_div(e->now_ms, 1000) - days * 86400);
	e->wday = (int)((days % 7 + 7 + 3) % 7) + 1;	/* 1970-01-01: Thu */
	z = days + 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	e->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	e->month = (int)(mp < 10 ? mp + 3 : mp - 9);
}

/* ---------------------------------------------------------------- */
/* conditions                                                       */
/* ---------------------------------------------------------------- */

static void
set_reason(struct eval *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_reason(struct eval *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->tracing)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

/* Render value `x` as written, for reasons. */
static void
value_text(const struct tr_iam_value *x, char *out, size_t outsz)
{
	switch (x->kind) {
	case TR_IAM_VAL_STRING:
		(void)snprintf(out, outsz, "'%.100s'", x->s);
		break;
	case TR_IAM_VAL_PATTERN:
		(void)snprintf(out, outsz, "/%.100s/", x->s);
		break;
	case TR_IAM_VAL_VAR:
		(void)snprintf(out, outsz, "%.100s", x->var.name);
		break;
	}
}

/*
 * Does actual value `v` match expected value `x`?  A variable on the
 * right that does not apply sets *absent.
 */
static bool
value_match(struct eval *e, const char *v, const struct tr_iam_value *x,
    bool *absent)
{
	const char *r;

	switch (x->kind) {
	case TR_IAM_VAL_STRING:
		return tr_iam_eq_ci(v, strlen(v), x->s, x->len);
	case TR_IAM_VAL_PATTERN:
		return tr_iam_glob_ci(x->s, x->len, v, strlen(v));
	case TR_IAM_VAL_VAR:
		r = var_scalar(e, &x->var);
		if (r == NULL) {
			*absent = true;
			return false;
		}
		return tr_iam_streq_ci(v, r);
	}
	return false;
}

/* Does `v` match any of the condition's values? */
static bool
any_value_match(struct eval *e, const struct tr_iam_cond *c, const char *v,
    bool *absent)
{
	size_t i;

	for (i = 0; i < c->nvals; i++)
		if (value_match(e, v, &c->vals[i], absent))
			return true;
	return false;
}

static bool
eval_time(struct eval *e, const struct tr_iam_cond *c)
{
	char now[TR_TIME_RFC3339_LEN], lim[TR_TIME_RFC3339_LEN];
	bool in = false, hit;
	size_t i;
	int cur;

	if (c->op == TR_IAM_OP_BEFORE || c->op == TR_IAM_OP_AFTER) {
		hit = c->op == TR_IAM_OP_BEFORE ? e->now_ms < c->t0 :
		    e->now_ms > c->t0;
		if (!hit && e->tracing) {
			tr_time_rfc3339(now, e->now_ms);
			tr_time_rfc3339(lim, c->t0);
			set_reason(e, "request.utc-timestamp is %s, not %s %s",
			    now, c->op == TR_IAM_OP_BEFORE ? "before" :
			    "after", lim);
		}
		return hit;
	}
	time_parts(e);
	if (c->op == TR_IAM_OP_BETWEEN) {
		hit = c->t0 <= c->t1 ? e->sod >= c->t0 && e->sod <= c->t1 :
		    e->sod >= c->t0 || e->sod <= c->t1;
		if (!hit)
			set_reason(e, "request.utc-timestamp.time-of-day is "
			    "%02d:%02d:%02dZ, outside the interval", e->sod /
			    3600, e->sod / 60 % 60, e->sod % 60);
		return hit;
	}
	cur = c->lhs.var == TR_IAM_V_REQUEST_UTC_MONTH_OF_YEAR ? e->month :
	    c->lhs.var == TR_IAM_V_REQUEST_UTC_DAY_OF_MONTH ? e->mday :
	    e->wday;
	for (i = 0; i < c->nvals; i++)
		if (c->vals[i].num == cur)
			in = true;
	hit = (c->op == TR_IAM_OP_EQ || c->op == TR_IAM_OP_IN) ? in : !in;
	if (!hit)
		set_reason(e, "%s is %d, %s the values of the condition",
		    c->lhs.name, cur, in ? "one of" : "not one of");
	return hit;
}

/* A comparison: see the file comment for the rules. */
static bool
eval_cmp(struct eval *e, const struct tr_iam_cond *c)
{
	char want[128];
	const char *v;
	bool positive, hit = false, absent = false;
	size_t cur = 0, nv = 0;

	if (c->lhs.var >= TR_IAM_V_REQUEST_UTC_TIMESTAMP &&
	    c->lhs.var <= TR_IAM_V_REQUEST_UTC_TIME_OF_DAY)
		return eval_time(e, c);
	positive = c->op == TR_IAM_OP_EQ || c->op == TR_IAM_OP_IN;
	want[0] = '\0';
	if (e->tracing)
		value_text(&c->vals[0], want, sizeof(want));
	if (is_list(c->lhs.var)) {
		if (!list_applies(e, c->lhs.var)) {
			set_reason(e, "%s does not apply to this request (a "
			    "condition on it is false, even with !=)",
			    c->lhs.name);
			return false;
		}
		for (v = list_next(e, c->lhs.var, &cur); v != NULL && !hit;
		    v = list_next(e, c->lhs.var, &cur)) {
			nv++;
			hit = any_value_match(e, c, v, &absent);
		}
		if (absent) {
			set_reason(e, "%s does not apply to this request",
			    c->vals[0].var.name);
			return false;
		}
		if (hit != positive)
			set_reason(e, "%s (%zu value%s) %s %s%s", c->lhs.name,
			    nv, nv == 1 ? "" : "s", positive ?
			    "has no value matching" : "has a value matching",
			    want, c->nvals > 1 ? " or another listed value" :
			    "");
		return hit == positive;
	}
	v = var_scalar(e, &c->lhs);
	if (v == NULL) {
		set_reason(e, "%s does not apply to this request (a condition "
		    "on it is false, even with !=)", c->lhs.name);
		return false;
	}
	hit = any_value_match(e, c, v, &absent);
	if (absent) {
		set_reason(e, "%s does not apply to this request",
		    c->vals[0].var.name);
		return false;
	}
	if (hit != positive)
		set_reason(e, "%s is '%.100s', which %s %s%s", c->lhs.name, v,
		    positive ? "does not match" : "matches the excluded",
		    want, c->nvals > 1 ? " (or the other listed values)" : "");
	return hit == positive;
}

/* Recursion bounded by TR_IAM_COND_DEPTH_MAX (parser). */
static bool
eval_cond(struct eval *e, const struct tr_iam_cond *c)
{
	char inner[sizeof(e->reason)];
	size_t i;

	switch (c->kind) {
	case TR_IAM_COND_CMP:
		return eval_cmp(e, c);
	case TR_IAM_COND_ALL:
		for (i = 0; i < c->nkids; i++)
			if (!eval_cond(e, c->kids[i]))
				return false;
		return true;
	case TR_IAM_COND_ANY:
		for (i = 0; i < c->nkids; i++)
			if (eval_cond(e, c->kids[i]))
				return true;
		if (e->tracing) {
			(void)snprintf(inner, sizeof(inner), "%s", e->reason);
			set_reason(e, "no condition of any {...} holds (the "
			    "last: %s)", inner);
		}
		return false;
	}
	return false;
}

/* ---------------------------------------------------------------- */
/* statements                                                       */
/* ---------------------------------------------------------------- */

enum verdict {
	V_SKIPPED,
	V_SUBJECT,
	V_PERMISSION,
	V_LOCATION,
	V_CONDITION,
	V_MATCH
};

static bool
user_in_group(const struct eval *e, uint32_t g)
{
	size_t i;

	for (i = e->mlo; i < e->mhi; i++)
		if (e->w->members[i].group == g)
			return true;
	return false;
}

static bool
subject_matches(const struct eval *e, const struct tr_iam_wstmt *ws)
{
	const struct tr_iam_stmt *st = ws->st;
	size_t i;

	switch (st->subject) {
	case TR_IAM_SUBJ_ANY_USER:
		return true;
	case TR_IAM_SUBJ_ANY_GROUP:
		return is_user(e) ? e->mhi > e->mlo : e->ndg_matched > 0;
	case TR_IAM_SUBJ_GROUP:
		if (!is_user(e))
			return false;
		for (i = 0; i < st->nitems; i++)
			if (ws->subj[i] != TR_IAM_NONE &&
			    user_in_group(e, ws->subj[i]))
				return true;
		return false;
	case TR_IAM_SUBJ_DYNAMIC_GROUP:
		if (!is_workload(e))
			return false;
		for (i = 0; i < st->nitems; i++)
			if (ws->subj[i] != TR_IAM_NONE && e->dg[ws->subj[i]])
				return true;
		return false;
	}
	return false;
}

static enum verdict
stmt_eval(struct eval *e, const struct tr_iam_wstmt *ws)
{
	if (ws->error != NULL || ws->st == NULL)
		return V_SKIPPED;
	if (!subject_matches(e, ws))
		return V_SUBJECT;
	if (!tr_iam_permset_has(&ws->st->perms, e->pidx))
		return V_PERMISSION;
	if (e->target == TR_IAM_NONE ||
	    !tr_iam_world_comp_below(e->w, e->target, ws->location))
		return V_LOCATION;
	if (ws->st->cond != NULL && !eval_cond(e, ws->st->cond))
		return V_CONDITION;
	return V_MATCH;
}

/* ---------------------------------------------------------------- */
/* candidate statements                                             */
/* ---------------------------------------------------------------- */

/*
 * The statements whose subject can match the principal: a merge of the
 * sorted per-subject lists of world.c, each statement once, in world
 * order.  `all` walks every statement (tracing, or too many lists).
 */
struct cand {
	const uint32_t *l[CAND_LISTS];
	size_t n[CAND_LISTS];
	size_t pos[CAND_LISTS];
	size_t nl;
	bool all;
	size_t next;
	size_t total;
};

static void
cand_add(struct cand *c, const uint32_t *l, size_t n)
{
	if (n == 0 || c->all)
		return;
	if (c->nl == CAND_LISTS) {
		c->all = true;
		return;
	}
	c->l[c->nl] = l;
	c->n[c->nl] = n;
	c->pos[c->nl] = 0;
	c->nl++;
}

static void
cand_init(struct cand *c, const struct eval *e, bool all)
{
	const struct tr_iam_world *w = e->w;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->all = all;
	c->total = w->nstmts;
	cand_add(c, w->any_user_stmts, w->nany_user);
	if (is_user(e)) {
		if (e->mhi > e->mlo)
			cand_add(c, w->any_group_stmts, w->nany_group);
		for (i = e->mlo; i < e->mhi; i++)
			cand_add(c, w->groups[w->members[i].group].stmts,
			    w->groups[w->members[i].group].nstmts);
	} else {
		if (e->ndg_matched > 0)
			cand_add(c, w->any_group_stmts, w->nany_group);
		for (i = 0; i < w->ndgs; i++)
			if (e->dg[i])
				cand_add(c, w->dgs[i].stmts, w->dgs[i].nstmts);
	}
}

static bool
cand_next(struct cand *c, uint32_t *si)
{
	uint32_t min = TR_IAM_NONE;
	size_t i;

	if (c->all) {
		if (c->next >= c->total)
			return false;
		*si = (uint32_t)c->next++;
		return true;
	}
	for (i = 0; i < c->nl; i++)
		if (c->pos[i] < c->n[i] && c->l[i][c->pos[i]] < min)
			min = c->l[i][c->pos[i]];
	if (min == TR_IAM_NONE)
		return false;
	for (i = 0; i < c->nl; i++)
		if (c->pos[i] < c->n[i] && c->l[i][c->pos[i]] == min)
			c->pos[i]++;
	*si = min;
	return true;
}

/* ---------------------------------------------------------------- */
/* trace                                                            */
/* ---------------------------------------------------------------- */

static const char *
kind_name(enum tr_principal_kind k)
{
	switch (k) {
	case TR_PRINCIPAL_USER:
		return "user";
	case TR_PRINCIPAL_RESOURCE:
		return "resource principal";
	case TR_PRINCIPAL_INSTANCE:
		return "instance principal";
	}
	return "principal";
}

/* "A:B:C" for compartment c relative to the root, "tenancy" for it. */
static void
comp_path(const struct tr_iam_world *w, uint32_t c, char *out, size_t outsz)
{
	uint32_t chain[16];
	size_t n = 0, used = 0;
	int k;

	out[0] = '\0';
	if (c == w->root) {
		(void)snprintf(out, outsz, "tenancy");
		return;
	}
	while (c != TR_IAM_NONE && c != w->root && n < 16) {
		chain[n++] = c;
		c = w->comps[c].parent;
	}
	while (n > 0 && used < outsz) {
		k = snprintf(out + used, outsz - used, "%s%s",
		    used == 0 ? "compartment " : ":",
		    w->comps[chain[--n]].name);
		if (k < 0)
			return;
		used += (size_t)k;
	}
}

static void
trace_request(const struct eval *e, struct tr_buf *t)
{
	const struct tr_iam_world *w = e->w;
	const struct tr_principal *p = e->p;
	char where[300];
	size_t i, cur = 0, n = 0;
	const char *v;

	(void)tr_buf_addf(t, "request: %s %s", kind_name(p->kind), p->id);
	if (p->name[0] != '\0')
		(void)tr_buf_addf(t, " (%s)", p->name);
	if (is_user(e)) {
		(void)tr_buf_addstr(t, ", groups: ");
		for (v = list_next(e, TR_IAM_V_REQUEST_GROUPS_NAME, &cur);
		    v != NULL;
		    v = list_next(e, TR_IAM_V_REQUEST_GROUPS_NAME, &cur))
			(void)tr_buf_addf(t, "%s%s", n++ == 0 ? "" : ", ", v);
	} else {
		(void)tr_buf_addf(t, ", type %s, compartment %s, dynamic "
		    "groups: ", e->ptype, p->compartment_id);
		for (i = 0; i < w->ndgs; i++)
			if (e->dg[i])
				(void)tr_buf_addf(t, "%s%s", n++ == 0 ? "" :
				    ", ", w->dgs[i].name);
	}
	if (n == 0)
		(void)tr_buf_addstr(t, "(none)");
	if (e->target != TR_IAM_NONE)
		comp_path(w, e->target, where, sizeof(where));
	else
		(void)snprintf(where, sizeof(where), "unknown compartment %s",
		    e->req->compartment_id != NULL ? e->req->compartment_id :
		    "(none)");
	(void)tr_buf_addf(t, "; operation %s on %s",
	    e->req->operation != NULL ? e->req->operation : "(none)", where);
	if (e->req->secret_name != NULL)
		(void)tr_buf_addf(t, ", secret %s", e->req->secret_name);
	if (e->req->key_id != NULL)
		(void)tr_buf_addf(t, ", key %s", e->req->key_id);
	(void)tr_buf_addstr(t, "; needs ");
	for (i = 0; e->req->permissions != NULL &&
	    e->req->permissions[i] != NULL; i++)
		(void)tr_buf_addf(t, "%s%s", i == 0 ? "" : ", ",
		    e->req->permissions[i]);
	if (i == 0)
		(void)tr_buf_addstr(t, "(nothing)");
	(void)tr_buf_addstr(t, "\n");
}

/* "Writers, Ops (does not exist)": the names a subject lists. */
static void
subject_names(const struct tr_iam_wstmt *ws, char *out, size_t outsz)
{
	const struct tr_iam_subject_item *it;
	size_t i, used = 0;
	int k;

	out[0] = '\0';
	for (i = 0; i < ws->st->nitems && used < outsz; i++) {
		it = &ws->st->items[i];
		k = snprintf(out + used, outsz - used, "%s%s%s", i == 0 ? "" :
		    ", ", it->name != NULL ? it->name : it->id,
		    ws->subj[i] == TR_IAM_NONE ? " (does not exist)" : "");
		if (k < 0)
			return;
		used += (size_t)k;
	}
}

/* Why the subject of `ws` does not match, into out. */
static void
subject_reason(const struct eval *e, const struct tr_iam_wstmt *ws,
    char *out, size_t outsz)
{
	const struct tr_iam_stmt *st = ws->st;
	char names[300];

	subject_names(ws, names, sizeof(names));
	switch (st->subject) {
	case TR_IAM_SUBJ_ANY_GROUP:
		(void)snprintf(out, outsz, is_user(e) ? "the user is in no "
		    "group" : "the workload matches no dynamic group");
		return;
	case TR_IAM_SUBJ_GROUP:
		if (!is_user(e)) {
			(void)snprintf(out, outsz, "groups hold users; the "
			    "caller is a %s", kind_name(e->p->kind));
			return;
		}
		(void)snprintf(out, outsz, "the user is in none of the groups "
		    "%s", names);
		return;
	case TR_IAM_SUBJ_DYNAMIC_GROUP:
		if (!is_workload(e)) {
			(void)snprintf(out, outsz, "dynamic groups hold "
			    "instances and resources; the caller is a user");
			return;
		}
		(void)snprintf(out, outsz, "the workload matches none of the "
		    "dynamic groups %s", names);
		return;
	default:
		(void)snprintf(out, outsz, "no match");
		return;
	}
}

static void
trace_stmt(struct eval *e, const struct tr_iam_wstmt *ws, enum verdict v,
    struct tr_buf *t)
{
	const struct tr_iam_world *w = e->w;
	char why[800], grant[400], loc[300], tgt[300];

	switch (v) {
	case V_SKIPPED:
		(void)snprintf(why, sizeof(why), "not evaluated: %s",
		    ws->error != NULL ? ws->error : "did not parse");
		break;
	case V_SUBJECT:
		subject_reason(e, ws, grant, sizeof(grant));
		(void)snprintf(why, sizeof(why), "subject did not match: %s",
		    grant);
		break;
	case V_PERMISSION:
		tr_iam_stmt_grant_text(ws->st, grant, sizeof(grant));
		if (e->pidx < 0)
			(void)snprintf(why, sizeof(why), "permission not "
			    "covered: %s is not a permission tresor knows",
			    e->perm);
		else
			(void)snprintf(why, sizeof(why), "permission not "
			    "covered: %s does not include %s", grant, e->perm);
		break;
	case V_LOCATION:
		comp_path(w, ws->location, loc, sizeof(loc));
		if (e->target == TR_IAM_NONE)
			(void)snprintf(why, sizeof(why), "location outside: "
			    "the target compartment is unknown");
		else {
			comp_path(w, e->target, tgt, sizeof(tgt));
			(void)snprintf(why, sizeof(why), "location outside: "
			    "the target is in %s, which is not %s or below "
			    "it", tgt, loc);
		}
		break;
	case V_CONDITION:
		(void)snprintf(why, sizeof(why), "condition false: %s",
		    e->reason);
		break;
	case V_MATCH:
		(void)snprintf(why, sizeof(why), "matched: grants %s",
		    e->perm);
		break;
	}
	(void)tr_buf_addf(t, "  policy '%s' statement %zu: \"%s\": %s\n",
	    w->policies[ws->policy].name, ws->index, ws->text, why);
}

/* ---------------------------------------------------------------- */
/* suggestions                                                      */
/* ---------------------------------------------------------------- */

static void
suggest(const struct eval *e, const char *perm, char *out, size_t outsz)
{
	const struct tr_iam_world *w = e->w;
	char what[96], loc[300];
	size_t i;
	int p;

	p = tr_iam_perm_lookup(perm, strlen(perm));
	if (p < 0 || !tr_iam_perm_grant_hint(p, what, sizeof(what)))
		(void)snprintf(what, sizeof(what), "{%s}", perm);
	if (e->target != TR_IAM_NONE)
		comp_path(w, e->target, loc, sizeof(loc));
	else
		(void)snprintf(loc, sizeof(loc), "compartment <name>");
	if (is_user(e) && e->mhi > e->mlo) {
		(void)snprintf(out, outsz, "Allow group %s to %s in %s",
		    w->groups[w->members[e->mlo].group].name, what, loc);
		return;
	}
	if (is_user(e)) {
		(void)snprintf(out, outsz, "Allow group <a group of %s> to %s "
		    "in %s", e->p->name[0] != '\0' ? e->p->name : e->p->id,
		    what, loc);
		return;
	}
	for (i = 0; i < w->ndgs; i++) {
		if (e->dg[i]) {
			(void)snprintf(out, outsz, "Allow dynamic-group %s to "
			    "%s in %s", w->dgs[i].name, what, loc);
			return;
		}
	}
	(void)snprintf(out, outsz, "Allow any-user to %s in %s where "
	    "request.principal.id = '%s'", what, loc, e->p->id);
}

/* ---------------------------------------------------------------- */
/* the decision                                                     */
/* ---------------------------------------------------------------- */

/* Set up `e` for `req`: principal type, target, groups, dynamic groups. */
static int
eval_init(struct eval *e, const struct tr_iam_world *w,
    const struct tr_iam_request *req)
{
	const struct tr_principal *p = req->principal;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	memset(e, 0, offsetof(struct eval, dg_stack));
	e->w = w;
	e->req = req;
	e->p = p;
	e->now_ms = req->now_ms > 0 ? req->now_ms : tr_now_ms();
	e->target = tr_iam_world_comp(w, req->compartment_id);
	if (e->target != TR_IAM_NONE && !w->comps[e->target].in_tree)
		e->target = TR_IAM_NONE;
	if (p->resource_type[0] != '\0')
		e->ptype = p->resource_type;
	else
		e->ptype = p->kind == TR_PRINCIPAL_USER ? "user" :
		    p->kind == TR_PRINCIPAL_INSTANCE ? "instance" : "resource";
	if (w->ndgs <= DG_STACK) {
		e->dg = e->dg_stack;
		memset(e->dg_stack, 0, w->ndgs);
	} else {
		e->dg = tr_calloc(w->ndgs, 1);
		if (e->dg == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (p->kind == TR_PRINCIPAL_USER)
		tr_iam_world_user_range(w, p->id, &e->mlo, &e->mhi);
	if (!is_workload(e)) {
		rc = 0;
		goto out;
	}
	/* dynamic groups: matched now, from the rules of the world */
	if (w->any_rule_uses_tags) {
		rc = tr_iam_tags_parse(&e->ptags, p->defined_tags_json);
		if (rc == TRESOR_ENOMEM)
			goto out;
	}
	for (i = 0; i < w->ndgs; i++) {
		if (tr_iam_rule_match(w->dgs[i].rule, p, e->ptags)) {
			e->dg[i] = 1;
			e->ndg_matched++;
		}
	}
	rc = 0;
out:
	return rc;
}

static void
eval_dispose(struct eval *e)
{
	if (e->dg != e->dg_stack)
		tr_free(e->dg);
	e->dg = NULL;
	json_decref(e->ptags);
	json_decref(e->ttags);
	e->ptags = NULL;
	e->ttags = NULL;
}

/*
 * Decide one permission: the first statement that grants it, or
 * TR_IAM_NONE.  With a trace, every statement is considered and
 * explained.
 */
static uint32_t
decide_one(struct eval *e, const char *perm, struct tr_buf *trace)
{
	const struct tr_iam_wstmt *ws;
	struct cand c;
	enum verdict v;
	uint32_t si, grant = TR_IAM_NONE;

	e->perm = perm;
	e->pidx = tr_iam_perm_lookup(perm, strlen(perm));
	cand_init(&c, e, trace != NULL);
	while (cand_next(&c, &si)) {
		ws = &e->w->stmts[si];
		e->reason[0] = '\0';
		v = stmt_eval(e, ws);
		if (trace != NULL)
			trace_stmt(e, ws, v, trace);
		if (v == V_MATCH && grant == TR_IAM_NONE) {
			grant = si;
			if (trace == NULL)
				break;
		}
	}
	return grant;
}

/* The decision: rules in the file comment, contract in iam.h. */
int
tr_iam_authorize(const struct tr_iam_world *w,
    const struct tr_iam_request *req, struct tr_iam_decision *out,
    struct tr_buf *trace)
{
	const struct tr_iam_wstmt *ws;
	struct eval e;
	char hint[600];
	const char *perm;
	uint32_t grant;
	size_t i;
	bool all = true;
	int rc = TRESOR_EINTERNAL;

	e.dg = NULL;
	e.ptags = NULL;
	e.ttags = NULL;
	if (out == NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "no decision to fill");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if (w == NULL || req == NULL || req->principal == NULL) {
		if (trace != NULL)
			(void)tr_buf_addstr(trace, "decision: DENIED: no world "
			    "or no principal\n");
		rc = 0;
		goto out;
	}
	if (req->principal->tenancy_id[0] != '\0' &&
	    strcmp(req->principal->tenancy_id, w->tenancy_id) != 0) {
		if (trace != NULL)
			(void)tr_buf_addf(trace, "decision: DENIED: the caller "
			    "belongs to tenancy %s, not %s\n",
			    req->principal->tenancy_id, w->tenancy_id);
		rc = 0;
		goto out;
	}
	if ((req->principal->kind != TR_PRINCIPAL_USER &&
	    req->principal->kind != TR_PRINCIPAL_RESOURCE &&
	    req->principal->kind != TR_PRINCIPAL_INSTANCE) ||
	    req->principal->id[0] == '\0') {
		/* fail closed: any-user must not cover a half-made caller */
		if (trace != NULL)
			(void)tr_buf_addstr(trace, "decision: DENIED: the "
			    "caller has no principal kind or OCID\n");
		rc = 0;
		goto out;
	}
	if ((rc = eval_init(&e, w, req)) < 0)
		goto out;
	e.tracing = trace != NULL;
	if (trace != NULL)
		trace_request(&e, trace);
	if (req->permissions == NULL || req->permissions[0] == NULL) {
		if (trace != NULL)
			(void)tr_buf_addstr(trace, "decision: DENIED: the "
			    "request names no permission\n");
		rc = 0;
		goto out;
	}
	for (i = 0; req->permissions[i] != NULL; i++) {
		perm = req->permissions[i];
		if (trace != NULL)
			(void)tr_buf_addf(trace, "permission %s:\n", perm);
		grant = decide_one(&e, perm, trace);
		if (grant == TR_IAM_NONE) {
			if (all)
				(void)snprintf(out->missing_permission,
				    sizeof(out->missing_permission), "%s",
				    perm);
			all = false;
			if (trace != NULL) {
				suggest(&e, perm, hint, sizeof(hint));
				(void)tr_buf_addf(trace, "  => %s is not "
				    "granted; a statement such as \"%s\" "
				    "would grant it\n", perm, hint);
				continue;
			}
			break;
		}
		ws = &w->stmts[grant];
		(void)snprintf(out->granted_by, sizeof(out->granted_by),
		    "policy '%s' statement %zu: %s",
		    w->policies[ws->policy].name, ws->index, ws->text);
		if (trace != NULL)
			(void)tr_buf_addf(trace, "  => %s granted by policy "
			    "'%s' statement %zu\n", perm,
			    w->policies[ws->policy].name, ws->index);
	}
	if (e.rc < 0) {
		/* a tag document could not be parsed: fail closed */
		all = false;
		rc = e.rc;
		goto out;
	}
	out->allowed = all;
	if (!all)
		out->granted_by[0] = '\0';
	if (trace != NULL) {
		if (all)
			(void)tr_buf_addstr(trace, "decision: ALLOWED\n");
		else
			(void)tr_buf_addf(trace, "decision: DENIED: %s is not "
			    "granted\n", out->missing_permission);
	}
	rc = 0;
out:
	if (out != NULL && !out->allowed)
		out->granted_by[0] = '\0';
	eval_dispose(&e);
	if (rc == 0 && trace != NULL && tr_buf_error(trace) == TRESOR_ENOMEM)
		rc = TRESOR_ENOMEM;
	return rc;
}

/* A statement that would grant `permission`, for messages. */
int
tr_iam_suggest_statement(const struct tr_iam_world *w,
    const struct tr_iam_request *req, const char *permission, char *out,
    size_t outsz)
{
	struct eval e;
	int rc = TRESOR_EINTERNAL;

	e.dg = NULL;
	e.ptags = NULL;
	e.ttags = NULL;
	if (out == NULL || outsz == 0) {
		rc = tr_error_set(TRESOR_EINVAL, "no output buffer");
		goto out;
	}
	out[0] = '\0';
	if (w == NULL || req == NULL || req->principal == NULL ||
	    permission == NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "incomplete request");
		goto out;
	}
	if ((rc = eval_init(&e, w, req)) < 0)
		goto out;
	suggest(&e, permission, out, outsz);
	rc = 0;
out:
	eval_dispose(&e);
	return rc;
}
