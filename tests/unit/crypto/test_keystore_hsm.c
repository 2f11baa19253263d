/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keystore with a PKCS#11 token (crypto/keystore.h) against
 * throwaway SoftHSM2 tokens made in a temporary directory: master keys
 * of protection mode HSM of every shape (AES-GCM, envelope encryption of
 * secrets, every signing algorithm checked with plain OpenSSL on the
 * public key), material that cannot be extracted from the token, the
 * destruction of a deleted key version, the refusals without a token,
 * and a root key held in the token: the marker file, wrapping of
 * master keys through the token across a reopen, the MAC key, and a
 * marker attached to the wrong token.  Exits 77 (skipped) when SoftHSM2
 * is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/envelope.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/secret.h"

/* last: p11-kit's pkcs11.h defines macros with common names */
#include "crypto/pkcs11_int.h"

#define TOKEN_A "label:tresor-ks-a"
#define TOKEN_B "label:tresor-ks-b"
#define USER_PIN "2468"

static const char *const module_paths[] = {
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
};

static struct {
	char dir[64];
	char pin[128];
	char file_root[160];	/* a root key file */
	char token_root[160];	/* the marker of token A's root key */
	const char *module;
} fx;

static const struct tr_key_shape shapes[] = {
	{ TR_KEY_AES, 16, TR_CURVE_NONE },
	{ TR_KEY_AES, 24, TR_CURVE_NONE },
	{ TR_KEY_AES, 32, TR_CURVE_NONE },
	{ TR_KEY_RSA, 256, TR_CURVE_NONE },
	{ TR_KEY_RSA, 384, TR_CURVE_NONE },
	{ TR_KEY_RSA, 512, TR_CURVE_NONE },
	{ TR_KEY_ECDSA, 32, TR_CURVE_P256 },
	{ TR_KEY_ECDSA, 48, TR_CURVE_P384 },
	{ TR_KEY_ECDSA, 66, TR_CURVE_P521 },
};

#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static const struct tr_key_shape aes256 = { TR_KEY_AES, 32, TR_CURVE_NONE };

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

static const char msg[] = "signed by a key that never left the token";

/* ---------------------------------------------------------------- */
/* fixture                                                          */
/* ---------------------------------------------------------------- */

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	/* a new file with its mode before the first byte */
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int
init_token(const char *label)
{
	char cmd[512];

	(void)snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free "
	    "--label %s --so-pin 1234 --pin " USER_PIN " >>%s/init.log 2>&1",
	    label, fx.dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "softhsm2-util --init-token failed; see %s/"
		    "init.log\n", fx.dir);
		return -1;
	}
	return 0;
}

static int
group_setup(void **state)
{
	char path[160];
	FILE *f;
	int fd;

	(void)state;
	(void)snprintf(fx.dir, sizeof(fx.dir), "/tmp/tresor-ks-hsm-XXXXXX");
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
	if (setenv("SOFTHSM2_CONF", path, 1) != 0 ||
	    init_token("tresor-ks-a") < 0 || init_token("tresor-ks-b") < 0)
		return -1;
	(void)snprintf(fx.pin, sizeof(fx.pin), "%s/user.pin", fx.dir);
	fd = open(fx.pin, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, USER_PIN "\n", 5) != 5)
		return -1;
	close(fd);
	(void)snprintf(fx.file_root, sizeof(fx.file_root), "%s/file-root.key",
	    fx.dir);
	(void)snprintf(fx.token_root, sizeof(fx.token_root), "%s/root.key",
	    fx.dir);
	if (tr_keystore_create_root(fx.file_root) < 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	(void)system(cmd);
	return 0;
}

static struct tr_p11 *
open_token(const char *token)
{
	struct tr_p11 *p = NULL;

	if (tr_p11_open(&p, fx.module, token, fx.pin) != 0)
		fprintf(stderr, "tr_p11_open: %s\n", tresor_error_last());
	assert_non_null(p);
	return p;
}

