/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request and response helpers shared by the service files: query
 * parameters, body checks that name the offending field, JSON output,
 * if-match, keyset pagination tokens and opc-retry-token.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/api_int.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/ct.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/ocid.h"
#include "util/parse.h"

const char *
tr_api_query(struct tr_api_ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nquery; i++)
		if (strcmp(c->query[i].name, name) == 0)
			return c->query[i].value[0] == '\0' ? NULL :
			    c->query[i].value;
	return NULL;
}

int
tr_api_body(struct tr_api_ctx *c)
{
	struct tr_json_limits lim = TR_JSON_LIMITS_DEFAULT;
	int rc;

	if (c->body != NULL)
		return 0;
	rc = tr_json_parse_object(&c->body, c->req->body, c->req->body_len,
	    &lim);
	if (rc < 0) {
		if (rc == TRESOR_ETOOBIG && c->req->body_len > lim.max_bytes)
			tr_api_error(c, 413, "RequestEntityTooLarge", "%s",
			    tresor_error_last());
		else
			tr_api_error(c, 400, "CannotParseRequest", "%s",
			    tresor_error_last());
		return rc;
	}
	return 0;
}

static const char *
type_name(enum tr_field_type t)
{
	switch (t) {
	case TR_F_STRING:
		return "a string";
	case TR_F_BOOL:
		return "a boolean";
	case TR_F_INT:
		return "an integer";
	case TR_F_NUMBER:
		return "a number";
	case TR_F_OBJECT:
		return "an object";
	case TR_F_ARRAY:
		return "an array";
	case TR_F_TIME:
		return "an RFC 3339 timestamp string";
	default:
		return "a value";
	}
}

static bool
type_ok(const json_t *v, enum tr_field_type t)
{
	int64_t ms;

	switch (t) {
	case TR_F_STRING:
		return json_is_string(v);
	case TR_F_BOOL:
		return json_is_boolean(v);
	case TR_F_INT:
		return json_is_integer(v);
	case TR_F_NUMBER:
		return json_is_number(v);
	case TR_F_OBJECT:
		return json_is_object(v);
	case TR_F_ARRAY:
		return json_is_array(v);
	case TR_F_TIME:
		return json_is_string(v) &&
		    tr_time_parse_rfc3339(json_string_value(v), &ms) == 0;
	default:
		return true;
	}
}

int
tr_api_check_fields(struct tr_api_ctx *c, const json_t *obj,
    const struct tr_field *fields, const char *prefix)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; fields[i].name != NULL; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (fields[i].name == NULL) {
			tr_api_error(c, 400, "InvalidParameter",
			    "unknown field '%s%.64s' in the request body",
			    prefix, key);
			return TRESOR_EINVAL;
		}
		if (json_is_null(v)) {
			if (fields[i].required)
				goto missing;
			continue;
		}
		if (!type_ok(v, fields[i].type)) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field '%s%s' must be %s", prefix, key,
			    type_name(fields[i].type));
			return TRESOR_EINVAL;
		}
	}
	for (i = 0; fields[i].name != NULL; i++) {
		v = json_object_get(obj, fields[i].name);
		if (fields[i].required && (v == NULL || json_is_null(v))) {
			key = fields[i].name;
			goto missing;
		}
	}
	return 0;
missing:
	tr_api_error(c, 400, "MissingParameter",
	    "missing required field '%s%s'", prefix, key);
	return TRESOR_EINVAL;
}

int
tr_api_check_tags(struct tr_api_ctx *c, const json_t *obj)
{
	const json_t *ff = json_object_get(obj, "freeformTags");
	const json_t *dt = json_object_get(obj, "definedTags");
	const char *k, *k2;
	json_t *v, *v2;

	if (ff != NULL && !json_is_null(ff)) {
		if (json_object_size(ff) > 64)
			goto toomany;
		json_object_foreach((json_t *)ff, k, v) {
			if (!json_is_string(v) || strlen(k) > 100 ||
			    strlen(json_string_value(v)) > 256) {
				tr_api_error(c, 400, "InvalidParameter",
				    "field 'freeformTags.%.100s' must be a "
				    "string of at most 256 characters (keys at "
				    "most 100)", k);
				return TRESOR_EINVAL;
			}
		}
	}
	if (dt != NULL && !json_is_null(dt)) {
		if (json_object_size(dt) > 64)
			goto toomany;
		json_object_foreach((json_t *)dt, k, v) {
			if (!json_is_object(v) || json_object_size(v) > 64) {
				tr_api_error(c, 400, "InvalidParameter",
				    "field 'definedTags.%.100s' must be an "
				    "object of tags", k);
				return TRESOR_EINVAL;
			}
			json_object_foreach(v, k2, v2) {
				if (json_is_object(v2) || json_is_array(v2)) {
					tr_api_error(c, 400,
					    "InvalidParameter",
					    "field 'definedTags.%.100s.%.100s'"
					    " must be a scalar", k, k2);
					return TRESOR_EINVAL;
				}
			}
		}
	}
	return 0;
toomany:
	tr_api_error(c, 400, "LimitExceeded", "at most 64 tags are allowed");
	return TRESOR_ELIMIT;
}

