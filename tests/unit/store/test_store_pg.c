/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store as several nodes see it: concurrent writers on the
 * same rows from several connections (no lost update, unique gapless
 * version numbers, one winner per unique name, one owner per retry
 * token), deadlocks and lock waits mapped to retryable codes,
 * notifications across connections and after a reconnect, advisory
 * locks, concurrent schema migration, the connection-loss path (cluster
 * stopped mid-test, frozen server) and tr_store_copy() from SQLite with
 * its verification.
 *
 * Runs through tests/pg/pg.sh run, which starts a throwaway cluster and
 * sets TRESOR_TEST_PG (and _DIR, _PORT, _SH so this test can stop and
 * start it).
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pg_fixture.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/error.h"

#define WRITERS 4
#define UPDATES 15
#define RACERS 6

struct fixture {
	char dir[64];
	char db[128];
	char where[1024];
	struct tr_store *st;
};

static bool cluster_down;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tresor-pgt-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (fx_pg_create(f->db, sizeof(f->db), f->where,
	    sizeof(f->where)) < 0)
		return -1;
	if (tr_store_pg_open(&f->st, f->where, true) < 0) {
		fprintf(stderr, "open: %s\n", tresor_error_last());
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (cluster_down && fx_pg_start() == 0)
		cluster_down = false;
	tr_store_close(f->st);
	fx_pg_drop(f->db);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

static void
mk(struct tr_obj *o, const char *type, const char *id, const char *parent,
    const char *name, int64_t t)
{
	memset(o, 0, sizeof(*o));
	(void)snprintf(o->id, sizeof(o->id), "%s", id);
	(void)snprintf(o->type, sizeof(o->type), "%s", type);
	(void)snprintf(o->tenancy_id, sizeof(o->tenancy_id), "ocid1.tenancy.t");
	(void)snprintf(o->compartment_id, sizeof(o->compartment_id),
	    "ocid1.tenancy.t");
	(void)snprintf(o->parent_id, sizeof(o->parent_id), "%s", parent);
	(void)snprintf(o->name, sizeof(o->name), "%s", name);
	(void)snprintf(o->state, sizeof(o->state), "ACTIVE");
	(void)tr_store_new_etag(o->etag);
	o->time_created = t;
}

static int
put(struct tr_store *st, struct tr_obj *o, const char *expect)
{
	struct tr_store_write w = { 0 };

	w.kind = TR_W_OBJ_PUT;
	w.obj = o;
	w.expect_etag = expect;
	return st->ops->apply(st, &w, 1);
}

/* A connection string for the fixture's database with extra words. */
static void
where_with(const struct fixture *f, char *out, size_t cap, const char *more)
{
	(void)snprintf(out, cap, "%s %s", f->where, more);
}

/* ---------------------------------------------------------------- */
/* concurrent writers                                               */
/* ---------------------------------------------------------------- */

struct writer {
	const char *where;
	pthread_barrier_t *go;
	int idx;
	int rc;
	int retries;
};

/*
 * What UpdateSecret does: read the secret, then in one batch replace it
 * (etag compared) with seq + 1 and insert version seq + 1.
 */
static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct tr_store *st = NULL;
	struct tr_store_write b[2];
	struct tr_secret_version v;
	struct tr_obj o;
	char old[TR_ETAG_MAX], content[32];
	int i = 0, rc;

	w->rc = tr_store_pg_open(&st, w->where, false);
	(void)pthread_barrier_wait(w->go);
	if (w->rc < 0)
		return NULL;
	while (i < UPDATES) {
		if ((rc = st->ops->obj_get(st, &o, "ocid1.vaultsecret.race",
		    "vaultsecret")) < 0) {
			w->rc = rc;
			break;
		}
		(void)snprintf(old, sizeof(old), "%s", o.etag);
		(void)tr_store_new_etag(o.etag);
		o.seq++;
		memset(&v, 0, sizeof(v));
		(void)snprintf(v.secret_id, sizeof(v.secret_id), "%s", o.id);
		(void)snprintf(v.key_version_id, sizeof(v.key_version_id),
		    "kv");
		v.number = o.seq;
		v.stages = TR_STAGE_CURRENT;
		(void)snprintf(content, sizeof(content), "w%d-%d", w->idx, i);
		v.content = (unsigned char *)content;
		v.content_len = strlen(content);
		memset(b, 0, sizeof(b));
		b[0].kind = TR_W_OBJ_PUT;
		b[0].obj = &o;
		b[0].expect_etag = old;
		b[1].kind = TR_W_SV_INSERT;
		b[1].sv = &v;
		rc = st->ops->apply(st, b, 2);
		tr_obj_dispose(&o);
		if (rc == 0) {
			i++;
		} else if (rc == TRESOR_EPRECOND || rc == TRESOR_EEXISTS) {
			w->retries++;
		} else {
			w->rc = rc;
			break;
		}
	}
	tr_store_close(st);
	return NULL;
}

