/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Values as JMESPath sees them (interface: jmespath_int.h): truth, type
 * names, ordering and deep equality with numbers compared by value
 * whatever their jansson type, the compact serialisation of to_string(),
 * JSON-number parsing for to_number(), and UTF-8 helpers.
 *
 * Reals are written in their shortest round-trip form, laid out as
 * Python's repr() does (1.0, 0.0001, 1e-05, 1e+16), since that is what
 * jmespath.py, and so oci-cli, prints.  Number text is made and read in
 * the C notation whatever the locale's decimal point.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jmespath_int.h"
#include "util/error.h"

/* ---------------------------------------------------------------- */
/* truth, types, order                                              */
/* ---------------------------------------------------------------- */

bool
tr_jp_truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return false;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return true;
	}
}

const char *
tr_jp_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return "null";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_STRING:
		return "string";
	case JSON_ARRAY:
		return "array";
	case JSON_OBJECT:
		return "object";
	default:
		return "number";
	}
}

size_t
tr_jp_cost(const json_t *v)
{
	return json_is_string(v) ? json_string_length(v) / 16 : 0;
}

double
tr_jp_number(const json_t *v)
{
	if (json_is_integer(v))
		return (double)json_integer_value(v);
	return json_real_value(v);
}

/*
 * Compare an integer with a real exactly, without trusting long double
 * to be wider than double: split the real into its integral part, which
 * int64_t holds when it is in range, and its fraction.
 */
static int
order_int_real(json_int_t i, double d)
{
	double t;
	json_int_t ti;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = trunc(d);
	ti = (json_int_t)t;
	if (i != ti)
		return i < ti ? -1 : 1;
	return d > t ? -1 : d < t ? 1 : 0;
}

int
tr_jp_order(const json_t *a, const json_t *b)
{
	size_t la, lb;
	json_int_t ia, ib;
	double da, db;
	int c;

	if (a == b)
		return 0;
	if (json_is_string(a)) {
		la = json_string_length(a);
		lb = json_string_length(b);
		c = memcmp(json_string_value(a), json_string_value(b),
		    la < lb ? la : lb);
		if (c != 0)
			return c;
		return la < lb ? -1 : la > lb ? 1 : 0;
	}
	if (json_is_integer(a) && json_is_integer(b)) {
		ia = json_integer_value(a);
		ib = json_integer_value(b);
		return ia < ib ? -1 : ia > ib ? 1 : 0;
	}
	if (json_is_integer(a))
		return order_int_real(json_integer_value(a),
		    json_real_value(b));
	if (json_is_integer(b))
		return -order_int_real(json_integer_value(b),
		    json_real_value(a));
	da = json_real_value(a);
	db = json_real_value(b);
	return da < db ? -1 : da > db ? 1 : 0;
}

/* ---------------------------------------------------------------- */
/* equality                                                         */
/* ---------------------------------------------------------------- */

static int
equal_rec(struct tr_jp_ctx *ctx, const json_t *a, const json_t *b,
    size_t depth, bool *eq_out)
{
	const char *key;
	size_t klen, i;
	json_t *av, *bv;
	int rc;

	*eq_out = false;
	if ((rc = tr_jp_charge(ctx, 1)) < 0)
		return rc;
	if (depth > TR_JMESPATH_MAX_VALUE_DEPTH)
		return tr_error_set(TRESOR_ELIMIT,
		    "limit: values nested deeper than %d levels",
		    TR_JMESPATH_MAX_VALUE_DEPTH);
	if (a == b) {
		*eq_out = true;
		return 0;
	}
	if (json_is_number(a) && json_is_number(b)) {
		*eq_out = tr_jp_order(a, b) == 0;
		return 0;
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		if (json_string_length(a) != json_string_length(b))
			return 0;
		if ((rc = tr_jp_charge(ctx, tr_jp_cost(a))) < 0)
			return rc;
		*eq_out = memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
		return 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++) {
			if ((rc = equal_rec(ctx, json_array_get(a, i),
			    json_array_get(b, i), depth + 1, eq_out)) < 0)
				return rc;
			if (!*eq_out)
				return 0;
		}
		*eq_out = true;
		return 0;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_keylen_foreach((json_t *)a, key, klen, av) {
			bv = json_object_getn(b, key, klen);
			if (bv == NULL)
				return 0;
			if ((rc = equal_rec(ctx, av, bv, depth + 1,
			    eq_out)) < 0)
				return rc;
			if (!*eq_out)
				return 0;
		}
		*eq_out = true;
		return 0;
	default:
		/* null, true, false: the same type is the same value */
		*eq_out = true;
		return 0;
	}
}

