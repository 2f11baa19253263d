/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read cache in front of a store handle, and the change bus that
 * keeps every cache in the process correct (store.h, "Read cache").
 *
 * The bus is a ring of change entries (store.h struct tr_store_change)
 * with a sequence number.  Whoever commits announces what it changed;
 * a cache, before each of its reads, drops what was announced since it
 * last looked (or everything, if it fell a whole ring behind).  Because
 * a cache looks before it reads the database, a value it fetched just
 * before a concurrent commit is dropped at its next look: it may serve
 * that value only to the request that was already running.
 *
 * Each cache belongs to one handle, hence one thread: no lock on the
 * read path but an atomic load of the bus head.  Entries live in one
 * hash table with an LRU list, bounded in count; they hold ciphertext,
 * wrapped keys and metadata only, never plaintext.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"

#define BUS_RING 8192u
#define CACHE_MAX_ENTRIES 65536u	/* the byte budget binds first */
#define CACHE_MAX_VERSIONS 8u		/* sv_get results kept per secret */
#define KEY_MAX (2 * TR_ID_MAX + TR_NAME_MAX + 64)

/* ---------------------------------------------------------------- */
/* the bus                                                          */
/* ---------------------------------------------------------------- */

struct bus_entry {
	uint64_t seq;
	struct tr_store_change ch;
};

struct tr_store_bus {
	pthread_mutex_t lock;
	_Atomic uint64_t head;		/* sequence of the last entry */
	struct bus_entry ring[BUS_RING];
};