/* A keystore on `root` with token `token` attached (NULL: none). */
static struct tr_keystore *
keystore(const char *root, const char *token)
{
	struct tr_keystore *ks = NULL;
	struct tr_p11 *p;

	assert_int_equal(tr_keystore_open(&ks, root), 0);
	if (token != NULL) {
		p = open_token(token);
		if (tr_keystore_attach_hsm(ks, p) != 0)
			fprintf(stderr, "attach: %s\n", tresor_error_last());
		assert_true(tr_keystore_has_hsm(ks));
	}
	return ks;
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
/* helpers                                                          */
/* ---------------------------------------------------------------- */

/* Plain OpenSSL: verify a signature over the raw message. */
static bool
evp_verify(const char *pem, size_t a, const void *m, size_t mlen,
    const unsigned char *sig, size_t siglen)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int r;

	BIO_free(bio);
	assert_non_null(pkey);
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx, algs[a].md, NULL,
	    NULL, pkey, NULL), 1);
	if (algs[a].pad != 0)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    algs[a].pad), 1);
	if (algs[a].pad == RSA_PKCS1_PSS_PADDING) {
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

/* A key version made in the token, with its reference and public key. */
struct hkey {
	char id[96];
	unsigned char *ref;
	size_t reflen;
	char *pem;
};

static void
hkey_make(struct tr_keystore *ks, struct hkey *k, const char *id,
    const struct tr_key_shape *shape)
{
	struct tr_keyref r;

	memset(k, 0, sizeof(*k));
	(void)snprintf(k->id, sizeof(k->id), "%s", id);
	assert_int_equal(tr_keystore_generate_hsm(ks, k->id, shape, &k->ref,
	    &k->reflen, &k->pem), 0);
	assert_int_equal(k->reflen, sizeof(TR_KEY_HSM_REF) - 1);
	assert_memory_equal(k->ref, TR_KEY_HSM_REF, k->reflen);
	r.version_id = k->id;
	r.wrapped = k->ref;
	r.wrapped_len = k->reflen;
	assert_true(tr_keyref_is_hsm(&r));
	if (shape->alg == TR_KEY_AES)
		assert_null(k->pem);
	else
		assert_non_null(k->pem);
}

static void
hkey_dispose(struct hkey *k)
{
	tr_free(k->ref);
	tr_free(k->pem);
}

static struct tr_keyref
ref_of(const struct hkey *k)
{
	struct tr_keyref r = { k->id, k->ref, k->reflen };

	return r;
}

/* AES-GCM through the keystore with an HSM key; tamper and AAD checks. */
static void
aes_round_trip(struct tr_keystore *ks, const struct tr_keyref *r)
{
	static const char pt[] = "a data key, or any plaintext";
	struct tr_secret *out = NULL;
	unsigned char *blob = NULL;
	size_t len = 0;

	assert_int_equal(tr_keystore_encrypt(ks, r, "aad", 3, pt, sizeof(pt),
	    &blob, &len), 0);
	assert_int_equal(len, sizeof(pt) + 28);
	assert_int_equal(tr_keystore_decrypt(ks, r, "aad", 3, blob, len,
	    &out), 0);
	assert_int_equal(out->len, sizeof(pt));
	assert_memory_equal(out->ptr, pt, sizeof(pt));
	tr_secret_free(out);
	out = NULL;
	assert_int_equal(tr_keystore_decrypt(ks, r, "aaD", 3, blob, len,
	    &out), TRESOR_EAUTH);
	assert_null(out);
	blob[len - 1] ^= 1;
	assert_int_equal(tr_keystore_decrypt(ks, r, "aad", 3, blob, len,
	    &out), TRESOR_EAUTH);
	assert_null(out);
	tr_free(blob);
}

/* Every fitting algorithm, RAW and DIGEST, checked with OpenSSL. */
static void
sign_all(struct tr_keystore *ks, const struct hkey *k, bool ec)
{
	struct tr_keyref r = ref_of(k);
	unsigned char *sig = NULL, dg[64];
	size_t siglen = 0, a;
	bool valid;

	for (a = 0; a < NALGS; a++) {
		if ((algs[a].pad == 0) != ec)
			continue;
		assert_int_equal(tr_keystore_sign(ks, &r, algs[a].name, msg,
		    sizeof(msg), false, &sig, &siglen), 0);
		assert_true(evp_verify(k->pem, a, msg, sizeof(msg), sig,
		    siglen));
		assert_int_equal(tr_keystore_verify(ks, &r, NULL,
		    algs[a].name, msg, sizeof(msg), false, sig, siglen,
		    &valid), 0);
		assert_true(valid);
		sig[siglen / 2] ^= 0x10;
		assert_int_equal(tr_keystore_verify(ks, &r, NULL,
		    algs[a].name, msg, sizeof(msg), false, sig, siglen,
		    &valid), 0);
		assert_false(valid);
		assert_false(evp_verify(k->pem, a, msg, sizeof(msg), sig,
		    siglen));
		tr_free(sig);
		sig = NULL;

		digest_of(a, msg, sizeof(msg), dg);
		assert_int_equal(tr_keystore_sign(ks, &r, algs[a].name, dg,
		    algs[a].hlen, true, &sig, &siglen), 0);
		assert_true(evp_verify(k->pem, a, msg, sizeof(msg), sig,
		    siglen));
		assert_int_equal(tr_keystore_verify(ks, &r, NULL,
		    algs[a].name, dg, algs[a].hlen, true, sig, siglen,
		    &valid), 0);
		assert_true(valid);
		tr_free(sig);
		sig = NULL;
	}
	/* a digest of the wrong length is the caller's mistake */
	assert_int_equal(tr_keystore_sign(ks, &r, ec ? "ECDSA_SHA_256" :
	    "SHA_256_RSA_PKCS_PSS", dg, 20, true, &sig, &siglen),
	    TRESOR_EINVAL);
	assert_null(sig);
}

/* ---------------------------------------------------------------- */
/* HSM keys                                                         */
/* ---------------------------------------------------------------- */

static void
test_hsm_keys_every_shape(void **state)
{
	struct tr_keystore *ks = keystore(fx.file_root, TOKEN_A);
	struct hkey k;
	struct tr_keyref r;
	char id[96];
	size_t i;

	(void)state;
	for (i = 0; i < NSHAPES; i++) {
		(void)snprintf(id, sizeof(id), "ocid1.keyversion.oc1..shape%zu",
		    i);
		hkey_make(ks, &k, id, &shapes[i]);
		r = ref_of(&k);
		if (shapes[i].alg == TR_KEY_AES)
			aes_round_trip(ks, &r);
		else
			sign_all(ks, &k, shapes[i].alg == TR_KEY_ECDSA);
		assert_int_equal(tr_keystore_destroy(ks, &r), 0);
		hkey_dispose(&k);
	}
	tr_keystore_free(ks);
}

static void
test_generate_refuses_bad_shape_and_duplicate(void **state)
{
	static const struct tr_key_shape bad = { TR_KEY_RSA, 128,
		TR_CURVE_NONE };
	struct tr_keystore *ks = keystore(fx.file_root, TOKEN_A);
	unsigned char *ref = NULL;
	size_t len = 0;
	char *pem = NULL;
	struct hkey k;
	struct tr_keyref r;

	(void)state;
	assert_int_equal(tr_keystore_generate_hsm(ks, "ocid1.keyversion.oc1.."
	    "bad", &bad, &ref, &len, &pem), TRESOR_EINVAL);
	assert_null(ref);
	hkey_make(ks, &k, "ocid1.keyversion.oc1..twice", &aes256);
	assert_int_equal(tr_keystore_generate_hsm(ks, k.id, &aes256, &ref,
	    &len, &pem), TRESOR_EEXISTS);
	assert_null(ref);
	assert_int_equal(len, 0);
	r = ref_of(&k);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	hkey_dispose(&k);
	tr_keystore_free(ks);
}

/* Secrets under an HSM master key: envelope encryption and rewrap. */
static void
test_envelope_with_hsm_key(void **state)
{
	static const char content[] = "hunter2, sealed under a token key";
	struct tr_keystore *ks = keystore(fx.file_root, TOKEN_A);
	struct tr_secret *pt = NULL, *out = NULL;
	unsigned char *dek = NULL, *ct = NULL, *dek2 = NULL, *sw = NULL;
	size_t deklen = 0, ctlen = 0, dek2len = 0, swlen = 0;
	char *pem = NULL;
	struct tr_keyref hr, sr;
	struct hkey k;

	(void)state;
	hkey_make(ks, &k, "ocid1.keyversion.oc1..envelope", &aes256);
	hr = ref_of(&k);
	assert_int_equal(tr_keystore_generate(ks, "ocid1.keyversion.oc1..sw",
	    &aes256, &sw, &swlen, &pem), 0);
	sr.version_id = "ocid1.keyversion.oc1..sw";
	sr.wrapped = sw;
	sr.wrapped_len = swlen;
	assert_false(tr_keyref_is_hsm(&sr));

	assert_int_equal(tr_secret_from(&pt, content, sizeof(content)), 0);
	assert_int_equal(tr_envelope_seal(ks, &hr, "ocid1.vaultsecret.oc1..s",
	    3, pt, &dek, &deklen, &ct, &ctlen), 0);
	assert_int_equal(tr_envelope_open(ks, &hr, "ocid1.vaultsecret.oc1..s",
	    3, dek, deklen, ct, ctlen, &out), 0);
	assert_memory_equal(out->ptr, content, sizeof(content));
	tr_secret_free(out);
	out = NULL;
	/* bound to secret and version */
	assert_int_equal(tr_envelope_open(ks, &hr, "ocid1.vaultsecret.oc1..s",
	    4, dek, deklen, ct, ctlen, &out), TRESOR_EAUTH);

	/* rotation: HSM -> SOFTWARE -> HSM, the content stays readable */
	assert_int_equal(tr_envelope_rewrap(ks, &hr, &sr,
	    "ocid1.vaultsecret.oc1..s", 3, dek, deklen, &dek2, &dek2len), 0);
	assert_int_equal(tr_envelope_open(ks, &sr, "ocid1.vaultsecret.oc1..s",
	    3, dek2, dek2len, ct, ctlen, &out), 0);
	tr_secret_free(out);
	out = NULL;
	tr_free(dek);
	assert_int_equal(tr_envelope_rewrap(ks, &sr, &hr,
	    "ocid1.vaultsecret.oc1..s", 3, dek2, dek2len, &dek, &deklen), 0);
	assert_int_equal(tr_envelope_open(ks, &hr, "ocid1.vaultsecret.oc1..s",
	    3, dek, deklen, ct, ctlen, &out), 0);
	assert_memory_equal(out->ptr, content, sizeof(content));
	tr_secret_free(out);

	assert_int_equal(tr_keystore_destroy(ks, &hr), 0);
	hkey_dispose(&k);
	tr_secret_free(pt);
	tr_free(dek);
	tr_free(dek2);
	tr_free(ct);
	tr_free(sw);
	tr_keystore_free(ks);
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

/* Sensitive, never extractable, and the secret parts cannot be read. */
static void
check_unextractable(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
    CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE secret)
{
	CK_BBOOL ext = CK_TRUE, sens = CK_FALSE, never = CK_FALSE;
	CK_BBOOL tok = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_EXTRACTABLE, &ext, sizeof(ext) },
		{ CKA_SENSITIVE, &sens, sizeof(sens) },
		{ CKA_NEVER_EXTRACTABLE, &never, sizeof(never) },
		{ CKA_TOKEN, &tok, sizeof(tok) },
	};
	CK_ATTRIBUTE set = { CKA_EXTRACTABLE, &yes, sizeof(yes) };
	unsigned char buf[1024];
	CK_ATTRIBUTE v = { secret, buf, sizeof(buf) };

	assert_int_equal(f->C_GetAttributeValue(s, h, t, 4), CKR_OK);
	assert_int_equal(ext, CK_FALSE);
	assert_int_equal(sens, CK_TRUE);
	assert_int_equal(never, CK_TRUE);
	assert_int_equal(tok, CK_TRUE);
	assert_int_equal(f->C_GetAttributeValue(s, h, &v, 1),
	    CKR_ATTRIBUTE_SENSITIVE);
	assert_true(v.ulValueLen == CK_UNAVAILABLE_INFORMATION);
	assert_int_not_equal(f->C_SetAttributeValue(s, h, &set, 1), CKR_OK);
}

