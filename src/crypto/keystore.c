/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keystore (see keystore.h): root key file, wrapping of master key
 * versions, and the cache of unwrapped master material; protection mode
 * HSM and a root key held in a PKCS#11 token (crypto/pkcs11.h).
 *
 * Cache entries are refcounted (STYLE M7): a lookup links the entry under
 * the lock and the caller unlinks it when done, so an eviction never
 * frees material another thread is using.
 *
 * Root key in a token.  The root key file is then a marker: the line
 * ROOT_MARKER_MAGIC followed by the 32-byte key of tr_keystore_mac(),
 * sealed by the token's root key (AES-GCM, associated data mac_aad).
 * That key cannot live in the token itself: the token's AES keys may
 * only encrypt and decrypt, and session tokens need the MAC on every
 * request.  Sealed by the token, it is protected as the master keys are.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "crypto/aead.h"
#include "crypto/keystore.h"
#include "crypto/pkcs11.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/ct.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/rand.h"

#define CACHE_BUCKETS 1024
#define CACHE_MAX 8192
#define TR_ID_AAD_MAX 320
#define MAC_KEY_LEN 32
#define MAC_SEALED_LEN (MAC_KEY_LEN + TR_AEAD_OVERHEAD)
#define ROOT_MARKER_MAGIC "tresor-root-key-in-pkcs11-token/v1\n"
#define ROOT_MARKER_MAGIC_LEN (sizeof(ROOT_MARKER_MAGIC) - 1)
#define ROOT_MARKER_LEN (ROOT_MARKER_MAGIC_LEN + MAC_SEALED_LEN)

struct cache_entry {
	struct cache_entry *next;
	char *version_id;
	struct tr_secret *material;
	unsigned int refs;	/* the cache's own reference counts as one */
};

struct tr_keystore {
	struct tr_secret *root;		/* the root key, or NULL */
	bool root_in_token;
	/* root key in a token: the marker's sealed MAC key, then unsealed */
	unsigned char mac_sealed[MAC_SEALED_LEN];
	struct tr_secret *mac_key;
	struct tr_p11 *p11;		/* attached token (owned), or NULL */
	pthread_mutex_t lock;
	struct cache_entry *buckets[CACHE_BUCKETS];
	size_t count;
};

static const char wrap_label[] = "tresor/master-key/v1";
static const char mac_aad[] = "tresor/root-mac-key/v1";
static const struct tr_key_shape root_shape = { TR_KEY_AES, TR_ROOT_KEY_LEN,
	TR_CURVE_NONE };

/* ---------------------------------------------------------------- */
/* root key file                                                    */
/* ---------------------------------------------------------------- */