static void
test_concurrent_updates_keep_versions_unique(void **state)
{
	struct fixture *f = *state;
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	pthread_barrier_t go;
	struct tr_secret_version *vs = NULL;
	struct tr_obj o, got;
	bool seen[WRITERS][UPDATES];
	char text[32];
	size_t n, i;
	int a, b, retries = 0;

	mk(&o, "vaultsecret", "ocid1.vaultsecret.race", "ocid1.vault.r", "s",
	    1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	pthread_barrier_init(&go, NULL, WRITERS);
	for (a = 0; a < WRITERS; a++) {
		memset(&w[a], 0, sizeof(w[a]));
		w[a].where = f->where;
		w[a].go = &go;
		w[a].idx = a;
		assert_int_equal(pthread_create(&th[a], NULL, writer_main,
		    &w[a]), 0);
	}
	for (a = 0; a < WRITERS; a++) {
		pthread_join(th[a], NULL);
		if (w[a].rc < 0)
			fprintf(stderr, "writer %d: %s\n", a,
			    tresor_strerror(w[a].rc));
		assert_int_equal(w[a].rc, 0);
		retries += w[a].retries;
	}
	pthread_barrier_destroy(&go);
	/* every update landed once: seq and versions 1..N, none lost */
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, NULL), 0);
	assert_int_equal(got.seq, WRITERS * UPDATES);
	tr_obj_dispose(&got);
	assert_int_equal(f->st->ops->sv_list(f->st, &vs, &n, o.id, true), 0);
	assert_int_equal(n, WRITERS * UPDATES);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		assert_int_equal(vs[i].number, i + 1);
		/* the content is not NUL-terminated */
		assert_true(vs[i].content_len < sizeof(text));
		memcpy(text, vs[i].content, vs[i].content_len);
		text[vs[i].content_len] = '\0';
		assert_int_equal(sscanf(text, "w%d-%d", &a, &b), 2);
		assert_true(a >= 0 && a < WRITERS && b >= 0 && b < UPDATES);
		assert_false(seen[a][b]);
		seen[a][b] = true;
	}
	tr_secret_version_list_free(vs, n);
	fprintf(stderr, "  %d writers, %d updates, %d retries after "
	    "conflicts\n", WRITERS, WRITERS * UPDATES, retries);
}

/* Bump the counter object's seq UPDATES times, etag compared. */
static void *
counter_main(void *arg)
{
	struct writer *w = arg;
	struct tr_store *st = NULL;
	struct tr_obj o;
	char old[TR_ETAG_MAX];
	int i = 0, rc;

	w->rc = tr_store_pg_open(&st, w->where, false);
	(void)pthread_barrier_wait(w->go);
	if (w->rc < 0)
		return NULL;
	while (i < UPDATES) {
		if ((rc = st->ops->obj_get(st, &o, "ocid1.vault.counter",
		    "vault")) < 0) {
			w->rc = rc;
			break;
		}
		(void)snprintf(old, sizeof(old), "%s", o.etag);
		(void)tr_store_new_etag(o.etag);
		o.seq++;
		rc = put(st, &o, old);
		tr_obj_dispose(&o);
		if (rc == 0) {
			i++;
		} else if (rc == TRESOR_EPRECOND) {
			w->retries++;
		} else {
			w->rc = rc;
			break;
		}
	}
	tr_store_close(st);
	return NULL;
}

static void
test_etag_compare_and_swap_loses_no_update(void **state)
{
	struct fixture *f = *state;
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	pthread_barrier_t go;
	struct tr_obj o, got;
	int a;

	mk(&o, "vault", "ocid1.vault.counter", "", "c", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	pthread_barrier_init(&go, NULL, WRITERS);
	for (a = 0; a < WRITERS; a++) {
		memset(&w[a], 0, sizeof(w[a]));
		w[a].where = f->where;
		w[a].go = &go;
		w[a].idx = a;
		assert_int_equal(pthread_create(&th[a], NULL, counter_main,
		    &w[a]), 0);
	}
	for (a = 0; a < WRITERS; a++) {
		pthread_join(th[a], NULL);
		assert_int_equal(w[a].rc, 0);
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, NULL), 0);
	assert_int_equal(got.seq, WRITERS * UPDATES);
	tr_obj_dispose(&got);
}

