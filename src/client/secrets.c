/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret bundles (include/tresor/secrets.h): GetSecretBundle
 * (GET /20190301/secretbundles/{id}) and GetSecretBundleByName
 * (POST /20190301/secretbundles/actions/getByName, no body).
 *
 * The answer is parsed with limits; the base64 content is decoded into a
 * tr_secret and the copies along the way (the response buffer, jansson's
 * string) are zeroed before they are freed.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/parse.h"

#define MAX_STAGES 8

struct tresor_secret_bundle {
	char *secret_id;
	uint64_t version;
	char *version_name;
	char *stages[MAX_STAGES];
	size_t nstages;
	int64_t time_created;
	int64_t time_of_expiry;
	struct tr_secret *content;
};

void
tresor_secret_bundle_free(tresor_secret_bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	tr_free(b->secret_id);
	tr_free(b->version_name);
	for (i = 0; i < b->nstages; i++)
		tr_free(b->stages[i]);
	tr_secret_free(b->content);
	tr_free(b);
}

const char *
tresor_secret_bundle_secret_id(const tresor_secret_bundle *b)
{
	return b->secret_id;
}

uint64_t
tresor_secret_bundle_version(const tresor_secret_bundle *b)
{
	return b->version;
}

const char *
tresor_secret_bundle_version_name(const tresor_secret_bundle *b)
{
	return b->version_name;
}

bool
tresor_secret_bundle_has_stage(const tresor_secret_bundle *b,
    const char *stage)
{
	size_t i;

	for (i = 0; i < b->nstages; i++)
		if (strcmp(b->stages[i], stage) == 0)
			return true;
	return false;
}

int64_t
tresor_secret_bundle_time_of_expiry(const tresor_secret_bundle *b)
{
	return b->time_of_expiry;
}

int64_t
tr_bundle_time_created(const tresor_secret_bundle *b)
{
	return b->time_created;
}

const unsigned char *
tresor_secret_bundle_content(const tresor_secret_bundle *b, size_t *len)
{
	*len = b->content->len;
	return b->content->ptr;
}