int
tr_keystore_create_root(const char *path)
{
	unsigned char key[TR_ROOT_KEY_LEN];
	ssize_t w;
	int fd = -1, rc = TRESOR_EINTERNAL;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return tr_error_set(TRESOR_EEXISTS,
			    "%s already exists; refusing to overwrite a root "
			    "key", path);
		return tr_error_set(TRESOR_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	}
	if ((rc = tr_random_bytes(key, sizeof(key))) < 0)
		goto out;
	w = write(fd, key, sizeof(key));
	if (w != (ssize_t)sizeof(key) || fsync(fd) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	tr_secure_zero(key, sizeof(key));
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Read the marker of a root key in a token from `fd` into `ks`. */
static int
read_marker(struct tr_keystore *ks, int fd, const char *path)
{
	unsigned char buf[ROOT_MARKER_LEN];
	size_t len = 0;
	ssize_t r;

	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return tr_error_set(TRESOR_EIO, "cannot read root key "
			    "%s", path);
		len += (size_t)r;
	}
	if (memcmp(buf, ROOT_MARKER_MAGIC, ROOT_MARKER_MAGIC_LEN) != 0)
		return tr_error_set(TRESOR_EPERM, "root key %s is neither a "
		    "root key nor the marker of one in a PKCS#11 token", path);
	memcpy(ks->mac_sealed, buf + ROOT_MARKER_MAGIC_LEN, MAC_SEALED_LEN);
	ks->root_in_token = true;
	return 0;
}

/* write(2) all of `len` bytes. */
static int
write_all(int fd, const void *p, size_t len)
{
	const unsigned char *c = p;
	ssize_t w;

	while (len > 0) {
		w = write(fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

int
tr_keystore_create_root_in_token(const char *path, struct tr_p11 *p11)
{
	struct tr_secret *mac = NULL;
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	char *pem = NULL;
	bool made_key = false;
	int fd = -1, rc = TRESOR_EINTERNAL;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return tr_error_set(TRESOR_EEXISTS,
			    "%s already exists; refusing to overwrite a root "
			    "key", path);
		return tr_error_set(TRESOR_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	}
	rc = tr_p11_generate(p11, TR_ROOT_TOKEN_LABEL, &root_shape, &pem);
	if (rc == TRESOR_EEXISTS)
		rc = tr_error_set(TRESOR_EEXISTS, "the PKCS#11 token already "
		    "holds an object labelled %s: the root key of another "
		    "tresor data directory.  Use another token, or delete "
		    "that object if nothing needs it any more",
		    TR_ROOT_TOKEN_LABEL);
	if (rc < 0)
		goto out;
	made_key = true;
	if ((rc = tr_secret_new(&mac, MAC_KEY_LEN)) < 0 ||
	    (rc = tr_random_bytes(mac->ptr, mac->len)) < 0 ||
	    (rc = tr_p11_encrypt(p11, TR_ROOT_TOKEN_LABEL, mac_aad,
	    sizeof(mac_aad) - 1, mac->ptr, mac->len, &sealed,
	    &sealed_len)) < 0)
		goto out;
	if (sealed_len != MAC_SEALED_LEN) {
		rc = tr_error_set(TRESOR_EINTERNAL, "sealed MAC key has %zu "
		    "bytes", sealed_len);
		goto out;
	}
	if (write_all(fd, ROOT_MARKER_MAGIC, ROOT_MARKER_MAGIC_LEN) < 0 ||
	    write_all(fd, sealed, sealed_len) < 0 || fsync(fd) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	tr_secret_free(mac);
	tr_free(sealed);
	tr_free(pem);
	close(fd);
	if (rc < 0) {
		unlink(path);
		if (made_key)
			(void)tr_p11_destroy(p11, TR_ROOT_TOKEN_LABEL);
	}
	return rc;
}

int
tr_keystore_open(struct tr_keystore **out, const char *path)
{
	struct tr_keystore *ks = NULL;
	struct stat sb;
	ssize_t r;
	int fd = -1, rc = TRESOR_EINTERNAL;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = tr_error_set(errno == ENOENT ? TRESOR_ENOTFOUND :
		    TRESOR_EIO, "cannot open root key %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = tr_error_set(TRESOR_EPERM,
		    "root key %s is not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		rc = tr_error_set(TRESOR_EPERM,
		    "root key %s is accessible by group or others (mode %04o);"
		    " run: chmod 600 %s", path, (unsigned)(sb.st_mode & 07777),
		    path);
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		rc = tr_error_set(TRESOR_EPERM,
		    "root key %s is owned by another user (uid %u)", path,
		    (unsigned)sb.st_uid);
		goto out;
	}
	if (sb.st_size != TR_ROOT_KEY_LEN && sb.st_size != ROOT_MARKER_LEN) {
		rc = tr_error_set(TRESOR_EPERM,
		    "root key %s has %lld bytes, expected %d (or the %zu of "
		    "the marker of a root key in a PKCS#11 token)", path,
		    (long long)sb.st_size, TR_ROOT_KEY_LEN,
		    (size_t)ROOT_MARKER_LEN);
		goto out;
	}
	ks = tr_calloc(1, sizeof(*ks));
	if (ks == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_init(&ks->lock, NULL);
	if (sb.st_size == ROOT_MARKER_LEN) {
		if ((rc = read_marker(ks, fd, path)) < 0)
			goto out;
		*out = ks;
		ks = NULL;
		rc = 0;
		goto out;
	}
	if ((rc = tr_secret_new(&ks->root, TR_ROOT_KEY_LEN)) < 0)
		goto out;
	r = read(fd, ks->root->ptr, TR_ROOT_KEY_LEN);
	if (r != TR_ROOT_KEY_LEN) {
		rc = tr_error_set(TRESOR_EIO, "cannot read root key %s", path);
		goto out;
	}
	*out = ks;
	ks = NULL;
	rc = 0;
out:
	tr_keystore_free(ks);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void
entry_free(struct cache_entry *e)
{
	tr_free(e->version_id);
	tr_secret_free(e->material);
	tr_free(e);
}

/* Drop one reference; the last one frees.  Call with the lock held. */
static void
entry_unlink_locked(struct cache_entry *e)
{
	if (--e->refs == 0)
		entry_free(e);
}

void
tr_keystore_free(struct tr_keystore *ks)
{
	struct cache_entry *e, *next;
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < CACHE_BUCKETS; i++) {
		for (e = ks->buckets[i]; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	tr_secret_free(ks->root);
	tr_secret_free(ks->mac_key);
	tr_p11_close(ks->p11);
	pthread_mutex_destroy(&ks->lock);
	tr_free(ks);
}

int
tr_keystore_attach_hsm(struct tr_keystore *ks, struct tr_p11 *p11)
{
	struct tr_secret *mac = NULL;
	int rc;

	if (ks->p11 != NULL)
		return tr_error_set(TRESOR_EINVAL, "a PKCS#11 token is "
		    "attached already");
	if (ks->root_in_token) {
		rc = tr_p11_decrypt(p11, TR_ROOT_TOKEN_LABEL, mac_aad,
		    sizeof(mac_aad) - 1, ks->mac_sealed, MAC_SEALED_LEN, &mac);
		if (rc == TRESOR_ENOTFOUND)
			return tr_error_set(TRESOR_ENOTFOUND, "the PKCS#11 "
			    "token holds no root key labelled %s; the data "
			    "directory was initialised with another token",
			    TR_ROOT_TOKEN_LABEL);
		if (rc == TRESOR_EAUTH)
			return tr_error_set(TRESOR_EAUTH, "the root key "
			    "marker does not open with the token's %s key; "
			    "the data directory was initialised with another "
			    "token", TR_ROOT_TOKEN_LABEL);
		if (rc < 0)
			return rc;
		if (mac->len != MAC_KEY_LEN) {
			tr_secret_free(mac);
			return tr_error_set(TRESOR_EINTERNAL,
			    "the root key marker holds a MAC key of the wrong "
			    "size");
		}
		ks->mac_key = mac;
	}
	ks->p11 = p11;
	return 0;
}

bool
tr_keystore_has_hsm(const struct tr_keystore *ks)
{
	return ks->p11 != NULL;
}

bool
tr_keystore_root_in_token(const struct tr_keystore *ks)
{
	return ks->root_in_token;
}

/* Does the stored blob of `key` read exactly `marker`? */
static bool
ref_is(const struct tr_keyref *key, const char *marker)
{
	size_t n = strlen(marker);

	return key->wrapped != NULL && key->wrapped_len == n &&
	    tr_ct_eq(key->wrapped, marker, n);
}

bool
tr_keyref_is_hsm(const struct tr_keyref *key)
{
	return ref_is(key, TR_KEY_HSM_REF);
}

/*
 * Where the material of `key` is: 1 in the attached token, 0 wrapped
 * here, or an error for a deleted key version or a token key without a
 * token.
 */
static int
ref_where(const struct tr_keystore *ks, const struct tr_keyref *key)
{
	if (ref_is(key, TR_KEY_TOMBSTONE))
		return tr_error_set(TRESOR_ECONFLICT, "key version %s is "
		    "deleted; its key material was destroyed",
		    key->version_id);
	if (!ref_is(key, TR_KEY_HSM_REF))
		return 0;
	if (ks->p11 == NULL)
		return tr_error_set(TRESOR_EUNAVAIL, "key version %s is held "
		    "in a PKCS#11 token (protection mode HSM), and tresord has "
		    "no token configured", key->version_id);
	return 1;
}

/* A token call on key `id` failed with `rc`: name a missing object. */
static int
token_code(int rc, const char *id)
{
	if (rc == TRESOR_ENOTFOUND)
		return tr_error_set(TRESOR_EINTERNAL, "key version %s is not "
		    "in the PKCS#11 token (another token, or the object was "
		    "removed)", id);
	return rc;
}

/* The root key is in a token that is not attached (yet). */
static int
root_unattached(void)
{
	return tr_error_set(TRESOR_EUNAVAIL, "the root key is held in a "
	    "PKCS#11 token, and no token is attached");
}

/* Seal under the root key: the file's, or the token's. */
static int
root_seal(struct tr_keystore *ks, const void *aad, size_t aadlen,
    const void *pt, size_t ptlen, unsigned char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (ks->root != NULL)
		return tr_aead_seal(out, outlen, ks->root->ptr, ks->root->len,
		    aad, aadlen, pt, ptlen);
	if (ks->p11 == NULL)
		return root_unattached();
	return tr_p11_encrypt(ks->p11, TR_ROOT_TOKEN_LABEL, aad, aadlen, pt,
	    ptlen, out, outlen);
}

/* Open a blob sealed by root_seal() into a new secret. */
static int
root_open(struct tr_keystore *ks, const void *aad, size_t aadlen,
    const unsigned char *blob, size_t len, struct tr_secret **out)
{
	*out = NULL;
	if (ks->root != NULL)
		return tr_aead_open(out, ks->root->ptr, ks->root->len, aad,
		    aadlen, blob, len);
	if (ks->p11 == NULL)
		return root_unattached();
	return tr_p11_decrypt(ks->p11, TR_ROOT_TOKEN_LABEL, aad, aadlen, blob,
	    len, out);
}

/* ---------------------------------------------------------------- */
/* wrapping                                                         */
/* ---------------------------------------------------------------- */

/* Associated data of a wrapped master key version: label, 0, OCID. */
static int
wrap_aad(unsigned char *buf, size_t cap, size_t *len, const char *version_id)
{
	size_t l1 = sizeof(wrap_label), l2 = strlen(version_id);

	if (l1 + l2 > cap)
		return tr_error_set(TRESOR_EINVAL, "key version id too long");
	memcpy(buf, wrap_label, l1);
	memcpy(buf + l1, version_id, l2);
	*len = l1 + l2;
	return 0;
}

static size_t
bucket_of(const char *id)
{
	return tr_hash_str(id) % CACHE_BUCKETS;
}

/* Remove every entry nobody uses; called when the cache is full. */
static void
cache_trim_locked(struct tr_keystore *ks)
{
	struct cache_entry **pp, *e;
	size_t i;

	for (i = 0; i < CACHE_BUCKETS; i++) {
		pp = &ks->buckets[i];
		while ((e = *pp) != NULL) {
			*pp = e->next;
			ks->count--;
			entry_unlink_locked(e);
		}
	}
}

/*
 * Find or unwrap the material of `key`; the caller unlinks the entry
 * with entry_release().
 */
static int
material_get(struct tr_keystore *ks, const struct tr_keyref *key,
    struct cache_entry **out)
{
	struct cache_entry *e = NULL;
	unsigned char aad[TR_ID_AAD_MAX];
	size_t b = bucket_of(key->version_id), aadlen = 0;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&ks->lock);
	for (e = ks->buckets[b]; e != NULL; e = e->next) {
		if (strcmp(e->version_id, key->version_id) == 0) {
			e->refs++;
			pthread_mutex_unlock(&ks->lock);
			*out = e;
			return 0;
		}
	}
	pthread_mutex_unlock(&ks->lock);

	/* unwrap outside the lock */
	e = tr_calloc(1, sizeof(*e));
	if (e == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	e->version_id = tr_strdup(key->version_id);
	if (e->version_id == NULL) {
		entry_free(e);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	if ((rc = wrap_aad(aad, sizeof(aad), &aadlen, key->version_id)) < 0 ||
	    (rc = root_open(ks, aad, aadlen, key->wrapped,
	    key->wrapped_len, &e->material)) < 0) {
		entry_free(e);
		if (rc == TRESOR_EAUTH)
			rc = tr_error_set(TRESOR_EINTERNAL,
			    "master key version %s does not unwrap under this "
			    "root key", key->version_id);
		return rc;
	}
	e->refs = 2;	/* the cache's and the caller's */
	pthread_mutex_lock(&ks->lock);
	if (ks->count >= CACHE_MAX)
		cache_trim_locked(ks);
	e->next = ks->buckets[b];
	ks->buckets[b] = e;
	ks->count++;
	pthread_mutex_unlock(&ks->lock);
	*out = e;
	return 0;
}

static void
entry_release(struct tr_keystore *ks, struct cache_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&ks->lock);
	entry_unlink_locked(e);
	pthread_mutex_unlock(&ks->lock);
}

void
tr_keystore_forget(struct tr_keystore *ks, const char *version_id)
{
	struct cache_entry **pp, *e;
	size_t b = bucket_of(version_id);

	pthread_mutex_lock(&ks->lock);
	for (pp = &ks->buckets[b]; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->version_id, version_id) == 0) {
			*pp = e->next;
			ks->count--;
			entry_unlink_locked(e);
			break;
		}
	}
	pthread_mutex_unlock(&ks->lock);
}

bool
tr_key_shape_valid(const struct tr_key_shape *s)
{
	switch (s->alg) {
	case TR_KEY_AES:
		return s->curve == TR_CURVE_NONE &&
		    (s->length == 16 || s->length == 24 || s->length == 32);
	case TR_KEY_RSA:
		return s->curve == TR_CURVE_NONE &&
		    (s->length == 256 || s->length == 384 || s->length == 512);
	case TR_KEY_ECDSA:
		return (s->length == 32 && s->curve == TR_CURVE_P256) ||
		    (s->length == 48 && s->curve == TR_CURVE_P384) ||
		    (s->length == 66 && s->curve == TR_CURVE_P521);
	default:
		return false;
	}
}

/* Generate an asymmetric key; DER PKCS#8 into a secret, PEM public. */
static int
generate_asym(const struct tr_key_shape *shape, struct tr_secret **der_out,
    char **pem_out)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	char *pem = NULL, *data;
	const char *group;
	long plen;
	int dlen, rc = TRESOR_EINTERNAL;

	*der_out = NULL;
	*pem_out = NULL;
	if (shape->alg == TR_KEY_RSA) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)(shape->length * 8));
	} else {
		group = shape->curve == TR_CURVE_P256 ? "P-256" :
		    shape->curve == TR_CURVE_P384 ? "P-384" : "P-521";
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	}
	if (pkey == NULL) {
		rc = tr_error_set(TRESOR_EINTERNAL, "key generation failed");
		goto out;
	}
	dlen = i2d_PrivateKey(pkey, &der);
	if (dlen <= 0) {
		rc = tr_error_set(TRESOR_EINTERNAL, "key encoding failed");
		goto out;
	}
	if ((rc = tr_secret_from(der_out, der, (size_t)dlen)) < 0)
		goto out;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "public key encoding failed");
		goto out;
	}
	plen = BIO_get_mem_data(bio, &data);
	pem = tr_strndup(data, (size_t)plen);
	if (pem == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	*pem_out = pem;
	pem = NULL;
	rc = 0;
out:
	if (rc < 0) {
		tr_secret_free(*der_out);
		*der_out = NULL;
	}
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)dlen);
	tr_free(pem);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return rc;
}