int
tr_api_check_name(struct tr_api_ctx *c, const char *field, const char *value,
    bool strict)
{
	size_t i, len = strlen(value);

	if (len == 0 || len > TR_API_NAME_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field '%s' must be 1 to %d characters long", field,
		    TR_API_NAME_MAX);
		return TRESOR_EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)value[i];

		if (strict && !((ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '-' || ch == '_')) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field '%s' may contain only letters, digits, '.',"
			    " '-' and '_'", field);
			return TRESOR_EINVAL;
		}
		if (ch < 0x20 || ch == 0x7f) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field '%s' must not contain control characters",
			    field);
			return TRESOR_EINVAL;
		}
	}
	/* names become file names in agents and scripts */
	if (strict && (strcmp(value, ".") == 0 || strcmp(value, "..") == 0)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field '%s' must not be '.' or '..'", field);
		return TRESOR_EINVAL;
	}
	return 0;
}

int
tr_api_check_ocid(struct tr_api_ctx *c, const char *field, const char *value,
    const char *type)
{
	if (!tr_ocid_valid(value, type)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field '%s' is not a valid %s OCID", field,
		    type == NULL ? "" : type);
		return TRESOR_EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* responses                                                        */
/* ---------------------------------------------------------------- */

void
tr_api_send_json(struct tr_api_ctx *c, int status, json_t *v)
{
	tr_buf_reset(&c->resp->body);
	if (v == NULL || tr_json_dump_buf(&c->resp->body, v,
	    c->resp->body_is_secret) != 0) {
		tr_buf_reset(&c->resp->body);
		tr_buf_addstr(&c->resp->body, "{\"code\":\"InternalServerError\","
		    "\"message\":\"out of memory\"}");
		status = 500;
	}
	json_decref(v);
	c->resp->status = status;
}

void
tr_api_send_empty(struct tr_api_ctx *c, int status)
{
	tr_buf_reset(&c->resp->body);
	c->resp->status = status;
}

void
tr_api_set_etag(struct tr_api_ctx *c, const char *etag)
{
	if (etag != NULL && etag[0] != '\0')
		tr_response_header(c->resp, "etag", etag);
}

json_t *
tr_api_time(int64_t ms)
{
	char buf[TR_TIME_RFC3339_LEN];

	if (ms == 0)
		return json_null();
	tr_time_rfc3339(buf, ms);
	return json_string(buf);
}

json_t *
tr_api_attrs(const char *attrs)
{
	json_t *v = attrs == NULL ? NULL : json_loads(attrs, 0, NULL);

	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	return v;
}

#define ATTRS_CACHE 64

struct attrs_slot {
	uint64_t hash;
	size_t len;
	char *text;
	json_t *v;
};

json_t *
tr_api_attrs_shared(struct tr_api_ctx *c, const char *attrs)
{
	struct tr_api_thread *t = c->t;
	struct attrs_slot *sl;
	size_t len;
	uint64_t h;

	if (attrs == NULL)
		return tr_api_attrs(NULL);
	len = strlen(attrs);
	h = tr_hash_bytes(attrs, len);
	if (t->attrs_cache == NULL &&
	    (t->attrs_cache = tr_calloc(ATTRS_CACHE,
	    sizeof(*t->attrs_cache))) == NULL)
		return tr_api_attrs(attrs);
	sl = &t->attrs_cache[h % ATTRS_CACHE];
	if (sl->v != NULL && sl->hash == h && sl->len == len &&
	    memcmp(sl->text, attrs, len) == 0)
		return json_incref(sl->v);
	json_decref(sl->v);
	tr_free(sl->text);
	sl->v = NULL;
	sl->text = tr_strdup(attrs);
	if (sl->text == NULL)
		return tr_api_attrs(attrs);
	sl->hash = h;
	sl->len = len;
	sl->v = tr_api_attrs(attrs);
	return json_incref(sl->v);
}

void
tr_api_attrs_cache_free(struct tr_api_thread *t)
{
	size_t i;

	if (t->attrs_cache == NULL)
		return;
	for (i = 0; i < ATTRS_CACHE; i++) {
		json_decref(t->attrs_cache[i].v);
		tr_free(t->attrs_cache[i].text);
	}
	tr_free(t->attrs_cache);
	t->attrs_cache = NULL;
}

json_t *
tr_api_object_or_empty(const json_t *from, const char *name)
{
	json_t *v = json_object_get(from, name);

	return json_is_object(v) ? json_incref(v) : json_object();
}

void
tr_api_copy_member(json_t *to, const json_t *from, const char *name)
{
	json_t *v = json_object_get(from, name);

	if (v != NULL && !json_is_null(v))
		json_object_set(to, name, v);
}

/* ---------------------------------------------------------------- */
/* if-match and pagination                                          */
/* ---------------------------------------------------------------- */

int
tr_api_if_match(struct tr_api_ctx *c, const char *etag)
{
	const char *v;
	size_t len;

	v = tr_request_header(c->req, "if-match", &len, NULL);
	if (v == NULL || len == 0 || (len == 1 && v[0] == '*'))
		return 0;
	if (strlen(etag) != len || !tr_ct_eq(v, etag, len)) {
		tr_api_error(c, 412, "NoEtagMatch",
		    "the if-match etag does not match the resource's current "
		    "etag; fetch the resource again");
		return TRESOR_EPRECOND;
	}
	return 0;
}

int
tr_api_query_enum(struct tr_api_ctx *c, const char *name,
    const char *const *allowed)
{
	const char *v = tr_api_query(c, name);
	char list[512];
	size_t i, len = 0;

	if (v == NULL)
		return 0;
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(v, allowed[i]) == 0)
			return 0;
	list[0] = '\0';
	for (i = 0; allowed[i] != NULL && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : ", ", allowed[i]);
	tr_api_error(c, 400, "InvalidParameter",
	    "query parameter '%s' must be one of %s", name, list);
	return TRESOR_EINVAL;
}

