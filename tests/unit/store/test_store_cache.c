/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read cache (store_cache.c): two cached handles on one SQLite file,
 * as two serving threads have.  A write through either is seen by the
 * other's next read; reads are answered from memory (the hit counters
 * move, the file is not read); a bus that overflows drops everything;
 * a TTL bounds an entry; names follow renames; IAM generations follow
 * IAM writes.  A write made behind the caches' back (another process)
 * is NOT seen until announced: that is why several nodes need LISTEN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"

struct fixture {
	char dir[64];
	char db[128];
	struct tr_store_bus *bus;
	struct tr_store *a, *b;		/* cached */
	struct tr_store *raw;		/* not cached, not announced */
};

static int
open_cached(struct fixture *f, struct tr_store **out, int64_t ttl)
{
	struct tr_store *inner;

	if (tr_store_sqlite_open(&inner, f->db, false) < 0)
		return -1;
	return tr_store_cache_wrap(out, inner, f->bus, true, ttl, 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tr_store *st;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tresor-cache-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	if (tr_store_sqlite_open(&st, f->db, true) < 0)
		return -1;
	tr_store_close(st);
	if (tr_store_bus_new(&f->bus) < 0 || open_cached(f, &f->a, 0) < 0 ||
	    open_cached(f, &f->b, 0) < 0 ||
	    tr_store_sqlite_open(&f->raw, f->db, false) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	tr_store_close(f->a);
	tr_store_close(f->b);
	tr_store_close(f->raw);
	tr_store_bus_free(f->bus);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

static void
mk(struct tr_obj *o, const char *type, const char *id, const char *name,
    const char *attrs)
{
	memset(o, 0, sizeof(*o));
	(void)snprintf(o->id, sizeof(o->id), "%s", id);
	(void)snprintf(o->type, sizeof(o->type), "%s", type);
	(void)snprintf(o->tenancy_id, sizeof(o->tenancy_id), "ocid1.tenancy.t");
	(void)snprintf(o->compartment_id, sizeof(o->compartment_id),
	    "ocid1.tenancy.t");
	(void)snprintf(o->parent_id, sizeof(o->parent_id), "ocid1.vault.v");
	(void)snprintf(o->name, sizeof(o->name), "%s", name);
	(void)snprintf(o->state, sizeof(o->state), "ACTIVE");
	(void)tr_store_new_etag(o->etag);
	o->time_created = 1000;
	o->attrs = tr_strdup(attrs);
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

/* Read obj `id` through `st` and return its attrs (caller frees). */
static char *
attrs_of(struct tr_store *st, const char *id)
{
	struct tr_obj o;
	char *a;

	memset(&o, 0, sizeof(o));
	if (st->ops->obj_get(st, &o, id, "vaultsecret") < 0)
		return NULL;
	a = o.attrs;
	o.attrs = NULL;
	return a;
}

static void
test_write_seen_by_other_handle(void **state)
{
	struct fixture *f = *state;
	struct tr_store_cache_stats s0, s1;
	struct tr_obj o;
	char old[TR_ETAG_MAX], *a;

	mk(&o, "vaultsecret", "ocid1.vaultsecret.1", "s1", "{\"v\":1}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	/* b reads it twice: the second read comes from memory */
	a = attrs_of(f->b, o.id);
	assert_string_equal(a, "{\"v\":1}");
	tr_free(a);
	tr_store_cache_stats(f->b, &s0);
	a = attrs_of(f->b, o.id);
	assert_string_equal(a, "{\"v\":1}");
	tr_free(a);
	tr_store_cache_stats(f->b, &s1);
	assert_int_equal(s1.hits, s0.hits + 1);
	assert_int_equal(s1.misses, s0.misses);
	/* a writes; b's next read sees it */
	(void)snprintf(old, sizeof(old), "%s", o.etag);
	tr_free(o.attrs);
	o.attrs = tr_strdup("{\"v\":2}");
	(void)tr_store_new_etag(o.etag);
	assert_int_equal(put(f->a, &o, old), 0);
	a = attrs_of(f->b, o.id);
	assert_string_equal(a, "{\"v\":2}");
	tr_free(a);
	tr_obj_dispose(&o);
}

static void
test_unannounced_write_is_not_seen(void **state)
{
	struct fixture *f = *state;
	struct tr_obj o;
	char old[TR_ETAG_MAX], *a;

	mk(&o, "vaultsecret", "ocid1.vaultsecret.2", "s2", "{\"v\":1}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	a = attrs_of(f->b, o.id);
	tr_free(a);
	(void)snprintf(old, sizeof(old), "%s", o.etag);
	tr_free(o.attrs);
	o.attrs = tr_strdup("{\"v\":9}");
	(void)tr_store_new_etag(o.etag);
	assert_int_equal(put(f->raw, &o, old), 0);
	/* the cache does not know: this is what LISTEN/NOTIFY is for */
	a = attrs_of(f->b, o.id);
	assert_string_equal(a, "{\"v\":1}");
	tr_free(a);
	/* announced (as the PostgreSQL listener does): seen */
	tr_store_bus_publish(f->bus, "o:ocid1.vaultsecret.2");
	a = attrs_of(f->b, o.id);
	assert_string_equal(a, "{\"v\":9}");
	tr_free(a);
	tr_obj_dispose(&o);
}

static void
test_bus_overflow_drops_everything(void **state)
{
	struct fixture *f = *state;
	struct tr_store_cache_stats s0, s1;
	struct tr_obj o;
	char *a;
	int i;

	mk(&o, "vaultsecret", "ocid1.vaultsecret.3", "s3", "{\"v\":1}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	tr_free(attrs_of(f->b, o.id));
	/* many unrelated changes, more than the ring holds */
	for (i = 0; i < 9000; i++)
		tr_store_bus_publish(f->bus, "o:ocid1.vaultsecret.other");
	tr_store_cache_stats(f->b, &s0);
	a = attrs_of(f->b, o.id);
	tr_store_cache_stats(f->b, &s1);
	assert_string_equal(a, "{\"v\":1}");
	tr_free(a);
	assert_int_equal(s1.flushes, s0.flushes + 1);
	assert_int_equal(s1.misses, s0.misses + 1);
	/* "*" drops everything too */
	tr_store_bus_publish(f->bus, "*");
	tr_free(attrs_of(f->b, o.id));
	tr_store_cache_stats(f->b, &s0);
	assert_int_equal(s0.flushes, s1.flushes + 1);
	tr_obj_dispose(&o);
}

static void
test_ttl_bounds_an_entry(void **state)
{
	struct fixture *f = *state;
	struct tr_store *c;
	struct tr_obj o;
	char old[TR_ETAG_MAX], *a;

	assert_int_equal(open_cached(f, &c, 200), 0);
	mk(&o, "vaultsecret", "ocid1.vaultsecret.4", "s4", "{\"v\":1}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	tr_free(attrs_of(c, o.id));
	(void)snprintf(old, sizeof(old), "%s", o.etag);
	tr_free(o.attrs);
	o.attrs = tr_strdup("{\"v\":5}");
	(void)tr_store_new_etag(o.etag);
	assert_int_equal(put(f->raw, &o, old), 0);	/* unannounced */
	a = attrs_of(c, o.id);
	assert_string_equal(a, "{\"v\":1}");
	tr_free(a);
	usleep(300 * 1000);
	a = attrs_of(c, o.id);
	assert_string_equal(a, "{\"v\":5}");
	tr_free(a);
	tr_obj_dispose(&o);
	tr_store_close(c);
}

static void
test_names_follow_renames_and_deletes(void **state)
{
	struct fixture *f = *state;
	struct tr_store_write w = { 0 };
	struct tr_obj o, got;
	char old[TR_ETAG_MAX];

	memset(&got, 0, sizeof(got));
	mk(&o, "vaultsecret", "ocid1.vaultsecret.5", "before", "{}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	assert_int_equal(f->b->ops->obj_get_by_name(f->b, &got, "vaultsecret",
	    "ocid1.tenancy.t", "ocid1.vault.v", "before"), 0);
	tr_obj_dispose(&got);
	(void)snprintf(old, sizeof(old), "%s", o.etag);
	(void)snprintf(o.name, sizeof(o.name), "after");
	(void)tr_store_new_etag(o.etag);
	assert_int_equal(put(f->a, &o, old), 0);
	assert_int_equal(f->b->ops->obj_get_by_name(f->b, &got, "vaultsecret",
	    "ocid1.tenancy.t", "ocid1.vault.v", "before"), TRESOR_ENOTFOUND);
	assert_int_equal(f->b->ops->obj_get_by_name(f->b, &got, "vaultsecret",
	    "ocid1.tenancy.t", "ocid1.vault.v", "after"), 0);
	assert_string_equal(got.id, o.id);
	tr_obj_dispose(&got);
	w.kind = TR_W_OBJ_DELETE;
	w.obj = &o;
	assert_int_equal(f->a->ops->apply(f->a, &w, 1), 0);
	assert_int_equal(f->b->ops->obj_get_by_name(f->b, &got, "vaultsecret",
	    "ocid1.tenancy.t", "ocid1.vault.v", "after"), TRESOR_ENOTFOUND);
	assert_int_equal(f->b->ops->obj_get(f->b, &got, o.id, "vaultsecret"),
	    TRESOR_ENOTFOUND);
	tr_obj_dispose(&o);
}

static void
test_versions_follow_writes(void **state)
{
	struct fixture *f = *state;
	struct tr_store_write w = { 0 };
	struct tr_secret_version v, *list = NULL;
	struct tr_obj o;
	unsigned char dek[8] = "dekdekde", ct[8] = "contentt";
	size_t n = 0;

	mk(&o, "vaultsecret", "ocid1.vaultsecret.6", "s6", "{}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	memset(&v, 0, sizeof(v));
	(void)snprintf(v.secret_id, sizeof(v.secret_id), "%s", o.id);
	v.number = 1;
	v.stages = TR_STAGE_CURRENT | TR_STAGE_LATEST;
	v.wrapped_dek = dek;
	v.wrapped_dek_len = sizeof(dek);
	v.content = ct;
	v.content_len = sizeof(ct);
	(void)snprintf(v.key_version_id, sizeof(v.key_version_id), "kv1");
	w.kind = TR_W_SV_INSERT;
	w.sv = &v;
	assert_int_equal(f->a->ops->apply(f->a, &w, 1), 0);
	assert_int_equal(f->b->ops->sv_list(f->b, &list, &n, o.id, false), 0);
	assert_int_equal(n, 1);
	tr_secret_version_list_free(list, n);
	/* a second version through a: b's cached list must grow */
	v.number = 2;
	assert_int_equal(f->a->ops->apply(f->a, &w, 1), 0);
	assert_int_equal(f->b->ops->sv_list(f->b, &list, &n, o.id, false), 0);
	assert_int_equal(n, 2);
	tr_secret_version_list_free(list, n);
	{
		struct tr_secret_version got;

		memset(&got, 0, sizeof(got));
		assert_int_equal(f->b->ops->sv_get(f->b, &got, o.id, 2), 0);
		assert_memory_equal(got.content, ct, sizeof(ct));
		tr_secret_version_dispose(&got);
		/* cached copy is a copy: the caller may free it */
		assert_int_equal(f->b->ops->sv_get(f->b, &got, o.id, 2), 0);
		assert_memory_equal(got.wrapped_dek, dek, sizeof(dek));
		tr_secret_version_dispose(&got);
	}
	tr_obj_dispose(&o);
}

static void
test_iam_generation_follows_iam_writes(void **state)
{
	struct fixture *f = *state;
	struct tr_obj o;
	uint64_t g0, g1, g2;

	assert_int_equal(f->b->ops->iam_generation(f->b, &g0), 0);
	mk(&o, "vaultsecret", "ocid1.vaultsecret.7", "s7", "{}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	assert_int_equal(f->b->ops->iam_generation(f->b, &g1), 0);
	assert_true(g1 == g0);
	tr_obj_dispose(&o);
	mk(&o, "group", "ocid1.group.1", "g1", "{}");
	assert_int_equal(put(f->a, &o, NULL), 0);
	assert_int_equal(f->b->ops->iam_generation(f->b, &g2), 0);
	assert_true(g2 > g1);
	tr_obj_dispose(&o);
}

/* Write `n` secrets of one 64 KiB version each; read each through f->b. */
static void
read_big_versions(struct fixture *f, int n)
{
	struct tr_store_write w = { 0 };
	struct tr_secret_version v, got;
	static unsigned char big[64 * 1024];
	struct tr_obj o;
	char id[64];
	int i;

	memset(big, 'x', sizeof(big));
	for (i = 0; i < n; i++) {
		(void)snprintf(id, sizeof(id), "ocid1.vaultsecret.big%d", i);
		mk(&o, "vaultsecret", id, id + 18, "{}");
		assert_int_equal(put(f->a, &o, NULL), 0);
		memset(&v, 0, sizeof(v));
		(void)snprintf(v.secret_id, sizeof(v.secret_id), "%s", id);
		v.number = 1;
		v.stages = TR_STAGE_CURRENT;
		v.wrapped_dek = big;
		v.wrapped_dek_len = 60;
		v.content = big;
		v.content_len = sizeof(big);
		(void)snprintf(v.key_version_id, sizeof(v.key_version_id), "k");
		w.kind = TR_W_SV_INSERT;
		w.sv = &v;
		assert_int_equal(f->a->ops->apply(f->a, &w, 1), 0);
		memset(&got, 0, sizeof(got));
		assert_int_equal(f->b->ops->sv_get(f->b, &got, id, 1), 0);
		assert_int_equal(got.content_len, sizeof(big));
		tr_secret_version_dispose(&got);
		tr_free(attrs_of(f->b, id));
		tr_obj_dispose(&o);
	}
}

/* Memory is bounded: many large versions read once each stay in budget. */
static void
test_memory_budget(void **state)
{
	struct fixture *f = *state;
	struct tr_store_cache_stats st;

	/* twice the default budget */
	read_big_versions(f, (int)(2 * TR_STORE_CACHE_MAX_BYTES / 65536));
	tr_store_cache_stats(f->b, &st);
	assert_true(st.bytes <= TR_STORE_CACHE_MAX_BYTES);
	assert_true(st.bytes > TR_STORE_CACHE_MAX_BYTES / 2);
	assert_true(st.evictions > 0);
	assert_true(st.entries > 0);
}

/* A budget given at wrap time (tresord --cache-mb) is the one kept. */
static void
test_memory_budget_configured(void **state)
{
	struct fixture *f = *state;
	struct tr_store_cache_stats st;
	struct tr_store *inner;

	tr_store_close(f->b);
	assert_int_equal(tr_store_sqlite_open(&inner, f->db, false), 0);
	assert_int_equal(tr_store_cache_wrap(&f->b, inner, f->bus, true, 0,
	    1024 * 1024), 0);
	read_big_versions(f, 64);	/* 4 MiB */
	tr_store_cache_stats(f->b, &st);
	assert_true(st.bytes <= 1024 * 1024);
	assert_true(st.evictions > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_seen_by_other_handle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unannounced_write_is_not_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bus_overflow_drops_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_bounds_an_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_names_follow_renames_and_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_follow_writes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_iam_generation_follows_iam_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_budget_configured,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_budget, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
