/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store, whichever backend runs it: objects, unique names, etags,
 * keyset pagination, atomic batches, secret and key versions, retry
 * tokens, settings and the IAM generation, durability across reopen,
 * refusal of bad files or databases, dump/load copies and the
 * multi-node hooks.
 *
 * TRESOR_TEST_STORE=sqlite (the default) runs every case on a SQLite
 * file; TRESOR_TEST_STORE=pg on a fresh database of the cluster that
 * tests/pg/pg.sh started (TRESOR_TEST_PG).  Meson registers both.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pg_fixture.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/error.h"

struct fixture {
	char dir[64];
	bool pg;
	char db[128];		/* SQLite file or PostgreSQL database name */
	char where[1024];	/* what tr_store_open_url() is given */
	char db2[128];		/* a second store, for copies */
	char where2[1024];
	struct tr_store *st;
};

/* A new, empty store of the backend under test into *out. */
static int
new_store(struct fixture *f, char *db, size_t dcap, char *where,
    size_t wcap, const char *file)
{
	if (f->pg)
		return fx_pg_create(db, dcap, where, wcap);
	(void)snprintf(db, dcap, "%s/%s", f->dir, file);
	(void)snprintf(where, wcap, "%s", db);
	return 0;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->pg = fx_want_pg();
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tresor-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (new_store(f, f->db, sizeof(f->db), f->where, sizeof(f->where),
	    "t.db") < 0)
		return -1;
	if (tr_store_open_url(&f->st, f->where, true) < 0) {
		fprintf(stderr, "open %s: %s\n", f->pg ? "pg" : f->where,
		    tresor_error_last());
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

	tr_store_close(f->st);
	if (f->pg) {
		fx_pg_drop(f->db);
		fx_pg_drop(f->db2);
	}
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

static void
test_file_mode_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct tr_store *again = NULL;
	struct tr_obj o, got;
	struct stat sb;

	if (!f->pg) {
		assert_int_equal(stat(f->db, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	mk(&o, "vault", "ocid1.vault.a", "", "v", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	assert_int_equal(tr_store_open_url(&again, f->where, false), 0);
	assert_int_equal(again->ops->obj_get(again, &got, "ocid1.vault.a",
	    "vault"), 0);
	assert_string_equal(got.name, "v");
	assert_string_equal(got.attrs, "{}");
	tr_obj_dispose(&got);
	tr_store_close(again);
}

static void
test_refuses_bad_files(void **state)
{
	struct fixture *f = *state;
	struct tr_store *st = NULL;
	char path[160];
	int fd;

	if (f->pg) {
		/* no such database; a database without the schema */
		(void)snprintf(f->where2, sizeof(f->where2),
		    "%s dbname=tresor_no_such_db", fx_pg_base());
		assert_int_equal(tr_store_open_url(&st, f->where2, false),
		    TRESOR_ENOTFOUND);
		assert_null(st);
		assert_int_equal(fx_pg_create(f->db2, sizeof(f->db2),
		    f->where2, sizeof(f->where2)), 0);
		assert_int_equal(tr_store_open_url(&st, f->where2, false),
		    TRESOR_EIO);
		assert_non_null(strstr(tresor_error_last(), "not a"));
		assert_null(st);
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/none.db", f->dir);
	assert_int_equal(tr_store_sqlite_open(&st, path, false),
	    TRESOR_ENOTFOUND);
	(void)snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "this is not a database at all, not at "
	    "all, really not one bit", 62), 62);
	close(fd);
	assert_int_equal(tr_store_sqlite_open(&st, path, false), TRESOR_EIO);
	assert_non_null(strstr(tresor_error_last(), "not a"));
	assert_null(st);
}

static void
test_etag_compare_and_swap(void **state)
{
	struct fixture *f = *state;
	struct tr_obj o, got;
	char old[TR_ETAG_MAX];

	mk(&o, "vault", "ocid1.vault.cas", "", "v", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	/* inserting the same id again is refused */
	assert_int_equal(put(f->st, &o, NULL), TRESOR_EEXISTS);
	(void)snprintf(old, sizeof(old), "%s", o.etag);
	(void)tr_store_new_etag(o.etag);
	(void)snprintf(o.name, sizeof(o.name), "renamed");
	assert_int_equal(put(f->st, &o, "stale-etag"), TRESOR_EPRECOND);
	assert_int_equal(put(f->st, &o, old), 0);
	assert_int_equal(put(f->st, &o, old), TRESOR_EPRECOND);
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, "vault"), 0);
	assert_string_equal(got.name, "renamed");
	assert_string_equal(got.etag, o.etag);
	tr_obj_dispose(&got);
	/* wrong type reads as not found */
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, "key"),
	    TRESOR_ENOTFOUND);
}

static void
test_unique_secret_names_per_vault(void **state)
{
	struct fixture *f = *state;
	struct tr_obj a, b, c, got;

	mk(&a, "vaultsecret", "ocid1.vaultsecret.a", "ocid1.vault.1", "db",
	    1);
	mk(&b, "vaultsecret", "ocid1.vaultsecret.b", "ocid1.vault.1", "db",
	    2);
	mk(&c, "vaultsecret", "ocid1.vaultsecret.c", "ocid1.vault.2", "db",
	    3);
	assert_int_equal(put(f->st, &a, NULL), 0);
	assert_int_equal(put(f->st, &b, NULL), TRESOR_EEXISTS);
	assert_int_equal(put(f->st, &c, NULL), 0);
	assert_int_equal(f->st->ops->obj_get_by_name(f->st, &got,
	    "vaultsecret", "ocid1.tenancy.t", "ocid1.vault.2", "db"), 0);
	assert_string_equal(got.id, "ocid1.vaultsecret.c");
	tr_obj_dispose(&got);
	/* once DELETED the name is free again */
	(void)snprintf(a.state, sizeof(a.state), "DELETED");
	assert_int_equal(put(f->st, &a, "*"), 0);
	assert_int_equal(put(f->st, &b, NULL), 0);
}

static void
test_keyset_pagination(void **state)
{
	struct fixture *f = *state;
	struct tr_obj_filter flt = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj o, *items = NULL;
	char id[64], name[16], after[TR_ID_MAX];
	size_t n, total = 0, i;
	bool more = true;
	int seen[7] = { 0 };

	for (i = 0; i < 7; i++) {
		(void)snprintf(id, sizeof(id), "ocid1.key.k%zu", i);
		(void)snprintf(name, sizeof(name), "k%zu", 6 - i);
		/* two share a timestamp: the id breaks the tie */
		mk(&o, "key", id, "ocid1.vault.p", name, i == 3 ? 2 :
		    (int64_t)i);
		assert_int_equal(put(f->st, &o, NULL), 0);
	}
	flt.type = "key";
	flt.parent_id = "ocid1.vault.p";
	pg.limit = 3;
	pg.sort_by = TR_SORT_TIME;
	pg.desc = true;
	while (more) {
		assert_int_equal(f->st->ops->obj_list(f->st, &items, &n, &more,
		    &flt, &pg), 0);
		for (i = 0; i < n; i++) {
			seen[items[i].id[strlen(items[i].id) - 1] - '0']++;
			total++;
		}
		if (n > 0) {
			pg.has_after = true;
			pg.after_time = items[n - 1].time_created;
			(void)snprintf(after, sizeof(after), "%s",
			    items[n - 1].id);
			pg.after_id = after;
		}
		tr_obj_list_free(items, n);
	}
	assert_int_equal(total, 7);
	for (i = 0; i < 7; i++)
		assert_int_equal(seen[i], 1);
	/* by name, ascending, with a name filter */
	memset(&pg, 0, sizeof(pg));
	pg.limit = 10;
	pg.sort_by = TR_SORT_NAME;
	flt.name = "k2";
	assert_int_equal(f->st->ops->obj_list(f->st, &items, &n, &more, &flt,
	    &pg), 0);
	assert_int_equal(n, 1);
	assert_false(more);
	assert_string_equal(items[0].id, "ocid1.key.k4");
	tr_obj_list_free(items, n);
}

static void
test_attr_filter_is_injection_safe(void **state)
{
	struct fixture *f = *state;
	struct tr_obj_filter flt = { 0 };
	struct tr_page pg = { 0 };
	struct tr_obj o, *items = NULL;
	size_t n;
	bool more;

	mk(&o, "key", "ocid1.key.attr", "ocid1.vault.attr", "a", 1);
	o.attrs = strdup("{\"algorithm\":\"AES\",\"length\":32}");
	assert_int_equal(put(f->st, &o, NULL), 0);
	free(o.attrs);
	flt.type = "key";
	flt.parent_id = "ocid1.vault.attr";
	flt.attr_key[0] = "length";
	flt.attr_value[0] = "32";
	pg.limit = 10;
	assert_int_equal(f->st->ops->obj_list(f->st, &items, &n, &more, &flt,
	    &pg), 0);
	assert_int_equal(n, 1);
	tr_obj_list_free(items, n);
	flt.attr_value[0] = "32' OR '1'='1";
	assert_int_equal(f->st->ops->obj_list(f->st, &items, &n, &more, &flt,
	    &pg), 0);
	assert_int_equal(n, 0);
	tr_obj_list_free(items, n);
	flt.attr_key[0] = "length') OR 1=1 --";
	assert_int_equal(f->st->ops->obj_list(f->st, &items, &n, &more, &flt,
	    &pg), TRESOR_EINVAL);
}

static void
test_batch_is_atomic(void **state)
{
	struct fixture *f = *state;
	struct tr_store_write w[2];
	struct tr_obj a, b, got;

	mk(&a, "vault", "ocid1.vault.atomic1", "", "x", 1);
	mk(&b, "vault", "ocid1.vault.atomic2", "", "y", 1);
	assert_int_equal(put(f->st, &b, NULL), 0);
	memset(w, 0, sizeof(w));
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &a;
	w[1].kind = TR_W_OBJ_PUT;
	w[1].obj = &b;
	w[1].expect_etag = "not-the-etag";
	assert_int_equal(f->st->ops->apply(f->st, w, 2), TRESOR_EPRECOND);
	/* the first write was rolled back with the batch */
	assert_int_equal(f->st->ops->obj_get(f->st, &got, a.id, NULL),
	    TRESOR_ENOTFOUND);
}

static void
test_secret_versions(void **state)
{
	struct fixture *f = *state;
	struct tr_secret_version v, *vs = NULL;
	struct tr_store_write w = { 0 };
	size_t n;

	memset(&v, 0, sizeof(v));
	(void)snprintf(v.secret_id, sizeof(v.secret_id), "ocid1.vaultsecret.v");
	(void)snprintf(v.key_version_id, sizeof(v.key_version_id), "kv");
	v.number = 1;
	v.stages = TR_STAGE_CURRENT | TR_STAGE_LATEST;
	v.wrapped_dek = (unsigned char *)"dek";
	v.wrapped_dek_len = 3;
	v.content = (unsigned char *)"ct\0x";
	v.content_len = 4;
	w.kind = TR_W_SV_INSERT;
	w.sv = &v;
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), 0);
	/* the same number twice is refused */
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), TRESOR_EEXISTS);
	v.number = 2;
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), 0);
	v.stages = TR_STAGE_DEPRECATED;
	v.number = 1;
	w.kind = TR_W_SV_UPDATE;
	v.wrapped_dek = NULL;	/* keep the stored one */
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), 0);
	assert_int_equal(f->st->ops->sv_list(f->st, &vs, &n,
	    "ocid1.vaultsecret.v", true), 0);
	assert_int_equal(n, 2);
	assert_int_equal(vs[0].number, 1);
	assert_int_equal(vs[0].stages, TR_STAGE_DEPRECATED);
	assert_int_equal(vs[0].wrapped_dek_len, 3);
	assert_int_equal(vs[0].content_len, 4);
	assert_memory_equal(vs[0].content, "ct\0x", 4);
	tr_secret_version_list_free(vs, n);
	assert_int_equal(f->st->ops->sv_get(f->st, &v, "ocid1.vaultsecret.v",
	    9), TRESOR_ENOTFOUND);
}

