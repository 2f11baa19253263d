/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JMESPath built-in functions (specification section "Built-in
 * Functions") and their signatures (interface: jmespath_int.h).
 *
 * Arguments are checked against the signature before a function runs:
 * a wrong count was already refused by the parser, a wrong type is
 * "invalid-type".  Types beyond the signature (sort_by keys, mixed
 * min_by keys) are checked by the function itself.  Sorting is a stable
 * merge sort, as sort_by's ties must keep their order.  Arithmetic on
 * integers stays integral while it fits int64_t; avg() is always real.
 */
#include <math.h>
#include <string.h>

#include "cli/jmespath_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"

static int
nomem(void)
{
	return tr_error_set(TRESOR_ENOMEM, "out of memory");
}

/* Turn the ETOOBIG of a string buffer into the "limit:" error. */
static int
string_limit(int rc)
{
	if (rc == TRESOR_ETOOBIG)
		return tr_error_set(TRESOR_ELIMIT,
		    "limit: string result longer than %zu bytes",
		    TR_JMESPATH_MAX_STRING);
	return rc;
}

/* Hand `v` back through *out, or fail when jansson could not make it. */
static int
give(json_t *v, json_t **out)
{
	*out = v;
	return v == NULL ? nomem() : 0;
}

/* ---------------------------------------------------------------- */
/* sorting                                                          */
/* ---------------------------------------------------------------- */

/*
 * Sort `n` indices stably by keys[idx] (all numbers or all strings),
 * bottom-up merge sort with `tmp` of n entries.
 */
static void
merge_sort(size_t *idx, size_t *tmp, size_t n, json_t *const *keys)
{
	size_t width, lo, mid, hi, i, j, k;
	size_t *src = idx, *dst = tmp, *sw;

	for (width = 1; width < n; width *= 2) {
		for (lo = 0; lo < n; lo += 2 * width) {
			mid = lo + width < n ? lo + width : n;
			hi = lo + 2 * width < n ? lo + 2 * width : n;
			i = lo;
			j = mid;
			for (k = lo; k < hi; k++) {
				if (i < mid && (j >= hi ||
				    tr_jp_order(keys[src[i]],
				    keys[src[j]]) <= 0))
					dst[k] = src[i++];
				else
					dst[k] = src[j++];
			}
		}
		sw = src;
		src = dst;
		dst = sw;
	}
	if (src != idx)
		memcpy(idx, src, n * sizeof(*idx));
}

/*
 * A new array of the elements of `arr` in the order of `keys` (one per
 * element; NULL to sort the elements themselves).
 */
static int
sorted_copy(struct tr_jp_ctx *ctx, json_t *arr, json_t *const *keys,
    json_t **out)
{
	json_t *res = NULL;
	size_t *idx = NULL, *tmp = NULL;
	size_t n = json_array_size(arr), i, lg = 1, cost, total = 0;
	json_t **own = NULL, *key;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	/*
	 * A merge pass outputs each element once and no comparison reads
	 * more of a string than the element it outputs: lg passes of
	 * (1 + cost) per element bound the work.
	 */
	while (((size_t)1 << lg) < n && lg < 63)
		lg++;
	for (i = 0; i < n; i++) {
		key = keys != NULL ? keys[i] : json_array_get(arr, i);
		cost = 1 + tr_jp_cost(key);
		total = total > SIZE_MAX - cost ? SIZE_MAX : total + cost;
	}
	for (i = 0; i < lg; i++)
		if ((rc = tr_jp_charge(ctx, total)) < 0)
			goto out;
	idx = tr_reallocarray(NULL, n, sizeof(*idx));
	tmp = tr_reallocarray(NULL, n, sizeof(*tmp));
	if (keys == NULL)
		own = tr_reallocarray(NULL, n, sizeof(*own));
	res = json_array();
	if (idx == NULL || tmp == NULL || res == NULL ||
	    (keys == NULL && own == NULL)) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < n; i++) {
		idx[i] = i;
		if (own != NULL)
			own[i] = json_array_get(arr, i);
	}
	merge_sort(idx, tmp, n, keys != NULL ? keys : own);
	for (i = 0; i < n; i++) {
		if (json_array_append(res, json_array_get(arr, idx[i])) < 0) {
			rc = nomem();
			goto out;
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	tr_free(idx);
	tr_free(tmp);
	tr_free(own);
	return rc;
}

/*
 * Evaluate `expr` on each element of `arr` into a new array of keys in
 * *keys_out (n references; free with free_keys).  Every key must be a
 * number, or every key a string.
 */
static int
eval_keys(struct tr_jp_ctx *ctx, const char *fname,
    const struct tr_jp_node *expr, json_t *arr, json_t ***keys_out)
{
	json_t **keys = NULL;
	size_t n = json_array_size(arr), i;
	int rc = TRESOR_EINTERNAL;

	*keys_out = NULL;
	keys = tr_calloc(n, sizeof(*keys));
	if (keys == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = tr_jp_eval(ctx, expr, json_array_get(arr, i),
		    &keys[i])) < 0)
			goto out;
		if (!json_is_number(keys[i]) && !json_is_string(keys[i])) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "invalid-type: %s() expression must give numbers "
			    "or strings, got %s", fname,
			    tr_jp_type_name(keys[i]));
			goto out;
		}
		if (i > 0 && json_is_number(keys[i]) !=
		    json_is_number(keys[0])) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "invalid-type: %s() expression gave both numbers "
			    "and strings", fname);
			goto out;
		}
	}
	*keys_out = keys;
	keys = NULL;
	rc = 0;