struct racer {
	const char *where;
	pthread_barrier_t *go;
	int idx;
	int round;
	int rc;
	bool claim;		/* race for a retry token instead */
	struct tr_retry_rec rec;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	struct tr_store *st = NULL;
	struct tr_obj o;
	unsigned char key[32] = { 0 }, h[32] = { 1 };
	char id[64], name[32];
	int rc;

	rc = tr_store_pg_open(&st, r->where, false);
	(void)pthread_barrier_wait(r->go);
	if (rc < 0) {
		r->rc = rc;
		return NULL;
	}
	if (r->claim) {
		key[0] = (unsigned char)r->round;
		r->rc = st->ops->retry_claim(st, &r->rec, key, h, 60000);
	} else {
		(void)snprintf(id, sizeof(id), "ocid1.vaultsecret.r%d.%d",
		    r->round, r->idx);
		(void)snprintf(name, sizeof(name), "same-%d", r->round);
		mk(&o, "vaultsecret", id, "ocid1.vault.same", name, 1);
		r->rc = put(st, &o, NULL);
	}
	tr_store_close(st);
	return NULL;
}

/* RACERS connections at once: one wins, the others see EEXISTS. */
static void
race(struct fixture *f, bool claim)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t go;
	int i, round, won;

	for (round = 1; round <= 3; round++) {
		pthread_barrier_init(&go, NULL, RACERS);
		for (i = 0; i < RACERS; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].where = f->where;
			r[i].go = &go;
			r[i].idx = i;
			r[i].round = round;
			r[i].claim = claim;
			assert_int_equal(pthread_create(&th[i], NULL,
			    racer_main, &r[i]), 0);
		}
		won = 0;
		for (i = 0; i < RACERS; i++) {
			pthread_join(th[i], NULL);
			if (r[i].rc == 0) {
				won++;
			} else {
				assert_int_equal(r[i].rc, TRESOR_EEXISTS);
				if (claim)
					assert_int_equal(r[i].rec.status, 0);
			}
			tr_retry_rec_dispose(&r[i].rec);
		}
		pthread_barrier_destroy(&go);
		assert_int_equal(won, 1);
	}
}

static void
test_concurrent_creates_one_wins(void **state)
{
	struct fixture *f = *state;
	struct tr_secret_version v;
	struct tr_store_write w = { 0 };

	race(f, false);
	/* the unique index on version names also says EEXISTS */
	memset(&v, 0, sizeof(v));
	(void)snprintf(v.secret_id, sizeof(v.secret_id), "ocid1.vaultsecret.n");
	(void)snprintf(v.key_version_id, sizeof(v.key_version_id), "kv");
	(void)snprintf(v.name, sizeof(v.name), "v-one");
	v.number = 1;
	w.kind = TR_W_SV_INSERT;
	w.sv = &v;
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), 0);
	v.number = 2;
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), TRESOR_EEXISTS);
}

static void
test_concurrent_retry_claims_one_owner(void **state)
{
	race(*state, true);
}

/* Blobs far past a socket buffer go out and come back byte for byte. */
static void
test_large_blobs_round_trip(void **state)
{
	struct fixture *f = *state;
	struct tr_secret_version v, got;
	struct tr_store_write w = { 0 };
	size_t i, n = 4 * 1024 * 1024;
	unsigned char *big = malloc(n);

	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 31 + (i >> 8));
	memset(&v, 0, sizeof(v));
	(void)snprintf(v.secret_id, sizeof(v.secret_id), "ocid1.vaultsecret.b");
	(void)snprintf(v.key_version_id, sizeof(v.key_version_id), "kv");
	v.number = 1;
	v.content = big;
	v.content_len = n;
	v.wrapped_dek = big + 17;
	v.wrapped_dek_len = 1000;
	w.kind = TR_W_SV_INSERT;
	w.sv = &v;
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), 0);
	assert_int_equal(f->st->ops->sv_get(f->st, &got, v.secret_id, 1), 0);
	assert_int_equal(got.content_len, n);
	assert_memory_equal(got.content, big, n);
	assert_memory_equal(got.wrapped_dek, big + 17, 1000);
	tr_secret_version_dispose(&got);
	free(big);
}

