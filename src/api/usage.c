/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Usage metering: secret retrievals and KMS operations counted per
 * principal, per target (secret or key) and per hour, and the report
 * behind GET /tresor/v1/usage: totals, what the calls would cost at
 * OCI's published price, and the callers whose pattern shows no
 * caching.
 *
 * Requests count into an in-memory table (one mutex, a few hundred
 * nanoseconds); the table is flushed into the store as "usage" objects,
 * one per (hour, principal, target, kind), by the maintenance thread and
 * before every report.  Flushes add with compare-and-swap, so several
 * nodes can count into one store.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/api_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/parse.h"

#define BUCKETS 1024
#define HOUR_MS (3600LL * 1000)
#define FREE_CALLS 10000.0
#define PRICE_PER_10K 0.03
/* more reads of one secret by one caller in an hour than this: no cache */
#define NO_CACHE_PER_HOUR 60

struct usage_entry {
	struct usage_entry *next;
	int64_t hour;
	char kind[16];
	char tenancy[TR_ID_MAX];
	char principal[TR_ID_MAX];
	char target[TR_ID_MAX];
	uint64_t count;
};

struct tr_usage {
	pthread_mutex_t lock;
	struct usage_entry *b[BUCKETS];
};

int
tr_usage_new(struct tr_usage **out)
{
	*out = tr_calloc(1, sizeof(**out));
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

/* Take every entry out of the table (lock held by the caller). */
static struct usage_entry *
drain_locked(struct tr_usage *u)
{
	struct usage_entry *all = NULL, *e, *next;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (e = u->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = all;
			all = e;
		}
		u->b[i] = NULL;
	}
	return all;
}

void
tr_usage_free(struct tr_usage *u)
{
	struct usage_entry *e, *next;

	if (u == NULL)
		return;
	for (e = drain_locked(u); e != NULL; e = next) {
		next = e->next;
		tr_free(e);
	}
	pthread_mutex_destroy(&u->lock);
	tr_free(u);
}

static size_t
bucket_of(int64_t hour, const char *kind, const char *p, const char *t)
{
	uint64_t h = tr_hash_str(t) ^ (tr_hash_str(p) * 3) ^
	    (tr_hash_str(kind) * 5) ^ (uint64_t)hour;

	return (size_t)(h % BUCKETS);
}

void
tr_usage_count(struct tr_usage *u, const char *kind, const char *tenancy,
    const char *principal, const char *target)
{
	int64_t hour = tr_now_ms() / HOUR_MS * HOUR_MS;
	size_t b = bucket_of(hour, kind, principal, target);
	struct usage_entry *e;

	if (u == NULL || target == NULL || target[0] == '\0')
		return;
	pthread_mutex_lock(&u->lock);
	for (e = u->b[b]; e != NULL; e = e->next) {
		if (e->hour == hour && strcmp(e->kind, kind) == 0 &&
		    strcmp(e->principal, principal) == 0 &&
		    strcmp(e->target, target) == 0) {
			e->count++;
			goto out;
		}
	}
	e = tr_calloc(1, sizeof(*e));
	if (e == NULL)
		goto out;	/* metering is best effort */
	e->hour = hour;
	(void)snprintf(e->kind, sizeof(e->kind), "%s", kind);
	(void)snprintf(e->tenancy, sizeof(e->tenancy), "%s", tenancy);
	(void)snprintf(e->principal, sizeof(e->principal), "%s", principal);
	(void)snprintf(e->target, sizeof(e->target), "%s", target);
	e->count = 1;
	e->next = u->b[b];
	u->b[b] = e;
out:
	pthread_mutex_unlock(&u->lock);
}

/* The store id of an entry's row: stable across nodes. */
static void
row_id(const struct usage_entry *e, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	char key[1024], h[41];
	int i;

	(void)snprintf(key, sizeof(key), "%lld|%s|%s|%s",
	    (long long)e->hour, e->kind, e->principal, e->target);
	EVP_Digest(key, strlen(key), d, NULL, EVP_sha256(), NULL);
	for (i = 0; i < 20; i++) {
		h[2 * i] = hex[d[i] >> 4];
		h[2 * i + 1] = hex[d[i] & 15];
	}
	h[40] = '\0';
	(void)snprintf(out, cap, "ocid1.usage.oc1..%s", h);
}

