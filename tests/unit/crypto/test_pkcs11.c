/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Protection mode HSM (crypto/pkcs11.h) against a throwaway SoftHSM2
 * token made in a temporary directory: PIN file checks, every key shape,
 * AES-GCM round trips and tampering, every signing algorithm checked
 * with plain OpenSSL on the exported public key, key material that never
 * leaves the token, destruction, threads, and recovery after the token
 * drops its sessions.  Exits 77 (skipped) when SoftHSM2 is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/sign.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/secret.h"

/* last: p11-kit's pkcs11.h defines macros with common names */
#include "crypto/pkcs11_int.h"

#define TOKEN "label:tresor-test"
#define USER_PIN "5678"

static const char *const module_paths[] = {
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
};

static struct {
	char dir[64];
	char pin[128];
	const char *module;
	struct tr_p11 *p;
	char *pem_rsa, *pem_p256, *pem_p384, *pem_p521;
} fx;

#define L_AES "ocid1.keyversion.oc1..fixtureaes256"
#define L_RSA "ocid1.keyversion.oc1..fixturersa2048"
#define L_P256 "ocid1.keyversion.oc1..fixturep256"
#define L_P384 "ocid1.keyversion.oc1..fixturep384"
#define L_P521 "ocid1.keyversion.oc1..fixturep521"

static const struct tr_key_shape aes256 = { TR_KEY_AES, 32, TR_CURVE_NONE };
static const struct tr_key_shape rsa2048 = { TR_KEY_RSA, 256, TR_CURVE_NONE };
static const struct tr_key_shape p256 = { TR_KEY_ECDSA, 32, TR_CURVE_P256 };
static const struct tr_key_shape p384 = { TR_KEY_ECDSA, 48, TR_CURVE_P384 };
static const struct tr_key_shape p521 = { TR_KEY_ECDSA, 66, TR_CURVE_P521 };

static const struct {
	const char *name;
	const char *md;
	int pad;	/* RSA padding, 0 for ECDSA */
	size_t hlen;
} algs[] = {
	{ "SHA_224_RSA_PKCS_PSS", "SHA224", RSA_PKCS1_PSS_PADDING, 28 },
	{ "SHA_256_RSA_PKCS_PSS", "SHA256", RSA_PKCS1_PSS_PADDING, 32 },
	{ "SHA_384_RSA_PKCS_PSS", "SHA384", RSA_PKCS1_PSS_PADDING, 48 },
	{ "SHA_512_RSA_PKCS_PSS", "SHA512", RSA_PKCS1_PSS_PADDING, 64 },
	{ "SHA_224_RSA_PKCS1_V1_5", "SHA224", RSA_PKCS1_PADDING, 28 },
	{ "SHA_256_RSA_PKCS1_V1_5", "SHA256", RSA_PKCS1_PADDING, 32 },
	{ "SHA_384_RSA_PKCS1_V1_5", "SHA384", RSA_PKCS1_PADDING, 48 },
	{ "SHA_512_RSA_PKCS1_V1_5", "SHA512", RSA_PKCS1_PADDING, 64 },
	{ "ECDSA_SHA_256", "SHA256", 0, 32 },
	{ "ECDSA_SHA_384", "SHA384", 0, 48 },
	{ "ECDSA_SHA_512", "SHA512", 0, 64 },
};

#define NALGS (sizeof(algs) / sizeof(algs[0]))

static const char msg[] = "signed inside the token, checked outside it";

/* ---------------------------------------------------------------- */
/* fixture                                                          */
/* ---------------------------------------------------------------- */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	/* fchmod, so that the umask cannot change the mode under test */
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
group_setup(void **state)
{
	char path[160], cmd[512];
	FILE *f;

	(void)state;
	(void)snprintf(fx.dir, sizeof(fx.dir), "/tmp/tresor-p11-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/tokens", fx.dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/softhsm2.conf", fx.dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s/tokens\n"
	    "objectstore.backend = file\n"
	    "log.level = ERROR\n"
	    "slots.removable = false\n", fx.dir);
	fclose(f);
	if (setenv("SOFTHSM2_CONF", path, 1) != 0)
		return -1;
	(void)snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free "
	    "--label tresor-test --so-pin 1234 --pin " USER_PIN
	    " >%s/init.log 2>&1", fx.dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "softhsm2-util --init-token failed; see %s/"
		    "init.log\n", fx.dir);
		return -1;
	}
	(void)snprintf(fx.pin, sizeof(fx.pin), "%s/user.pin", fx.dir);
	write_file(fx.pin, USER_PIN "\n", 0600);
	if (tr_p11_open(&fx.p, fx.module, TOKEN, fx.pin) != 0) {
		fprintf(stderr, "tr_p11_open: %s\n", tresor_error_last());
		return -1;
	}
	if (tr_p11_generate(fx.p, L_AES, &aes256, &fx.pem_rsa) != 0 ||
	    fx.pem_rsa != NULL ||
	    tr_p11_generate(fx.p, L_RSA, &rsa2048, &fx.pem_rsa) != 0 ||
	    tr_p11_generate(fx.p, L_P256, &p256, &fx.pem_p256) != 0 ||
	    tr_p11_generate(fx.p, L_P384, &p384, &fx.pem_p384) != 0 ||
	    tr_p11_generate(fx.p, L_P521, &p521, &fx.pem_p521) != 0) {
		fprintf(stderr, "tr_p11_generate: %s\n", tresor_error_last());
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	tr_p11_close(fx.p);
	tr_free(fx.pem_rsa);
	tr_free(fx.pem_p256);
	tr_free(fx.pem_p384);
	tr_free(fx.pem_p521);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	(void)system(cmd);
	return 0;
}

