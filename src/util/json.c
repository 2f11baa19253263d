/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Limited JSON parsing on top of jansson (see json.h).
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/secret.h"
#include "util/utf8.h"

/* Walk `v` and enforce depth, array and object limits. */
static int
check_limits(const json_t *v, size_t depth, const struct tr_json_limits *lim)
{
	const char *key;
	json_t *child;
	size_t i;
	int rc;

	if (json_is_object(v) || json_is_array(v)) {
		if (depth >= lim->max_depth)
			return tr_error_set(TRESOR_ETOOBIG,
			    "JSON nested deeper than the limit of %zu levels",
			    lim->max_depth);
	}
	if (json_is_array(v)) {
		if (json_array_size(v) > lim->max_array)
			return tr_error_set(TRESOR_ETOOBIG,
			    "JSON array longer than the limit of %zu elements",
			    lim->max_array);
		json_array_foreach(v, i, child) {
			if ((rc = check_limits(child, depth + 1, lim)) < 0)
				return rc;
		}
	} else if (json_is_object(v)) {
		if (json_object_size(v) > lim->max_members)
			return tr_error_set(TRESOR_ETOOBIG,
			    "JSON object with more than %zu members",
			    lim->max_members);
		json_object_foreach((json_t *)v, key, child) {
			if ((rc = check_limits(child, depth + 1, lim)) < 0)
				return rc;
		}
	}
	return 0;
}

int
tr_json_parse_object(json_t **out, const char *body, size_t len,
    const struct tr_json_limits *lim)
{
	json_error_t jerr;
	json_t *v = NULL;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (len > lim->max_bytes) {
		rc = tr_error_set(TRESOR_ETOOBIG,
		    "request body larger than the limit of %zu bytes",
		    lim->max_bytes);
		goto out;
	}
	for (i = 0; i < len; i++)
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' &&
		    body[i] != '\n')
			break;
	if (i == len) {
		v = json_object();
		if (v == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		*out = v;
		return 0;
	}
	/*
	 * Reject nesting before jansson recurses into it: count brackets
	 * outside strings.  jansson's own limit (2048) is far too deep.
	 */
	{
		size_t depth = 0, maxd = 0;
		int in_str = 0, esc = 0;

		for (i = 0; i < len; i++) {
			char c = body[i];

			if (in_str) {
				if (esc)
					esc = 0;
				else if (c == '\\')
					esc = 1;
				else if (c == '"')
					in_str = 0;
				continue;
			}
			if (c == '"')
				in_str = 1;
			else if (c == '{' || c == '[') {
				if (++depth > maxd)
					maxd = depth;
			} else if ((c == '}' || c == ']') && depth > 0)
				depth--;
		}
		if (maxd > lim->max_depth) {
			rc = tr_error_set(TRESOR_ETOOBIG,
			    "JSON nested deeper than the limit of %zu levels",
			    lim->max_depth);
			goto out;
		}
	}
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "request body is not valid JSON: %s at line %d column %d",
		    jerr.text, jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(v)) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "request body must be a JSON object");
		goto out;
	}
	if ((rc = check_limits(v, 0, lim)) < 0)
		goto out;
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

char *
tr_json_dump(const json_t *v)
{
	/* jansson allocates through tr_malloc (tr_json_init) */
	return json_dumps(v, JSON_COMPACT);
}

char *
tr_json_dump_take(json_t *v)
{
	char *s = v == NULL ? NULL : json_dumps(v, JSON_COMPACT);

	json_decref(v);
	return s;
}

/*
 * The serialiser of the hot path (responses, audit records): jansson's
 * dumper calls back per fragment and costs about ten times more.  Same
 * output as json_dumps(JSON_COMPACT): members in insertion order, UTF-8
 * as is, only '"', '\\' and control characters escaped.
 */
#define DUMP_DEPTH_MAX 64

/* 1 for the bytes a JSON string must escape */
static const unsigned char must_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* Bytes of `s` (n bytes) as a JSON string body, or the count only. */
static size_t
dump_string(struct tr_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";	/* as jansson */
	const unsigned char *u = (const unsigned char *)s;
	size_t i, total = n;
	char *o;

	for (i = 0; i < n; i++)
		if (must_escape[u[i]])
			total += (u[i] == '"' || u[i] == '\\' || u[i] == '\n' ||
			    u[i] == '\r' || u[i] == '\t' || u[i] == '\b' ||
			    u[i] == '\f') ? 1 : 5;
	if (b == NULL || tr_buf_reserve(b, total) < 0)
		return total;
	o = b->ptr + b->len;
	if (total == n) {
		memcpy(o, s, n);
	} else {
		for (i = 0; i < n; i++) {
			if (!must_escape[u[i]]) {
				*o++ = (char)u[i];
				continue;
			}
			*o++ = '\\';
			switch (u[i]) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[u[i] >> 4];
				*o++ = hex[u[i] & 15];
				break;
			}
		}
	}
	b->len += total;
	b->ptr[b->len] = '\0';
	return total;
}