/* Add one entry to its row (insert or compare-and-swap). */
static int
flush_one(struct tr_store *st, const struct usage_entry *e)
{
	struct tr_store_write w = { 0 };
	struct tr_obj o;
	char old[TR_ETAG_MAX];
	json_t *a;
	int rc = 0, attempt;

	for (attempt = 0; attempt < 8; attempt++) {
		memset(&o, 0, sizeof(o));
		row_id(e, o.id, sizeof(o.id));
		rc = st->ops->obj_get(st, &o, o.id, "usage");
		if (rc == TRESOR_ENOTFOUND) {
			(void)snprintf(o.type, sizeof(o.type), "usage");
			(void)snprintf(o.tenancy_id, sizeof(o.tenancy_id), "%s",
			    e->tenancy);
			(void)snprintf(o.compartment_id,
			    sizeof(o.compartment_id), "%s", e->tenancy);
			(void)snprintf(o.parent_id, sizeof(o.parent_id), "%s",
			    e->principal);
			(void)snprintf(o.name, sizeof(o.name), "%s", e->target);
			(void)snprintf(o.state, sizeof(o.state), "ACTIVE");
			o.time_created = e->hour;
			a = json_pack("{s:s, s:I}", "kind", e->kind, "count",
			    (json_int_t)e->count);
			old[0] = '\0';
		} else if (rc == 0) {
			a = tr_api_attrs(o.attrs);
			json_object_set_new(a, "count", json_integer(
			    json_integer_value(json_object_get(a, "count")) +
			    (json_int_t)e->count));
			(void)snprintf(old, sizeof(old), "%s", o.etag);
		} else {
			return rc;
		}
		tr_free(o.attrs);
		o.attrs = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		if (o.attrs == NULL || (rc = tr_store_new_etag(o.etag)) < 0) {
			tr_obj_dispose(&o);
			return rc < 0 ? rc : TRESOR_ENOMEM;
		}
		w.kind = TR_W_OBJ_PUT;
		w.obj = &o;
		w.expect_etag = old[0] == '\0' ? NULL : old;
		rc = st->ops->apply(st, &w, 1);
		tr_obj_dispose(&o);
		if (rc != TRESOR_EPRECOND && rc != TRESOR_EEXISTS)
			break;
	}
	return rc;
}

int
tr_usage_flush(struct tr_usage *u, struct tr_store *st)
{
	struct usage_entry *all, *e, *next;
	int rc = 0, one;

	if (u == NULL)
		return 0;
	pthread_mutex_lock(&u->lock);
	all = drain_locked(u);
	pthread_mutex_unlock(&u->lock);
	for (e = all; e != NULL; e = next) {
		next = e->next;
		one = flush_one(st, e);
		if (one < 0 && rc == 0) {
			rc = one;
			tr_log_warn("usage: %s", tresor_error_last());
		}
		tr_free(e);
	}
	return rc;
}

/* ---------------------------------------------------------------- */
/* the report                                                       */
/* ---------------------------------------------------------------- */

static double
cost_of(uint64_t calls)
{
	return calls <= FREE_CALLS ? 0.0 :
	    ((double)calls - FREE_CALLS) / 10000.0 * PRICE_PER_10K;
}

/* Add `n` to member `key` of object `o` (a JSON integer). */
static void
bump(json_t *o, const char *key, uint64_t n)
{
	json_object_set_new(o, key, json_integer(json_integer_value(
	    json_object_get(o, key)) + (json_int_t)n));
}

