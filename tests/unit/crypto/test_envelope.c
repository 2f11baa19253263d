/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keystore and envelope encryption: the root key file, wrapping, the
 * binding of ciphertexts to secret, version and key version, rewrap.
 */
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

#include "crypto/envelope.h"
#include "crypto/keystore.h"
#include "util/alloc.h"
#include "util/error.h"

struct fixture {
	char dir[64];
	char root[128];
	struct tr_keystore *ks;
	unsigned char *w1, *w2;
	size_t w1len, w2len;
};

static const struct tr_key_shape aes256 = { TR_KEY_AES, 32, TR_CURVE_NONE };

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *pem = NULL;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tresor-env-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->root, sizeof(f->root), "%s/root.key", f->dir);
	if (tr_keystore_create_root(f->root) < 0 ||
	    tr_keystore_open(&f->ks, f->root) < 0 ||
	    tr_keystore_generate(f->ks, "ocid1.keyversion.oc1..v1", &aes256,
	    &f->w1, &f->w1len, &pem) < 0 ||
	    tr_keystore_generate(f->ks, "ocid1.keyversion.oc1..v2", &aes256,
	    &f->w2, &f->w2len, &pem) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	tr_keystore_free(f->ks);
	tr_free(f->w1);
	tr_free(f->w2);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

static struct tr_secret *
plain(const char *s)
{
	struct tr_secret *p = NULL;

	assert_int_equal(tr_secret_from(&p, s, strlen(s)), 0);
	return p;
}

static void
test_root_key_file(void **state)
{
	struct fixture *f = *state;
	struct tr_keystore *ks = NULL;
	struct stat sb;
	char path[160];

	assert_int_equal(stat(f->root, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, TR_ROOT_KEY_LEN);
	/* never overwritten */
	assert_int_equal(tr_keystore_create_root(f->root), TRESOR_EEXISTS);
	/* a root key readable by others is refused, with the fix */
	(void)snprintf(path, sizeof(path), "%s/loose.key", f->dir);
	assert_int_equal(tr_keystore_create_root(path), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(tr_keystore_open(&ks, path), TRESOR_EPERM);
	assert_non_null(strstr(tresor_error_last(), "chmod 600"));
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct tr_keyref k1 = { "ocid1.keyversion.oc1..v1", f->w1, f->w1len };
	struct tr_secret *p = plain("s3cr3t value"), *out = NULL;
	unsigned char *wd = NULL, *ct = NULL;
	size_t wdlen, ctlen;

	assert_int_equal(tr_envelope_seal(f->ks, &k1, "ocid1.vaultsecret.x",
	    3, p, &wd, &wdlen, &ct, &ctlen), 0);
	assert_null(memmem(ct, ctlen, "s3cr3t", 6));
	assert_int_equal(tr_envelope_open(f->ks, &k1, "ocid1.vaultsecret.x",
	    3, wd, wdlen, ct, ctlen, &out), 0);
	assert_int_equal(out->len, p->len);
	assert_memory_equal(out->ptr, p->ptr, p->len);
	tr_secret_free(out);
	tr_secret_free(p);
	tr_free(wd);
	tr_free(ct);
}

static void
test_binding(void **state)
{
	struct fixture *f = *state;
	struct tr_keyref k1 = { "ocid1.keyversion.oc1..v1", f->w1, f->w1len };
	struct tr_keyref k2 = { "ocid1.keyversion.oc1..v2", f->w2, f->w2len };
	struct tr_keyref k1_as_2 = { "ocid1.keyversion.oc1..v2", f->w1,
		f->w1len };
	struct tr_secret *p = plain("bound"), *out = NULL;
	unsigned char *wd = NULL, *ct = NULL;
	size_t wdlen, ctlen;

	assert_int_equal(tr_envelope_seal(f->ks, &k1, "ocid1.vaultsecret.a",
	    1, p, &wd, &wdlen, &ct, &ctlen), 0);
	/* another secret, another version, another key version */
	assert_int_equal(tr_envelope_open(f->ks, &k1, "ocid1.vaultsecret.b",
	    1, wd, wdlen, ct, ctlen, &out), TRESOR_EAUTH);
	assert_int_equal(tr_envelope_open(f->ks, &k1, "ocid1.vaultsecret.a",
	    2, wd, wdlen, ct, ctlen, &out), TRESOR_EAUTH);
	assert_int_equal(tr_envelope_open(f->ks, &k2, "ocid1.vaultsecret.a",
	    1, wd, wdlen, ct, ctlen, &out), TRESOR_EAUTH);
	/* a wrapped key version presented under another OCID */
	assert_int_not_equal(tr_envelope_open(f->ks, &k1_as_2,
	    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out), 0);
	/* tampering */
	ct[ctlen / 2] ^= 1;
	assert_int_equal(tr_envelope_open(f->ks, &k1, "ocid1.vaultsecret.a",
	    1, wd, wdlen, ct, ctlen, &out), TRESOR_EAUTH);
	ct[ctlen / 2] ^= 1;
	wd[5] ^= 1;
	assert_int_equal(tr_envelope_open(f->ks, &k1, "ocid1.vaultsecret.a",
	    1, wd, wdlen, ct, ctlen, &out), TRESOR_EAUTH);
	assert_null(out);
	tr_secret_free(p);
	tr_free(wd);
	tr_free(ct);
}

/*
 * The data key cache: a second open of a version is a hit and gives the
 * same plaintext; every other input (secret, number, key version, the
 * sealed key's bytes) misses and fails as without the cache; tampered
 * content fails on a hit; an entry past its age is unwrapped again.
 */
static void
test_dek_cache(void **state)
{
	struct fixture *f = *state;
	struct tr_keyref k1 = { "ocid1.keyversion.oc1..v1", f->w1, f->w1len };
	struct tr_keyref k2 = { "ocid1.keyversion.oc1..v2", f->w2, f->w2len };
	struct tr_secret *p = plain("cached"), *out = NULL;
	struct tr_dek_cache *c = NULL, *short_lived = NULL;
	unsigned char *wd = NULL, *ct = NULL;
	size_t wdlen, ctlen, i;
	uint64_t hits, misses;

	assert_int_equal(tr_dek_cache_new(&c, 16, 60000), 0);
	assert_int_equal(tr_envelope_seal(f->ks, &k1, "ocid1.vaultsecret.a",
	    1, p, &wd, &wdlen, &ct, &ctlen), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(tr_envelope_open_cached(c, f->ks, &k1,
		    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out), 0);
		assert_int_equal(out->len, p->len);
		assert_memory_equal(out->ptr, p->ptr, p->len);
		tr_secret_free(out);
		out = NULL;
	}
	tr_dek_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 1);
	/* other inputs: misses, and the unwrap refuses them */
	assert_int_equal(tr_envelope_open_cached(c, f->ks, &k1,
	    "ocid1.vaultsecret.b", 1, wd, wdlen, ct, ctlen, &out),
	    TRESOR_EAUTH);
	assert_int_equal(tr_envelope_open_cached(c, f->ks, &k1,
	    "ocid1.vaultsecret.a", 2, wd, wdlen, ct, ctlen, &out),
	    TRESOR_EAUTH);
	assert_int_equal(tr_envelope_open_cached(c, f->ks, &k2,
	    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out),
	    TRESOR_EAUTH);
	wd[wdlen - 1] ^= 1;
	assert_int_equal(tr_envelope_open_cached(c, f->ks, &k1,
	    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out),
	    TRESOR_EAUTH);
	wd[wdlen - 1] ^= 1;
	tr_dek_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 5);
	/* a hit still checks the content */
	ct[ctlen / 2] ^= 1;
	assert_int_equal(tr_envelope_open_cached(c, f->ks, &k1,
	    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out),
	    TRESOR_EAUTH);
	ct[ctlen / 2] ^= 1;
	tr_dek_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 3);
	assert_null(out);

	/* aged out: unwrapped again */
	assert_int_equal(tr_dek_cache_new(&short_lived, 4, 1), 0);
	assert_int_equal(tr_envelope_open_cached(short_lived, f->ks, &k1,
	    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out), 0);
	tr_secret_free(out);
	out = NULL;
	usleep(5000);
	assert_int_equal(tr_envelope_open_cached(short_lived, f->ks, &k1,
	    "ocid1.vaultsecret.a", 1, wd, wdlen, ct, ctlen, &out), 0);
	tr_secret_free(out);
	tr_dek_cache_stats(short_lived, &hits, &misses);
	assert_int_equal(hits, 0);
	assert_int_equal(misses, 2);
	tr_dek_cache_free(short_lived);
	assert_int_equal(tr_dek_cache_new(&short_lived, 0, 1), TRESOR_EINVAL);
	assert_null(short_lived);
	tr_dek_cache_free(c);
	tr_secret_free(p);
	tr_free(wd);
	tr_free(ct);
}