int
tr_jp_equal(struct tr_jp_ctx *ctx, const json_t *a, const json_t *b,
    bool *eq_out)
{
	return equal_rec(ctx, a, b, 0, eq_out);
}

/* ---------------------------------------------------------------- */
/* numbers                                                          */
/* ---------------------------------------------------------------- */

/*
 * The decimal point the C library uses in this locale, so that number
 * text can be handed to strtod() and read back from snprintf().
 */
static void
locale_point(char *dp, size_t size)
{
	char tmp[16];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%.1f", 0.5);
	if (n < 3 || (size_t)n >= sizeof(tmp) || (size_t)n - 2 >= size) {
		(void)snprintf(dp, size, ".");
		return;
	}
	memcpy(dp, tmp + 1, (size_t)n - 2);
	dp[n - 2] = '\0';
}

/*
 * Write `d` (finite) into `out` as Python's repr() would: the fewest
 * significant digits that read back as `d`, fixed notation for decimal
 * exponents -4..15 with at least one fractional digit, else d.ddde+XX.
 */
static void
format_real(double d, char *out, size_t size)
{
	char tmp[64], digits[32];
	size_t nd = 0, i, o = 0;
	int prec, exp10 = 0, n;
	bool neg = false;
	char *p;

	for (prec = 1; prec <= 17; prec++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is [-]D<point>DDDe[+-]XX in this locale's notation */
	p = tmp;
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p != '\0' && *p != 'e'; p++) {
		if (*p >= '0' && *p <= '9' && nd < sizeof(digits) - 1)
			digits[nd++] = *p;
	}
	if (*p == 'e')
		exp10 = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';

#define PUT(c) do { if (o + 1 < size) out[o++] = (c); } while (0)
	if (neg)
		PUT('-');
	if (exp10 >= -4 && exp10 < 16) {
		if (exp10 < 0) {
			PUT('0');
			PUT('.');
			for (n = -1; n > exp10; n--)
				PUT('0');
			for (i = 0; i < nd; i++)
				PUT(digits[i]);
		} else {
			for (i = 0; i <= (size_t)exp10; i++)
				PUT(i < nd ? digits[i] : '0');
			PUT('.');
			if (nd <= (size_t)exp10 + 1)
				PUT('0');
			for (i = (size_t)exp10 + 1; i < nd; i++)
				PUT(digits[i]);
		}
	} else {
		PUT(digits[0]);
		if (nd > 1) {
			PUT('.');
			for (i = 1; i < nd; i++)
				PUT(digits[i]);
		}
		PUT('e');
		PUT(exp10 < 0 ? '-' : '+');
		(void)snprintf(tmp, sizeof(tmp), "%02d",
		    exp10 < 0 ? -exp10 : exp10);
		for (p = tmp; *p != '\0'; p++)
			PUT(*p);
	}
#undef PUT
	out[o] = '\0';
}

