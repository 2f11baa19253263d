/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store: objects, unique names, etags, keyset pagination,
 * atomic batches, secret and key versions, retry tokens, settings and
 * the IAM generation, durability across reopen, refusal of bad files.
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

#include "store/store.h"
#include "util/alloc.h"
#include "util/error.h"

struct fixture {
	char dir[64];
	char db[128];
	struct tr_store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tresor-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	if (tr_store_sqlite_open(&f->st, f->db, true) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	tr_store_close(f->st);
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

	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	mk(&o, "vault", "ocid1.vault.a", "", "v", 1);
	assert_int_equal(put(f->st, &o, NULL), 0);
	assert_int_equal(tr_store_sqlite_open(&again, f->db, false), 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
