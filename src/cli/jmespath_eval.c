/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JMESPath tree walker and the entry points of jmespath.h.
 *
 * Every evaluation step returns a new reference; JSON null means "no
 * match".  Values taken from the data are shared by reference, never
 * copied, and never changed.  Projections drop null results, multi-select
 * keeps them.  Work is charged to a budget (struct tr_jp_ctx) so that a
 * hostile expression cannot run for ever, and recursion is bounded by the
 * depth of the tree, which the parser caps.
 */
#include <string.h>

#include "cli/jmespath_int.h"
#include "util/alloc.h"
#include "util/error.h"

struct tr_jmespath {
	struct tr_jp_node *root;
};

static int
nomem(void)
{
	return tr_error_set(TRESOR_ENOMEM, "out of memory");
}

int
tr_jp_charge(struct tr_jp_ctx *ctx, size_t n)
{
	if (n > ctx->max_steps - ctx->steps)
		return tr_error_set(TRESOR_ELIMIT,
		    "limit: evaluation needs more than %zu steps",
		    ctx->max_steps);
	ctx->steps += n;
	return 0;
}

/* Append `v` (taken) to `arr`, charging one step. */
static int
append(struct tr_jp_ctx *ctx, json_t *arr, json_t *v)
{
	int rc;

	if ((rc = tr_jp_charge(ctx, 1)) < 0) {
		json_decref(v);
		return rc;
	}
	if (json_array_append_new(arr, v) < 0)
		return nomem();
	return 0;
}