int
tr_keystore_generate(struct tr_keystore *ks, const char *version_id,
    const struct tr_key_shape *shape, unsigned char **wrapped_out,
    size_t *wrapped_len_out, char **public_pem_out)
{
	struct tr_secret *mat = NULL;
	unsigned char aad[TR_ID_AAD_MAX];
	size_t aadlen = 0;
	int rc = TRESOR_EINTERNAL;

	*wrapped_out = NULL;
	*wrapped_len_out = 0;
	*public_pem_out = NULL;
	if (!tr_key_shape_valid(shape))
		return tr_error_set(TRESOR_EINVAL, "unsupported key shape");
	if (shape->alg == TR_KEY_AES) {
		if ((rc = tr_secret_new(&mat, shape->length)) < 0 ||
		    (rc = tr_random_bytes(mat->ptr, mat->len)) < 0)
			goto out;
	} else if ((rc = generate_asym(shape, &mat, public_pem_out)) < 0) {
		goto out;
	}
	if ((rc = wrap_aad(aad, sizeof(aad), &aadlen, version_id)) < 0 ||
	    (rc = root_seal(ks, aad, aadlen, mat->ptr, mat->len, wrapped_out,
	    wrapped_len_out)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		tr_free(*public_pem_out);
		*public_pem_out = NULL;
	}
	tr_secret_free(mat);
	return rc;
}

int
tr_keystore_encrypt(struct tr_keystore *ks, const struct tr_keyref *key,
    const void *aad, size_t aadlen, const void *pt, size_t ptlen,
    unsigned char **out, size_t *outlen)
{
	struct cache_entry *e = NULL;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = ref_where(ks, key)) < 0)
		return rc;
	if (rc == 1)
		return token_code(tr_p11_encrypt(ks->p11, key->version_id, aad,
		    aadlen, pt, ptlen, out, outlen), key->version_id);
	if ((rc = material_get(ks, key, &e)) < 0)
		return rc;
	rc = tr_aead_seal(out, outlen, e->material->ptr, e->material->len, aad,
	    aadlen, pt, ptlen);
	entry_release(ks, e);
	return rc;
}