/* ---------------------------------------------------------------- */
/* lock waits and deadlocks                                         */
/* ---------------------------------------------------------------- */

static PGconn *
raw_connect(const struct fixture *f)
{
	PGconn *c = PQconnectdb(f->where);

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	return c;
}

static void
raw_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	assert_true(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
}

static void
test_lock_wait_past_statement_timeout_is_unavailable(void **state)
{
	struct fixture *f = *state;
	struct tr_store *st = NULL;
	struct tr_obj o;
	char where[1200];
	PGconn *raw;
	int64_t t0, took;

	mk(&o, "vault", "ocid1.vault.locked", "", "v", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	where_with(f, where, sizeof(where),
	    "options='-c statement_timeout=500'");
	assert_int_equal(tr_store_pg_open(&st, where, false), 0);
	raw = raw_connect(f);
	raw_exec(raw, "BEGIN");
	raw_exec(raw, "SELECT 1 FROM objects WHERE id = 'ocid1.vault.locked'"
	    " FOR UPDATE");
	t0 = mono_ms();
	assert_int_equal(put(st, &o, "*"), TRESOR_EUNAVAIL);
	took = mono_ms() - t0;
	assert_true(took < 2500);
	raw_exec(raw, "ROLLBACK");
	/* the connection survived the cancelled statement */
	assert_int_equal(put(st, &o, "*"), 0);
	PQfinish(raw);
	tr_store_close(st);
}

struct second_lock {
	PGconn *raw;
};

static void *
deadlock_main(void *arg)
{
	struct second_lock *d = arg;
	PGresult *r;

	usleep(300 * 1000);
	/* waits for the store, which waits for us: a deadlock */
	r = PQexec(d->raw, "UPDATE objects SET name = 'raw'"
	    " WHERE id = 'ocid1.vault.dl2'");
	PQclear(r);
	r = PQexec(d->raw, "ROLLBACK");
	PQclear(r);
	return NULL;
}

static void
test_deadlock_is_a_retryable_conflict(void **state)
{
	struct fixture *f = *state;
	struct tr_store_write w[2];
	struct second_lock d;
	struct tr_obj a, b, got;
	pthread_t th;

	mk(&a, "vault", "ocid1.vault.dl1", "", "a", 1);
	mk(&b, "vault", "ocid1.vault.dl2", "", "b", 1);
	assert_int_equal(put(f->st, &a, NULL), 0);
	assert_int_equal(put(f->st, &b, NULL), 0);
	d.raw = raw_connect(f);
	raw_exec(d.raw, "BEGIN");
	raw_exec(d.raw, "UPDATE objects SET name = 'raw'"
	    " WHERE id = 'ocid1.vault.dl1'");
	assert_int_equal(pthread_create(&th, NULL, deadlock_main, &d), 0);
	/* the store takes dl2, then waits for dl1 */
	memset(w, 0, sizeof(w));
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &b;
	w[0].expect_etag = "*";
	w[1].kind = TR_W_OBJ_PUT;
	w[1].obj = &a;
	w[1].expect_etag = "*";
	assert_int_equal(f->st->ops->apply(f->st, w, 2), TRESOR_EPRECOND);
	pthread_join(th, NULL);
	PQfinish(d.raw);
	/* rolled back whole, and the caller's retry goes through */
	assert_int_equal(f->st->ops->obj_get(f->st, &got, b.id, NULL), 0);
	assert_string_equal(got.name, "b");
	tr_obj_dispose(&got);
	assert_int_equal(f->st->ops->apply(f->st, w, 2), 0);
}

/* ---------------------------------------------------------------- */
/* notifications and locks                                          */
/* ---------------------------------------------------------------- */

/* Wait for the next change payload on `st`; true when `entry` is in it. */
static bool
heard(struct tr_store *st, const char *kind, const char *id)
{
	struct tr_store_change c;
	const char *cur;
	char *ch = NULL, *pl = NULL;
	bool found = false;

	assert_int_equal(st->ops->poll_notify(st, 3000, &ch, &pl), 0);
	assert_non_null(ch);
	assert_string_equal(ch, TR_STORE_CHANGES);
	cur = pl;
	while (tr_store_change_next(&cur, &c))
		if (strcmp(c.kind, kind) == 0 && strcmp(c.id, id) == 0)
			found = true;
	tr_free(ch);
	tr_free(pl);
	return found;
}

static void
test_notifications_reach_other_connections(void **state)
{
	struct fixture *f = *state;
	struct tr_store *b = NULL;
	struct tr_store_write w = { 0 };
	struct tr_key_version kv;
	struct tr_obj o;
	char *ch = NULL, *pl = NULL;
	int64_t t0;

	assert_int_equal(tr_store_pg_open(&b, f->where, false), 0);
	assert_int_equal(f->st->ops->listen(f->st, TR_STORE_CHANGES), 0);
	mk(&o, "vault", "ocid1.vault.n1", "", "v", 1);
	assert_int_equal(put(b, &o, NULL), 0);
	assert_true(heard(f->st, "o", "ocid1.vault.n1"));
	mk(&o, "group", "ocid1.group.n1", "", "g", 1);
	assert_int_equal(put(b, &o, NULL), 0);
	assert_true(heard(f->st, "iam", ""));
	memset(&kv, 0, sizeof(kv));
	(void)snprintf(kv.id, sizeof(kv.id), "ocid1.keyversion.n1");
	(void)snprintf(kv.key_id, sizeof(kv.key_id), "ocid1.key.n1");
	kv.wrapped = (unsigned char *)"w";
	kv.wrapped_len = 1;
	w.kind = TR_W_KV_INSERT;
	w.kv = &kv;
	assert_int_equal(b->ops->apply(b, &w, 1), 0);
	assert_true(heard(f->st, "kv", "ocid1.keyversion.n1"));
	/* a batch that fails announces nothing */
	assert_int_equal(put(b, &o, "stale"), TRESOR_EPRECOND);
	t0 = mono_ms();
	assert_int_equal(f->st->ops->poll_notify(f->st, 300, &ch, &pl), 0);
	assert_null(ch);
	assert_true(mono_ms() - t0 >= 250);
	/* plain notify() on another channel */
	assert_int_equal(f->st->ops->listen(f->st, "tresor_jobs"), 0);
	assert_int_equal(b->ops->notify(b, "tresor_jobs", "rotate"), 0);
	assert_int_equal(f->st->ops->poll_notify(f->st, 3000, &ch, &pl), 0);
	assert_string_equal(ch, "tresor_jobs");
	assert_string_equal(pl, "rotate");
	tr_free(ch);
	tr_free(pl);
	tr_store_close(b);
}

static void
test_advisory_locks_across_connections(void **state)
{
	struct fixture *f = *state;
	struct tr_store *b = NULL;
	bool got = false;
	int i;

	assert_int_equal(tr_store_pg_open(&b, f->where, false), 0);
	assert_int_equal(f->st->ops->try_lock(f->st, 0xfeedfacecafeULL,
	    &got), 0);
	assert_true(got);
	assert_int_equal(b->ops->try_lock(b, 0xfeedfacecafeULL, &got), 0);
	assert_false(got);
	/* reentrant: two holds, two releases */
	assert_int_equal(f->st->ops->try_lock(f->st, 0xfeedfacecafeULL,
	    &got), 0);
	assert_true(got);
	assert_int_equal(f->st->ops->unlock(f->st, 0xfeedfacecafeULL), 0);
	assert_int_equal(b->ops->try_lock(b, 0xfeedfacecafeULL, &got), 0);
	assert_false(got);
	assert_int_equal(f->st->ops->unlock(f->st, 0xfeedfacecafeULL), 0);
	assert_int_equal(f->st->ops->unlock(f->st, 0xfeedfacecafeULL),
	    TRESOR_ENOTFOUND);
	assert_int_equal(b->ops->try_lock(b, 0xfeedfacecafeULL, &got), 0);
	assert_true(got);
	/* a key with the top bit set is a key like any other */
	assert_int_equal(b->ops->try_lock(b, UINT64_MAX, &got), 0);
	assert_true(got);
	/*
	 * A node that goes away lets go, once its server process has
	 * ended: soon, though not at the instant the client hangs up.
	 */
	tr_store_close(b);
	for (i = 0, got = false; i < 40 && !got; i++) {
		assert_int_equal(f->st->ops->try_lock(f->st,
		    0xfeedfacecafeULL, &got), 0);
		if (!got)
			usleep(50 * 1000);
	}
	assert_true(got);
	assert_int_equal(f->st->ops->try_lock(f->st, UINT64_MAX, &got), 0);
	assert_true(got);
}

/* ---------------------------------------------------------------- */
/* schema                                                           */
/* ---------------------------------------------------------------- */

struct opener {
	const char *where;
	pthread_barrier_t *go;
	int rc;
};

static void *
opener_main(void *arg)
{
	struct opener *o = arg;
	struct tr_store *st = NULL;

	(void)pthread_barrier_wait(o->go);
	o->rc = tr_store_pg_open(&st, o->where, true);
	tr_store_close(st);
	return NULL;
}

static void
test_nodes_starting_together_migrate_once(void **state)
{
	struct fixture *f = *state;
	struct opener o[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t go;
	struct tr_store *st = NULL;
	char db[128], where[1024];
	int i;

	assert_int_equal(fx_pg_create(db, sizeof(db), where, sizeof(where)),
	    0);
	pthread_barrier_init(&go, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		o[i].where = where;
		o[i].go = &go;
		o[i].rc = -100;
		assert_int_equal(pthread_create(&th[i], NULL, opener_main,
		    &o[i]), 0);
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(o[i].rc, 0);
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(tr_store_pg_open(&st, where, false), 0);
	tr_store_close(st);
	fx_pg_drop(db);
	(void)f;
}

/* ---------------------------------------------------------------- */
/* failure                                                          */
/* ---------------------------------------------------------------- */

static void
test_unreachable_server_fails_fast(void **state)
{
	struct tr_store *st = NULL;
	int64_t t0 = mono_ms();

	(void)state;
	assert_int_equal(tr_store_pg_open(&st,
	    "host=127.0.0.1 port=1 dbname=x user=x", true), TRESOR_EUNAVAIL);
	assert_null(st);
	assert_true(mono_ms() - t0 < 3000);
}

static void
test_cluster_stop_and_return(void **state)
{
	struct fixture *f = *state;
	struct tr_store *l = NULL, *b = NULL;
	struct tr_obj o, got;
	char *ch = NULL, *pl = NULL;
	int64_t t0;
	int rc, i;

	assert_int_equal(tr_store_pg_open(&l, f->where, false), 0);
	assert_int_equal(l->ops->listen(l, TR_STORE_CHANGES), 0);
	mk(&o, "vault", "ocid1.vault.kept", "", "kept", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	assert_true(heard(l, "o", "ocid1.vault.kept"));

	assert_int_equal(fx_pg_stop(), 0);
	cluster_down = true;
	t0 = mono_ms();
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, NULL),
	    TRESOR_EUNAVAIL);
	assert_true(mono_ms() - t0 < 2000);
	t0 = mono_ms();
	assert_int_equal(put(f->st, &o, "*"), TRESOR_EUNAVAIL);
	assert_int_equal(f->st->ops->setting_put(f->st, "a", "b"),
	    TRESOR_EUNAVAIL);
	assert_true(mono_ms() - t0 < 2000);
	/* the listener learns it may have missed something */
	t0 = mono_ms();
	assert_int_equal(l->ops->poll_notify(l, 500, &ch, &pl),
	    TRESOR_EUNAVAIL);
	assert_true(mono_ms() - t0 < 2000);

	assert_int_equal(fx_pg_start(), 0);
	cluster_down = false;
	/* back by itself once the reconnect pause is over */
	usleep(1100 * 1000);
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, NULL), 0);
	assert_string_equal(got.name, "kept");
	tr_obj_dispose(&got);
	/* the listener hears "*" once, then live changes again */
	rc = TRESOR_EUNAVAIL;
	for (i = 0; i < 30 && rc == TRESOR_EUNAVAIL; i++)
		rc = l->ops->poll_notify(l, 1000, &ch, &pl);
	assert_int_equal(rc, 0);
	assert_non_null(ch);
	assert_string_equal(ch, TR_STORE_CHANGES);
	assert_string_equal(pl, "*");
	tr_free(ch);
	tr_free(pl);
	assert_int_equal(tr_store_pg_open(&b, f->where, false), 0);
	mk(&o, "vault", "ocid1.vault.after", "", "after", 1);
	assert_int_equal(put(b, &o, NULL), 0);
	assert_true(heard(l, "o", "ocid1.vault.after"));
	tr_store_close(b);
	tr_store_close(l);
}