out:
	if (keys != NULL)
		for (i = 0; i < n; i++)
			json_decref(keys[i]);
	tr_free(keys);
	return rc;
}

static void
free_keys(json_t **keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		json_decref(keys[i]);
	tr_free(keys);
}

/* ---------------------------------------------------------------- */
/* the functions                                                    */
/* ---------------------------------------------------------------- */

static int
fn_abs(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_int_t i;

	if (json_is_real(a[0].v))
		return give(json_real(fabs(json_real_value(a[0].v))), out);
	i = json_integer_value(a[0].v);
	if (i == INT64_MIN)
		return give(json_real(-(double)i), out);
	return give(json_integer(i < 0 ? -i : i), out);
}

static int
fn_avg(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	size_t len = json_array_size(a[0].v), i;
	long double sum = 0;
	double d;

	if (len == 0)
		return give(json_null(), out);
	for (i = 0; i < len; i++)
		sum += tr_jp_number(json_array_get(a[0].v, i));
	d = (double)(sum / (long double)len);
	if (!isfinite(d))
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-value: avg() out of range");
	return give(json_real(d), out);
}

/* ceil() and floor(): integral results are integers, as in Python. */
static int
round_to(json_t *v, bool up, json_t **out)
{
	double d;
	int rc;

	if (json_is_integer(v))
		return give(json_incref(v), out);
	d = json_real_value(v);
	*out = tr_jp_number_new(up ? ceil(d) : floor(d), &rc);
	return rc;
}

static int
fn_ceil(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return round_to(a[0].v, true, out);
}

static int
fn_floor(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return round_to(a[0].v, false, out);
}

static int
fn_contains(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *subj = a[0].v, *search = a[1].v;
	size_t i, sl, nl;
	bool eq = false;
	int rc;

	if (json_is_string(subj)) {
		if (!json_is_string(search))
			return give(json_false(), out);
		sl = json_string_length(subj);
		nl = json_string_length(search);
		if ((rc = tr_jp_charge(ctx, tr_jp_cost(subj))) < 0)
			return rc;
		eq = nl == 0 || (nl <= sl && memmem(json_string_value(subj),
		    sl, json_string_value(search), nl) != NULL);
		return give(json_boolean(eq), out);
	}
	for (i = 0; i < json_array_size(subj) && !eq; i++) {
		if ((rc = tr_jp_equal(ctx, json_array_get(subj, i), search,
		    &eq)) < 0)
			return rc;
	}
	return give(json_boolean(eq), out);
}