int
tr_keystore_decrypt(struct tr_keystore *ks, const struct tr_keyref *key,
    const void *aad, size_t aadlen, const unsigned char *blob, size_t bloblen,
    struct tr_secret **out)
{
	struct cache_entry *e = NULL;
	int rc;

	*out = NULL;
	if ((rc = ref_where(ks, key)) < 0)
		return rc;
	if (rc == 1)
		return token_code(tr_p11_decrypt(ks->p11, key->version_id, aad,
		    aadlen, blob, bloblen, out), key->version_id);
	if ((rc = material_get(ks, key, &e)) < 0)
		return rc;
	rc = tr_aead_open(out, e->material->ptr, e->material->len, aad, aadlen,
	    blob, bloblen);
	entry_release(ks, e);
	return rc;
}

int
tr_keystore_sign(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *alg, const void *msg, size_t len, bool is_digest,
    unsigned char **sig_out, size_t *siglen_out)
{
	struct cache_entry *e = NULL;
	int rc;

	*sig_out = NULL;
	*siglen_out = 0;
	if ((rc = ref_where(ks, key)) < 0)
		return rc;
	if (rc == 1)
		return token_code(tr_p11_sign(ks->p11, key->version_id, alg,
		    msg, len, is_digest, sig_out, siglen_out), key->version_id);
	if ((rc = material_get(ks, key, &e)) < 0)
		return rc;
	rc = tr_sign_soft(e->material, alg, msg, len, is_digest, sig_out,
	    siglen_out);
	entry_release(ks, e);
	return rc;
}