int
tr_store_bus_new(struct tr_store_bus **out)
{
	struct tr_store_bus *b = tr_calloc(1, sizeof(*b));

	*out = NULL;
	if (b == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	pthread_mutex_init(&b->lock, NULL);
	*out = b;
	return 0;
}

void
tr_store_bus_free(struct tr_store_bus *b)
{
	if (b == NULL)
		return;
	pthread_mutex_destroy(&b->lock);
	tr_free(b);
}

void
tr_store_bus_publish(struct tr_store_bus *b, const char *payload)
{
	struct tr_store_change ch;
	const char *cur = payload;
	uint64_t seq;

	/*
	 * The head moves once, after every entry of the payload is in the
	 * ring: a cache sees all of a commit's changes or none (a secret's
	 * row without its versions would be a torn view).
	 */
	pthread_mutex_lock(&b->lock);
	seq = atomic_load(&b->head);
	while (tr_store_change_next(&cur, &ch)) {
		seq++;
		b->ring[seq % BUS_RING].seq = seq;
		b->ring[seq % BUS_RING].ch = ch;
	}
	atomic_store(&b->head, seq);
	pthread_mutex_unlock(&b->lock);
}

/* ---------------------------------------------------------------- */
/* entries                                                          */
/* ---------------------------------------------------------------- */

enum entry_kind { E_OBJ = 1, E_NAME, E_SECRET, E_KV };

struct entry {
	struct entry *hnext;		/* hash chain */
	struct entry *lprev, *lnext;	/* LRU, most recent first */
	uint64_t hash;
	enum entry_kind kind;
	int64_t born;			/* tr_mono_ms() when filled */
	size_t bytes;			/* what it holds, for the budget */
	union {
		struct tr_obj obj;			/* E_OBJ */
		char id[TR_ID_MAX];			/* E_NAME */
		struct {				/* E_SECRET */
			struct tr_secret_version *list;
			size_t n;
			bool have_list;
			/* sv_get results with blobs, each made on use */
			struct tr_secret_version *slot[CACHE_MAX_VERSIONS];
			unsigned int next_slot;
		} s;
		struct tr_key_version kv;		/* E_KV */
	} u;
	char key[];			/* as long as it is */
};

struct cache_store {
	struct tr_store base;
	struct tr_store *inner;
	struct tr_store_bus *bus;
	bool announce;
	int64_t ttl_ms;			/* 0: entries never expire */
	uint64_t applied;		/* bus entries seen */
	bool gen_valid;
	uint64_t gen;
	int64_t gen_born;
	struct entry **buckets;
	size_t nbuckets;		/* power of two */
	size_t count;
	size_t bytes;			/* of every entry, blobs included */
	size_t max_bytes;		/* the budget */
	struct entry *lru_head, *lru_tail;
	struct tr_buf payload;
	struct tr_store_cache_stats stats;
	bool bypass;			/* reads go to the database */
	bool read_wanted;		/* read_begin() called */
	bool read_begun;		/* ... and passed on to inner */
};

/*
 * The inner handle for a read.  A read snapshot is begun there only when
 * a read misses the cache: a request answered from memory costs the
 * database nothing.
 */
static struct tr_store *
inner_read(struct cache_store *c)
{
	if (c->read_wanted && !c->read_begun) {
		c->read_begun = true;
		if (c->inner->ops->read_begin != NULL)
			(void)c->inner->ops->read_begin(c->inner);
	}
	return c->inner;
}

static const struct tr_store_ops cache_ops;

/* key = prefix then id (truncated at KEY_MAX: ids are far shorter) */
static void
key_of(char *key, const char *prefix, const char *id)
{
	size_t p = strlen(prefix), n = strlen(id);

	if (p + n >= KEY_MAX)
		n = KEY_MAX - p - 1;
	memcpy(key, prefix, p);
	memcpy(key + p, id, n);
	key[p + n] = '\0';
}

static void
entry_free(struct entry *e)
{
	size_t i;

	switch (e->kind) {
	case E_OBJ:
		tr_obj_dispose(&e->u.obj);
		break;
	case E_SECRET:
		tr_secret_version_list_free(e->u.s.list, e->u.s.n);
		for (i = 0; i < CACHE_MAX_VERSIONS; i++)
			if (e->u.s.slot[i] != NULL) {
				tr_secret_version_dispose(e->u.s.slot[i]);
				tr_free(e->u.s.slot[i]);
			}
		break;
	case E_KV:
		tr_key_version_dispose(&e->u.kv);
		break;
	default:
		break;
	}
	tr_free(e);
}

static void
lru_unlink(struct cache_store *c, struct entry *e)
{
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
lru_push(struct cache_store *c, struct entry *e)
{
	e->lprev = NULL;
	e->lnext = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lprev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
}

static void
remove_entry(struct cache_store *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(c, e);
	c->count--;
	c->bytes -= e->bytes;
	entry_free(e);
}

static struct entry *
find(struct cache_store *c, const char *key)
{
	uint64_t h = tr_hash_str(key);
	struct entry *e;

	for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext) {
		if (e->hash != h || strcmp(e->key, key) != 0)
			continue;
		if (c->ttl_ms > 0 && tr_mono_ms() - e->born > c->ttl_ms) {
			remove_entry(c, e);
			return NULL;
		}
		lru_unlink(c, e);
		lru_push(c, e);
		return e;
	}
	return NULL;
}

static void
drop_key(struct cache_store *c, const char *key)
{
	uint64_t h = tr_hash_str(key);
	struct entry *e;

	for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0) {
			remove_entry(c, e);
			return;
		}
}

static void
drop_all(struct cache_store *c)
{
	while (c->lru_head != NULL)
		remove_entry(c, c->lru_head);
	c->gen_valid = false;
	c->stats.flushes++;
}