/* ---------------------------------------------------------------- */
/* helpers                                                          */
/* ---------------------------------------------------------------- */

static EVP_PKEY *
pem_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

	BIO_free(bio);
	assert_non_null(pkey);
	return pkey;
}

/* Plain OpenSSL: verify a signature over the raw message. */
static bool
evp_verify(const char *pem, size_t a, const void *m, size_t mlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY *pkey = pem_key(pem);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int r;

	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx, algs[a].md, NULL,
	    NULL, pkey, NULL), 1);
	if (algs[a].pad != 0)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    algs[a].pad), 1);
	if (algs[a].pad == RSA_PKCS1_PSS_PADDING) {
		/* salt = hash length exactly, MGF1 with the same hash */
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    (int)algs[a].hlen), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx,
		    algs[a].md, NULL), 1);
	}
	r = EVP_DigestVerify(ctx, sig, siglen, m, mlen);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r == 1;
}

static void
digest_of(size_t a, const void *m, size_t mlen, unsigned char *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(m, mlen, out, &n,
	    EVP_get_digestbyname(algs[a].md), NULL), 1);
	assert_int_equal(n, algs[a].hlen);
}

static bool
error_says(const char *what)
{
	if (strstr(tresor_error_last(), what) != NULL)
		return true;
	fprintf(stderr, "error \"%s\" does not say \"%s\"\n",
	    tresor_error_last(), what);
	return false;
}

/* ---------------------------------------------------------------- */
/* opening                                                          */
/* ---------------------------------------------------------------- */

static void
test_pin_file_must_be_private(void **state)
{
	struct tr_p11 *p = NULL;
	char path[160], link[160];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/loose.pin", fx.dir);
	write_file(path, USER_PIN "\n", 0644);
	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, path),
	    TRESOR_EPERM);
	assert_null(p);
	assert_true(error_says("group or others (mode 0644)"));
	assert_true(error_says("0600"));

	write_file(path, USER_PIN "\n", 0640);
	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, path),
	    TRESOR_EPERM);
	assert_true(error_says("mode 0640"));

	/* a symlink to a good file is refused too */
	(void)snprintf(link, sizeof(link), "%s/link.pin", fx.dir);
	assert_int_equal(symlink(fx.pin, link), 0);
	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, link),
	    TRESOR_EPERM);
	assert_true(error_says("symbolic link"));

	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, fx.dir),
	    TRESOR_EPERM);
	assert_true(error_says("not a regular file"));

	(void)snprintf(path, sizeof(path), "%s/missing.pin", fx.dir);
	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, path),
	    TRESOR_ENOTFOUND);

	(void)snprintf(path, sizeof(path), "%s/empty.pin", fx.dir);
	write_file(path, "\n", 0600);
	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, path),
	    TRESOR_EINVAL);
	assert_true(error_says("empty"));

	/* stricter than 0600 is fine; so is CRLF */
	(void)snprintf(path, sizeof(path), "%s/strict.pin", fx.dir);
	write_file(path, USER_PIN "\r\n", 0400);
	assert_int_equal(tr_p11_open(&p, fx.module, TOKEN, path), 0);
	tr_p11_close(p);
}

/*
 * tr_p11_open() with `pin_file` in a child process; returns its result
 * code, 1 for a crash.  The child checks the message of a wrong PIN.
 */
static int
probe(const char *pin_file)
{
	char self[256], cmd[700];
	ssize_t n;
	int st;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	(void)snprintf(cmd, sizeof(cmd), "'%s' --open-probe '%s' '%s'", self,
	    fx.module, pin_file);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return 1;
	return -WEXITSTATUS(st);
}

static int
open_probe(const char *module, const char *pin_file)
{
	struct tr_p11 *p = NULL;
	int rc;

	rc = tr_p11_open(&p, module, TOKEN, pin_file);
	tr_p11_close(p);
	if (rc == TRESOR_EAUTH &&
	    strstr(tresor_error_last(), "wrong user PIN") == NULL)
		rc = TRESOR_EINTERNAL;
	if (rc != 0)
		fprintf(stderr, "probe: %s\n", tresor_error_last());
	return -rc;
}