static size_t
dump_value(struct tr_buf *b, const json_t *v, int depth, bool *bad)
{
	char num[40];
	size_t total = 0, i, n;
	const char *key;
	json_t *m;
	bool first = true;
	int len;

	if (depth > DUMP_DEPTH_MAX) {
		*bad = true;
		return 0;
	}
#define PUT(p, l) do {						\
		if (b != NULL)					\
			(void)tr_buf_add(b, (p), (l));		\
		total += (l);					\
	} while (0)
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		PUT("{", 1);
		json_object_foreach((json_t *)v, key, m) {
			if (!first)
				PUT(",", 1);
			first = false;
			PUT("\"", 1);
			total += dump_string(b, key, strlen(key));
			PUT("\":", 2);
			total += dump_value(b, m, depth + 1, bad);
		}
		PUT("}", 1);
		break;
	case JSON_ARRAY:
		PUT("[", 1);
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				PUT(",", 1);
			total += dump_value(b, json_array_get(v, i), depth + 1,
			    bad);
		}
		PUT("]", 1);
		break;
	case JSON_STRING:
		PUT("\"", 1);
		total += dump_string(b, json_string_value(v),
		    json_string_length(v));
		PUT("\"", 1);
		break;
	case JSON_INTEGER: {
		json_int_t iv = json_integer_value(v);
		unsigned long long u = iv < 0 ? 0ULL - (unsigned long long)iv :
		    (unsigned long long)iv;
		char *e = num + sizeof(num), *d = e;

		do {
			*--d = (char)('0' + u % 10);
			u /= 10;
		} while (u != 0);
		if (iv < 0)
			*--d = '-';
		PUT(d, (size_t)(e - d));
		break;
	}
	case JSON_REAL:
		len = snprintf(num, sizeof(num) - 2, "%.17g", json_real_value(v));
		if (strpbrk(num, ".eE") == NULL && strpbrk(num, "ni") == NULL) {
			num[len++] = '.';
			num[len++] = '0';
			num[len] = '\0';
		}
		{
			/* as jansson: "1e300", not "1e+300" or "1e-05" */
			char *e = strchr(num, 'e'), *d, *z;

			if (e != NULL) {
				d = e + 1;
				if (*d == '+')
					memmove(d, d + 1, strlen(d));
				if (*d == '-')
					d++;
				for (z = d; *z == '0' && z[1] != '\0'; z++)
					;
				if (z > d)
					memmove(d, z, strlen(z) + 1);
				len = (int)strlen(num);
			}
		}
		PUT(num, (size_t)len);
		break;
	case JSON_TRUE:
		PUT("true", 4);
		break;
	case JSON_FALSE:
		PUT("false", 5);
		break;
	default:
		PUT("null", 4);
		break;
	}
#undef PUT
	return total;
}

int
tr_json_dump_buf(struct tr_buf *b, const json_t *v, bool exact)
{
	bool bad = false;
	size_t need;

	if (v == NULL)
		return tr_error_set(TRESOR_EINVAL, "no JSON value");
	if (exact) {
		need = dump_value(NULL, v, 0, &bad);
		if (bad)
			return tr_error_set(TRESOR_EINVAL, "JSON nested too "
			    "deeply");
		if (tr_buf_reserve(b, need) < 0)
			return tr_buf_error(b);
	}
	(void)dump_value(b, v, 0, &bad);
	if (bad)
		return tr_error_set(TRESOR_EINVAL, "JSON nested too deeply");
	return tr_buf_error(b);
}

/*
 * True when none of the 8 bytes at p needs care: all ASCII, none a
 * control character, '"' or '\\'.
 */
static bool
plain8(const char *p)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t high = UINT64_C(0x8080808080808080);
	uint64_t w, q, bs;

	memcpy(&w, p, 8);
	if ((w & high) != 0)
		return false;
	q = w ^ (ones * '"');
	bs = w ^ (ones * '\\');
	/* a zero byte in w - 0x20.., q or bs: < 0x20, '"' or '\\' */
	return (((w - ones * 0x20) | (q - ones) | (bs - ones)) & high) == 0;
}

int
tr_json_add_string(struct tr_buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, run, k;

	(void)tr_buf_addc(b, '"');
	while (i < n) {
		/* the longest run that needs no care: 8 bytes a step first */
		for (run = i; run + 8 <= n && plain8(s + run); run += 8)
			;
		for (; run < n && u[run] < 0x80 && !must_escape[u[run]]; run++)
			;
		if (run > i)
			(void)tr_buf_add(b, s + i, run - i);
		i = run;
		if (i == n)
			break;
		if (u[i] < 0x80) {
			(void)dump_string(b, s + i, 1);
			i++;
			continue;
		}
		k = tr_utf8_seq_len(u + i, n - i);
		if (k == 0) {
			(void)tr_buf_addstr(b, "\\ufffd");
			i++;
			continue;
		}
		(void)tr_buf_add(b, s + i, k);
		i += k;
	}
	(void)tr_buf_addc(b, '"');
	return tr_buf_error(b);
}

/*
 * Free for jansson: JSON values carry base64 secret content and request
 * fields, so every block is zeroed before it goes back to the heap.
 */
static void
json_zero_free(void *p)
{
	if (p == NULL)
		return;
	tr_secure_zero(p, malloc_usable_size(p));
	tr_free(p);
}

void
tr_json_init(void)
{
	json_set_alloc_funcs(tr_malloc, json_zero_free);
}