void
tr_api_get_usage(struct tr_api_ctx *c)
{
	static const char *const perms[] = { "VAULT_READ", NULL };
	struct tr_api_target t = { 0 };
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj *rows = NULL;
	const char *ts = tr_api_query(c, "timeStart");
	const char *te = tr_api_query(c, "timeEnd");
	int64_t start, end, now = tr_now_ms();
	json_t *by_p = json_object(), *by_t = json_object(), *nocache;
	json_t *a, *pe, *resp;
	char after[TR_ID_MAX], ks[TR_TIME_RFC3339_LEN];
	uint64_t retr = 0, kms = 0, n_rows = 0, cnt;
	const char *kind, *key;
	size_t n = 0, i;
	bool more = true;
	int rc;

	t.compartment_id = tr_api_tenancy(c);
	if (tr_api_authorize(c, &t, perms, "tenancy") < 0)
		goto out;
	end = now;
	start = now - 30LL * 24 * HOUR_MS;
	if ((ts != NULL && tr_time_parse_rfc3339(ts, &start) < 0) ||
	    (te != NULL && tr_time_parse_rfc3339(te, &end) < 0) ||
	    end < start) {
		tr_api_error(c, 400, "InvalidParameter",
		    "timeStart and timeEnd must be RFC 3339 times, start "
		    "before end");
		goto out;
	}
	(void)tr_usage_flush(c->t->env->usage, c->st);
	f.type = "usage";
	f.tenancy_id = tr_api_tenancy(c);
	pg.limit = 1000;
	pg.sort_by = TR_SORT_TIME;
	pg.has_after = true;
	pg.after_time = start / HOUR_MS * HOUR_MS - 1;
	pg.after_id = "";
	while (more && n_rows < 1000000) {
		if ((rc = c->st->ops->obj_list(c->st, &rows, &n, &more, &f,
		    &pg)) < 0) {
			tr_api_error_rc(c, rc, "cannot read usage");
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (rows[i].time_created >= end) {
				more = false;
				break;
			}
			a = tr_api_attrs(rows[i].attrs);
			kind = json_string_value(json_object_get(a, "kind"));
			cnt = (uint64_t)json_integer_value(json_object_get(a,
			    "count"));
			if (kind != NULL && strcmp(kind, "kms") == 0)
				kms += cnt;
			else
				retr += cnt;
			pe = json_object_get(by_p, rows[i].parent_id);
			if (pe == NULL) {
				pe = json_object();
				json_object_set_new(by_p, rows[i].parent_id, pe);
			}
			bump(pe, kind != NULL && strcmp(kind, "kms") == 0 ?
			    "kmsOperations" : "secretRetrievals", cnt);
			pe = json_object_get(by_t, rows[i].name);
			if (pe == NULL) {
				pe = json_object();
				json_object_set_new(by_t, rows[i].name, pe);
			}
			bump(pe, kind != NULL && strcmp(kind, "kms") == 0 ?
			    "kmsOperations" : "secretRetrievals", cnt);
			/* many reads of one secret in one hour: no cache */
			if (kind != NULL && strcmp(kind, "retrieval") == 0 &&
			    cnt > NO_CACHE_PER_HOUR) {
				pe = json_object_get(by_p, rows[i].parent_id);
				bump(pe, "_hoursWithoutCaching", 1);
				if ((uint64_t)json_integer_value(json_object_get(
				    pe, "_peakReadsPerHour")) < cnt)
					json_object_set_new(pe,
					    "_peakReadsPerHour",
					    json_integer((json_int_t)cnt));
			}
			json_decref(a);
			n_rows++;
		}
		if (n > 0) {
			pg.after_time = rows[n - 1].time_created;
			(void)snprintf(after, sizeof(after), "%s",
			    rows[n - 1].id);
			pg.after_id = after;
		}
		tr_obj_list_free(rows, n);
		rows = NULL;
		n = 0;
	}
	nocache = json_array();
	json_object_foreach(by_p, key, pe) {
		json_t *h = json_object_get(pe, "_hoursWithoutCaching");

		if (h != NULL) {
			json_array_append_new(nocache, json_pack(
			    "{s:s, s:O, s:O, s:s}", "principalId", key,
			    "hoursWithoutCaching", h, "peakReadsPerHour",
			    json_object_get(pe, "_peakReadsPerHour"),
			    "advice", "this caller reads the same secret more "
			    "than once a minute: cache it (libtresor's TTL "
			    "cache or tresor agent) for less than the "
			    "secret's rotation interval"));
			json_object_del(pe, "_hoursWithoutCaching");
			json_object_del(pe, "_peakReadsPerHour");
		}
		json_object_set_new(pe, "estimatedCostUsd",
		    json_real(cost_of((uint64_t)json_integer_value(
		    json_object_get(pe, "secretRetrievals")) +
		    (uint64_t)json_integer_value(json_object_get(pe,
		    "kmsOperations")))));
	}
	resp = json_pack("{s:o, s:o, s:I, s:I, s:f, s:o, s:o, s:o, s:s}",
	    "timeStart", tr_api_time(start), "timeEnd", tr_api_time(end),
	    "secretRetrievals", (json_int_t)retr, "kmsOperations",
	    (json_int_t)kms, "estimatedCostUsd", cost_of(retr + kms),
	    "byPrincipal", by_p, "byTarget", by_t, "callersWithoutCaching",
	    nocache, "pricing", "OCI's published price: the first 10,000 "
	    "calls a month free, then $0.03 per 10,000");
	by_p = by_t = NULL;
	(void)ks;
	tr_api_send_json(c, 200, resp);
out:
	json_decref(by_p);
	json_decref(by_t);
}
