/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The life of objects after their creation: scheduled deletion of
 * secrets, secret versions, keys, key versions and vaults, the reaper
 * that carries deletions out when their time comes, and scheduled secret
 * rotation.
 *
 * Every scheduled event is a "job" object in the store, written in the
 * same batch as the state change that schedules it: parent_id is the
 * object it acts on, name says what to do ("reap-secret",
 * "reap-version:<n>", "reap-key", "reap-keyversion:<ocid>",
 * "reap-vault", "rotate"), and time_created is when it is due, so the
 * store's time order is the queue.  The reaper carries a job out and
 * deletes it in one batch guarded by the job's etag: when several nodes
 * share a store, exactly one of them does each job.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/secret_stages.h"
#include "crypto/keystore.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/ocid.h"

#define JOB_BATCH 64

int
tr_api_job_new(struct tr_obj *job, const char *tenancy, const char *parent,
    const char *kind, int64_t due)
{
	int rc;

	memset(job, 0, sizeof(*job));
	if ((rc = tr_ocid_new(job->id, sizeof(job->id), "job", NULL)) < 0 ||
	    (rc = tr_store_new_etag(job->etag)) < 0)
		return rc;
	(void)snprintf(job->type, sizeof(job->type), "job");
	(void)snprintf(job->tenancy_id, sizeof(job->tenancy_id), "%s",
	    tenancy);
	(void)snprintf(job->compartment_id, sizeof(job->compartment_id), "%s",
	    tenancy);
	(void)snprintf(job->parent_id, sizeof(job->parent_id), "%s", parent);
	(void)snprintf(job->name, sizeof(job->name), "%s", kind);
	(void)snprintf(job->state, sizeof(job->state), "ACTIVE");
	job->time_created = due;
	job->attrs = tr_strdup("{}");
	return job->attrs == NULL ? tr_error_set(TRESOR_ENOMEM,
	    "out of memory") : 0;
}

int
tr_api_job_find(struct tr_store *st, const char *tenancy, const char *parent,
    const char *kind, struct tr_obj *out)
{
	return st->ops->obj_get_by_name(st, out, "job", tenancy, parent, kind);
}

/* ---------------------------------------------------------------- */
/* the reaper                                                       */
/* ---------------------------------------------------------------- */

/* Writes of one job, grown as needed, applied in one batch. */
struct batch {
	struct tr_store_write *w;
	size_t n, cap;
};

static int
batch_add(struct batch *b, enum tr_write_kind kind, const struct tr_obj *o,
    const char *expect, const struct tr_secret_version *sv,
    const struct tr_key_version *kv)
{
	struct tr_store_write *grown;

	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 16 : b->cap * 2;
		grown = tr_reallocarray(b->w, b->cap, sizeof(*grown));
		if (grown == NULL)
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		b->w = grown;
	}
	memset(&b->w[b->n], 0, sizeof(b->w[b->n]));
	b->w[b->n].kind = kind;
	b->w[b->n].obj = o;
	b->w[b->n].expect_etag = expect;
	b->w[b->n].sv = sv;
	b->w[b->n].kv = kv;
	b->n++;
	return 0;
}

/* Set DELETED on `o` (a copy we own) and queue the write. */
static int
mark_deleted(struct batch *b, struct tr_obj *o, char *old_etag)
{
	int rc;

	(void)snprintf(old_etag, TR_ETAG_MAX, "%s", o->etag);
	if ((rc = tr_store_new_etag(o->etag)) < 0)
		return rc;
	(void)snprintf(o->state, sizeof(o->state), "DELETED");
	return batch_add(b, TR_W_OBJ_PUT, o, old_etag, NULL, NULL);
}

/* State of a job's work, owned until the batch is applied. */
struct reap {
	struct batch b;
	struct tr_obj *objs;		/* objects changed */
	size_t nobjs;
	char (*etags)[TR_ETAG_MAX];
	struct tr_secret_version *svs;
	size_t nsvs;
	struct tr_key_version *kvs;
	size_t nkvs;
	struct tr_secret_version **sv_lists;
	size_t *sv_counts;
	size_t nlists;
	struct tr_key_version **kv_lists;
	size_t *kv_counts;
	size_t nkvlists;
	struct tr_keystore *ks;
};