/* starts_with() and ends_with(). */
static int
affix(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, bool end,
    json_t **out)
{
	size_t sl = json_string_length(a[0].v);
	size_t xl = json_string_length(a[1].v);
	const char *s = json_string_value(a[0].v);
	int rc;

	if (xl > sl)
		return give(json_false(), out);
	if ((rc = tr_jp_charge(ctx, tr_jp_cost(a[1].v))) < 0)
		return rc;
	return give(json_boolean(memcmp(end ? s + sl - xl : s,
	    json_string_value(a[1].v), xl) == 0), out);
}

static int
fn_ends_with(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return affix(ctx, a, true, out);
}

static int
fn_starts_with(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return affix(ctx, a, false, out);
}

static int
fn_join(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	struct tr_buf b;
	json_t *el;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	tr_buf_init(&b, TR_JMESPATH_MAX_STRING);
	for (i = 0; i < json_array_size(a[1].v); i++) {
		el = json_array_get(a[1].v, i);
		if (i > 0)
			(void)tr_buf_add(&b, json_string_value(a[0].v),
			    json_string_length(a[0].v));
		(void)tr_buf_add(&b, json_string_value(el),
		    json_string_length(el));
		if ((rc = string_limit(tr_buf_error(&b))) < 0)
			goto out;
		if ((rc = tr_jp_charge(ctx, 1 + (json_string_length(el) +
		    json_string_length(a[0].v)) / 16)) < 0)
			goto out;
	}
	rc = give(json_stringn_nocheck(tr_buf_cstr(&b), b.len), out);
out:
	tr_buf_dispose(&b);
	return rc;
}