static void
test_retry_tokens(void **state)
{
	struct fixture *f = *state;
	struct tr_retry_rec rec, done;
	struct tr_store_write w = { 0 };
	unsigned char key[32] = { 1 }, h1[32] = { 2 }, h2[32] = { 3 };

	assert_int_equal(f->st->ops->retry_claim(f->st, &rec, key, h1,
	    86400000), 0);
	/* a second claim sees the pending first attempt */
	assert_int_equal(f->st->ops->retry_claim(f->st, &rec, key, h1,
	    86400000), TRESOR_EEXISTS);
	assert_int_equal(rec.status, 0);
	tr_retry_rec_dispose(&rec);
	memset(&done, 0, sizeof(done));
	memcpy(done.key, key, 32);
	done.status = 200;
	done.response = (char *)"{\"id\":\"x\"}";
	(void)snprintf(done.etag, sizeof(done.etag), "e1");
	w.kind = TR_W_RETRY_PUT;
	w.retry = &done;
	assert_int_equal(f->st->ops->apply(f->st, &w, 1), 0);
	assert_int_equal(f->st->ops->retry_claim(f->st, &rec, key, h2,
	    86400000), TRESOR_EEXISTS);
	assert_int_equal(rec.status, 200);
	assert_string_equal(rec.response, "{\"id\":\"x\"}");
	assert_memory_equal(rec.body_hash, h1, 32);
	tr_retry_rec_dispose(&rec);
	/* released claims can be claimed again */
	key[0] = 9;
	assert_int_equal(f->st->ops->retry_claim(f->st, &rec, key, h1,
	    86400000), 0);
	assert_int_equal(f->st->ops->retry_release(f->st, key), 0);
	assert_int_equal(f->st->ops->retry_claim(f->st, &rec, key, h1,
	    86400000), 0);
}