static void
test_fresh_data_key_per_version(void **state)
{
	struct fixture *f = *state;
	struct tr_keyref k1 = { "ocid1.keyversion.oc1..v1", f->w1, f->w1len };
	struct tr_secret *p = plain("same");
	unsigned char *wd1 = NULL, *ct1 = NULL, *wd2 = NULL, *ct2 = NULL;
	size_t l1, l2, l3, l4;

	assert_int_equal(tr_envelope_seal(f->ks, &k1, "ocid1.vaultsecret.a",
	    1, p, &wd1, &l1, &ct1, &l2), 0);
	assert_int_equal(tr_envelope_seal(f->ks, &k1, "ocid1.vaultsecret.a",
	    1, p, &wd2, &l3, &ct2, &l4), 0);
	assert_int_equal(l2, l4);
	assert_memory_not_equal(ct1, ct2, l2);
	assert_memory_not_equal(wd1, wd2, l1);
	tr_secret_free(p);
	tr_free(wd1);
	tr_free(ct1);
	tr_free(wd2);
	tr_free(ct2);
}

static void
test_rewrap_to_new_key_version(void **state)
{
	struct fixture *f = *state;
	struct tr_keyref k1 = { "ocid1.keyversion.oc1..v1", f->w1, f->w1len };
	struct tr_keyref k2 = { "ocid1.keyversion.oc1..v2", f->w2, f->w2len };
	struct tr_secret *p = plain("rotate me"), *out = NULL;
	unsigned char *wd = NULL, *ct = NULL, *wd2 = NULL;
	size_t wdlen, ctlen, wd2len;

	assert_int_equal(tr_envelope_seal(f->ks, &k1, "ocid1.vaultsecret.r",
	    7, p, &wd, &wdlen, &ct, &ctlen), 0);
	assert_int_equal(tr_envelope_rewrap(f->ks, &k1, &k2,
	    "ocid1.vaultsecret.r", 7, wd, wdlen, &wd2, &wd2len), 0);
	assert_int_equal(tr_envelope_open(f->ks, &k2, "ocid1.vaultsecret.r",
	    7, wd2, wd2len, ct, ctlen, &out), 0);
	assert_memory_equal(out->ptr, "rotate me", 9);
	tr_secret_free(out);
	tr_secret_free(p);
	tr_free(wd);
	tr_free(wd2);
	tr_free(ct);
}