static void
test_open_errors(void **state)
{
	struct tr_p11 *p = NULL;
	char path[160], spec[64];
	bool found = false;

	(void)state;
	/*
	 * A login belongs to the whole process, and a token that is logged
	 * in already does not look at the PIN again: try the wrong PIN in
	 * a fresh process (this program with --open-probe).
	 */
	(void)snprintf(path, sizeof(path), "%s/wrong.pin", fx.dir);
	write_file(path, "0000\n", 0600);
	assert_int_equal(probe(path), TRESOR_EAUTH);
	assert_int_equal(probe(fx.pin), 0);

	assert_int_equal(tr_p11_open(&p, fx.module, "label:no-such-token",
	    fx.pin), TRESOR_ENOTFOUND);
	assert_int_equal(tr_p11_open(&p, fx.module, "tresor-test", fx.pin),
	    TRESOR_EINVAL);
	assert_true(error_says("label:NAME"));
	assert_int_equal(tr_p11_open(&p, fx.module, "slot:x1", fx.pin),
	    TRESOR_EINVAL);
	assert_int_equal(tr_p11_open(&p, "/nonexistent/libnothing.so", TOKEN,
	    fx.pin), TRESOR_EIO);
	assert_null(p);

	/* a second handle by slot number, closed while the first lives */
	(void)snprintf(spec, sizeof(spec), "slot:%lu",
	    (unsigned long)tr_p11_slot(fx.p));
	assert_int_equal(tr_p11_open(&p, fx.module, spec, fx.pin), 0);
	assert_int_equal(tr_p11_exists(p, L_AES, &found), 0);
	assert_true(found);
	tr_p11_close(p);
	found = false;
	assert_int_equal(tr_p11_exists(fx.p, L_AES, &found), 0);
	assert_true(found);
}

/* ---------------------------------------------------------------- */
/* keys                                                             */
/* ---------------------------------------------------------------- */

static void
test_generate_every_shape(void **state)
{
	static const struct {
		const char *label;
		struct tr_key_shape shape;
		int type;
		int bits;
	} shapes[] = {
		{ "ocid1.keyversion.oc1..gaes128", { TR_KEY_AES, 16,
		    TR_CURVE_NONE }, 0, 0 },
		{ "ocid1.keyversion.oc1..gaes192", { TR_KEY_AES, 24,
		    TR_CURVE_NONE }, 0, 0 },
		{ "ocid1.keyversion.oc1..gaes256", { TR_KEY_AES, 32,
		    TR_CURVE_NONE }, 0, 0 },
		{ "ocid1.keyversion.oc1..grsa2048", { TR_KEY_RSA, 256,
		    TR_CURVE_NONE }, EVP_PKEY_RSA, 2048 },
		{ "ocid1.keyversion.oc1..grsa3072", { TR_KEY_RSA, 384,
		    TR_CURVE_NONE }, EVP_PKEY_RSA, 3072 },
		{ "ocid1.keyversion.oc1..grsa4096", { TR_KEY_RSA, 512,
		    TR_CURVE_NONE }, EVP_PKEY_RSA, 4096 },
		{ "ocid1.keyversion.oc1..gp256", { TR_KEY_ECDSA, 32,
		    TR_CURVE_P256 }, EVP_PKEY_EC, 256 },
		{ "ocid1.keyversion.oc1..gp384", { TR_KEY_ECDSA, 48,
		    TR_CURVE_P384 }, EVP_PKEY_EC, 384 },
		{ "ocid1.keyversion.oc1..gp521", { TR_KEY_ECDSA, 66,
		    TR_CURVE_P521 }, EVP_PKEY_EC, 521 },
	};
	static const struct tr_key_shape bad[] = {
		{ TR_KEY_AES, 8, TR_CURVE_NONE },
		{ TR_KEY_RSA, 128, TR_CURVE_NONE },
		{ TR_KEY_ECDSA, 32, TR_CURVE_P384 },
	};
	char *pem = NULL, *again = NULL, longlabel[300];
	unsigned char *ct = NULL;
	size_t i, ctlen = 0;
	EVP_PKEY *pkey;
	bool found;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		assert_int_equal(tr_p11_generate(fx.p, shapes[i].label,
		    &shapes[i].shape, &pem), 0);
		found = false;
		assert_int_equal(tr_p11_exists(fx.p, shapes[i].label, &found),
		    0);
		assert_true(found);
		if (shapes[i].type == 0) {
			assert_null(pem);
			assert_int_equal(tr_p11_encrypt(fx.p, shapes[i].label,
			    NULL, 0, "x", 1, &ct, &ctlen), 0);
			tr_free(ct);
		} else {
			assert_non_null(pem);
			pkey = pem_key(pem);
			assert_int_equal(EVP_PKEY_get_base_id(pkey),
			    shapes[i].type);
			assert_int_equal(EVP_PKEY_get_bits(pkey),
			    shapes[i].bits);
			EVP_PKEY_free(pkey);
			assert_int_equal(tr_p11_public_pem(fx.p,
			    shapes[i].label, &again), 0);
			assert_string_equal(pem, again);
			tr_free(again);
		}
		/* the label is taken now */
		tr_free(pem);
		assert_int_equal(tr_p11_generate(fx.p, shapes[i].label,
		    &shapes[i].shape, &pem), TRESOR_EEXISTS);
		assert_null(pem);
		assert_int_equal(tr_p11_destroy(fx.p, shapes[i].label), 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tr_p11_generate(fx.p, "ocid1.bad", &bad[i],
		    &pem), TRESOR_EINVAL);
	assert_int_equal(tr_p11_generate(fx.p, "", &aes256, &pem),
	    TRESOR_EINVAL);
	memset(longlabel, 'a', sizeof(longlabel) - 1);
	longlabel[sizeof(longlabel) - 1] = '\0';
	assert_int_equal(tr_p11_generate(fx.p, longlabel, &aes256, &pem),
	    TRESOR_EINVAL);
	assert_int_equal(tr_p11_public_pem(fx.p, L_AES, &pem),
	    TRESOR_ENOTFOUND);
}