static void
grow(struct cache_store *c)
{
	struct entry **nb, *e, *next;
	size_t n = c->nbuckets * 2, i;

	nb = tr_calloc(n, sizeof(*nb));
	if (nb == NULL)
		return;		/* longer chains; still correct */
	for (i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	tr_free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

/* A new entry for `key` (replacing any), or NULL when out of memory. */
static struct entry *
insert(struct cache_store *c, const char *key, enum entry_kind kind)
{
	struct entry *e;
	size_t b, klen = strlen(key);

	drop_key(c, key);
	while (c->count >= CACHE_MAX_ENTRIES && c->lru_tail != NULL) {
		remove_entry(c, c->lru_tail);
		c->stats.evictions++;
	}
	if (c->count >= c->nbuckets)
		grow(c);
	e = tr_calloc(1, sizeof(*e) + klen + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, klen + 1);
	e->hash = tr_hash_str(e->key);
	e->kind = kind;
	e->born = tr_mono_ms();
	e->bytes = sizeof(*e) + klen + 1;
	c->bytes += e->bytes;
	b = e->hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	lru_push(c, e);
	c->count++;
	return e;
}

static size_t
sv_bytes(const struct tr_secret_version *v)
{
	return sizeof(*v) + v->wrapped_dek_len + v->content_len +
	    (v->attrs == NULL ? 0 : strlen(v->attrs));
}

/*
 * Count what `e` holds now and keep the handle within its byte budget,
 * dropping the least recently used entries (never `e` itself).
 */
static void
account(struct cache_store *c, struct entry *e)
{
	size_t n = sizeof(*e) + strlen(e->key) + 1, i;

	switch (e->kind) {
	case E_OBJ:
		n += e->u.obj.attrs == NULL ? 0 : strlen(e->u.obj.attrs);
		break;
	case E_SECRET:
		for (i = 0; e->u.s.have_list && i < e->u.s.n; i++)
			n += sv_bytes(&e->u.s.list[i]);
		for (i = 0; i < CACHE_MAX_VERSIONS; i++)
			if (e->u.s.slot[i] != NULL)
				n += sv_bytes(e->u.s.slot[i]);
		break;
	case E_KV:
		n += e->u.kv.wrapped_len +
		    (e->u.kv.public_pem == NULL ? 0 :
		    strlen(e->u.kv.public_pem)) +
		    (e->u.kv.attrs == NULL ? 0 : strlen(e->u.kv.attrs));
		break;
	default:
		break;
	}
	c->bytes = c->bytes - e->bytes + n;
	e->bytes = n;
	while (c->bytes > c->max_bytes && c->lru_tail != NULL &&
	    c->lru_tail != e) {
		remove_entry(c, c->lru_tail);
		c->stats.evictions++;
	}
}

/* ---------------------------------------------------------------- */
/* following the bus                                                */
/* ---------------------------------------------------------------- */

static void
apply_change(struct cache_store *c, const struct tr_store_change *ch)
{
	char key[KEY_MAX];

	if (strcmp(ch->kind, "o") == 0) {
		key_of(key, "o|", ch->id);
		drop_key(c, key);
	} else if (strcmp(ch->kind, "v") == 0) {
		key_of(key, "s|", ch->id);
		drop_key(c, key);
	} else if (strcmp(ch->kind, "kv") == 0) {
		key_of(key, "kv|", ch->id);
		drop_key(c, key);
	} else if (strcmp(ch->kind, "k") == 0) {
		/* key versions are cached by their own id ("kv") */
	} else if (strcmp(ch->kind, "iam") == 0) {
		c->gen_valid = false;
	} else {
		drop_all(c);
	}
}

/* Drop what was announced since the last look. */
static void
catch_up(struct cache_store *c)
{
	struct tr_store_bus *b = c->bus;
	uint64_t head = atomic_load(&b->head), s;
	struct tr_store_change ch;
	bool lost = false;

	if (head == c->applied)
		return;
	if (head - c->applied >= BUS_RING) {
		drop_all(c);
		c->applied = head;
		return;
	}
	for (s = c->applied + 1; s <= head; s++) {
		pthread_mutex_lock(&b->lock);
		if (b->ring[s % BUS_RING].seq != s)
			lost = true;
		else
			ch = b->ring[s % BUS_RING].ch;
		pthread_mutex_unlock(&b->lock);
		if (lost)
			break;
		apply_change(c, &ch);
	}
	if (lost)
		drop_all(c);
	c->applied = head;
}

/* ---------------------------------------------------------------- */
/* copies                                                           */
/* ---------------------------------------------------------------- */

static void *
dup_mem(const void *p, size_t n)
{
	void *q;

	if (p == NULL)
		return NULL;
	q = tr_malloc(n == 0 ? 1 : n);
	if (q != NULL && n > 0)
		memcpy(q, p, n);
	return q;
}

static int
obj_copy(struct tr_obj *dst, const struct tr_obj *src)
{
	*dst = *src;
	dst->attrs = NULL;
	if (src->attrs != NULL && (dst->attrs = tr_strdup(src->attrs)) == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	return 0;
}

static int
sv_copy(struct tr_secret_version *dst, const struct tr_secret_version *src)
{
	*dst = *src;
	dst->wrapped_dek = dup_mem(src->wrapped_dek, src->wrapped_dek_len);
	dst->content = dup_mem(src->content, src->content_len);
	dst->attrs = src->attrs == NULL ? NULL : tr_strdup(src->attrs);
	if ((src->wrapped_dek != NULL && dst->wrapped_dek == NULL) ||
	    (src->content != NULL && dst->content == NULL) ||
	    (src->attrs != NULL && dst->attrs == NULL)) {
		tr_secret_version_dispose(dst);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	return 0;
}

static int
kv_copy(struct tr_key_version *dst, const struct tr_key_version *src)
{
	*dst = *src;
	dst->wrapped = dup_mem(src->wrapped, src->wrapped_len);
	dst->public_pem = src->public_pem == NULL ? NULL :
	    tr_strdup(src->public_pem);
	dst->attrs = src->attrs == NULL ? NULL : tr_strdup(src->attrs);
	if ((src->wrapped != NULL && dst->wrapped == NULL) ||
	    (src->public_pem != NULL && dst->public_pem == NULL) ||
	    (src->attrs != NULL && dst->attrs == NULL)) {
		tr_key_version_dispose(dst);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	return 0;
}

static int
svlist_copy(struct tr_secret_version **out, const struct tr_secret_version *v,
    size_t n)
{
	struct tr_secret_version *a;
	size_t i;

	*out = NULL;
	a = tr_calloc(n == 0 ? 1 : n, sizeof(*a));
	if (a == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (sv_copy(&a[i], &v[i]) < 0) {
			tr_secret_version_list_free(a, i);
			return TRESOR_ENOMEM;
		}
	*out = a;
	return 0;
}

/* ---------------------------------------------------------------- */
/* the ops                                                          */
/* ---------------------------------------------------------------- */

static void
c_close(struct tr_store *base)
{
	struct cache_store *c = (struct cache_store *)base;

	if (c->stats.hits + c->stats.misses >= 1000)
		tr_log_info("read cache of a handle: %llu hits, %llu misses, "
		    "%llu evictions, %llu flushes; %zu entries, %zu KiB held "
		    "(budget %zu KiB)", (unsigned long long)c->stats.hits,
		    (unsigned long long)c->stats.misses,
		    (unsigned long long)c->stats.evictions,
		    (unsigned long long)c->stats.flushes, c->count,
		    c->bytes / 1024, c->max_bytes / 1024);
	while (c->lru_head != NULL)
		remove_entry(c, c->lru_head);
	tr_free(c->buckets);
	tr_buf_dispose(&c->payload);
	tr_store_close(c->inner);
	tr_free(c);
}

static int
c_obj_get(struct tr_store *base, struct tr_obj *out, const char *id,
    const char *type)
{
	struct cache_store *c = (struct cache_store *)base;
	char key[KEY_MAX];
	struct entry *e;
	int rc;

	if (c->bypass)
		return inner_read(c)->ops->obj_get(c->inner, out, id, type);
	catch_up(c);
	key_of(key, "o|", id);
	if ((e = find(c, key)) != NULL && type != NULL &&
	    strcmp(e->u.obj.type, type) == 0) {
		c->stats.hits++;
		return obj_copy(out, &e->u.obj);
	}
	c->stats.misses++;
	if ((rc = inner_read(c)->ops->obj_get(c->inner, out, id, type)) < 0)
		return rc;
	if ((e = insert(c, key, E_OBJ)) != NULL) {
		if (obj_copy(&e->u.obj, out) < 0)
			remove_entry(c, e);
		else
			account(c, e);
	}
	return 0;
}

static int
c_obj_get_by_name(struct tr_store *base, struct tr_obj *out,
    const char *type, const char *tenancy_id, const char *parent_id,
    const char *name)
{
	struct cache_store *c = (struct cache_store *)base;
	char key[KEY_MAX], okey[KEY_MAX];
	struct entry *e, *o;
	int rc;

	if (c->bypass)
		return inner_read(c)->ops->obj_get_by_name(c->inner, out,
		    type, tenancy_id, parent_id, name);
	catch_up(c);
	(void)snprintf(key, sizeof(key), "n|%s|%s|%s|%s", type,
	    tenancy_id == NULL ? "" : tenancy_id,
	    parent_id == NULL ? "" : parent_id, name);
	if ((e = find(c, key)) != NULL) {
		/* the name still leads to that object, unchanged since */
		key_of(okey, "o|", e->u.id);
		o = find(c, okey);
		if (o != NULL && strcmp(o->u.obj.name, name) == 0 &&
		    strcmp(o->u.obj.type, type) == 0) {
			c->stats.hits++;
			return obj_copy(out, &o->u.obj);
		}
		remove_entry(c, e);
	}
	c->stats.misses++;
	if ((rc = inner_read(c)->ops->obj_get_by_name(c->inner, out, type,
	    tenancy_id, parent_id, name)) < 0)
		return rc;
	key_of(okey, "o|", out->id);
	if ((o = insert(c, okey, E_OBJ)) != NULL) {
		if (obj_copy(&o->u.obj, out) < 0) {
			remove_entry(c, o);
			return 0;
		}
		account(c, o);
	}
	if ((e = insert(c, key, E_NAME)) != NULL)
		(void)snprintf(e->u.id, sizeof(e->u.id), "%s", out->id);
	return 0;
}

static int
c_obj_list(struct tr_store *base, struct tr_obj **items_out, size_t *n_out,
    bool *more_out, const struct tr_obj_filter *f, const struct tr_page *page)
{
	struct cache_store *c = (struct cache_store *)base;

	return inner_read(c)->ops->obj_list(c->inner, items_out, n_out, more_out, f,
	    page);
}

static struct entry *
secret_entry(struct cache_store *c, const char *secret_id, bool create)
{
	char key[KEY_MAX];
	struct entry *e;

	key_of(key, "s|", secret_id);
	if ((e = find(c, key)) != NULL || !create)
		return e;
	return insert(c, key, E_SECRET);
}

static int
c_sv_get(struct tr_store *base, struct tr_secret_version *out,
    const char *secret_id, uint64_t number)
{
	struct cache_store *c = (struct cache_store *)base;
	struct entry *e;
	unsigned int i;
	int rc;

	if (c->bypass)
		return inner_read(c)->ops->sv_get(c->inner, out,
		    secret_id, number);
	catch_up(c);
	if ((e = secret_entry(c, secret_id, false)) != NULL)
		for (i = 0; i < CACHE_MAX_VERSIONS; i++)
			if (e->u.s.slot[i] != NULL &&
			    e->u.s.slot[i]->number == number) {
				c->stats.hits++;
				return sv_copy(out, e->u.s.slot[i]);
			}
	c->stats.misses++;
	if ((rc = inner_read(c)->ops->sv_get(c->inner, out, secret_id,
	    number)) < 0)
		return rc;
	if ((e = secret_entry(c, secret_id, true)) != NULL) {
		struct tr_secret_version **sl = &e->u.s.slot[e->u.s.next_slot];

		if (*sl != NULL)
			tr_secret_version_dispose(*sl);
		else
			*sl = tr_malloc(sizeof(**sl));
		if (*sl != NULL && sv_copy(*sl, out) < 0) {
			tr_free(*sl);
			*sl = NULL;
		}
		e->u.s.next_slot = (e->u.s.next_slot + 1) % CACHE_MAX_VERSIONS;
		account(c, e);
	}
	return 0;
}

static int
c_sv_list(struct tr_store *base, struct tr_secret_version **items_out,
    size_t *n_out, const char *secret_id, bool with_blobs)
{
	struct cache_store *c = (struct cache_store *)base;
	struct entry *e;
	int rc;

	*items_out = NULL;
	*n_out = 0;
	if (with_blobs)
		return inner_read(c)->ops->sv_list(c->inner, items_out, n_out,
		    secret_id, true);
	if (c->bypass)
		return inner_read(c)->ops->sv_list(c->inner, items_out,
		    n_out, secret_id, false);
	catch_up(c);
	if ((e = secret_entry(c, secret_id, false)) != NULL &&
	    e->u.s.have_list) {
		c->stats.hits++;
		if ((rc = svlist_copy(items_out, e->u.s.list, e->u.s.n)) < 0)
			return rc;
		*n_out = e->u.s.n;
		return 0;
	}
	c->stats.misses++;
	if ((rc = inner_read(c)->ops->sv_list(c->inner, items_out, n_out,
	    secret_id, false)) < 0)
		return rc;
	if ((e = secret_entry(c, secret_id, true)) != NULL &&
	    !e->u.s.have_list &&
	    svlist_copy(&e->u.s.list, *items_out, *n_out) == 0) {
		e->u.s.n = *n_out;
		e->u.s.have_list = true;
		account(c, e);
	}
	return 0;
}

static int
c_kv_get(struct tr_store *base, struct tr_key_version *out, const char *id)
{
	struct cache_store *c = (struct cache_store *)base;
	char key[KEY_MAX];
	struct entry *e;
	int rc;

	if (c->bypass)
		return inner_read(c)->ops->kv_get(c->inner, out, id);
	catch_up(c);
	key_of(key, "kv|", id);
	if ((e = find(c, key)) != NULL) {
		c->stats.hits++;
		return kv_copy(out, &e->u.kv);
	}
	c->stats.misses++;
	if ((rc = inner_read(c)->ops->kv_get(c->inner, out, id)) < 0)
		return rc;
	if ((e = insert(c, key, E_KV)) != NULL) {
		if (kv_copy(&e->u.kv, out) < 0)
			remove_entry(c, e);
		else
			account(c, e);
	}
	return 0;
}

static int
c_kv_list(struct tr_store *base, struct tr_key_version **items_out,
    size_t *n_out, const char *key_id)
{
	struct cache_store *c = (struct cache_store *)base;

	return inner_read(c)->ops->kv_list(c->inner, items_out, n_out, key_id);
}

/* Announce a committed batch to every cache of the process. */
static void
announce(struct cache_store *c, const struct tr_store_write *w, size_t n)
{
	bool iam = false;
	size_t i;

	if (!c->announce)
		return;
	for (i = 0; i < n; i++)
		if (w[i].obj != NULL && tr_store_type_is_iam(w[i].obj->type))
			iam = true;
	if (tr_store_changes_format(&c->payload, w, n, iam) < 0) {
		tr_buf_reset(&c->payload);
		(void)tr_buf_addstr(&c->payload, "*");
	}
	tr_store_bus_publish(c->bus, tr_buf_cstr(&c->payload));
}

static int
c_apply(struct tr_store *base, const struct tr_store_write *w, size_t n)
{
	struct cache_store *c = (struct cache_store *)base;
	int rc = c->inner->ops->apply(c->inner, w, n);

	/*
	 * Announced after a failure too: a write whose outcome is unknown
	 * (a lost connection at COMMIT) must not leave anything stale.
	 */
	if (rc == 0 || rc == TRESOR_EUNAVAIL || rc == TRESOR_EIO)
		announce(c, w, n);
	return rc;
}

static int
c_retry_claim(struct tr_store *base, struct tr_retry_rec *out,
    const unsigned char key[32], const unsigned char body_hash[32],
    int64_t max_age_ms)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->retry_claim(c->inner, out, key, body_hash,
	    max_age_ms);
}

static int
c_retry_release(struct tr_store *base, const unsigned char key[32])
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->retry_release(c->inner, key);
}

static int
c_iam_generation(struct tr_store *base, uint64_t *out)
{
	struct cache_store *c = (struct cache_store *)base;
	int rc;

	if (c->bypass)
		return inner_read(c)->ops->iam_generation(c->inner, out);
	catch_up(c);
	if (c->gen_valid && (c->ttl_ms == 0 ||
	    tr_mono_ms() - c->gen_born <= c->ttl_ms)) {
		*out = c->gen;
		c->stats.hits++;
		return 0;
	}
	c->stats.misses++;
	if ((rc = inner_read(c)->ops->iam_generation(c->inner, out)) < 0)
		return rc;
	c->gen = *out;
	c->gen_born = tr_mono_ms();
	c->gen_valid = true;
	return 0;
}

static int
c_setting_get(struct tr_store *base, char **value_out, const char *key)
{
	struct cache_store *c = (struct cache_store *)base;

	return inner_read(c)->ops->setting_get(c->inner, value_out, key);
}

static int
c_setting_put(struct tr_store *base, const char *key, const char *value)
{
	struct cache_store *c = (struct cache_store *)base;
	int rc = c->inner->ops->setting_put(c->inner, key, value);

	/* settings steer authorisation: every cache rebuilds its world */
	if (c->announce)
		tr_store_bus_publish(c->bus, "iam");
	return rc;
}

static int
c_notify(struct tr_store *base, const char *channel, const char *payload)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->notify(c->inner, channel, payload);
}

static int
c_listen(struct tr_store *base, const char *channel)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->listen(c->inner, channel);
}

static int
c_poll_notify(struct tr_store *base, int timeout_ms, char **channel_out,
    char **payload_out)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->poll_notify(c->inner, timeout_ms, channel_out,
	    payload_out);
}

static int
c_try_lock(struct tr_store *base, uint64_t key, bool *got)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->try_lock(c->inner, key, got);
}