static void
test_iam_generation_moves_on_iam_writes(void **state)
{
	struct fixture *f = *state;
	struct tr_obj o;
	uint64_t g0, g1, g2;
	char *v = NULL;

	assert_int_equal(f->st->ops->iam_generation(f->st, &g0), 0);
	mk(&o, "vault", "ocid1.vault.gen", "", "v", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	assert_int_equal(f->st->ops->iam_generation(f->st, &g1), 0);
	assert_int_equal(g0, g1);
	mk(&o, "group", "ocid1.group.gen", "", "g", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	assert_int_equal(f->st->ops->iam_generation(f->st, &g2), 0);
	assert_true(g2 > g1);
	assert_int_equal(f->st->ops->setting_put(f->st, "k", "v1"), 0);
	assert_int_equal(f->st->ops->setting_get(f->st, &v, "k"), 0);
	assert_string_equal(v, "v1");
	tr_free(v);
}

/* A record of every kind, blobs with every byte value, and back again. */
static void
fill_store(struct tr_store *st)
{
	struct tr_store_write w[4];
	struct tr_secret_version v;
	struct tr_key_version kv;
	struct tr_retry_rec rec, done;
	struct tr_obj o, g;
	unsigned char blob[256], key[32] = { 7 }, h[32] = { 8 };
	size_t i;

	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)i;
	mk(&o, "vaultsecret", "ocid1.vaultsecret.copy", "ocid1.vault.c",
	    "caf\xc3\xa9", 5);
	o.seq = 1;
	o.attrs = (char *)"{\"description\":\"\\u00e9t\\u00e9 \\\"q\\\"\"}";
	mk(&g, "group", "ocid1.group.copy", "", "admins", 6);
	memset(&v, 0, sizeof(v));
	(void)snprintf(v.secret_id, sizeof(v.secret_id), "%s", o.id);
	(void)snprintf(v.key_version_id, sizeof(v.key_version_id), "kv1");
	v.number = 1;
	v.stages = TR_STAGE_CURRENT | TR_STAGE_LATEST;
	v.time_created = 5;
	v.time_of_expiry = -1;
	v.wrapped_dek = blob;
	v.wrapped_dek_len = 40;
	v.content = blob;
	v.content_len = sizeof(blob);
	memcpy(v.content_mac, blob + 100, 32);
	v.has_mac = true;
	memset(&kv, 0, sizeof(kv));
	(void)snprintf(kv.id, sizeof(kv.id), "ocid1.keyversion.copy");
	(void)snprintf(kv.key_id, sizeof(kv.key_id), "ocid1.key.copy");
	(void)snprintf(kv.vault_id, sizeof(kv.vault_id), "ocid1.vault.c");
	(void)snprintf(kv.state, sizeof(kv.state), "ENABLED");
	kv.seq = 1;
	kv.wrapped = blob + 1;
	kv.wrapped_len = 200;
	memset(w, 0, sizeof(w));
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &o;
	w[1].kind = TR_W_SV_INSERT;
	w[1].sv = &v;
	w[2].kind = TR_W_KV_INSERT;
	w[2].kv = &kv;
	w[3].kind = TR_W_OBJ_PUT;
	w[3].obj = &g;
	assert_int_equal(st->ops->apply(st, w, 4), 0);
	/* a pending and a completed retry token, a setting */
	assert_int_equal(st->ops->retry_claim(st, &rec, key, h, 86400000), 0);
	key[0] = 9;
	assert_int_equal(st->ops->retry_claim(st, &rec, key, h, 86400000), 0);
	memset(&done, 0, sizeof(done));
	memcpy(done.key, key, 32);
	done.status = 200;
	done.response = (char *)"{}";
	memset(w, 0, sizeof(w));
	w[0].kind = TR_W_RETRY_PUT;
	w[0].retry = &done;
	assert_int_equal(st->ops->apply(st, w, 1), 0);
	assert_int_equal(st->ops->setting_put(st, "switch", "on"), 0);
}

static int
count_cb(const struct tr_store_record *r, void *payload)
{
	size_t *n = payload;

	(void)r;
	(*n)++;
	return 0;
}

static void
test_copy_verifies_every_record(void **state)
{
	struct fixture *f = *state;
	struct tr_store *dst = NULL;
	struct tr_secret_version v;
	struct tr_retry_rec rec;
	unsigned char key[32] = { 7 }, h[32] = { 8 };
	uint64_t g1, g2;
	size_t n = 0, seen = 0;

	fill_store(f->st);
	assert_int_equal(new_store(f, f->db2, sizeof(f->db2), f->where2,
	    sizeof(f->where2), "copy.db"), 0);
	assert_int_equal(tr_store_open_url(&dst, f->where2, true), 0);
	assert_int_equal(tr_store_copy(dst, f->st, &n), 0);
	/* objects 2, versions 1, key versions 1, tokens 2, settings 2 */
	assert_int_equal(n, 8);
	assert_int_equal(dst->ops->dump(dst, count_cb, &seen), 0);
	assert_int_equal(seen, 8);
	assert_int_equal(dst->ops->sv_get(dst, &v, "ocid1.vaultsecret.copy",
	    1), 0);
	assert_int_equal(v.content_len, 256);
	assert_int_equal(v.content[0], 0);
	assert_int_equal(v.content[255], 255);
	assert_true(v.has_mac);
	assert_int_equal(v.time_of_expiry, -1);
	tr_secret_version_dispose(&v);
	/* the pending claim came over as pending, with its time */
	assert_int_equal(dst->ops->retry_claim(dst, &rec, key, h, 86400000),
	    TRESOR_EEXISTS);
	assert_int_equal(rec.status, 0);
	tr_retry_rec_dispose(&rec);
	assert_int_equal(f->st->ops->iam_generation(f->st, &g1), 0);
	assert_int_equal(dst->ops->iam_generation(dst, &g2), 0);
	assert_int_equal(g1, g2);
	/* a second copy into a store that holds something is refused */
	assert_int_equal(tr_store_copy(dst, f->st, &n), TRESOR_EEXISTS);
	assert_non_null(strstr(tresor_error_last(), "not empty"));
	tr_store_close(dst);
}

static void
test_load_is_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct tr_store_record r;
	struct tr_obj o, got;
	size_t seen = 0;

	mk(&o, "vault", "ocid1.vault.load", "", "v", 1);
	memset(&r, 0, sizeof(r));
	r.kind = TR_REC_OBJ;
	r.obj = &o;
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_BEGIN, NULL), 0);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_RECORD, &r), 0);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_ABORT, NULL), 0);
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, NULL),
	    TRESOR_ENOTFOUND);
	/* a duplicate voids the whole load */
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_BEGIN, NULL), 0);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_RECORD, &r), 0);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_RECORD, &r),
	    TRESOR_EEXISTS);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_ABORT, NULL), 0);
	assert_int_equal(f->st->ops->dump(f->st, count_cb, &seen), 0);
	assert_int_equal(seen, 0);
	/* and a clean one lands whole, times and etag as given */
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_BEGIN, NULL), 0);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_RECORD, &r), 0);
	assert_int_equal(f->st->ops->load(f->st, TR_LOAD_COMMIT, NULL), 0);
	assert_int_equal(f->st->ops->obj_get(f->st, &got, o.id, NULL), 0);
	assert_string_equal(got.etag, o.etag);
	tr_obj_dispose(&got);
}