/* keys() and values(), in the object's order. */
static int
members(struct tr_jp_ctx *ctx, json_t *obj, bool keys, json_t **out)
{
	json_t *res = NULL, *v, *m;
	const char *key;
	size_t klen;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = tr_jp_charge(ctx, json_object_size(obj))) < 0)
		goto out;
	if ((res = json_array()) == NULL) {
		rc = nomem();
		goto out;
	}
	json_object_keylen_foreach(obj, key, klen, m) {
		v = keys ? json_stringn_nocheck(key, klen) : json_incref(m);
		if (json_array_append_new(res, v) < 0) {
			rc = nomem();
			goto out;
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	return rc;
}

static int
fn_keys(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return members(ctx, a[0].v, true, out);
}

static int
fn_values(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return members(ctx, a[0].v, false, out);
}

static int
fn_length(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *v = a[0].v;
	size_t len;
	int rc;

	if ((rc = tr_jp_charge(ctx, tr_jp_cost(v))) < 0)
		return rc;
	if (json_is_string(v))
		len = tr_jp_utf8_count(json_string_value(v),
		    json_string_length(v));
	else if (json_is_array(v))
		len = json_array_size(v);
	else
		len = json_object_size(v);
	return give(json_integer((json_int_t)len), out);
}

static int
fn_map(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *res = NULL, *v = NULL;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((res = json_array()) == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < json_array_size(a[1].v); i++) {
		if ((rc = tr_jp_eval(ctx, a[0].expr,
		    json_array_get(a[1].v, i), &v)) < 0)
			goto out;
		rc = json_array_append_new(res, v);
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
	return rc;
}

/* max() and min(): the first greatest (least) element. */
static int
extreme(struct tr_jp_ctx *ctx, const json_t *arr, int sign, json_t **out)
{
	json_t *best = NULL, *el;
	size_t i;
	int rc;

	for (i = 0; i < json_array_size(arr); i++) {
		el = json_array_get(arr, i);
		if ((rc = tr_jp_charge(ctx, 1 + tr_jp_cost(el))) < 0)
			return rc;
		if (best == NULL || tr_jp_order(el, best) * sign > 0)
			best = el;
	}
	return give(best == NULL ? json_null() : json_incref(best), out);
}

static int
fn_max(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return extreme(ctx, a[0].v, 1, out);
}

static int
fn_min(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return extreme(ctx, a[0].v, -1, out);
}

/* max_by() and min_by(). */
static int
extreme_by(struct tr_jp_ctx *ctx, const char *fname,
    const struct tr_jp_arg *a, int sign, json_t **out)
{
	json_t **keys = NULL;
	size_t len = json_array_size(a[0].v), i, best = 0;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (len == 0)
		return give(json_null(), out);
	if ((rc = eval_keys(ctx, fname, a[1].expr, a[0].v, &keys)) < 0)
		goto out;
	for (i = 1; i < len; i++) {
		if ((rc = tr_jp_charge(ctx, 1 + tr_jp_cost(keys[i]))) < 0)
			goto out;
		if (tr_jp_order(keys[i], keys[best]) * sign > 0)
			best = i;
	}
	rc = give(json_incref(json_array_get(a[0].v, best)), out);
out:
	free_keys(keys, len);
	return rc;
}

static int
fn_max_by(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return extreme_by(ctx, "max_by", a, 1, out);
}

static int
fn_min_by(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return extreme_by(ctx, "min_by", a, -1, out);
}

static int
fn_merge(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *res = NULL, *m;
	const char *key;
	size_t i, klen;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((res = json_object()) == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = tr_jp_charge(ctx, json_object_size(a[i].v))) < 0)
			goto out;
		json_object_keylen_foreach(a[i].v, key, klen, m) {
			if (json_object_setn_nocheck(res, key, klen, m) < 0) {
				rc = nomem();
				goto out;
			}
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	return rc;
}

static int
fn_not_null(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!json_is_null(a[i].v))
			return give(json_incref(a[i].v), out);
	return give(json_null(), out);
}

static int
fn_reverse(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *v = a[0].v, *res = NULL;
	const char *s;
	char *r = NULL;
	size_t len, i, j, k;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (json_is_string(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
		if ((rc = tr_jp_charge(ctx, tr_jp_cost(v))) < 0)
			goto out;
		if ((r = tr_malloc(len + 1)) == NULL) {
			rc = nomem();
			goto out;
		}
		/* copy code points from the end, each kept whole */
		for (i = len, j = 0; i > 0; i = k) {
			k = i - 1;
			while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
				k--;
			memcpy(r + j, s + k, i - k);
			j += i - k;
		}
		r[len] = '\0';
		rc = give(json_stringn_nocheck(r, len), out);
		goto out;
	}
	if ((rc = tr_jp_charge(ctx, json_array_size(v))) < 0)
		goto out;
	if ((res = json_array()) == NULL) {
		rc = nomem();
		goto out;
	}
	for (i = json_array_size(v); i > 0; i--) {
		if (json_array_append(res, json_array_get(v, i - 1)) < 0) {
			rc = nomem();
			goto out;
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	tr_free(r);
	json_decref(res);
	return rc;
}

static int
fn_sort(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return sorted_copy(ctx, a[0].v, NULL, out);
}

static int
fn_sort_by(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t **keys = NULL;
	size_t len = json_array_size(a[0].v);
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = eval_keys(ctx, "sort_by", a[1].expr, a[0].v, &keys)) < 0)
		goto out;
	rc = sorted_copy(ctx, a[0].v, keys, out);
out:
	free_keys(keys, len);
	return rc;
}

static int
fn_sum(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_int_t isum = 0, iv, t;
	long double rsum = 0;
	bool real = false;
	double d;
	size_t i;
	json_t *el;

	for (i = 0; i < json_array_size(a[0].v); i++) {
		el = json_array_get(a[0].v, i);
		if (!real && json_is_integer(el)) {
			iv = json_integer_value(el);
			if (!__builtin_add_overflow(isum, iv, &t)) {
				isum = t;
				continue;
			}
			rsum = (long double)isum + (long double)iv;
			real = true;
			continue;
		}
		if (!real) {
			rsum = (long double)isum;
			real = true;
		}
		rsum += tr_jp_number(el);
	}
	if (!real)
		return give(json_integer(isum), out);
	d = (double)rsum;
	if (!isfinite(d))
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-value: sum() out of range");
	return give(json_real(d), out);
}

static int
fn_to_array(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *res;

	if (json_is_array(a[0].v))
		return give(json_incref(a[0].v), out);
	res = json_array();
	if (res == NULL)
		return nomem();
	if (json_array_append(res, a[0].v) < 0) {
		json_decref(res);
		return nomem();
	}
	*out = res;
	return 0;
}

static int
fn_to_number(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	json_t *v = a[0].v;
	int rc;

	*out = NULL;
	if (json_is_number(v))
		return give(json_incref(v), out);
	if (!json_is_string(v))
		return give(json_null(), out);
	if ((rc = tr_jp_charge(ctx, tr_jp_cost(v))) < 0)
		return rc;
	if ((rc = tr_jp_parse_number(out, json_string_value(v),
	    json_string_length(v))) < 0)
		return rc;
	if (*out == NULL)
		*out = json_null();
	return 0;
}

static int
fn_to_string(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	struct tr_buf b;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (json_is_string(a[0].v))
		return give(json_incref(a[0].v), out);
	tr_buf_init(&b, TR_JMESPATH_MAX_STRING);
	if ((rc = string_limit(tr_jp_serialize(ctx, a[0].v, &b))) < 0)
		goto out;
	rc = give(json_stringn_nocheck(tr_buf_cstr(&b), b.len), out);
out:
	tr_buf_dispose(&b);
	return rc;
}

static int
fn_type(struct tr_jp_ctx *ctx, const struct tr_jp_arg *a, size_t n,
    json_t **out)
{
	return give(json_string(tr_jp_type_name(a[0].v)), out);
}

/* ---------------------------------------------------------------- */
/* table and type checks                                            */
/* ---------------------------------------------------------------- */

#define NUM	TR_JP_TY_NUMBER
#define STR	TR_JP_TY_STRING
#define ARR	TR_JP_TY_ARRAY
#define OBJ	TR_JP_TY_OBJECT
#define ANY	TR_JP_TY_ANY
#define EXP	TR_JP_TY_EXPREF
#define ANUM	TR_JP_TY_ARRAY_NUMBER
#define ASTR	TR_JP_TY_ARRAY_STRING

/* Sorted by name for bsearch(). */
static const struct tr_jp_func funcs[] = {
	{ "abs", 1, false, { NUM, 0 }, fn_abs },
	{ "avg", 1, false, { ANUM, 0 }, fn_avg },
	{ "ceil", 1, false, { NUM, 0 }, fn_ceil },
	{ "contains", 2, false, { ARR | STR, ANY }, fn_contains },
	{ "ends_with", 2, false, { STR, STR }, fn_ends_with },
	{ "floor", 1, false, { NUM, 0 }, fn_floor },
	{ "join", 2, false, { STR, ASTR }, fn_join },
	{ "keys", 1, false, { OBJ, 0 }, fn_keys },
	{ "length", 1, false, { STR | ARR | OBJ, 0 }, fn_length },
	{ "map", 2, false, { EXP, ARR }, fn_map },
	{ "max", 1, false, { ANUM | ASTR, 0 }, fn_max },
	{ "max_by", 2, false, { ARR, EXP }, fn_max_by },
	{ "merge", 1, true, { OBJ, 0 }, fn_merge },
	{ "min", 1, false, { ANUM | ASTR, 0 }, fn_min },
	{ "min_by", 2, false, { ARR, EXP }, fn_min_by },
	{ "not_null", 1, true, { ANY, 0 }, fn_not_null },
	{ "reverse", 1, false, { ARR | STR, 0 }, fn_reverse },
	{ "sort", 1, false, { ANUM | ASTR, 0 }, fn_sort },
	{ "sort_by", 2, false, { ARR, EXP }, fn_sort_by },
	{ "starts_with", 2, false, { STR, STR }, fn_starts_with },
	{ "sum", 1, false, { ANUM, 0 }, fn_sum },
	{ "to_array", 1, false, { ANY, 0 }, fn_to_array },
	{ "to_number", 1, false, { ANY, 0 }, fn_to_number },
	{ "to_string", 1, false, { ANY, 0 }, fn_to_string },
	{ "type", 1, false, { ANY, 0 }, fn_type },
	{ "values", 1, false, { OBJ, 0 }, fn_values }
};

const struct tr_jp_func *
tr_jp_func_lookup(const char *name, size_t len)
{
	size_t lo = 0, hi = sizeof(funcs) / sizeof(funcs[0]), mid, fl;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		fl = strlen(funcs[mid].name);
		c = memcmp(name, funcs[mid].name, len < fl ? len : fl);
		if (c == 0)
			c = len < fl ? -1 : len > fl ? 1 : 0;
		if (c == 0)
			return &funcs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The type bit of an argument. */
static unsigned int
type_bit(const struct tr_jp_arg *a)
{
	if (a->v == NULL)
		return EXP;
	switch (json_typeof(a->v)) {
	case JSON_STRING:
		return STR;
	case JSON_ARRAY:
		return ARR;
	case JSON_OBJECT:
		return OBJ;
	case JSON_TRUE:
	case JSON_FALSE:
		return TR_JP_TY_BOOLEAN;
	case JSON_NULL:
		return TR_JP_TY_NULL;
	default:
		return NUM;
	}
}

/* True when every element of `arr` is a number (a string: !num). */
static bool
all_of(const json_t *arr, bool num)
{
	size_t i;
	json_t *el;

	for (i = 0; i < json_array_size(arr); i++) {
		el = json_array_get(arr, i);
		if (num ? !json_is_number(el) : !json_is_string(el))
			return false;
	}
	return true;
}

/* "number or string" for the error messages. */
static void
describe(unsigned int types, char *out, size_t size)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ NUM, "number" }, { STR, "string" },
		{ TR_JP_TY_BOOLEAN, "boolean" }, { TR_JP_TY_NULL, "null" },
		{ ARR, "array" }, { OBJ, "object" }, { EXP, "&expression" },
		{ ANUM, "array of numbers" }, { ASTR, "array of strings" }
	};
	size_t i, o = 0;
	int w;

	out[0] = '\0';
	if ((types & ANY) == ANY) {
		(void)snprintf(out, size, "any value");
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((types & names[i].bit) == 0)
			continue;
		w = snprintf(out + o, size - o, "%s%s", o > 0 ? " or " : "",
		    names[i].name);
		if (w < 0 || (size_t)w >= size - o)
			return;
		o += (size_t)w;
	}
}

int
tr_jp_func_call(struct tr_jp_ctx *ctx, const struct tr_jp_func *fn,
    const struct tr_jp_arg *args, size_t nargs, json_t **out)
{
	unsigned int want, got;
	char wdesc[96];
	size_t i;

	*out = NULL;
	for (i = 0; i < nargs; i++) {
		want = fn->types[i < fn->nparams ? i : fn->nparams - 1];
		got = type_bit(&args[i]);
		if ((want & got) != 0)
			continue;
		if (got == ARR && (((want & ANUM) != 0 &&
		    all_of(args[i].v, true)) || ((want & ASTR) != 0 &&
		    all_of(args[i].v, false))))
			continue;
		describe(want, wdesc, sizeof(wdesc));
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-type: %s() argument %zu must be %s, not %s",
		    fn->name, i + 1, wdesc, args[i].v == NULL ?
		    "an &expression" : tr_jp_type_name(args[i].v));
	}
	return fn->call(ctx, args, nargs, out);
}
