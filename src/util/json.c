/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Limited JSON parsing on top of jansson (see json.h).
 */
#include <malloc.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/json.h"
#include "util/secret.h"

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
