/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Defined tags for IAM: parsing the {"ns": {"key": "value"}} documents
 * that compartments, workloads and targets carry, and looking one tag
 * up for `tag.ns.key.value` (matching rules) and `target.resource.tag.*`
 * (policy conditions).  Interface: iam_int.h.
 */
#include <string.h>

#include "iam/iam_int.h"
#include "util/json.h"

/* Parse a defined-tags document with small limits; NULL/"" is no tags. */
int
tr_iam_tags_parse(json_t **out, const char *json)
{
	static const struct tr_json_limits lim = {
		TR_IAM_TAGS_JSON_MAX, 4, 100, 1000
	};
	int rc = 0;

	*out = NULL;
	if (json != NULL && json[0] != '\0')
		rc = tr_json_parse_object(out, json, strlen(json), &lim);
	return rc;
}

/* The member of object `o` named `name`, case-insensitively. */
static json_t *
member_ci(const json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return NULL;
	v = json_object_get(o, name);
	if (v != NULL)
		return v;
	json_object_foreach((json_t *)o, k, v) {
		if (tr_iam_streq_ci(k, name))
			return v;
	}
	return NULL;
}

/* Look one defined tag up; names compare case-insensitively. */
const char *
tr_iam_tag_get(const json_t *tags, const char *ns, const char *key)
{
	json_t *n, *v;

	if (tags == NULL || ns == NULL || key == NULL)
		return NULL;
	n = member_ci(tags, ns);
	v = member_ci(n, key);
	if (!json_is_string(v))
		return NULL;
	return json_string_value(v);
}