int
tr_api_page(struct tr_api_ctx *c, struct tr_page *pg, const char *name_sort,
    char *keybuf, size_t keycap)
{
	const char *lim = tr_api_query(c, "limit");
	const char *page = tr_api_query(c, "page");
	const char *sort = tr_api_query(c, "sortBy");
	const char *order = tr_api_query(c, "sortOrder");
	const char *dot1, *dot2;
	uint64_t v;
	size_t n;

	memset(pg, 0, sizeof(*pg));
	pg->limit = TR_API_PAGE_DEFAULT;
	pg->sort_by = TR_SORT_TIME;
	if (lim != NULL) {
		if (tr_parse_u64(lim, strlen(lim), 1, TR_API_PAGE_MAX,
		    &v) < 0) {
			tr_api_error(c, 400, "InvalidParameter",
			    "query parameter 'limit' must be an integer from 1 "
			    "to %d (the page size limit)", TR_API_PAGE_MAX);
			return TRESOR_EINVAL;
		}
		pg->limit = v > TR_API_PAGE_MAX ? TR_API_PAGE_MAX : (size_t)v;
	}
	if (sort != NULL) {
		if (strcmp(sort, "TIMECREATED") == 0) {
			pg->sort_by = TR_SORT_TIME;
		} else if (name_sort != NULL && strcmp(sort, name_sort) == 0) {
			pg->sort_by = TR_SORT_NAME;
		} else {
			tr_api_error(c, 400, "InvalidParameter",
			    "query parameter 'sortBy' must be TIMECREATED%s%s",
			    name_sort == NULL ? "" : " or ",
			    name_sort == NULL ? "" : name_sort);
			return TRESOR_EINVAL;
		}
	}
	/* OCI: TIMECREATED descending, names ascending by default */
	pg->desc = pg->sort_by == TR_SORT_TIME;
	if (order != NULL) {
		if (strcmp(order, "ASC") == 0) {
			pg->desc = false;
		} else if (strcmp(order, "DESC") == 0) {
			pg->desc = true;
		} else {
			tr_api_error(c, 400, "InvalidParameter",
			    "query parameter 'sortOrder' must be ASC or DESC");
			return TRESOR_EINVAL;
		}
	}
	if (page == NULL)
		return 0;
	/* tokens: t.<ms>.<id> or n.<base64url name>.<id> */
	n = strlen(page);
	if (n + 1 > keycap || n < 5 || page[1] != '.' ||
	    (page[0] != 't' && page[0] != 'n'))
		goto bad;
	dot1 = page + 1;
	dot2 = strchr(dot1 + 1, '.');
	if (dot2 == NULL || dot2[1] == '\0')
		goto bad;
	if ((page[0] == 't') != (pg->sort_by == TR_SORT_TIME))
		goto bad;
	memcpy(keybuf, page, n + 1);
	keybuf[dot2 - page] = '\0';
	pg->after_id = keybuf + (dot2 - page) + 1;
	if (!tr_ocid_valid(pg->after_id, NULL))
		goto bad;
	if (page[0] == 't') {
		if (tr_parse_u64(keybuf + 2, strlen(keybuf + 2), 0,
		    INT64_MAX, &v) < 0)
			goto bad;
		pg->after_time = (int64_t)v;
	} else {
		size_t outlen, inlen = strlen(keybuf + 2);
		char *name = keybuf + 2;

		/* decode in place: output is shorter than input */
		if (tr_base64url_decode(name, inlen, &outlen, name, inlen) < 0 ||
		    memchr(name, '\0', outlen) != NULL)
			goto bad;
		name[outlen] = '\0';
		pg->after_name = name;
	}
	pg->has_after = true;
	return 0;
bad:
	tr_api_error(c, 400, "InvalidParameter",
	    "query parameter 'page' is not a page token this server issued "
	    "(use the opc-next-page value of the previous response)");
	return TRESOR_EINVAL;
}