int
tr_bundle_new(tresor_secret_bundle **out, const char *secret_id,
    uint64_t version, const void *content, size_t len, int64_t created_ms,
    int64_t expiry_ms)
{
	tresor_secret_bundle *b;
	int rc;

	*out = NULL;
	b = tr_calloc(1, sizeof(*b));
	if (b == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	b->secret_id = tr_strdup(secret_id);
	if (b->secret_id == NULL) {
		tresor_secret_bundle_free(b);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	if ((rc = tr_secret_from(&b->content, content, len)) < 0) {
		tresor_secret_bundle_free(b);
		return rc;
	}
	b->version = version;
	b->time_created = created_ms;
	b->time_of_expiry = expiry_ms;
	*out = b;
	return 0;
}

int
tresor_secret_bundle_dup(tresor_secret_bundle **out,
    const tresor_secret_bundle *b)
{
	tresor_secret_bundle *d = NULL;
	size_t i;
	int rc;

	if ((rc = tr_bundle_new(&d, b->secret_id, b->version, b->content->ptr,
	    b->content->len, b->time_created, b->time_of_expiry)) < 0)
		return rc;
	if (b->version_name != NULL) {
		d->version_name = tr_strdup(b->version_name);
		if (d->version_name == NULL)
			goto nomem;
	}
	for (i = 0; i < b->nstages; i++) {
		d->stages[i] = tr_strdup(b->stages[i]);
		if (d->stages[i] == NULL)
			goto nomem;
		d->nstages++;
	}
	*out = d;
	return 0;
nomem:
	tresor_secret_bundle_free(d);
	return tr_error_set(TRESOR_ENOMEM, "out of memory");
}

/* An RFC 3339 member as ms since the epoch, 0 when absent or null. */
static int
time_member(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    tr_time_parse_rfc3339(json_string_value(v), out) < 0)
		return tr_error_set(TRESOR_EINVAL,
		    "secret bundle: '%s' is not an RFC 3339 time", name);
	return 0;
}

int
tr_bundle_parse(tresor_secret_bundle **out, const char *body, size_t len)
{
	static const struct tr_json_limits lim = { 1024 * 1024, 16, 100, 100 };
	tresor_secret_bundle *b = NULL;
	json_t *o = NULL, *content, *c, *stages, *s;
	const char *id, *b64, *type, *name;
	size_t blen, dlen, i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = tr_json_parse_object(&o, body, len, &lim)) < 0) {
		rc = tr_error_set(TRESOR_EINVAL, "secret bundle: %s",
		    tresor_error_last());
		goto out;
	}
	id = json_string_value(json_object_get(o, "secretId"));
	if (id == NULL || id[0] == '\0' || strlen(id) > 255) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "secret bundle: no valid 'secretId'");
		goto out;
	}
	c = json_object_get(o, "versionNumber");
	if (!json_is_integer(c) || json_integer_value(c) < 0) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "secret bundle: no valid 'versionNumber'");
		goto out;
	}
	content = json_object_get(o, "secretBundleContent");
	type = json_string_value(json_object_get(content, "contentType"));
	b64 = json_string_value(json_object_get(content, "content"));
	if (type == NULL || strcmp(type, "BASE64") != 0 || b64 == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "secret bundle: secretBundleContent must be BASE64 "
		    "content");
		goto out;
	}
	b = tr_calloc(1, sizeof(*b));
	if (b == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	b->version = (uint64_t)json_integer_value(c);
	b->secret_id = tr_strdup(id);
	if (b->secret_id == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	name = json_string_value(json_object_get(o, "versionName"));
	if (name != NULL) {
		b->version_name = tr_strndup(name, strnlen(name, 255));
		if (b->version_name == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
	}
	stages = json_object_get(o, "stages");
	json_array_foreach(stages, i, s) {
		if (!json_is_string(s) || b->nstages == MAX_STAGES)
			continue;
		b->stages[b->nstages] = tr_strndup(json_string_value(s),
		    strnlen(json_string_value(s), 32));
		if (b->stages[b->nstages] == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		b->nstages++;
	}
	if ((rc = time_member(o, "timeCreated", &b->time_created)) < 0 ||
	    (rc = time_member(o, "timeOfExpiry", &b->time_of_expiry)) < 0)
		goto out;
	blen = json_string_length(json_object_get(content, "content"));
	if ((rc = tr_secret_new(&b->content,
	    tr_base64_decoded_max(blen))) < 0)
		goto out;
	if (tr_base64_decode(b->content->ptr, b->content->cap, &dlen, b64,
	    blen) < 0) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "secret bundle: the content is not valid base64");
		goto out;
	}
	tr_secret_truncate(b->content, dlen);
	*out = b;
	b = NULL;
	rc = 0;
out:
	if (o != NULL) {
		/* wipe the base64 content jansson holds before it is freed */
		json_t *cv = json_object_get(json_object_get(o,
		    "secretBundleContent"), "content");

		if (json_is_string(cv))
			tr_secure_zero((char *)(uintptr_t)json_string_value(cv),
			    json_string_length(cv));
		json_decref(o);
	}
	tresor_secret_bundle_free(b);
	return rc;
}

int
tresor_secret_bundle_get(tresor_secret_bundle **out, tresor_client *c,
    const tresor_bundle_selector *sel)
{
	tresor_request req = TRESOR_REQUEST_INIT;
	tresor_response *resp = NULL;
	tresor_param q[5];
	const char *params[1], *body;
	char vn[24];
	size_t nq = 0, len;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (sel == NULL || sel->version != TRESOR_BUNDLE_SELECTOR_VERSION ||
	    (sel->secret_id == NULL && (sel->vault_id == NULL ||
	    sel->secret_name == NULL))) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "a bundle selector needs a secret OCID, or a vault OCID "
		    "and a secret name");
		goto out;
	}
	if (sel->secret_id == NULL) {
		q[nq].name = "secretName";
		q[nq++].value = sel->secret_name;
		q[nq].name = "vaultId";
		q[nq++].value = sel->vault_id;
	}
	if (sel->version_number != 0) {
		(void)snprintf(vn, sizeof(vn), "%llu",
		    (unsigned long long)sel->version_number);
		q[nq].name = "versionNumber";
		q[nq++].value = vn;
	}
	if (sel->version_name != NULL) {
		q[nq].name = "secretVersionName";
		q[nq++].value = sel->version_name;
	}
	if (sel->stage != NULL) {
		q[nq].name = "stage";
		q[nq++].value = sel->stage;
	}
	req.query = q;
	req.nquery = nq;
	if (sel->secret_id != NULL) {
		params[0] = sel->secret_id;
		req.method = "GET";
		req.path = "/20190301/secretbundles/{}";
		req.path_params = params;
		req.npath_params = 1;
	} else {
		req.method = "POST";
		req.path = "/20190301/secretbundles/actions/getByName";
		req.retry = TRESOR_RETRY_ALL;	/* a read */
	}
	if ((rc = tresor_client_call(c, &req, &resp)) < 0)
		goto out;
	body = tresor_response_body(resp, &len);
	if ((rc = tr_bundle_parse(out, body, len)) < 0)
		goto out;
	rc = 0;
out:
	tresor_response_free(resp);
	return rc;
}

int
tr_iso8601_duration_ms(const char *s, uint64_t *out)
{
	static const struct {
		char unit;
		bool time;
		uint64_t ms;
	} units[] = {
		{ 'Y', false, 365ULL * 86400000 },
		{ 'M', false, 30ULL * 86400000 },
		{ 'W', false, 7ULL * 86400000 }, { 'D', false, 86400000ULL },
		{ 'H', true, 3600000ULL }, { 'M', true, 60000ULL },
		{ 'S', true, 1000ULL },
	};
	const char *p = s, *d;
	uint64_t total = 0, n;
	size_t i, next = 0;
	bool in_time = false, any = false;

	*out = 0;
	if (*p++ != 'P')
		goto bad;
	while (*p != '\0') {
		if (*p == 'T') {
			if (in_time)
				goto bad;
			in_time = true;
			p++;
			continue;
		}
		for (d = p; *d >= '0' && *d <= '9'; d++)
			;
		if (d == p || d - p > 9 || *d == '\0' ||
		    tr_parse_u64(p, (size_t)(d - p), 0, 999999999, &n) < 0)
			goto bad;
		for (i = next; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].unit == *d && units[i].time == in_time)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		next = i + 1;
		if (n > (UINT64_MAX - total) / units[i].ms)
			goto bad;
		total += n * units[i].ms;
		any = true;
		p = d + 1;
	}
	if (!any)
		goto bad;
	*out = total;
	return 0;
bad:
	return tr_error_set(TRESOR_EINVAL,
	    "'%.64s' is not an ISO 8601 duration (e.g. P30D, PT12H)", s);
}