static int
c_unlock(struct tr_store *base, uint64_t key)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->unlock(c->inner, key);
}

static int
c_dump(struct tr_store *base,
    int (*cb)(const struct tr_store_record *r, void *payload), void *payload)
{
	struct cache_store *c = (struct cache_store *)base;

	return c->inner->ops->dump(c->inner, cb, payload);
}

static int
c_load(struct tr_store *base, enum tr_load_step step,
    const struct tr_store_record *r)
{
	struct cache_store *c = (struct cache_store *)base;
	int rc = c->inner->ops->load(c->inner, step, r);

	if (step == TR_LOAD_COMMIT && c->announce)
		tr_store_bus_publish(c->bus, "*");
	return rc;
}

static int
c_read_begin(struct tr_store *base)
{
	struct cache_store *c = (struct cache_store *)base;

	c->read_wanted = true;
	c->read_begun = false;
	return 0;
}

static void
c_read_end(struct tr_store *base)
{
	struct cache_store *c = (struct cache_store *)base;

	if (c->read_begun && c->inner->ops->read_end != NULL)
		c->inner->ops->read_end(c->inner);
	c->read_wanted = c->read_begun = false;
}

static const struct tr_store_ops cache_ops = {
	.version = TR_STORE_OPS_VERSION,
	.name = "cache",
	.close = c_close,
	.obj_get = c_obj_get,
	.obj_get_by_name = c_obj_get_by_name,
	.obj_list = c_obj_list,
	.sv_get = c_sv_get,
	.sv_list = c_sv_list,
	.kv_get = c_kv_get,
	.kv_list = c_kv_list,
	.apply = c_apply,
	.retry_claim = c_retry_claim,
	.retry_release = c_retry_release,
	.iam_generation = c_iam_generation,
	.setting_get = c_setting_get,
	.setting_put = c_setting_put,
	.notify = c_notify,
	.listen = c_listen,
	.poll_notify = c_poll_notify,
	.try_lock = c_try_lock,
	.unlock = c_unlock,
	.dump = c_dump,
	.load = c_load,
	.read_begin = c_read_begin,
	.read_end = c_read_end,
};

