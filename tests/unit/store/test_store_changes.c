/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Change payloads of TR_STORE_CHANGES: what a batch announces (each id
 * once, "iam" for identity writes, "*" when it would not fit) and how a
 * reader walks them (unknown entries read as "*").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/buf.h"

static void
test_batch_payload_names_each_id_once(void **state)
{
	struct tr_store_write w[4];
	struct tr_secret_version v;
	struct tr_key_version kv;
	struct tr_obj o;
	struct tr_buf b;

	(void)state;
	memset(w, 0, sizeof(w));
	memset(&o, 0, sizeof(o));
	memset(&v, 0, sizeof(v));
	memset(&kv, 0, sizeof(kv));
	(void)snprintf(o.id, sizeof(o.id), "ocid1.vaultsecret.a");
	(void)snprintf(o.type, sizeof(o.type), "vaultsecret");
	(void)snprintf(v.secret_id, sizeof(v.secret_id), "ocid1.vaultsecret.a");
	(void)snprintf(kv.id, sizeof(kv.id), "ocid1.keyversion.k");
	(void)snprintf(kv.key_id, sizeof(kv.key_id), "ocid1.key.k");
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = &o;
	w[1].kind = TR_W_SV_UPDATE;
	w[1].sv = &v;
	w[2].kind = TR_W_SV_INSERT;
	w[2].sv = &v;
	w[3].kind = TR_W_KV_INSERT;
	w[3].kv = &kv;
	tr_buf_init(&b, 65536);
	assert_int_equal(tr_store_changes_format(&b, w, 4, true), 0);
	assert_string_equal(b.ptr, "o:ocid1.vaultsecret.a "
	    "v:ocid1.vaultsecret.a k:ocid1.key.k kv:ocid1.keyversion.k iam");
	/* an id that cannot be said in the format: everything */
	(void)snprintf(o.id, sizeof(o.id), "with space");
	assert_int_equal(tr_store_changes_format(&b, w, 1, false), 0);
	assert_string_equal(b.ptr, "*");
	tr_buf_dispose(&b);
}

static void
test_oversized_payload_becomes_star(void **state)
{
	struct tr_store_write w[64];
	struct tr_obj o[64];
	struct tr_buf b;
	size_t i;

	(void)state;
	memset(w, 0, sizeof(w));
	for (i = 0; i < 64; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		memset(o[i].id, 'x', 200);
		o[i].id[0] = (char)('A' + i % 26);
		o[i].id[1] = (char)('A' + i / 26);
		(void)snprintf(o[i].type, sizeof(o[i].type), "vault");
		w[i].kind = TR_W_OBJ_PUT;
		w[i].obj = &o[i];
	}
	tr_buf_init(&b, 65536);
	assert_int_equal(tr_store_changes_format(&b, w, 64, false), 0);
	assert_string_equal(b.ptr, "*");
	assert_int_equal(tr_store_changes_format(&b, w, 2, false), 0);
	assert_true(b.len > 400 && b.len <= TR_NOTIFY_MAX);
	tr_buf_dispose(&b);
}

static void
test_reader_walks_entries(void **state)
{
	struct tr_store_change c;
	const char *cur = "  o:ocid1.vault.a v:s1 k:k1 kv:kv1 iam * zz:q"
	    " o: bogus";

	(void)state;
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "o");
	assert_string_equal(c.id, "ocid1.vault.a");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "v");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "k");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "kv");
	assert_string_equal(c.id, "kv1");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "iam");
	assert_string_equal(c.id, "");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "*");
	/* unknown kinds, empty ids and junk read as "drop everything" */
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "*");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "*");
	assert_true(tr_store_change_next(&cur, &c));
	assert_string_equal(c.kind, "*");
	assert_false(tr_store_change_next(&cur, &c));
	assert_false(tr_store_change_next(&cur, &c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_payload_names_each_id_once),
		cmocka_unit_test(test_oversized_payload_becomes_star),
		cmocka_unit_test(test_reader_walks_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