static void
test_aes_gcm_round_trip(void **state)
{
	static const char *labels[] = {
		"ocid1.keyversion.oc1..aes128", "ocid1.keyversion.oc1..aes192",
		"ocid1.keyversion.oc1..aes256",
	};
	static const char pt[] = "a secret the token seals";
	static const char aad[] = "ocid1.vaultsecret.oc1..s1/v1";
	struct tr_key_shape shape = { TR_KEY_AES, 16, TR_CURVE_NONE };
	unsigned char *blob = NULL, *blob2 = NULL;
	struct tr_secret *out = NULL;
	size_t len = 0, len2 = 0, i;
	char *pem = NULL;

	(void)state;
	for (i = 0; i < 3; i++) {
		shape.length = 16 + 8 * i;
		assert_int_equal(tr_p11_generate(fx.p, labels[i], &shape,
		    &pem), 0);
		assert_int_equal(tr_p11_encrypt(fx.p, labels[i], aad,
		    sizeof(aad), pt, sizeof(pt), &blob, &len), 0);
		assert_int_equal(len, 12 + sizeof(pt) + 16);
		assert_int_equal(tr_p11_decrypt(fx.p, labels[i], aad,
		    sizeof(aad), blob, len, &out), 0);
		assert_int_equal(out->len, sizeof(pt));
		assert_memory_equal(out->ptr, pt, sizeof(pt));
		tr_secret_free(out);
		out = NULL;

		/* a fresh nonce each time */
		assert_int_equal(tr_p11_encrypt(fx.p, labels[i], aad,
		    sizeof(aad), pt, sizeof(pt), &blob2, &len2), 0);
		assert_memory_not_equal(blob, blob2, 12);
		tr_free(blob2);

		/* another key of the token cannot open it */
		assert_int_equal(tr_p11_decrypt(fx.p, L_AES, aad, sizeof(aad),
		    blob, len, &out), TRESOR_EAUTH);
		assert_null(out);
		tr_free(blob);
	}

	/* no associated data, empty plaintext */
	assert_int_equal(tr_p11_encrypt(fx.p, L_AES, NULL, 0, "", 0, &blob,
	    &len), 0);
	assert_int_equal(len, 28);
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, NULL, 0, blob, len, &out),
	    0);
	assert_int_equal(out->len, 0);
	tr_secret_free(out);
	out = NULL;
	tr_free(blob);

	for (i = 0; i < 3; i++)
		assert_int_equal(tr_p11_destroy(fx.p, labels[i]), 0);
}