static void
reap_dispose(struct reap *r)
{
	size_t i;

	tr_free(r->b.w);
	tr_obj_list_free(r->objs, r->nobjs);
	tr_free(r->etags);
	for (i = 0; i < r->nlists; i++)
		tr_secret_version_list_free(r->sv_lists[i], r->sv_counts[i]);
	for (i = 0; i < r->nkvlists; i++)
		tr_key_version_list_free(r->kv_lists[i], r->kv_counts[i]);
	tr_free(r->sv_lists);
	tr_free(r->sv_counts);
	tr_free(r->kv_lists);
	tr_free(r->kv_counts);
}

/* Room for one more object copy; returns its slot. */
static struct tr_obj *
reap_obj(struct reap *r, const struct tr_obj *src)
{
	struct tr_obj *grown;
	char (*eg)[TR_ETAG_MAX];

	/* objects are referenced by pointer from the batch: grow only
	 * before the first write is queued (callers size it up front) */
	grown = tr_reallocarray(r->objs, r->nobjs + 1, sizeof(*grown));
	eg = tr_reallocarray(r->etags, r->nobjs + 1, sizeof(*eg));
	if (grown != NULL)
		r->objs = grown;
	if (eg != NULL)
		r->etags = eg;
	if (grown == NULL || eg == NULL)
		return NULL;
	r->objs[r->nobjs] = *src;
	r->objs[r->nobjs].attrs = src->attrs == NULL ? NULL :
	    tr_strdup(src->attrs);
	return &r->objs[r->nobjs++];
}