void
tr_api_next_page(struct tr_api_ctx *c, const struct tr_page *pg,
    const struct tr_obj *last)
{
	char tok[512], enc[400];

	if (pg->sort_by == TR_SORT_TIME) {
		(void)snprintf(tok, sizeof(tok), "t.%lld.%s",
		    (long long)last->time_created, last->id);
	} else {
		if (tr_base64url_encode(enc, sizeof(enc), last->name,
		    strlen(last->name)) < 0)
			return;
		(void)snprintf(tok, sizeof(tok), "n.%s.%s", enc, last->id);
	}
	tr_response_header(c->resp, "opc-next-page", tok);
}

/* ---------------------------------------------------------------- */
/* opc-retry-token                                                  */
/* ---------------------------------------------------------------- */

#define RETRY_TTL_MS (24LL * 3600 * 1000)

int
tr_api_retry_begin(struct tr_api_ctx *c, struct tr_api_retry *r)
{
	struct tr_retry_rec rec = { 0 };
	unsigned char body_hash[32];
	EVP_MD_CTX *md;
	const char *tok;
	size_t toklen;
	int rc;

	memset(r, 0, sizeof(*r));
	tok = tr_request_header(c->req, "opc-retry-token", &toklen, NULL);
	if (tok == NULL || toklen == 0)
		return 0;
	if (toklen > 128) {
		tr_api_error(c, 400, "InvalidParameter",
		    "opc-retry-token must be at most 128 characters");
		return TRESOR_EINVAL;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, c->principal.id,
	    strlen(c->principal.id) + 1) != 1 ||
	    EVP_DigestUpdate(md, c->operation, strlen(c->operation) + 1) != 1 ||
	    EVP_DigestUpdate(md, c->endpoint_vault,
	    strlen(c->endpoint_vault) + 1) != 1 ||
	    EVP_DigestUpdate(md, tok, toklen) != 1 ||
	    EVP_DigestFinal_ex(md, r->key, NULL) != 1) {
		EVP_MD_CTX_free(md);
		tr_api_error(c, 500, "InternalServerError", "digest failed");
		return TRESOR_EINTERNAL;
	}
	EVP_MD_CTX_free(md);
	EVP_Digest(c->req->body, c->req->body_len, body_hash, NULL,
	    EVP_sha256(), NULL);
	rc = c->st->ops->retry_claim(c->st, &rec, r->key, body_hash,
	    RETRY_TTL_MS);
	if (rc == 0) {
		r->active = true;
		return 0;
	}
	if (rc != TRESOR_EEXISTS) {
		tr_api_error_rc(c, rc, "retry token lookup failed");
		return rc;
	}
	if (!tr_ct_eq(rec.body_hash, body_hash, 32)) {
		tr_api_error(c, 409, "InvalidatedRetryToken",
		    "this opc-retry-token was already used for a different "
		    "request; use a new token for a new request");
		rc = TRESOR_ECONFLICT;
	} else if (rec.status == 0) {
		tr_api_error(c, 409, "IncorrectState",
		    "a request with this opc-retry-token is still in "
		    "progress; retry shortly");
		rc = TRESOR_ECONFLICT;
	} else {
		/* replay the first answer */
		tr_buf_reset(&c->resp->body);
		if (rec.response != NULL)
			tr_buf_addstr(&c->resp->body, rec.response);
		c->resp->status = rec.status;
		tr_api_set_etag(c, rec.etag);
		rc = 1;
	}
	tr_retry_rec_dispose(&rec);
	return rc;
}