static void
test_aes_gcm_tamper_and_aad(void **state)
{
	static const char pt[] = "sealed under a key in the token";
	static const char aad[] = "secret=s1;version=1";
	static const char aad2[] = "secret=s1;version=2";
	unsigned char *blob = NULL;
	struct tr_secret *out = NULL;
	size_t len = 0, i, where[3];

	(void)state;
	assert_int_equal(tr_p11_encrypt(fx.p, L_AES, aad, sizeof(aad), pt,
	    sizeof(pt), &blob, &len), 0);
	/* a bit of the nonce, the ciphertext and the tag */
	where[0] = 3;
	where[1] = 12 + 5;
	where[2] = len - 1;
	for (i = 0; i < 3; i++) {
		blob[where[i]] ^= 0x01;
		assert_int_equal(tr_p11_decrypt(fx.p, L_AES, aad, sizeof(aad),
		    blob, len, &out), TRESOR_EAUTH);
		assert_null(out);
		blob[where[i]] ^= 0x01;
	}
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, aad2, sizeof(aad2), blob,
	    len, &out), TRESOR_EAUTH);
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, NULL, 0, blob, len,
	    &out), TRESOR_EAUTH);
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, aad, sizeof(aad), blob,
	    27, &out), TRESOR_EAUTH);
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, aad, sizeof(aad), blob,
	    len - 1, &out), TRESOR_EAUTH);
	/* after all those failures the sessions still work */
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, aad, sizeof(aad), blob,
	    len, &out), 0);
	assert_memory_equal(out->ptr, pt, sizeof(pt));
	tr_secret_free(out);
	out = NULL;

	/* no such AES key; an RSA key is not one */
	assert_int_equal(tr_p11_decrypt(fx.p, "ocid1.keyversion.oc1..none",
	    aad, sizeof(aad), blob, len, &out), TRESOR_ENOTFOUND);
	tr_free(blob);
	assert_int_equal(tr_p11_encrypt(fx.p, L_RSA, NULL, 0, pt, sizeof(pt),
	    &blob, &len), TRESOR_ENOTFOUND);
	assert_null(blob);
}

/* ---------------------------------------------------------------- */
/* signatures                                                       */
/* ---------------------------------------------------------------- */

/* Sign with every fitting algorithm, RAW and DIGEST; check outside. */
static void
sign_all(const char *label, const char *pem, bool ec)
{
	unsigned char *sig = NULL, dg[64];
	size_t siglen = 0, a;
	bool valid;

	for (a = 0; a < NALGS; a++) {
		if ((algs[a].pad == 0) != ec)
			continue;
		/* RAW */
		assert_int_equal(tr_p11_sign(fx.p, label, algs[a].name, msg,
		    sizeof(msg), false, &sig, &siglen), 0);
		assert_true(evp_verify(pem, a, msg, sizeof(msg), sig,
		    siglen));
		assert_int_equal(tr_verify_pub(pem, algs[a].name, msg,
		    sizeof(msg), false, sig, siglen, &valid), 0);
		assert_true(valid);
		assert_int_equal(tr_p11_verify(fx.p, label, algs[a].name, msg,
		    sizeof(msg), false, sig, siglen, &valid), 0);
		assert_true(valid);
		sig[siglen / 2] ^= 0x04;
		assert_false(evp_verify(pem, a, msg, sizeof(msg), sig,
		    siglen));
		assert_int_equal(tr_verify_pub(pem, algs[a].name, msg,
		    sizeof(msg), false, sig, siglen, &valid), 0);
		assert_false(valid);
		assert_int_equal(tr_p11_verify(fx.p, label, algs[a].name, msg,
		    sizeof(msg), false, sig, siglen, &valid), 0);
		assert_false(valid);
		tr_free(sig);
		sig = NULL;

		/* DIGEST: a signature over the message all the same */
		digest_of(a, msg, sizeof(msg), dg);
		assert_int_equal(tr_p11_sign(fx.p, label, algs[a].name, dg,
		    algs[a].hlen, true, &sig, &siglen), 0);
		assert_true(evp_verify(pem, a, msg, sizeof(msg), sig,
		    siglen));
		assert_int_equal(tr_p11_verify(fx.p, label, algs[a].name, dg,
		    algs[a].hlen, true, sig, siglen, &valid), 0);
		assert_true(valid);
		assert_int_equal(tr_p11_verify(fx.p, label, algs[a].name, msg,
		    sizeof(msg) - 1, false, sig, siglen, &valid), 0);
		assert_false(valid);
		tr_free(sig);
		sig = NULL;
	}
}

static void
test_sign_rsa_every_alg(void **state)
{
	(void)state;
	sign_all(L_RSA, fx.pem_rsa, false);
}

static void
test_sign_ecdsa_every_alg_and_curve(void **state)
{
	(void)state;
	sign_all(L_P256, fx.pem_p256, true);
	sign_all(L_P384, fx.pem_p384, true);
	sign_all(L_P521, fx.pem_p521, true);
}