/* a.b.c and a | b | c: each kid is applied to the result of the last. */
static int
eval_chain(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	json_t *v = json_incref(cur), *next = NULL;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	for (i = 0; i < n->nkids; i++) {
		rc = tr_jp_eval(ctx, n->kids[i], v, &next);
		json_decref(v);
		v = next;
		next = NULL;
		if (rc < 0)
			goto out;
	}
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

static void
eval_index(const struct tr_jp_node *n, json_t *cur, json_t **out)
{
	int64_t len, i = n->idx;

	*out = json_null();
	if (!json_is_array(cur))
		return;
	len = (int64_t)json_array_size(cur);
	if (i < 0)
		i += len;
	if (i < 0 || i >= len)
		return;
	*out = json_incref(json_array_get(cur, (size_t)i));
}

/* Clamp a slice bound the way Python does. */
static int64_t
slice_bound(bool has, int64_t v, int64_t len, int64_t step, bool start)
{
	if (!has) {
		if (step > 0)
			return start ? 0 : len;
		return start ? len - 1 : -1;
	}
	if (v < 0) {
		v += len;
		if (v < 0)
			v = step < 0 ? -1 : 0;
	} else if (v >= len) {
		v = step < 0 ? len - 1 : len;
	}
	return v;
}

static int
eval_slice(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	json_t *res = NULL;
	int64_t len, step, start, stop, count, k;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (!json_is_array(cur)) {
		*out = json_null();
		return 0;
	}
	len = (int64_t)json_array_size(cur);
	step = n->has[2] ? n->slice[2] : 1;
	start = slice_bound(n->has[0], n->slice[0], len, step, true);
	stop = slice_bound(n->has[1], n->slice[1], len, step, false);
	if (step > 0)
		count = stop > start ? (stop - start - 1) / step + 1 : 0;
	else
		count = start > stop ? (start - stop - 1) / -step + 1 : 0;
	if ((res = json_array()) == NULL) {
		rc = nomem();
		goto out;
	}
	for (k = 0; k < count; k++) {
		if ((rc = append(ctx, res, json_incref(json_array_get(cur,
		    (size_t)(start + k * step))))) < 0)
			goto out;
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	return rc;
}

/*
 * Apply `right` to each element of `base`, keeping the non-null results;
 * for a filter, only to the elements for which `cond` is true.
 */
static int
project(struct tr_jp_ctx *ctx, json_t *base, const struct tr_jp_node *cond,
    const struct tr_jp_node *right, json_t **out)
{
	json_t *res = NULL, *v = NULL, *el;
	void *it;
	size_t i, n;
	bool keep;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((res = json_array()) == NULL) {
		rc = nomem();
		goto out;
	}
	n = json_is_array(base) ? json_array_size(base) :
	    json_object_size(base);
	it = json_is_object(base) ? json_object_iter(base) : NULL;
	for (i = 0; i < n; i++) {
		if (json_is_array(base)) {
			el = json_array_get(base, i);
		} else {
			el = json_object_iter_value(it);
			it = json_object_iter_next(base, it);
		}
		if (cond != NULL) {
			if ((rc = tr_jp_eval(ctx, cond, el, &v)) < 0)
				goto out;
			keep = tr_jp_truthy(v);
			json_decref(v);
			v = NULL;
			if (!keep)
				continue;
		}
		if ((rc = tr_jp_eval(ctx, right, el, &v)) < 0)
			goto out;
		if (json_is_null(v)) {
			json_decref(v);
			v = NULL;
			continue;
		}
		rc = append(ctx, res, v);
		v = NULL;
		if (rc < 0)
			goto out;
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	json_decref(v);
	return rc;
}

/*
 * The projections: left[*]right (list), left.*right (object values) and
 * left[?cond]right (filter).  A left side of the wrong type gives null.
 */
static int
eval_projection(struct tr_jp_ctx *ctx, const struct tr_jp_node *n,
    json_t *cur, json_t **out)
{
	json_t *base = NULL;
	bool ok;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = tr_jp_eval(ctx, n->kids[0], cur, &base)) < 0)
		goto out;
	ok = n->kind == TR_JP_N_VPROJECT ? json_is_object(base) :
	    json_is_array(base);
	if (!ok) {
		*out = json_null();
		rc = 0;
		goto out;
	}
	if (n->kind == TR_JP_N_FILTER)
		rc = project(ctx, base, n->kids[1], n->kids[2], out);
	else
		rc = project(ctx, base, NULL, n->kids[1], out);
out:
	json_decref(base);
	return rc;
}

static int
eval_flatten(struct tr_jp_ctx *ctx, const struct tr_jp_node *n,
    json_t *cur, json_t **out)
{
	json_t *base = NULL, *res = NULL, *el;
	size_t i, j;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = tr_jp_eval(ctx, n->kids[0], cur, &base)) < 0)
		goto out;
	if (!json_is_array(base)) {
		*out = json_null();
		rc = 0;
		goto out;
	}
	if ((res = json_array()) == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < json_array_size(base); i++) {
		el = json_array_get(base, i);
		if (!json_is_array(el)) {
			if ((rc = append(ctx, res, json_incref(el))) < 0)
				goto out;
			continue;
		}
		for (j = 0; j < json_array_size(el); j++) {
			if ((rc = append(ctx, res,
			    json_incref(json_array_get(el, j)))) < 0)
				goto out;
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(base);
	json_decref(res);
	return rc;
}

/* [a, b] and {k: a}: null on a null current node. */
static int
eval_multi(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	json_t *res = NULL, *v = NULL;
	const struct tr_jp_node *kid;
	bool list = n->kind == TR_JP_N_MLIST;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (json_is_null(cur)) {
		*out = json_null();
		return 0;
	}
	res = list ? json_array() : json_object();
	if (res == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < n->nkids; i++) {
		kid = list ? n->kids[i] : n->kids[i]->kids[0];
		if ((rc = tr_jp_eval(ctx, kid, cur, &v)) < 0)
			goto out;
		if (list) {
			rc = append(ctx, res, v);
			v = NULL;
			if (rc < 0)
				goto out;
			continue;
		}
		if ((rc = tr_jp_charge(ctx, 1)) < 0)
			goto out;
		rc = json_object_setn_new(res, n->kids[i]->name,
		    n->kids[i]->name_len, v);
		v = NULL;
		if (rc < 0) {
			rc = nomem();
			goto out;
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	json_decref(v);
	return rc;
}

/*
 * a || b || c: the first true operand, else the last; a && b && c: the
 * first false operand, else the last.
 */
static int
eval_logic(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	json_t *v = NULL;
	bool want = n->kind == TR_JP_N_OR;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < n->nkids; i++) {
		if ((rc = tr_jp_eval(ctx, n->kids[i], cur, &v)) < 0)
			return rc;
		if (tr_jp_truthy(v) == want || i + 1 == n->nkids)
			break;
		json_decref(v);
		v = NULL;
	}
	*out = v;
	return 0;
}

static int
eval_cmp(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	json_t *a = NULL, *b = NULL;
	bool eq, res = false;
	int rc = TRESOR_EINTERNAL, c;

	*out = NULL;
	if ((rc = tr_jp_eval(ctx, n->kids[0], cur, &a)) < 0)
		goto out;
	if ((rc = tr_jp_eval(ctx, n->kids[1], cur, &b)) < 0)
		goto out;
	if (n->cmp == TR_JP_CMP_EQ || n->cmp == TR_JP_CMP_NE) {
		if ((rc = tr_jp_equal(ctx, a, b, &eq)) < 0)
			goto out;
		*out = json_boolean(eq == (n->cmp == TR_JP_CMP_EQ));
		rc = 0;
		goto out;
	}
	/* ordering: numbers, and (as jmespath.py) strings */
	if (!(json_is_number(a) && json_is_number(b)) &&
	    !(json_is_string(a) && json_is_string(b))) {
		*out = json_null();
		rc = 0;
		goto out;
	}
	if ((rc = tr_jp_charge(ctx, tr_jp_cost(a))) < 0)
		goto out;
	c = tr_jp_order(a, b);
	switch (n->cmp) {
	case TR_JP_CMP_LT:
		res = c < 0;
		break;
	case TR_JP_CMP_LTE:
		res = c <= 0;
		break;
	case TR_JP_CMP_GT:
		res = c > 0;
		break;
	default:
		res = c >= 0;
		break;
	}
	*out = json_boolean(res);
	rc = 0;
out:
	json_decref(a);
	json_decref(b);
	return rc;
}

/*
 * A function call: arguments that are &expressions are passed unevaluated,
 * the others evaluated against the current node.
 */
static int
eval_call(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	struct tr_jp_arg *args = NULL;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	args = tr_calloc(n->nkids, sizeof(*args));
	if (args == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < n->nkids; i++) {
		if (n->kids[i]->kind == TR_JP_N_EXPREF) {
			args[i].expr = n->kids[i]->kids[0];
			continue;
		}
		if ((rc = tr_jp_eval(ctx, n->kids[i], cur, &args[i].v)) < 0)
			goto out;
	}
	rc = tr_jp_func_call(ctx, n->fn, args, n->nkids, out);
out:
	if (args != NULL)
		for (i = 0; i < n->nkids; i++)
			json_decref(args[i].v);
	tr_free(args);
	return rc;
}

int
tr_jp_eval(struct tr_jp_ctx *ctx, const struct tr_jp_node *n, json_t *cur,
    json_t **out)
{
	json_t *v = NULL;
	int rc;

	*out = NULL;
	if ((rc = tr_jp_charge(ctx, 1)) < 0)
		return rc;
	switch (n->kind) {
	case TR_JP_N_FIELD:
		if (json_is_object(cur))
			v = json_object_getn(cur, n->name, n->name_len);
		*out = v != NULL ? json_incref(v) : json_null();
		return 0;
	case TR_JP_N_CURRENT:
		*out = json_incref(cur);
		return 0;
	case TR_JP_N_LITERAL:
		*out = json_incref(n->lit);
		return 0;
	case TR_JP_N_INDEX:
		eval_index(n, cur, out);
		return 0;
	case TR_JP_N_SLICE:
		return eval_slice(ctx, n, cur, out);
	case TR_JP_N_SUBEXPR:
	case TR_JP_N_PIPE:
		return eval_chain(ctx, n, cur, out);
	case TR_JP_N_PROJECT:
	case TR_JP_N_VPROJECT:
	case TR_JP_N_FILTER:
		return eval_projection(ctx, n, cur, out);
	case TR_JP_N_FLATTEN:
		return eval_flatten(ctx, n, cur, out);
	case TR_JP_N_MLIST:
	case TR_JP_N_MHASH:
		return eval_multi(ctx, n, cur, out);
	case TR_JP_N_OR:
	case TR_JP_N_AND:
		return eval_logic(ctx, n, cur, out);
	case TR_JP_N_NOT:
		if ((rc = tr_jp_eval(ctx, n->kids[0], cur, &v)) < 0)
			return rc;
		*out = json_boolean(!tr_jp_truthy(v));
		json_decref(v);
		return 0;
	case TR_JP_N_CMP:
		return eval_cmp(ctx, n, cur, out);
	case TR_JP_N_FUNC:
		return eval_call(ctx, n, cur, out);
	case TR_JP_N_EXPREF:
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-type: an &expression can only be passed to a "
		    "function that takes one");
	default:
		break;
	}
	return tr_error_set(TRESOR_EINTERNAL, "jmespath: bad node kind %d",
	    (int)n->kind);
}

/* ---------------------------------------------------------------- */
/* entry points                                                     */
/* ---------------------------------------------------------------- */

int
tr_jmespath_compile(struct tr_jmespath **out, const char *expr)
{
	struct tr_jmespath *jp = NULL;
	size_t len;
	int rc = TRESOR_EINTERNAL;

	if (out == NULL || expr == NULL)
		return tr_error_set(TRESOR_EINVAL, "syntax: no expression");
	*out = NULL;
	len = strnlen(expr, TR_JMESPATH_MAX_EXPR + 1);
	if (len > TR_JMESPATH_MAX_EXPR) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: expression longer than %zu bytes",
		    TR_JMESPATH_MAX_EXPR);
		goto out;
	}
	jp = tr_calloc(1, sizeof(*jp));
	if (jp == NULL) {
		rc = nomem();
		goto out;
	}
	if ((rc = tr_jp_parse(&jp->root, expr, len)) < 0)
		goto out;
	*out = jp;
	jp = NULL;
	rc = 0;