void
tr_api_retry_write(struct tr_api_retry *r, struct tr_retry_rec *rec,
    struct tr_store_write *w, const char *response, const char *etag)
{
	memset(rec, 0, sizeof(*rec));
	memset(w, 0, sizeof(*w));
	memcpy(rec->key, r->key, 32);
	rec->status = 200;
	rec->response = (char *)response;
	(void)snprintf(rec->etag, sizeof(rec->etag), "%s", etag);
	w->kind = TR_W_RETRY_PUT;
	w->retry = rec;
}

int
tr_api_apply_create(struct tr_api_ctx *c, struct tr_api_retry *r,
    struct tr_store_write *w, size_t n, const json_t *response,
    const char *etag)
{
	struct tr_retry_rec rec;
	char *text = NULL;
	int rc;

	if (r->active) {
		text = json_dumps(response, JSON_COMPACT);
		if (text == NULL)
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		tr_api_retry_write(r, &rec, &w[n], text, etag);
		n++;
	}
	rc = c->st->ops->apply(c->st, w, n);
	if (rc == 0 && r->active)
		r->done = true;
	tr_free(text);
	return rc;
}

void
tr_api_retry_end(struct tr_api_ctx *c, struct tr_api_retry *r)
{
	struct tr_retry_rec rec;
	struct tr_store_write w;
	size_t i;
	const char *etag = "";

	if (!r->active)
		return;
	r->active = false;
	if (r->done)
		return;
	if (c->resp->status < 200 || c->resp->status > 299) {
		(void)c->st->ops->retry_release(c->st, r->key);
		return;
	}
	for (i = 0; i < c->resp->nheaders; i++)
		if (strcmp(c->resp->headers[i].name, "etag") == 0)
			etag = c->resp->headers[i].value;
	tr_api_retry_write(r, &rec, &w, tr_buf_cstr(&c->resp->body), etag);
	rec.status = c->resp->status;
	(void)c->st->ops->apply(c->st, &w, 1);
}

int
tr_api_deletion_time(struct tr_api_ctx *c, int min_days, int max_days,
    int64_t *out)
{
	static const struct tr_field fields[] = {
		{ "timeOfDeletion", TR_F_TIME, false },
		{ NULL, 0, false }
	};
	const char *s;
	int64_t now = tr_now_ms(), t;

	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return TRESOR_EINVAL;
	s = json_string_value(json_object_get(c->body, "timeOfDeletion"));
	if (s == NULL) {
		*out = now + (int64_t)max_days * TR_API_DAY_MS;
		return 0;
	}
	(void)tr_time_parse_rfc3339(s, &t);
	/* a minute of slack for clocks and transit */
	if (t < now + (int64_t)min_days * TR_API_DAY_MS - 60000 ||
	    t > now + (int64_t)max_days * TR_API_DAY_MS + 60000) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'timeOfDeletion' must be between %d and %d days "
		    "from now", min_days, max_days);
		return TRESOR_EINVAL;
	}
	*out = t;
	return 0;
}
