/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by every store backend and its callers (see store.h).
 */
#include <string.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/rand.h"
#include "util/secret.h"

void
tr_obj_dispose(struct tr_obj *o)
{
	if (o == NULL)
		return;
	TR_FREE_AND_NULL(o->attrs);
}

void
tr_obj_list_free(struct tr_obj *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		tr_obj_dispose(&items[i]);
	tr_free(items);
}

void
tr_secret_version_dispose(struct tr_secret_version *v)
{
	if (v == NULL)
		return;
	tr_freezero(v->wrapped_dek, v->wrapped_dek_len);
	v->wrapped_dek = NULL;
	tr_free(v->content);
	v->content = NULL;
	TR_FREE_AND_NULL(v->attrs);
}

void
tr_secret_version_list_free(struct tr_secret_version *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		tr_secret_version_dispose(&items[i]);
	tr_free(items);
}

void
tr_key_version_dispose(struct tr_key_version *v)
{
	if (v == NULL)
		return;
	tr_freezero(v->wrapped, v->wrapped_len);
	v->wrapped = NULL;
	TR_FREE_AND_NULL(v->public_pem);
	TR_FREE_AND_NULL(v->attrs);
}

void
tr_key_version_list_free(struct tr_key_version *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		tr_key_version_dispose(&items[i]);
	tr_free(items);
}

void
tr_retry_rec_dispose(struct tr_retry_rec *r)
{
	if (r == NULL)
		return;
	TR_FREE_AND_NULL(r->response);
}

int
tr_store_new_etag(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t i;
	int rc;

	if ((rc = tr_random_bytes(r, sizeof(r))) < 0)
		return rc;
	for (i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * sizeof(r)] = '\0';
	return 0;
}

bool
tr_store_type_is_iam(const char *type)
{
	static const char *iam_types[] = { "tenancy", "compartment", "user",
		"group", "groupmembership", "apikey", "dynamicgroup", "policy",
		"workload", NULL };
	size_t i;

	for (i = 0; iam_types[i] != NULL; i++)
		if (strcmp(type, iam_types[i]) == 0)
			return true;
	return false;
}