json_t *
tr_jp_number_new(double d, int *rc_out)
{
	json_t *v;

	*rc_out = 0;
	if (!isfinite(d)) {
		*rc_out = tr_error_set(TRESOR_EINVAL,
		    "invalid-value: number out of range");
		return NULL;
	}
	if (d == floor(d) && d > -9.2e18 && d < 9.2e18)
		v = json_integer((json_int_t)d);
	else
		v = json_real(d);
	if (v == NULL)
		*rc_out = tr_error_set(TRESOR_ENOMEM, "out of memory");
	return v;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
tr_jp_parse_number(json_t **out, const char *s, size_t len)
{
	char buf[512], dp[8];
	size_t i = 0, o = 0, dl;
	bool integral = true, neg = false;
	json_int_t iv = 0;
	double d;
	int dig;

	*out = NULL;
	if (i < len && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= len || !is_digit(s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < len && is_digit(s[i]))
			i++;
	if (i < len && s[i] == '.') {
		integral = false;
		if (++i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		integral = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i != len)
		return 0;
	if (integral) {
		for (i = neg ? 1 : 0; i < len; i++) {
			dig = s[i] - '0';
			if (iv > (INT64_MAX - dig) / 10)
				break;
			iv = iv * 10 + dig;
		}
		if (i == len) {
			*out = json_integer(neg ? -iv : iv);
			goto made;
		}
	}
	/* strtod() wants the locale's decimal point */
	locale_point(dp, sizeof(dp));
	dl = strlen(dp);
	for (i = 0; i < len; i++) {
		if (o + dl + 1 >= sizeof(buf))
			return 0;
		if (s[i] == '.') {
			memcpy(buf + o, dp, dl);
			o += dl;
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	d = strtod(buf, NULL);
	if (!isfinite(d))
		return 0;
	*out = json_real(d);
made:
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	return 0;
}

/* ---------------------------------------------------------------- */
/* serialisation                                                    */
/* ---------------------------------------------------------------- */

static void
put_string(struct tr_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	size_t i;

	(void)tr_buf_addc(b, '"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			(void)tr_buf_addstr(b, "\\\"");
			break;
		case '\\':
			(void)tr_buf_addstr(b, "\\\\");
			break;
		case '\b':
			(void)tr_buf_addstr(b, "\\b");
			break;
		case '\f':
			(void)tr_buf_addstr(b, "\\f");
			break;
		case '\n':
			(void)tr_buf_addstr(b, "\\n");
			break;
		case '\r':
			(void)tr_buf_addstr(b, "\\r");
			break;
		case '\t':
			(void)tr_buf_addstr(b, "\\t");
			break;
		default:
			if (c < 0x20) {
				(void)tr_buf_addstr(b, "\\u00");
				(void)tr_buf_addc(b, hex[c >> 4]);
				(void)tr_buf_addc(b, hex[c & 0xf]);
			} else {
				(void)tr_buf_addc(b, (char)c);
			}
			break;
		}
	}
	(void)tr_buf_addc(b, '"');
}

static int
serialize_rec(struct tr_jp_ctx *ctx, const json_t *v, struct tr_buf *b,
    size_t depth)
{
	const char *key;
	char num[64];
	size_t klen, i;
	json_t *m;
	bool first = true;
	int rc;

	if ((rc = tr_jp_charge(ctx, 1)) < 0)
		return rc;
	if (depth > TR_JMESPATH_MAX_VALUE_DEPTH)
		return tr_error_set(TRESOR_ELIMIT,
		    "limit: values nested deeper than %d levels",
		    TR_JMESPATH_MAX_VALUE_DEPTH);
	switch (json_typeof(v)) {
	case JSON_NULL:
		(void)tr_buf_addstr(b, "null");
		break;
	case JSON_TRUE:
		(void)tr_buf_addstr(b, "true");
		break;
	case JSON_FALSE:
		(void)tr_buf_addstr(b, "false");
		break;
	case JSON_INTEGER:
		(void)tr_buf_addf(b, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		break;
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof(num));
		(void)tr_buf_addstr(b, num);
		break;
	case JSON_STRING:
		if ((rc = tr_jp_charge(ctx, tr_jp_cost(v))) < 0)
			return rc;
		put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_ARRAY:
		(void)tr_buf_addc(b, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				(void)tr_buf_addc(b, ',');
			if ((rc = serialize_rec(ctx, json_array_get(v, i), b,
			    depth + 1)) < 0)
				return rc;
		}
		(void)tr_buf_addc(b, ']');
		break;
	case JSON_OBJECT:
		(void)tr_buf_addc(b, '{');
		json_object_keylen_foreach((json_t *)v, key, klen, m) {
			if (!first)
				(void)tr_buf_addc(b, ',');
			first = false;
			put_string(b, key, klen);
			(void)tr_buf_addc(b, ':');
			if ((rc = serialize_rec(ctx, m, b, depth + 1)) < 0)
				return rc;
		}
		(void)tr_buf_addc(b, '}');
		break;
	}
	return tr_buf_error(b);
}

int
tr_jp_serialize(struct tr_jp_ctx *ctx, const json_t *v, struct tr_buf *b)
{
	return serialize_rec(ctx, v, b, 0);
}

/* ---------------------------------------------------------------- */
/* UTF-8                                                            */
/* ---------------------------------------------------------------- */

size_t
tr_jp_utf8_count(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

bool
tr_jp_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (u[i] >= 0xc2 && u[i] <= 0xdf) {
			n = 1;
			cp = u[i] & 0x1f;
		} else if (u[i] >= 0xe0 && u[i] <= 0xef) {
			n = 2;
			cp = u[i] & 0x0f;
		} else if (u[i] >= 0xf0 && u[i] <= 0xf4) {
			n = 3;
			cp = u[i] & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}