int
tr_keystore_verify(struct tr_keystore *ks, const struct tr_keyref *key,
    const char *public_pem, const char *alg, const void *msg, size_t len,
    bool is_digest, const unsigned char *sig, size_t siglen,
    bool *valid_out)
{
	int rc;

	*valid_out = false;
	if ((rc = ref_where(ks, key)) < 0)
		return rc;
	if (rc == 1)
		return token_code(tr_p11_verify(ks->p11, key->version_id, alg,
		    msg, len, is_digest, sig, siglen, valid_out),
		    key->version_id);
	return tr_verify_pub(public_pem == NULL ? "" : public_pem, alg, msg,
	    len, is_digest, sig, siglen, valid_out);
}

int
tr_keystore_generate_hsm(struct tr_keystore *ks, const char *version_id,
    const struct tr_key_shape *shape, unsigned char **ref_out,
    size_t *ref_len_out, char **public_pem_out)
{
	unsigned char *ref = NULL;
	size_t n = sizeof(TR_KEY_HSM_REF) - 1;
	int rc;

	*ref_out = NULL;
	*ref_len_out = 0;
	*public_pem_out = NULL;
	if (!tr_key_shape_valid(shape))
		return tr_error_set(TRESOR_EINVAL, "unsupported key shape");
	if (ks->p11 == NULL)
		return tr_error_set(TRESOR_EUNAVAIL, "protection mode HSM "
		    "needs a PKCS#11 token, and none is attached");
	ref = tr_malloc(n);
	if (ref == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	memcpy(ref, TR_KEY_HSM_REF, n);
	if ((rc = tr_p11_generate(ks->p11, version_id, shape,
	    public_pem_out)) < 0) {
		tr_free(ref);
		return rc;
	}
	*ref_out = ref;
	*ref_len_out = n;
	return 0;
}

int
tr_keystore_destroy(struct tr_keystore *ks, const struct tr_keyref *key)
{
	int rc;

	tr_keystore_forget(ks, key->version_id);
	if (!ref_is(key, TR_KEY_HSM_REF))
		return 0;
	if (ks->p11 == NULL)
		return tr_error_set(TRESOR_EUNAVAIL, "key version %s is held "
		    "in a PKCS#11 token and no token is attached: its token "
		    "objects (label %s) remain", key->version_id,
		    key->version_id);
	rc = tr_p11_destroy(ks->p11, key->version_id);
	return rc == TRESOR_ENOTFOUND ? 0 : rc;
}

int
tr_keystore_seal_root(struct tr_keystore *ks, const char *label,
    const void *data, size_t len, unsigned char **out, size_t *outlen)
{
	return root_seal(ks, label, strlen(label), data, len, out, outlen);
}

int
tr_keystore_open_root(struct tr_keystore *ks, const char *label,
    const unsigned char *blob, size_t len, struct tr_secret **out)
{
	return root_open(ks, label, strlen(label), blob, len, out);
}

int
tr_keystore_mac(struct tr_keystore *ks, const char *purpose, const void *data,
    size_t len, unsigned char out[32])
{
	const struct tr_secret *k = ks->root != NULL ? ks->root : ks->mac_key;
	unsigned char sub[32];
	unsigned int n = 0;
	int rc = 0;

	if (k == NULL)
		return root_unattached();
	/* sub-key = HMAC(root, purpose); mac = HMAC(sub-key, data) */
	if (HMAC(EVP_sha256(), k->ptr, (int)k->len,
	    (const unsigned char *)purpose, strlen(purpose), sub, &n) == NULL ||
	    HMAC(EVP_sha256(), sub, sizeof(sub), data, len, out, &n) == NULL)
		rc = tr_error_set(TRESOR_EINTERNAL, "HMAC failed");
	tr_secure_zero(sub, sizeof(sub));
	return rc;
}

int
tr_keystore_content_mac(struct tr_keystore *ks, const char *secret_id,
    const struct tr_secret *pt, unsigned char out[32])
{
	struct tr_secret *buf = NULL;
	size_t idlen = strlen(secret_id) + 1;
	int rc;

	if ((rc = tr_secret_new(&buf, idlen + pt->len)) < 0)
		return rc;
	memcpy(buf->ptr, secret_id, idlen);
	memcpy(buf->ptr + idlen, pt->ptr, pt->len);
	rc = tr_keystore_mac(ks, "tresor/secret-reuse/v1", buf->ptr, buf->len,
	    out);
	tr_secret_free(buf);
	return rc;
}