static int
stop_cb(const struct tr_store_record *r, void *payload)
{
	(void)r;
	(void)payload;
	return TRESOR_ECONFLICT;
}

/* Note the kinds and object ids in dump order. */
struct order {
	char seen[16][64];
	size_t n;
};

static int
order_cb(const struct tr_store_record *r, void *payload)
{
	struct order *o = payload;

	if (o->n < 16) {
		if (r->kind == TR_REC_OBJ)
			(void)snprintf(o->seen[o->n], 64, "o %s", r->obj->id);
		else if (r->kind == TR_REC_SETTING)
			(void)snprintf(o->seen[o->n], 64, "s %s",
			    r->setting_key);
		else
			(void)snprintf(o->seen[o->n], 64, "%d", r->kind);
		o->n++;
	}
	return 0;
}

static void
test_dump_order_and_stop(void **state)
{
	struct fixture *f = *state;
	struct tr_obj o;
	struct order ord;

	memset(&ord, 0, sizeof(ord));
	mk(&o, "vault", "ocid1.vault.b", "", "b", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	/* byte order: "B" (0x42) sorts before "a" in every backend */
	mk(&o, "vault", "ocid1.vault.B", "", "B", 3);
	assert_int_equal(put(f->st, &o, NULL), 0);
	mk(&o, "vault", "ocid1.vault.a", "", "a", 2);
	assert_int_equal(put(f->st, &o, NULL), 0);
	assert_int_equal(f->st->ops->setting_put(f->st, "z", "1"), 0);
	assert_int_equal(f->st->ops->setting_put(f->st, "Z", "1"), 0);
	assert_int_equal(f->st->ops->dump(f->st, order_cb, &ord), 0);
	assert_int_equal(ord.n, 5);
	assert_string_equal(ord.seen[0], "o ocid1.vault.B");
	assert_string_equal(ord.seen[1], "o ocid1.vault.a");
	assert_string_equal(ord.seen[2], "o ocid1.vault.b");
	assert_string_equal(ord.seen[3], "s Z");
	assert_string_equal(ord.seen[4], "s z");
	/* a callback's error ends the dump and comes back */
	assert_int_equal(f->st->ops->dump(f->st, stop_cb, NULL),
	    TRESOR_ECONFLICT);
	/* and the store is usable afterwards */
	assert_int_equal(put(f->st, &o, NULL), TRESOR_EEXISTS);
}

static void
test_node_hooks(void **state)
{
	struct fixture *f = *state;
	char *ch = NULL, *pl = NULL;
	bool got = false;

	assert_int_equal(f->st->ops->try_lock(f->st, 77, &got), 0);
	assert_true(got);
	assert_int_equal(f->st->ops->unlock(f->st, 77), 0);
	assert_int_equal(f->st->ops->listen(f->st, TR_STORE_CHANGES), 0);
	assert_int_equal(f->st->ops->poll_notify(f->st, 0, &ch, &pl), 0);
	assert_null(ch);
	assert_null(pl);
	assert_int_equal(f->st->ops->notify(f->st, "tresor_test", "x"), 0);
	if (f->pg) {
		/* a listener hears itself; names are checked */
		assert_int_equal(f->st->ops->listen(f->st, "tresor_test"), 0);
		assert_int_equal(f->st->ops->notify(f->st, "tresor_test",
		    "hello"), 0);
		assert_int_equal(f->st->ops->poll_notify(f->st, 2000, &ch,
		    &pl), 0);
		assert_string_equal(ch, "tresor_test");
		assert_string_equal(pl, "hello");
		tr_free(ch);
		tr_free(pl);
		assert_int_equal(f->st->ops->notify(f->st, "bad\"name", "x"),
		    TRESOR_EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_mode_and_reopen,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_files,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_etag_compare_and_swap,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unique_secret_names_per_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyset_pagination,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_attr_filter_is_injection_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_is_atomic,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_versions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_tokens,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_iam_generation_moves_on_iam_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_copy_verifies_every_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_is_all_or_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_order_and_stop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_hooks, setup,
		    teardown),
	};

	if (fx_want_pg() && fx_pg_base() == NULL) {
		fprintf(stderr, "TRESOR_TEST_STORE=pg needs TRESOR_TEST_PG; "
		    "run through tests/pg/pg.sh run\n");
		return 1;
	}

	return cmocka_run_group_tests(tests, NULL, NULL);
}