static void
test_sign_refusals(void **state)
{
	unsigned char *sig = NULL, dg[64] = { 0 };
	size_t siglen = 0;
	bool valid = true;

	(void)state;
	assert_int_equal(tr_p11_sign(fx.p, L_RSA, "SHA_256_RSA_PKCS_PSS", dg,
	    48, true, &sig, &siglen), TRESOR_EINVAL);
	assert_true(error_says("must be 32 bytes"));
	assert_int_equal(tr_p11_sign(fx.p, L_P256, "ECDSA_SHA_384", dg, 32,
	    true, &sig, &siglen), TRESOR_EINVAL);
	assert_int_equal(tr_p11_verify(fx.p, L_P256, "ECDSA_SHA_256", dg, 31,
	    true, dg, 8, &valid), TRESOR_EINVAL);
	assert_false(valid);
	assert_int_equal(tr_p11_sign(fx.p, L_P256, "SHA_256_RSA_PKCS_PSS", msg,
	    sizeof(msg), false, &sig, &siglen), TRESOR_EINVAL);
	assert_true(error_says("cannot be used"));
	assert_int_equal(tr_p11_sign(fx.p, L_RSA, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &siglen), TRESOR_EINVAL);
	assert_int_equal(tr_p11_sign(fx.p, L_RSA, "RSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &siglen), TRESOR_EINVAL);
	assert_true(error_says("unknown signing algorithm"));
	assert_int_equal(tr_p11_sign(fx.p, L_AES, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &siglen), TRESOR_ENOTFOUND);
	assert_int_equal(tr_p11_sign(fx.p, "ocid1.keyversion.oc1..none",
	    "ECDSA_SHA_256", msg, sizeof(msg), false, &sig, &siglen),
	    TRESOR_ENOTFOUND);
	assert_null(sig);
	/* malformed signatures are invalid, not errors */
	assert_int_equal(tr_p11_verify(fx.p, L_P256, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, (const unsigned char *)"\x30\x00", 2,
	    &valid), 0);
	assert_false(valid);
	assert_int_equal(tr_p11_verify(fx.p, L_RSA, "SHA_256_RSA_PKCS1_V1_5",
	    msg, sizeof(msg), false, (const unsigned char *)"short", 5,
	    &valid), 0);
	assert_false(valid);
}

/* ---------------------------------------------------------------- */
/* the material stays in the token                                  */
/* ---------------------------------------------------------------- */

static CK_OBJECT_HANDLE
find_obj(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
    CK_OBJECT_CLASS cls)
{
	CK_ATTRIBUTE t[2] = {
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_CLASS, &cls, sizeof(cls) },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;

	assert_int_equal(f->C_FindObjectsInit(s, t, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, &h, 1, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	assert_int_equal(n, 1);
	return h;
}

static void
check_secret_object(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
    CK_OBJECT_HANDLE h, const CK_ATTRIBUTE_TYPE *secret, size_t nsecret)
{
	CK_BBOOL ext = CK_TRUE, sens = CK_FALSE, never = CK_FALSE;
	CK_BBOOL always = CK_FALSE, tok = CK_FALSE, priv = CK_FALSE;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_EXTRACTABLE, &ext, sizeof(ext) },
		{ CKA_SENSITIVE, &sens, sizeof(sens) },
		{ CKA_NEVER_EXTRACTABLE, &never, sizeof(never) },
		{ CKA_ALWAYS_SENSITIVE, &always, sizeof(always) },
		{ CKA_TOKEN, &tok, sizeof(tok) },
		{ CKA_PRIVATE, &priv, sizeof(priv) },
	};
	CK_ATTRIBUTE set = { CKA_EXTRACTABLE, &yes, sizeof(yes) };
	unsigned char buf[1024];
	CK_ATTRIBUTE v;
	size_t i;

	assert_int_equal(f->C_GetAttributeValue(s, h, t, 6), CKR_OK);
	assert_int_equal(ext, CK_FALSE);
	assert_int_equal(sens, CK_TRUE);
	assert_int_equal(never, CK_TRUE);
	assert_int_equal(always, CK_TRUE);
	assert_int_equal(tok, CK_TRUE);
	assert_int_equal(priv, CK_TRUE);
	for (i = 0; i < nsecret; i++) {
		v.type = secret[i];
		v.pValue = buf;
		v.ulValueLen = sizeof(buf);
		assert_int_equal(f->C_GetAttributeValue(s, h, &v, 1),
		    CKR_ATTRIBUTE_SENSITIVE);
		assert_true(v.ulValueLen == CK_UNAVAILABLE_INFORMATION);
	}
	/* and nobody can make it extractable afterwards */
	assert_int_not_equal(f->C_SetAttributeValue(s, h, &set, 1), CKR_OK);
}

static void
test_material_never_leaves_token(void **state)
{
	static const CK_ATTRIBUTE_TYPE aes[] = { CKA_VALUE };
	static const CK_ATTRIBUTE_TYPE rsa[] = {
		CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1,
		CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	static const CK_ATTRIBUTE_TYPE ec[] = { CKA_VALUE };
	CK_FUNCTION_LIST *f = tr_p11_module(fx.p);
	CK_SESSION_HANDLE s;

	(void)state;
	assert_int_equal(f->C_OpenSession(tr_p11_slot(fx.p),
	    CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	check_secret_object(f, s, find_obj(f, s, L_AES, CKO_SECRET_KEY), aes,
	    1);
	check_secret_object(f, s, find_obj(f, s, L_RSA, CKO_PRIVATE_KEY), rsa,
	    6);
	check_secret_object(f, s, find_obj(f, s, L_P256, CKO_PRIVATE_KEY), ec,
	    1);
	check_secret_object(f, s, find_obj(f, s, L_P521, CKO_PRIVATE_KEY), ec,
	    1);
	assert_int_equal(f->C_CloseSession(s), CKR_OK);
}

static void
test_destroy(void **state)
{
	const char *label = "ocid1.keyversion.oc1..doomed";
	unsigned char *out = NULL;
	size_t len = 0;
	char *pem = NULL;
	bool found = true;

	(void)state;
	assert_int_equal(tr_p11_generate(fx.p, label, &p384, &pem), 0);
	tr_free(pem);
	assert_int_equal(tr_p11_destroy(fx.p, label), 0);
	assert_int_equal(tr_p11_exists(fx.p, label, &found), 0);
	assert_false(found);
	assert_int_equal(tr_p11_sign(fx.p, label, "ECDSA_SHA_384", msg,
	    sizeof(msg), false, &out, &len), TRESOR_ENOTFOUND);
	assert_int_equal(tr_p11_public_pem(fx.p, label, &pem),
	    TRESOR_ENOTFOUND);
	assert_int_equal(tr_p11_destroy(fx.p, label), TRESOR_ENOTFOUND);

	/* the label can be used again, for another kind of key */
	assert_int_equal(tr_p11_generate(fx.p, label, &aes256, &pem), 0);
	assert_int_equal(tr_p11_encrypt(fx.p, label, NULL, 0, "x", 1, &out,
	    &len), 0);
	tr_free(out);
	assert_int_equal(tr_p11_destroy(fx.p, label), 0);
	assert_int_equal(tr_p11_encrypt(fx.p, label, NULL, 0, "x", 1, &out,
	    &len), TRESOR_ENOTFOUND);
	/* the others are untouched */
	assert_int_equal(tr_p11_exists(fx.p, L_P384, &found), 0);
	assert_true(found);
}

/* ---------------------------------------------------------------- */
/* threads and lost sessions                                        */
/* ---------------------------------------------------------------- */

#define NTHREADS 8
#define ROUNDS 25

static void *
worker(void *arg)
{
	intptr_t id = (intptr_t)arg, fails = 0;
	const char *label = id % 2 == 0 ? L_P256 : L_RSA;
	const char *alg = id % 2 == 0 ? "ECDSA_SHA_256" :
	    "SHA_256_RSA_PKCS_PSS";
	const char *pem = id % 2 == 0 ? fx.pem_p256 : fx.pem_rsa;
	unsigned char pt[64], *blob = NULL, *sig = NULL;
	struct tr_secret *out = NULL;
	size_t len = 0, siglen = 0;
	bool valid;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		memset(pt, (int)(id * 31 + i), sizeof(pt));
		if (tr_p11_encrypt(fx.p, L_AES, &id, sizeof(id), pt,
		    sizeof(pt), &blob, &len) != 0 ||
		    tr_p11_decrypt(fx.p, L_AES, &id, sizeof(id), blob, len,
		    &out) != 0 || out->len != sizeof(pt) ||
		    memcmp(out->ptr, pt, sizeof(pt)) != 0)
			fails++;
		tr_free(blob);
		blob = NULL;
		tr_secret_free(out);
		out = NULL;
		valid = false;
		if (tr_p11_sign(fx.p, label, alg, pt, sizeof(pt), false, &sig,
		    &siglen) != 0 ||
		    tr_verify_pub(pem, alg, pt, sizeof(pt), false, sig, siglen,
		    &valid) != 0 || !valid)
			fails++;
		tr_free(sig);
		sig = NULL;
	}
	return (void *)fails;
}

static void
test_threads(void **state)
{
	pthread_t t[NTHREADS];
	void *ret;
	intptr_t i, fails = 0;

	(void)state;
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker,
		    (void *)i), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		fails += (intptr_t)ret;
	}
	assert_int_equal(fails, 0);
}

static void
test_recovers_lost_sessions(void **state)
{
	CK_FUNCTION_LIST *f = tr_p11_module(fx.p);
	CK_SESSION_HANDLE s;
	unsigned char *blob = NULL;
	struct tr_secret *out = NULL;
	size_t len = 0;
	bool found = false;

	(void)state;
	/* fill the pool, then drop every session (and so the login) */
	assert_int_equal(tr_p11_encrypt(fx.p, L_AES, NULL, 0, "abc", 3, &blob,
	    &len), 0);
	assert_int_equal(f->C_CloseAllSessions(tr_p11_slot(fx.p)), CKR_OK);
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, NULL, 0, blob, len, &out),
	    0);
	assert_memory_equal(out->ptr, "abc", 3);
	tr_secret_free(out);
	out = NULL;

	/*
	 * A logout leaves valid sessions that see no private object: a
	 * lookup must log in again, not answer "not found".
	 */
	assert_int_equal(f->C_OpenSession(tr_p11_slot(fx.p),
	    CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_Logout(s), CKR_OK);
	assert_int_equal(f->C_CloseSession(s), CKR_OK);
	assert_int_equal(tr_p11_exists(fx.p, L_AES, &found), 0);
	assert_true(found);
	assert_int_equal(tr_p11_decrypt(fx.p, L_AES, NULL, 0, blob, len, &out),
	    0);
	tr_secret_free(out);
	tr_free(blob);
}

/*
 * Every allocation failing in turn: ENOMEM or success, no leak, and a
 * generation that fails after the token made the key leaves nothing.
 */
static void
test_alloc_failures(void **state)
{
	const char *label = "ocid1.keyversion.oc1..faulty";
	unsigned char *blob = NULL, *sig = NULL;
	struct tr_secret *out = NULL;
	size_t len = 0, siglen = 0;
	char *pem = NULL;
	bool found = true;
	long n;
	int rc = -1;

	(void)state;
	for (n = 0; n < 100 && rc != 0; n++) {
		tr_alloc_fail_after(n);
		rc = tr_p11_generate(fx.p, label, &p256, &pem);
		tr_alloc_fail_after(-1);
		if (rc != 0) {
			assert_int_equal(rc, TRESOR_ENOMEM);
			assert_null(pem);
			assert_int_equal(tr_p11_exists(fx.p, label, &found),
			    0);
			assert_false(found);
		}
	}
	assert_int_equal(rc, 0);
	tr_free(pem);
	pem = NULL;
	for (n = 0, rc = -1; n < 100 && rc != 0; n++) {
		tr_alloc_fail_after(n);
		rc = tr_p11_encrypt(fx.p, L_AES, "a", 1, "pt", 2, &blob, &len);
		tr_alloc_fail_after(-1);
		if (rc != 0)
			assert_int_equal(rc, TRESOR_ENOMEM);
	}
	for (n = 0, rc = -1; n < 100 && rc != 0; n++) {
		tr_alloc_fail_after(n);
		rc = tr_p11_decrypt(fx.p, L_AES, "a", 1, blob, len, &out);
		tr_alloc_fail_after(-1);
		if (rc != 0)
			assert_int_equal(rc, TRESOR_ENOMEM);
	}
	assert_memory_equal(out->ptr, "pt", 2);
	tr_secret_free(out);
	tr_free(blob);
	for (n = 0, rc = -1; n < 100 && rc != 0; n++) {
		tr_alloc_fail_after(n);
		rc = tr_p11_sign(fx.p, label, "ECDSA_SHA_256", msg,
		    sizeof(msg), false, &sig, &siglen);
		tr_alloc_fail_after(-1);
		if (rc != 0)
			assert_int_equal(rc, TRESOR_ENOMEM);
	}
	tr_free(sig);
	for (n = 0, rc = -1; n < 100 && rc != 0; n++) {
		tr_alloc_fail_after(n);
		rc = tr_p11_public_pem(fx.p, label, &pem);
		tr_alloc_fail_after(-1);
		if (rc != 0)
			assert_int_equal(rc, TRESOR_ENOMEM);
	}
	assert_int_equal(rc, 0);
	tr_free(pem);
	assert_int_equal(tr_p11_destroy(fx.p, label), 0);
}

static const char *
find_module(void)
{
	const char *env = getenv("TRESOR_SOFTHSM_MODULE");
	size_t i;

	if (env != NULL && env[0] != '\0')
		return access(env, R_OK) == 0 ? env : NULL;
	for (i = 0; i < sizeof(module_paths) / sizeof(module_paths[0]); i++) {
		if (access(module_paths[i], R_OK) == 0)
			return module_paths[i];
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_file_must_be_private),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_generate_every_shape),
		cmocka_unit_test(test_aes_gcm_round_trip),
		cmocka_unit_test(test_aes_gcm_tamper_and_aad),
		cmocka_unit_test(test_sign_rsa_every_alg),
		cmocka_unit_test(test_sign_ecdsa_every_alg_and_curve),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_material_never_leaves_token),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_recovers_lost_sessions),
		cmocka_unit_test(test_alloc_failures),
	};

	if (argc == 4 && strcmp(argv[1], "--open-probe") == 0)
		return open_probe(argv[2], argv[3]);
	fx.module = find_module();
	if (fx.module == NULL ||
	    system("command -v softhsm2-util >/dev/null 2>&1") != 0) {
		printf("SKIP: SoftHSM2 is not installed (apt-get install "
		    "softhsm2, or scripts/deps.sh test)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