/* The pid of the server process of the store's connection. */
static int
backend_pid(const struct fixture *f)
{
	PGconn *c = raw_connect(f);
	PGresult *r;
	char sql[256];
	int pid = -1;

	(void)snprintf(sql, sizeof(sql), "SELECT pid FROM pg_stat_activity"
	    " WHERE datname = '%s' AND application_name = 'tresord'", f->db);
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		pid = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return pid;
}

static void
test_frozen_server_never_hangs(void **state)
{
	struct fixture *f = *state;
	struct tr_store *st = NULL;
	struct tr_obj o, got;
	char where[1200];
	int64_t t0, took;
	int pid;

	mk(&o, "vault", "ocid1.vault.frozen", "", "v", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	tr_store_close(f->st);
	f->st = NULL;
	where_with(f, where, sizeof(where),
	    "options='-c statement_timeout=1000'");
	assert_int_equal(tr_store_pg_open(&st, where, false), 0);
	pid = backend_pid(f);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = mono_ms();
	assert_int_equal(st->ops->obj_get(st, &got, o.id, NULL),
	    TRESOR_EUNAVAIL);
	took = mono_ms() - t0;
	(void)kill(pid, SIGCONT);
	/* statement_timeout plus the client's grace, not forever */
	assert_true(took >= 1500 && took < 4000);
	assert_int_equal(st->ops->obj_get(st, &got, o.id, NULL), 0);
	tr_obj_dispose(&got);
	tr_store_close(st);
}

/* ---------------------------------------------------------------- */
/* migrate: SQLite into PostgreSQL                                  */
/* ---------------------------------------------------------------- */

/* Fill a store with many records of every kind. */
static void
fill(struct tr_store *st)
{
	struct tr_store_write w[3];
	struct tr_secret_version v;
	struct tr_key_version kv;
	struct tr_retry_rec rec;
	struct tr_obj o;
	unsigned char blob[512], key[32] = { 0 }, h[32] = { 5 };
	char id[64], name[32];
	int i, j;

	for (i = 0; i < (int)sizeof(blob); i++)
		blob[i] = (unsigned char)(i * 7 + 3);
	blob[0] = 0;
	for (i = 0; i < 40; i++) {
		(void)snprintf(id, sizeof(id), "ocid1.vaultsecret.m%02d", i);
		(void)snprintf(name, sizeof(name), "n\xc3\xa9%d", i);
		mk(&o, i % 5 == 0 ? "group" : "vaultsecret", id,
		    "ocid1.vault.m", name, 1000 + i);
		o.seq = 3;
		o.attrs = (char *)"{\"k\":\"v\",\"n\":1}";
		memset(w, 0, sizeof(w));
		w[0].kind = TR_W_OBJ_PUT;
		w[0].obj = &o;
		assert_int_equal(st->ops->apply(st, w, 1), 0);
		for (j = 1; j <= 3; j++) {
			memset(&v, 0, sizeof(v));
			(void)snprintf(v.secret_id, sizeof(v.secret_id), "%s",
			    id);
			(void)snprintf(v.key_version_id,
			    sizeof(v.key_version_id), "kv%d", j);
			v.number = (uint64_t)j;
			v.stages = j == 3 ? TR_STAGE_CURRENT : 0;
			v.time_created = 2000 + j;
			v.wrapped_dek = blob + j;
			v.wrapped_dek_len = 60;
			v.content = blob;
			v.content_len = (size_t)(100 + i * 10 + j);
			v.has_mac = j != 2;
			memcpy(v.content_mac, blob + i, 32);
			w[0].kind = TR_W_SV_INSERT;
			w[0].sv = &v;
			assert_int_equal(st->ops->apply(st, w, 1), 0);
		}
	}
	for (i = 0; i < 10; i++) {
		memset(&kv, 0, sizeof(kv));
		(void)snprintf(kv.id, sizeof(kv.id), "ocid1.keyversion.m%d", i);
		(void)snprintf(kv.key_id, sizeof(kv.key_id), "ocid1.key.m");
		(void)snprintf(kv.state, sizeof(kv.state), "ENABLED");
		kv.seq = (uint64_t)i + 1;
		kv.wrapped = blob + i;
		kv.wrapped_len = 48;
		kv.public_pem = i % 2 == 0 ? NULL : (char *)"-----BEGIN";
		memset(w, 0, sizeof(w));
		w[0].kind = TR_W_KV_INSERT;
		w[0].kv = &kv;
		assert_int_equal(st->ops->apply(st, w, 1), 0);
	}
	for (i = 0; i < 5; i++) {
		key[0] = (unsigned char)(i + 1);
		key[31] = 0xff;
		assert_int_equal(st->ops->retry_claim(st, &rec, key, h,
		    86400000), 0);
	}
	assert_int_equal(st->ops->setting_put(st, "tenancy", "x"), 0);
}

/* A store whose dump alters one secret version's content. */
struct bent {
	struct tr_store base;
	struct tr_store *real;
	struct tr_store_ops ops;
	int (*cb)(const struct tr_store_record *r, void *payload);
	void *payload;
};

static int
bent_cb(const struct tr_store_record *r, void *payload)
{
	struct bent *b = payload;
	struct tr_secret_version v;
	struct tr_store_record copy = *r;
	unsigned char buf[1024];

	if (r->kind == TR_REC_SV && r->sv->number == 2 &&
	    r->sv->content_len > 0 && r->sv->content_len <= sizeof(buf)) {
		v = *r->sv;
		memcpy(buf, v.content, v.content_len);
		buf[v.content_len - 1] ^= 1;
		v.content = buf;
		copy.sv = &v;
		return b->cb(&copy, b->payload);
	}
	return b->cb(r, b->payload);
}

static int
bent_dump(struct tr_store *st,
    int (*cb)(const struct tr_store_record *r, void *payload), void *payload)
{
	struct bent *b = (struct bent *)st;

	b->cb = cb;
	b->payload = payload;
	return b->real->ops->dump(b->real, bent_cb, b);
}

static int
bent_load(struct tr_store *st, enum tr_load_step step,
    const struct tr_store_record *r)
{
	struct bent *b = (struct bent *)st;

	return b->real->ops->load(b->real, step, r);
}

static void
test_migrate_sqlite_to_pg_verified(void **state)
{
	struct fixture *f = *state;
	struct tr_store *lite = NULL, *back = NULL, *pg2 = NULL;
	struct tr_secret_version a, c;
	struct bent bent;
	char path[128], path2[128], db2[128], where2[1024];
	size_t n = 0, n2 = 0;

	(void)snprintf(path, sizeof(path), "%s/src.db", f->dir);
	assert_int_equal(tr_store_open_url(&lite, path, true), 0);
	fill(lite);
	assert_int_equal(tr_store_copy(f->st, lite, &n), 0);
	/* 40 objects, 120 versions, 10 key versions, 5 tokens, 2 settings */
	assert_int_equal(n, 177);
	assert_int_equal(lite->ops->sv_get(lite, &a,
	    "ocid1.vaultsecret.m07", 3), 0);
	assert_int_equal(f->st->ops->sv_get(f->st, &c,
	    "ocid1.vaultsecret.m07", 3), 0);
	assert_int_equal(a.content_len, c.content_len);
	assert_memory_equal(a.content, c.content, a.content_len);
	assert_memory_equal(a.wrapped_dek, c.wrapped_dek, a.wrapped_dek_len);
	assert_memory_equal(a.content_mac, c.content_mac, 32);
	tr_secret_version_dispose(&a);
	tr_secret_version_dispose(&c);
	/* and back out to SQLite, equal again */
	(void)snprintf(path2, sizeof(path2), "%s/back.db", f->dir);
	assert_int_equal(tr_store_open_url(&back, path2, true), 0);
	assert_int_equal(tr_store_copy(back, f->st, &n2), 0);
	assert_int_equal(n2, n);
	/* a destination that reads back different is caught */
	assert_int_equal(fx_pg_create(db2, sizeof(db2), where2,
	    sizeof(where2)), 0);
	assert_int_equal(tr_store_pg_open(&pg2, where2, true), 0);
	memset(&bent, 0, sizeof(bent));
	bent.real = pg2;
	bent.ops = *pg2->ops;
	bent.ops.dump = bent_dump;
	bent.ops.load = bent_load;
	bent.base.ops = &bent.ops;
	assert_int_equal(tr_store_copy(&bent.base, lite, &n2), TRESOR_EIO);
	assert_non_null(strstr(tresor_error_last(), "differs"));
	assert_non_null(strstr(tresor_error_last(), "version 2"));
	tr_store_close(pg2);
	fx_pg_drop(db2);
	tr_store_close(back);
	tr_store_close(lite);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_concurrent_updates_keep_versions_unique, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_etag_compare_and_swap_loses_no_update, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrent_creates_one_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrent_retry_claims_one_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_blobs_round_trip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lock_wait_past_statement_timeout_is_unavailable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_deadlock_is_a_retryable_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_notifications_reach_other_connections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_advisory_locks_across_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_nodes_starting_together_migrate_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_unreachable_server_fails_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frozen_server_never_hangs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_stop_and_return,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_sqlite_to_pg_verified, setup, teardown),
	};

	if (fx_pg_base() == NULL) {
		fprintf(stderr, "needs TRESOR_TEST_PG; run through "
		    "tests/pg/pg.sh run\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