out:
	tr_jmespath_free(jp);
	return rc;
}

/*
 * Walk a result as its reader will, charging one step per value.  Values
 * are shared, so a few steps of evaluation can make a result whose
 * printed size is exponential ([@, @] | [@, @] | ...); this keeps what the
 * caller prints, and its nesting, within the same limits as the search.
 */
static int
check_result(struct tr_jp_ctx *ctx, const json_t *v, size_t depth)
{
	const char *key;
	json_t *m;
	size_t i;
	int rc;

	if ((rc = tr_jp_charge(ctx, 1)) < 0)
		return rc;
	if (depth > TR_JMESPATH_MAX_VALUE_DEPTH)
		return tr_error_set(TRESOR_ELIMIT,
		    "limit: result nested deeper than %d levels",
		    TR_JMESPATH_MAX_VALUE_DEPTH);
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if ((rc = check_result(ctx, json_array_get(v, i),
			    depth + 1)) < 0)
				return rc;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, m)
			if ((rc = check_result(ctx, m, depth + 1)) < 0)
				return rc;
	}
	return 0;
}

int
tr_jmespath_search(json_t **out, const struct tr_jmespath *jp,
    const json_t *data, size_t max_steps)
{
	struct tr_jp_ctx ctx;
	json_t *res = NULL;
	int rc = TRESOR_EINTERNAL;

	if (out == NULL || jp == NULL || data == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-value: no expression or no data");
	*out = NULL;
	ctx.steps = 0;
	ctx.max_steps = max_steps == 0 ? TR_JMESPATH_STEPS_DEFAULT :
	    max_steps;
	/* the data is only read; the cast is for jansson's refcounting */
	if ((rc = tr_jp_eval(&ctx, jp->root, (json_t *)data, &res)) < 0)
		goto out;
	ctx.steps = 0;
	if ((rc = check_result(&ctx, res, 0)) < 0)
		goto out;
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	return rc;
}

void
tr_jmespath_free(struct tr_jmespath *jp)
{
	if (jp == NULL)
		return;
	tr_jp_node_free(jp->root);
	tr_free(jp);
}

int
tr_jmespath_eval(json_t **out, const char *expr, const json_t *data)
{
	struct tr_jmespath *jp = NULL;
	int rc = TRESOR_EINTERNAL;

	if (out != NULL)
		*out = NULL;
	if ((rc = tr_jmespath_compile(&jp, expr)) < 0)
		goto out;
	if ((rc = tr_jmespath_search(out, jp, data, 0)) < 0)
		goto out;
	rc = 0;
out:
	tr_jmespath_free(jp);
	return rc;
}