static void
test_wrong_root_key(void **state)
{
	struct fixture *f = *state;
	struct tr_keyref k1 = { "ocid1.keyversion.oc1..v1", f->w1, f->w1len };
	struct tr_keystore *other = NULL;
	unsigned char *blob = NULL;
	size_t blen;
	char path[160];

	(void)snprintf(path, sizeof(path), "%s/other.key", f->dir);
	assert_int_equal(tr_keystore_create_root(path), 0);
	assert_int_equal(tr_keystore_open(&other, path), 0);
	assert_int_equal(tr_keystore_encrypt(other, &k1, NULL, 0, "x", 1,
	    &blob, &blen), TRESOR_EINTERNAL);
	assert_non_null(strstr(tresor_error_last(), "root key"));
	tr_keystore_free(other);
}

static void
test_asymmetric_generation(void **state)
{
	struct fixture *f = *state;
	static const struct tr_key_shape rsa = { TR_KEY_RSA, 256,
		TR_CURVE_NONE };
	static const struct tr_key_shape ec = { TR_KEY_ECDSA, 32,
		TR_CURVE_P256 };
	static const struct tr_key_shape bad = { TR_KEY_AES, 20,
		TR_CURVE_NONE };
	unsigned char *w = NULL;
	char *pem = NULL;
	size_t wl;

	assert_int_equal(tr_keystore_generate(f->ks, "ocid1.keyversion.r",
	    &rsa, &w, &wl, &pem), 0);
	assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
	tr_free(w);
	tr_free(pem);
	assert_int_equal(tr_keystore_generate(f->ks, "ocid1.keyversion.e",
	    &ec, &w, &wl, &pem), 0);
	assert_non_null(pem);
	tr_free(w);
	tr_free(pem);
	assert_int_equal(tr_keystore_generate(f->ks, "ocid1.keyversion.b",
	    &bad, &w, &wl, &pem), TRESOR_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_key_file),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_dek_cache),
		cmocka_unit_test(test_fresh_data_key_per_version),
		cmocka_unit_test(test_rewrap_to_new_key_version),
		cmocka_unit_test(test_wrong_root_key),
		cmocka_unit_test(test_asymmetric_generation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