/*
 * Wrapping a key out of the token with another key of the token fails
 * too (CKA_EXTRACTABLE false), so it cannot leave even encrypted.
 */
static void
check_unwrappable(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
    CK_OBJECT_HANDLE h)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG vlen = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
		{ CKA_WRAP, &yes, sizeof(yes) },
		{ CKA_TOKEN, &no, sizeof(no) },
	};
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM wrap = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_HANDLE wk = CK_INVALID_HANDLE;
	unsigned char out[1024];
	CK_ULONG outlen = sizeof(out);
	CK_RV rv;

	assert_int_equal(f->C_GenerateKey(s, &gen, tpl, 5, &wk), CKR_OK);
	rv = f->C_WrapKey(s, &wrap, wk, h, out, &outlen);
	assert_int_equal(rv, CKR_KEY_UNEXTRACTABLE);
	assert_int_equal(f->C_DestroyObject(s, wk), CKR_OK);
}

static void
test_material_cannot_be_extracted(void **state)
{
	struct tr_keystore *ks = NULL;
	struct tr_p11 *p;
	struct hkey ka, kr, ke;
	struct tr_keyref r;
	CK_FUNCTION_LIST *f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h;

	(void)state;
	assert_int_equal(tr_keystore_open(&ks, fx.file_root), 0);
	p = open_token(TOKEN_A);
	assert_int_equal(tr_keystore_attach_hsm(ks, p), 0);
	hkey_make(ks, &ka, "ocid1.keyversion.oc1..xaes", &aes256);
	hkey_make(ks, &kr, "ocid1.keyversion.oc1..xrsa", &shapes[3]);
	hkey_make(ks, &ke, "ocid1.keyversion.oc1..xec", &shapes[6]);

	/* `p` is borrowed from the keystore, which owns it now */
	f = tr_p11_module(p);
	assert_int_equal(f->C_OpenSession(tr_p11_slot(p), CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	h = find_obj(f, s, ka.id, CKO_SECRET_KEY);
	check_unextractable(f, s, h, CKA_VALUE);
	check_unwrappable(f, s, h);
	h = find_obj(f, s, kr.id, CKO_PRIVATE_KEY);
	check_unextractable(f, s, h, CKA_PRIVATE_EXPONENT);
	check_unextractable(f, s, h, CKA_PRIME_1);
	check_unwrappable(f, s, h);
	h = find_obj(f, s, ke.id, CKO_PRIVATE_KEY);
	check_unextractable(f, s, h, CKA_VALUE);
	check_unwrappable(f, s, h);
	assert_int_equal(f->C_CloseSession(s), CKR_OK);

	r = ref_of(&ka);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	r = ref_of(&kr);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	r = ref_of(&ke);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	hkey_dispose(&ka);
	hkey_dispose(&kr);
	hkey_dispose(&ke);
	tr_keystore_free(ks);
}

/* ---------------------------------------------------------------- */
/* deletion and refusals                                            */
/* ---------------------------------------------------------------- */

static void
test_destroy_removes_token_objects(void **state)
{
	struct tr_keystore *ks = NULL;
	struct tr_p11 *p;
	struct tr_keyref r, tomb = { "ocid1.keyversion.oc1..gone",
		(const unsigned char *)TR_KEY_TOMBSTONE,
		sizeof(TR_KEY_TOMBSTONE) - 1 };
	struct tr_secret *out = NULL;
	unsigned char *blob = NULL, *sig = NULL;
	size_t len = 0;
	struct hkey k, e;
	bool found = true, valid = true;

	(void)state;
	assert_int_equal(tr_keystore_open(&ks, fx.file_root), 0);
	p = open_token(TOKEN_A);
	assert_int_equal(tr_keystore_attach_hsm(ks, p), 0);
	hkey_make(ks, &k, "ocid1.keyversion.oc1..doomed", &aes256);
	hkey_make(ks, &e, "ocid1.keyversion.oc1..doomedec", &shapes[7]);
	r = ref_of(&k);
	assert_int_equal(tr_keystore_encrypt(ks, &r, NULL, 0, "x", 1, &blob,
	    &len), 0);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	assert_int_equal(tr_p11_exists(p, k.id, &found), 0);
	assert_false(found);
	/* a second destruction (a reaper run again) is fine */
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	assert_int_equal(tr_keystore_decrypt(ks, &r, NULL, 0, blob, len,
	    &out), TRESOR_EINTERNAL);
	assert_true(error_says("not in the PKCS#11 token"));
	assert_null(out);
	tr_free(blob);

	/* both objects of a key pair go */
	r = ref_of(&e);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);
	assert_int_equal(tr_p11_exists(p, e.id, &found), 0);
	assert_false(found);

	/* a deleted key version answers ECONFLICT everywhere */
	assert_int_equal(tr_keystore_encrypt(ks, &tomb, NULL, 0, "x", 1, &blob,
	    &len), TRESOR_ECONFLICT);
	assert_true(error_says("deleted"));
	assert_int_equal(tr_keystore_decrypt(ks, &tomb, NULL, 0,
	    (const unsigned char *)"0123456789abcdefghijklmnopqrstuvwxyz", 36,
	    &out), TRESOR_ECONFLICT);
	assert_int_equal(tr_keystore_sign(ks, &tomb, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &len), TRESOR_ECONFLICT);
	assert_int_equal(tr_keystore_verify(ks, &tomb, NULL, "ECDSA_SHA_256",
	    msg, sizeof(msg), false, (const unsigned char *)"x", 1, &valid),
	    TRESOR_ECONFLICT);
	assert_false(valid);
	assert_int_equal(tr_keystore_destroy(ks, &tomb), 0);
	hkey_dispose(&k);
	hkey_dispose(&e);
	tr_keystore_free(ks);
}

static void
test_without_token(void **state)
{
	struct tr_keystore *ks = keystore(fx.file_root, NULL);
	struct tr_keyref r = { "ocid1.keyversion.oc1..elsewhere",
		(const unsigned char *)TR_KEY_HSM_REF,
		sizeof(TR_KEY_HSM_REF) - 1 };
	unsigned char *blob = NULL, *sig = NULL;
	size_t len = 0;
	char *pem = NULL;

	(void)state;
	assert_false(tr_keystore_has_hsm(ks));
	assert_false(tr_keystore_root_in_token(ks));
	assert_int_equal(tr_keystore_generate_hsm(ks, "ocid1.keyversion.oc1.."
	    "n", &aes256, &blob, &len, &pem), TRESOR_EUNAVAIL);
	assert_null(blob);
	assert_int_equal(tr_keystore_encrypt(ks, &r, NULL, 0, "x", 1, &blob,
	    &len), TRESOR_EUNAVAIL);
	assert_true(error_says("PKCS#11 token"));
	assert_int_equal(tr_keystore_sign(ks, &r, "ECDSA_SHA_256", msg,
	    sizeof(msg), false, &sig, &len), TRESOR_EUNAVAIL);
	assert_int_equal(tr_keystore_destroy(ks, &r), TRESOR_EUNAVAIL);
	assert_true(error_says("remain"));
	tr_keystore_free(ks);
}

/* ---------------------------------------------------------------- */
/* the root key in the token                                        */
/* ---------------------------------------------------------------- */

static void
test_root_in_token_marker(void **state)
{
	struct tr_keystore *ks = NULL;
	struct tr_p11 *p = open_token(TOKEN_A);
	unsigned char *blob = NULL, mac[32];
	struct stat sb;
	size_t len = 0;
	char *pem = NULL, other[200];
	bool found = false;
	FILE *f;
	char line[80];

	(void)state;
	assert_int_equal(tr_keystore_create_root_in_token(fx.token_root, p),
	    0);
	assert_int_equal(tr_p11_exists(p, TR_ROOT_TOKEN_LABEL, &found), 0);
	assert_true(found);
	/* the marker: private, and no key in it */
	assert_int_equal(stat(fx.token_root, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_not_equal(sb.st_size, TR_ROOT_KEY_LEN);
	f = fopen(fx.token_root, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "tresor-root-key-in-pkcs11-token/v1\n");

	/* once only: the file, then the label in the token */
	assert_int_equal(tr_keystore_create_root_in_token(fx.token_root, p),
	    TRESOR_EEXISTS);
	(void)snprintf(other, sizeof(other), "%s/other-root.key", fx.dir);
	assert_int_equal(tr_keystore_create_root_in_token(other, p),
	    TRESOR_EEXISTS);
	assert_true(error_says(TR_ROOT_TOKEN_LABEL));
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	tr_p11_close(p);

	/* before a token is attached the root key cannot be used */
	assert_int_equal(tr_keystore_open(&ks, fx.token_root), 0);
	assert_true(tr_keystore_root_in_token(ks));
	assert_false(tr_keystore_has_hsm(ks));
	assert_int_equal(tr_keystore_generate(ks, "ocid1.keyversion.oc1..r",
	    &aes256, &blob, &len, &pem), TRESOR_EUNAVAIL);
	assert_int_equal(tr_keystore_seal_root(ks, "l", "x", 1, &blob, &len),
	    TRESOR_EUNAVAIL);
	assert_int_equal(tr_keystore_mac(ks, "p", "x", 1, mac),
	    TRESOR_EUNAVAIL);
	tr_keystore_free(ks);

	/* a marker that is readable by others is refused like a key */
	assert_int_equal(chmod(fx.token_root, 0644), 0);
	assert_int_equal(tr_keystore_open(&ks, fx.token_root), TRESOR_EPERM);
	assert_int_equal(chmod(fx.token_root, 0600), 0);
}

static void
test_root_in_token_wraps_across_reopen(void **state)
{
	static const char pt[] = "wrapped under a master key, itself wrapped "
	    "by the token's root key";
	struct tr_keystore *ks = keystore(fx.token_root, TOKEN_A);
	struct tr_secret *out = NULL;
	struct tr_keyref r;
	unsigned char *w = NULL, *blob = NULL, *sealed = NULL;
	unsigned char mac1[32], mac2[32], mac3[32];
	size_t wlen = 0, blen = 0, slen = 0;
	char *pem = NULL;
	struct hkey hk;

	(void)state;
	/* a SOFTWARE master key, wrapped through the token */
	assert_int_equal(tr_keystore_generate(ks, "ocid1.keyversion.oc1..sw1",
	    &aes256, &w, &wlen, &pem), 0);
	r.version_id = "ocid1.keyversion.oc1..sw1";
	r.wrapped = w;
	r.wrapped_len = wlen;
	assert_int_equal(tr_keystore_encrypt(ks, &r, "a", 1, pt, sizeof(pt),
	    &blob, &blen), 0);
	assert_int_equal(tr_keystore_seal_root(ks, "tresor/test", pt,
	    sizeof(pt), &sealed, &slen), 0);
	assert_int_equal(tr_keystore_mac(ks, "purpose", pt, sizeof(pt), mac1),
	    0);
	assert_int_equal(tr_keystore_mac(ks, "other", pt, sizeof(pt), mac3),
	    0);
	assert_memory_not_equal(mac1, mac3, 32);
	/* HSM keys work beside it */
	hkey_make(ks, &hk, "ocid1.keyversion.oc1..beside", &aes256);
	tr_keystore_free(ks);

	/* a new process: everything opens again through the token */
	ks = keystore(fx.token_root, TOKEN_A);
	assert_int_equal(tr_keystore_decrypt(ks, &r, "a", 1, blob, blen,
	    &out), 0);
	assert_memory_equal(out->ptr, pt, sizeof(pt));
	tr_secret_free(out);
	out = NULL;
	assert_int_equal(tr_keystore_open_root(ks, "tresor/test", sealed,
	    slen, &out), 0);
	assert_memory_equal(out->ptr, pt, sizeof(pt));
	tr_secret_free(out);
	out = NULL;
	assert_int_equal(tr_keystore_open_root(ks, "tresor/other", sealed,
	    slen, &out), TRESOR_EAUTH);
	assert_int_equal(tr_keystore_mac(ks, "purpose", pt, sizeof(pt), mac2),
	    0);
	assert_memory_equal(mac1, mac2, 32);
	r = ref_of(&hk);
	aes_round_trip(ks, &r);
	assert_int_equal(tr_keystore_destroy(ks, &r), 0);

	/* the wrapped blob is bound to its key version */
	r.version_id = "ocid1.keyversion.oc1..sw2";
	r.wrapped = w;
	r.wrapped_len = wlen;
	assert_int_equal(tr_keystore_decrypt(ks, &r, "a", 1, blob, blen,
	    &out), TRESOR_EINTERNAL);
	assert_true(error_says("does not unwrap"));
	tr_keystore_free(ks);

	/* a root key file cannot open what the token wrapped */
	ks = keystore(fx.file_root, NULL);
	r.version_id = "ocid1.keyversion.oc1..sw1";
	assert_int_equal(tr_keystore_decrypt(ks, &r, "a", 1, blob, blen,
	    &out), TRESOR_EINTERNAL);
	tr_keystore_free(ks);
	hkey_dispose(&hk);
	tr_free(w);
	tr_free(blob);
	tr_free(sealed);
}

static void
test_root_marker_and_wrong_token(void **state)
{
	struct tr_keystore *ks = NULL;
	struct tr_p11 *p;
	char path[200];
	unsigned char junk[95];

	(void)state;
	/* token B has no root key */
	assert_int_equal(tr_keystore_open(&ks, fx.token_root), 0);
	p = open_token(TOKEN_B);
	assert_int_equal(tr_keystore_attach_hsm(ks, p), TRESOR_ENOTFOUND);
	assert_true(error_says("another token"));
	assert_false(tr_keystore_has_hsm(ks));

	/* token B gets a root key of its own: still not ours */
	(void)snprintf(path, sizeof(path), "%s/b-root.key", fx.dir);
	assert_int_equal(tr_keystore_create_root_in_token(path, p), 0);
	assert_int_equal(tr_keystore_attach_hsm(ks, p), TRESOR_EAUTH);
	assert_true(error_says("another token"));
	tr_p11_close(p);	/* still ours after a failed attach */
	tr_keystore_free(ks);

	/* a file of the marker's size that is not a marker */
	memset(junk, 'x', sizeof(junk));
	(void)snprintf(path, sizeof(path), "%s/junk-root.key", fx.dir);
	write_file(path, junk, sizeof(junk), 0600);
	assert_int_equal(tr_keystore_open(&ks, path), TRESOR_EPERM);
	assert_null(ks);
	/* nor of any other size */
	write_file(path, junk, 40, 0600);
	assert_int_equal(tr_keystore_open(&ks, path), TRESOR_EPERM);
	assert_true(error_says("marker"));
}

static void
test_attach_twice(void **state)
{
	struct tr_keystore *ks = keystore(fx.file_root, TOKEN_A);
	struct tr_p11 *p = open_token(TOKEN_A);

	(void)state;
	assert_int_equal(tr_keystore_attach_hsm(ks, p), TRESOR_EINVAL);
	tr_p11_close(p);
	tr_keystore_free(ks);
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
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hsm_keys_every_shape),
		cmocka_unit_test(test_generate_refuses_bad_shape_and_duplicate),
		cmocka_unit_test(test_envelope_with_hsm_key),
		cmocka_unit_test(test_material_cannot_be_extracted),
		cmocka_unit_test(test_destroy_removes_token_objects),
		cmocka_unit_test(test_without_token),
		cmocka_unit_test(test_root_in_token_marker),
		cmocka_unit_test(test_root_in_token_wraps_across_reopen),
		cmocka_unit_test(test_root_marker_and_wrong_token),
		cmocka_unit_test(test_attach_twice),
	};

	fx.module = find_module();
	if (fx.module == NULL ||
	    system("command -v softhsm2-util >/dev/null 2>&1") != 0) {
		printf("SKIP: SoftHSM2 is not installed (apt-get install "
		    "softhsm2, or scripts/deps.sh test)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