/* Queue the destruction of every version of secret `s`. */
static int
reap_secret_versions(struct tr_store *st, struct reap *r, const char *sid)
{
	struct tr_secret_version *vs = NULL, **gl;
	size_t n = 0, i, *gc;
	int rc;

	if ((rc = st->ops->sv_list(st, &vs, &n, sid, false)) < 0)
		return rc;
	gl = tr_reallocarray(r->sv_lists, r->nlists + 1, sizeof(*gl));
	if (gl != NULL)
		r->sv_lists = gl;
	gc = tr_reallocarray(r->sv_counts, r->nlists + 1, sizeof(*gc));
	if (gc != NULL)
		r->sv_counts = gc;
	if (gl == NULL || gc == NULL) {
		tr_secret_version_list_free(vs, n);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	r->sv_lists[r->nlists] = vs;
	r->sv_counts[r->nlists] = n;
	r->nlists++;
	for (i = 0; i < n; i++)
		if ((rc = batch_add(&r->b, TR_W_SV_DELETE, NULL, NULL, &vs[i],
		    NULL)) < 0)
			return rc;
	return 0;
}

/* Queue the destruction of every version of key `kid`. */
static int
reap_key_versions(struct tr_store *st, struct reap *r, const char *kid)
{
	struct tr_key_version *vs = NULL, **gl;
	size_t n = 0, i, *gc;
	int rc;

	if ((rc = st->ops->kv_list(st, &vs, &n, kid)) < 0)
		return rc;
	gl = tr_reallocarray(r->kv_lists, r->nkvlists + 1, sizeof(*gl));
	if (gl != NULL)
		r->kv_lists = gl;
	gc = tr_reallocarray(r->kv_counts, r->nkvlists + 1, sizeof(*gc));
	if (gc != NULL)
		r->kv_counts = gc;
	if (gl == NULL || gc == NULL) {
		tr_key_version_list_free(vs, n);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	r->kv_lists[r->nkvlists] = vs;
	r->kv_counts[r->nkvlists] = n;
	r->nkvlists++;
	for (i = 0; i < n; i++)
		if ((rc = batch_add(&r->b, TR_W_KV_DELETE, NULL, NULL, NULL,
		    &vs[i])) < 0)
			return rc;
	return 0;
}

/* Every live child of `type` under `parent`, up to 10000. */
static int
children(struct tr_store *st, const char *type, const char *parent,
    struct tr_obj **out, size_t *n)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	bool more;

	f.type = type;
	f.parent_id = parent;
	f.hide_deleted = true;
	pg.limit = 1000;
	return st->ops->obj_list(st, out, n, &more, &f, &pg);
}

/*
 * Prepare the reaping of object `id` of `type` (and what it holds).  The
 * objects are copied into r->objs first (pointers stay stable), then
 * the writes are queued.
 */
static int
reap_prepare(struct tr_store *st, struct reap *r, const char *type,
    const char *id)
{
	struct tr_obj o, *kids = NULL, *secrets = NULL, *p;
	size_t nk = 0, ns = 0, i, base;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = st->ops->obj_get(st, &o, id, type);
	if (rc == TRESOR_ENOTFOUND)
		return 0;	/* gone already */
	if (rc < 0)
		return rc;
	if (strcmp(o.state, "DELETED") == 0)
		goto out;
	if (strcmp(type, "vault") == 0) {
		if ((rc = children(st, "key", o.id, &kids, &nk)) < 0 ||
		    (rc = children(st, "vaultsecret", o.id, &secrets,
		    &ns)) < 0)
			goto out;
	}
	/* copy every object first: r->objs may move while it grows */
	base = r->nobjs;
	if (reap_obj(r, &o) == NULL)
		goto nomem;
	for (i = 0; i < nk; i++)
		if (reap_obj(r, &kids[i]) == NULL)
			goto nomem;
	for (i = 0; i < ns; i++)
		if (reap_obj(r, &secrets[i]) == NULL)
			goto nomem;
	for (i = base; i < r->nobjs; i++) {
		p = &r->objs[i];
		if ((rc = mark_deleted(&r->b, p, r->etags[i])) < 0)
			goto out;
		if (strcmp(p->type, "vaultsecret") == 0)
			rc = reap_secret_versions(st, r, p->id);
		else if (strcmp(p->type, "key") == 0)
			rc = reap_key_versions(st, r, p->id);
		if (rc < 0)
			goto out;
	}
	rc = 0;
	goto out;
nomem:
	rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
out:
	tr_obj_list_free(kids, nk);
	tr_obj_list_free(secrets, ns);
	tr_obj_dispose(&o);
	return rc;
}

/*
 * The reuse rule may cover deleted versions: keep the keyed hash of the
 * version's content (never the content) on the secret.
 */
static int
remember_mac(struct tr_store *st, struct reap *r, const char *sid,
    const struct tr_secret_version *v)
{
	static const char hex[] = "0123456789abcdef";
	struct tr_obj s, *p;
	json_t *a, *arr;
	char h[65];
	int i, rc;

	memset(&s, 0, sizeof(s));
	if ((rc = st->ops->obj_get(st, &s, sid, "vaultsecret")) < 0)
		return rc == TRESOR_ENOTFOUND ? 0 : rc;
	for (i = 0; i < 32; i++) {
		h[2 * i] = hex[v->content_mac[i] >> 4];
		h[2 * i + 1] = hex[v->content_mac[i] & 15];
	}
	h[64] = '\0';
	a = tr_api_attrs(s.attrs);
	arr = json_object_get(a, "_deletedMacs");
	if (!json_is_array(arr)) {
		arr = json_array();
		json_object_set_new(a, "_deletedMacs", arr);
	}
	if (json_array_size(arr) < 1000)
		json_array_append_new(arr, json_string(h));
	tr_free(s.attrs);
	s.attrs = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	p = reap_obj(r, &s);
	tr_obj_dispose(&s);
	if (p == NULL || p->attrs == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	(void)snprintf(r->etags[r->nobjs - 1], TR_ETAG_MAX, "%s", p->etag);
	if ((rc = tr_store_new_etag(p->etag)) < 0)
		return rc;
	return batch_add(&r->b, TR_W_OBJ_PUT, p, r->etags[r->nobjs - 1], NULL,
	    NULL);
}

/* Reap one secret version (number in the job's kind). */
static int
reap_version_prepare(struct tr_store *st, struct reap *r, const char *sid,
    uint64_t number)
{
	struct tr_secret_version *v, **gl;
	size_t *gc;
	int rc;

	v = tr_calloc(1, sizeof(*v));
	gl = tr_reallocarray(r->sv_lists, r->nlists + 1, sizeof(*gl));
	if (gl != NULL)
		r->sv_lists = gl;
	gc = tr_reallocarray(r->sv_counts, r->nlists + 1, sizeof(*gc));
	if (gc != NULL)
		r->sv_counts = gc;
	if (v == NULL || gl == NULL || gc == NULL) {
		tr_free(v);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	rc = st->ops->sv_get(st, v, sid, number);
	if (rc < 0) {
		tr_free(v);
		return rc == TRESOR_ENOTFOUND ? 0 : rc;
	}
	r->sv_lists[r->nlists] = v;
	r->sv_counts[r->nlists] = 1;
	r->nlists++;
	if (v->has_mac && (rc = remember_mac(st, r, sid, v)) < 0)
		return rc;
	return batch_add(&r->b, TR_W_SV_DELETE, NULL, NULL, v, NULL);
}

/*
 * Reap one key version: its row is replaced by a tombstone (state
 * DELETED, TR_KEY_TOMBSTONE in place of its material) so that it is
 * still listed as OCI lists deleted versions; run_job() then destroys
 * the material (token objects of an HSM key) once that is committed.
 * A version no longer PENDING_DELETION (the deletion was cancelled) is
 * left alone.
 */
static int
reap_keyversion_prepare(struct tr_store *st, struct reap *r, const char *kvid)
{
	struct tr_key_version *v, *t, **gl;
	size_t *gc, n = sizeof(TR_KEY_TOMBSTONE) - 1;
	int rc;

	v = tr_calloc(2, sizeof(*v));
	gl = tr_reallocarray(r->kv_lists, r->nkvlists + 1, sizeof(*gl));
	if (gl != NULL)
		r->kv_lists = gl;
	gc = tr_reallocarray(r->kv_counts, r->nkvlists + 1, sizeof(*gc));
	if (gc != NULL)
		r->kv_counts = gc;
	if (v == NULL || gl == NULL || gc == NULL) {
		tr_free(v);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	rc = st->ops->kv_get(st, v, kvid);
	if (rc < 0) {
		tr_free(v);
		return rc == TRESOR_ENOTFOUND ? 0 : rc;
	}
	if (strcmp(v->state, "PENDING_DELETION") != 0) {
		tr_key_version_list_free(v, 1);
		return 0;
	}
	r->kv_lists[r->nkvlists] = v;
	r->kv_counts[r->nkvlists] = 2;
	r->nkvlists++;
	t = &v[1];
	memcpy(t->id, v->id, sizeof(t->id));
	memcpy(t->key_id, v->key_id, sizeof(t->key_id));
	memcpy(t->vault_id, v->vault_id, sizeof(t->vault_id));
	memcpy(t->compartment_id, v->compartment_id,
	    sizeof(t->compartment_id));
	(void)snprintf(t->state, sizeof(t->state), "DELETED");
	t->time_created = v->time_created;
	t->time_of_deletion = v->time_of_deletion;
	t->seq = v->seq;
	t->wrapped = tr_malloc(n);
	t->attrs = tr_strdup(v->attrs == NULL ? "{}" : v->attrs);
	if (t->wrapped == NULL || t->attrs == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	memcpy(t->wrapped, TR_KEY_TOMBSTONE, n);
	t->wrapped_len = n;
	if ((rc = batch_add(&r->b, TR_W_KV_DELETE, NULL, NULL, NULL, v)) < 0)
		return rc;
	return batch_add(&r->b, TR_W_KV_INSERT, NULL, NULL, NULL, t);
}

/* Carry out one due job; 1 when done, 0 when another node did it. */
static int
run_job(struct tr_api_thread *t, const struct tr_obj *job, int64_t now)
{
	struct tr_store *st = t->store;
	const struct tr_key_version *kv;
	struct tr_keyref ref;
	struct reap r;
	uint64_t num;
	size_t i, k;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ks = t->env->ks;
	if (strcmp(job->name, "reap-secret") == 0) {
		rc = reap_prepare(st, &r, "vaultsecret", job->parent_id);
	} else if (strcmp(job->name, "reap-key") == 0) {
		rc = reap_prepare(st, &r, "key", job->parent_id);
	} else if (strcmp(job->name, "reap-vault") == 0) {
		rc = reap_prepare(st, &r, "vault", job->parent_id);
	} else if (strncmp(job->name, "reap-version:", 13) == 0) {
		num = 0;
		for (i = 13; job->name[i] >= '0' && job->name[i] <= '9'; i++)
			num = num * 10 + (uint64_t)(job->name[i] - '0');
		rc = reap_version_prepare(st, &r, job->parent_id, num);
	} else if (strncmp(job->name, "reap-keyversion:", 16) == 0) {
		rc = reap_keyversion_prepare(st, &r, job->name + 16);
	} else if (strcmp(job->name, "rotate") == 0) {
		rc = tr_api_rotate_scheduled(t, job, now);
		reap_dispose(&r);
		return rc;
	} else {
		tr_log_warn("unknown job '%s' dropped", job->name);
		rc = 0;
	}
	if (rc < 0)
		goto out;
	/* the job goes with its work: exactly one node does it */
	if ((rc = batch_add(&r.b, TR_W_OBJ_DELETE, job, job->etag, NULL,
	    NULL)) < 0)
		goto out;
	rc = st->ops->apply(st, r.b.w, r.b.n);
	if (rc == TRESOR_EPRECOND) {
		rc = 0;		/* done elsewhere, or the object moved on */
		goto out;
	}
	if (rc < 0)
		goto out;
	/*
	 * deleted key material leaves the keystore's cache, and the token
	 * for HSM keys; a failure there leaves orphaned token objects only,
	 * which nothing refers to any more
	 */
	for (i = 0; i < r.nkvlists; i++) {
		for (k = 0; k < r.kv_counts[i]; k++) {
			kv = &r.kv_lists[i][k];
			ref.version_id = kv->id;
			ref.wrapped = kv->wrapped;
			ref.wrapped_len = kv->wrapped_len;
			if (tr_keystore_destroy(t->env->ks, &ref) < 0)
				tr_log_error("key version %s: %s", kv->id,
				    tresor_error_last());
		}
	}
	tr_log_info("%s %s done", job->name, job->parent_id);
	rc = 1;
out:
	reap_dispose(&r);
	return rc;
}

int
tr_api_maintenance(struct tr_api_thread *t, int64_t now, size_t *done_out)
{
	struct tr_obj_filter f = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj *jobs = NULL;
	char after[TR_ID_MAX];
	size_t n = 0, i, done = 0;
	bool more;
	int rc, one;

	if (done_out != NULL)
		*done_out = 0;
	f.type = "job";
	pg.limit = JOB_BATCH;
	pg.sort_by = TR_SORT_TIME;
	pg.desc = false;
	do {
		if ((rc = t->store->ops->obj_list(t->store, &jobs, &n, &more,
		    &f, &pg)) < 0)
			return rc;
		for (i = 0; i < n; i++) {
			if (jobs[i].time_created > now) {
				more = false;
				break;
			}
			one = run_job(t, &jobs[i], now);
			if (one < 0)
				tr_log_error("job %s on %s failed: %s",
				    jobs[i].name, jobs[i].parent_id,
				    tresor_error_last());
			else
				done += (size_t)one;
		}
		if (n > 0) {
			/* keyset: a job that failed is not met again */
			pg.has_after = true;
			pg.after_time = jobs[n - 1].time_created;
			(void)snprintf(after, sizeof(after), "%s",
			    jobs[n - 1].id);
			pg.after_id = after;
		}
		tr_obj_list_free(jobs, n);
		jobs = NULL;
		n = 0;
	} while (more && done < 10000);
	if (done_out != NULL)
		*done_out = done;
	return 0;
}