int
tr_store_cache_wrap(struct tr_store **out, struct tr_store *inner,
    struct tr_store_bus *bus, bool announce_writes, int64_t ttl_ms,
    size_t max_bytes)
{
	struct cache_store *c;

	*out = NULL;
	c = tr_calloc(1, sizeof(*c));
	if (c == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	c->nbuckets = 1024;
	c->buckets = tr_calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		tr_free(c);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	c->base.ops = &cache_ops;
	c->inner = inner;
	c->bus = bus;
	c->announce = announce_writes;
	c->ttl_ms = ttl_ms;
	c->max_bytes = max_bytes == 0 ? TR_STORE_CACHE_MAX_BYTES : max_bytes;
	c->applied = atomic_load(&bus->head);
	tr_buf_init(&c->payload, 65536);
	*out = &c->base;
	return 0;
}

void
tr_store_cache_bypass(struct tr_store *st, bool on)
{
	if (st != NULL && st->ops == &cache_ops)
		((struct cache_store *)st)->bypass = on;
}

struct tr_store *
tr_store_inner(struct tr_store *st)
{
	if (st != NULL && st->ops == &cache_ops)
		return ((struct cache_store *)st)->inner;
	return NULL;
}

void
tr_store_cache_stats(struct tr_store *st, struct tr_store_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (st != NULL && st->ops == &cache_ops) {
		*out = ((struct cache_store *)st)->stats;
		out->entries = ((struct cache_store *)st)->count;
		out->bytes = ((struct cache_store *)st)->bytes;
	}
}
