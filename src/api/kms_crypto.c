/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KMS crypto (KmsCryptoClient, reached through a vault's cryptoEndpoint
 * /kms/<vault>/crypto/20180608/...): Encrypt, Decrypt and
 * GenerateDataEncryptionKey with AES master keys.
 *
 * The ciphertext is tresor's own format, opaque to clients but naming
 * the key version that made it, so Decrypt needs no keyVersionId:
 *
 *   "TRK1" | u16 length of the key version OCID (big endian) | OCID |
 *   nonce (12) | AES-GCM ciphertext | tag (16)
 *
 * The GCM associated data is the header (everything before the nonce)
 * followed by the caller's associatedData map serialised with sorted
 * keys, so a ciphertext moved to another key version or decrypted with
 * other associated data fails.
 *
 * Keys of protection mode HSM run every operation, Verify included,
 * inside the PKCS#11 token (the keystore decides by the key version's
 * stored reference); the formats are the same.  A key version pending
 * deletion or deleted no longer decrypts.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/crc32.h"
#include "util/error.h"
#include "util/ocid.h"
#include "util/rand.h"
#include "util/secret.h"

#define MAGIC "TRK1"
#define MAGIC_LEN 4
#define PLAINTEXT_MAX 4096
#define AAD_TEXT_MAX 4096
#define CIPHERTEXT_B64_MAX 16384

/* The crypto endpoint's key, with its current version; authorised. */
static int
key_for_crypto(struct tr_api_ctx *c, const char *key_id, const char *perm,
    const char *include_plaintext, struct tr_obj *key,
    struct tr_key_version *cur, bool want_aes)
{
	struct tr_api_target t = { 0 };
	const char *perms[2] = { perm, NULL };
	json_t *a;
	const char *alg;
	int rc;

	if ((rc = tr_api_load_key(c, key, cur, key_id, c->endpoint_vault)) < 0)
		return rc;
	t.compartment_id = key->compartment_id;
	t.vault_id = key->parent_id;
	t.key_id = key->id;
	t.include_plaintext_key = include_plaintext;
	if ((rc = tr_api_authorize(c, &t, perms, "key or vault")) < 0)
		goto fail;
	if (strcmp(key->state, "ENABLED") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "key %s is %s; cryptographic operations need an ENABLED "
		    "key", key->id, key->state);
		rc = TRESOR_ECONFLICT;
		goto fail;
	}
	a = tr_api_attrs(key->attrs);
	alg = json_string_value(json_object_get(a, "algorithm"));
	rc = alg != NULL && (strcmp(alg, "AES") == 0) == want_aes ? 0 :
	    TRESOR_EINVAL;
	json_decref(a);
	if (rc < 0) {
		if (want_aes)
			tr_api_error(c, 400, "InvalidParameter",
			    "key %s is not an AES key; Encrypt, Decrypt and "
			    "GenerateDataEncryptionKey need a symmetric key",
			    key->id);
		else
			tr_api_error(c, 400, "InvalidParameter",
			    "key %s is an AES key; Sign and Verify need an "
			    "RSA or ECDSA key", key->id);
		goto fail;
	}
	return 0;
fail:
	tr_obj_dispose(key);
	tr_key_version_dispose(cur);
	return rc;
}

/* Header || canonical associatedData into `out`. */
static int
build_aad(struct tr_api_ctx *c, struct tr_buf *out, const char *kvid)
{
	const json_t *ad = json_object_get(c->body, "associatedData");
	const char *k;
	json_t *v;
	char *text;
	size_t idlen = strlen(kvid);
	unsigned char len[2];

	len[0] = (unsigned char)(idlen >> 8);
	len[1] = (unsigned char)idlen;
	tr_buf_add(out, MAGIC, MAGIC_LEN);
	tr_buf_add(out, len, 2);
	tr_buf_add(out, kvid, idlen);
	if (ad == NULL || json_is_null(ad) || json_object_size(ad) == 0)
		return tr_buf_error(out);
	json_object_foreach((json_t *)ad, k, v) {
		if (!json_is_string(v)) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'associatedData.%.64s' must be a string", k);
			return TRESOR_EINVAL;
		}
	}
	text = json_dumps(ad, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (strlen(text) >= AAD_TEXT_MAX) {
		tr_free(text);
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'associatedData' must be shorter than %d characters "
		    "as text", AAD_TEXT_MAX);
		return TRESOR_EINVAL;
	}
	tr_buf_addc(out, '\0');
	tr_buf_addstr(out, text);
	tr_free(text);
	return tr_buf_error(out);
}

/*
 * Encrypt `pt` with key version `kv` into a base64 ciphertext string
 * (new JSON string).  Errors are answered.
 */
static json_t *
seal(struct tr_api_ctx *c, const struct tr_key_version *kv,
    const unsigned char *pt, size_t ptlen)
{
	struct tr_keyref ref = { kv->id, kv->wrapped, kv->wrapped_len };
	struct tr_buf aad, blob;
	unsigned char *sealed = NULL;
	size_t sealed_len = 0, hdr;
	char *b64 = NULL;
	json_t *out = NULL;
	int rc;

	tr_buf_init(&aad, 16384);
	tr_buf_init(&blob, 65536);
	if ((rc = build_aad(c, &aad, kv->id)) < 0) {
		if (rc != TRESOR_EINVAL)
			tr_api_error_rc(c, rc, "encryption failed");
		goto out;
	}
	hdr = MAGIC_LEN + 2 + strlen(kv->id);
	if ((rc = tr_keystore_encrypt(c->t->env->ks, &ref, aad.ptr, aad.len,
	    pt, ptlen, &sealed, &sealed_len)) < 0) {
		tr_api_error_rc(c, rc, "encryption failed");
		goto out;
	}
	tr_buf_add(&blob, aad.ptr, hdr);
	tr_buf_add(&blob, sealed, sealed_len);
	b64 = tr_malloc(tr_base64_encoded_len(blob.len) + 1);
	if (tr_buf_error(&blob) < 0 || b64 == NULL ||
	    tr_base64_encode(b64, tr_base64_encoded_len(blob.len) + 1,
	    blob.ptr, blob.len) < 0) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		goto out;
	}
	out = json_string(b64);
out:
	tr_free(b64);
	tr_free(sealed);
	tr_buf_dispose(&aad);
	tr_buf_dispose(&blob);
	return out;
}

/* Plaintext JSON string (base64) and checksum of a secret. */
static void
add_plaintext(json_t *o, const struct tr_secret *pt)
{
	char sum[16];
	char *b64;
	size_t n = tr_base64_encoded_len(pt->len) + 1;

	b64 = tr_malloc(n);
	if (b64 == NULL)
		return;
	if (tr_base64_encode(b64, n, pt->ptr, pt->len) == 0)
		json_object_set_new(o, "plaintext", json_string(b64));
	tr_freezero(b64, n);
	(void)snprintf(sum, sizeof(sum), "%u", tr_crc32(pt->ptr, pt->len));
	json_object_set_new(o, "plaintextChecksum", json_string(sum));
}

static const struct tr_field encrypt_fields[] = {
	{ "keyId", TR_F_STRING, true },
	{ "plaintext", TR_F_STRING, true },
	{ "associatedData", TR_F_OBJECT, false },
	{ "loggingContext", TR_F_OBJECT, false },
	{ "keyVersionId", TR_F_STRING, false },
	{ "encryptionAlgorithm", TR_F_STRING, false },
	{ NULL, 0, false }
};

/* encryptionAlgorithm, when given, must be AES_256_GCM for AES keys. */
static int
check_algorithm(struct tr_api_ctx *c)
{
	const char *a = json_string_value(json_object_get(c->body,
	    "encryptionAlgorithm"));

	if (a != NULL && strcmp(a, "AES_256_GCM") != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'encryptionAlgorithm' must be AES_256_GCM for an "
		    "AES key");
		return TRESOR_EINVAL;
	}
	return 0;
}

/* Pick the key version a request names, or the key's current one. */
static int
pick_version(struct tr_api_ctx *c, const struct tr_obj *key,
    struct tr_key_version *cur)
{
	const char *kvid = json_string_value(json_object_get(c->body,
	    "keyVersionId"));
	int rc;

	if (kvid == NULL || strcmp(kvid, cur->id) == 0)
		return 0;
	tr_key_version_dispose(cur);
	rc = tr_ocid_valid(kvid, "keyversion") ?
	    c->st->ops->kv_get(c->st, cur, kvid) : TRESOR_ENOTFOUND;
	if (rc == 0 && (strcmp(cur->key_id, key->id) != 0 ||
	    strcmp(cur->state, "ENABLED") != 0))
		rc = TRESOR_ENOTFOUND;
	if (rc == TRESOR_ENOTFOUND) {
		tr_api_error(c, 404, "NotAuthorizedOrNotFound",
		    "Key version %s does not exist, is not enabled or does not "
		    "belong to key %s", kvid, key->id);
		return rc;
	}
	if (rc < 0)
		tr_api_error_rc(c, rc, "key version lookup failed");
	return rc;
}

void
tr_api_encrypt(struct tr_api_ctx *c)
{
	struct tr_key_version kv;
	struct tr_secret *pt = NULL;
	struct tr_obj key;
	const char *b64, *kid;
	json_t *ct, *o;
	size_t len;
	int rc;

	memset(&kv, 0, sizeof(kv));
	memset(&key, 0, sizeof(key));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, encrypt_fields, "") < 0 ||
	    check_algorithm(c) < 0)
		return;
	kid = json_string_value(json_object_get(c->body, "keyId"));
	b64 = json_string_value(json_object_get(c->body, "plaintext"));
	len = strlen(b64);
	if (len > tr_base64_encoded_len(PLAINTEXT_MAX) + 16) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'plaintext' must decode to at most %d bytes",
		    PLAINTEXT_MAX);
		return;
	}
	if ((rc = tr_secret_new(&pt, tr_base64_decoded_max(len))) < 0) {
		tr_api_error_rc(c, rc, "out of memory");
		return;
	}
	if (tr_base64_decode(pt->ptr, pt->len, &len, b64, strlen(b64)) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'plaintext' is not valid base64: %s",
		    tresor_error_last());
		goto out;
	}
	tr_secret_truncate(pt, len);
	if (len > PLAINTEXT_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'plaintext' must decode to at most %d bytes",
		    PLAINTEXT_MAX);
		goto out;
	}
	if (key_for_crypto(c, kid, "KEY_ENCRYPT", NULL, &key, &kv, true) < 0)
		goto out;
	if (pick_version(c, &key, &kv) < 0)
		goto out;
	ct = seal(c, &kv, pt->ptr, pt->len);
	if (ct == NULL)
		goto out;
	o = json_pack("{s:o, s:s, s:s, s:s}", "ciphertext", ct, "keyId",
	    key.id, "keyVersionId", kv.id, "encryptionAlgorithm",
	    "AES_256_GCM");
	tr_api_send_json(c, 200, o);
out:
	tr_secret_free(pt);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&key);
}

void
tr_api_decrypt(struct tr_api_ctx *c)
{
	struct tr_key_version kv;
	struct tr_secret *pt = NULL;
	struct tr_keyref ref;
	struct tr_buf aad;
	struct tr_obj key;
	unsigned char *blob = NULL;
	char kvid[TR_ID_MAX], when[TR_TIME_RFC3339_LEN + 1];
	const char *b64, *kid, *want;
	size_t len, blen = 0, idlen, hdr;
	json_t *o;
	int rc;

	memset(&kv, 0, sizeof(kv));
	memset(&key, 0, sizeof(key));
	tr_buf_init(&aad, 16384);
	{
		static const struct tr_field fields[] = {
			{ "keyId", TR_F_STRING, true },
			{ "ciphertext", TR_F_STRING, true },
			{ "associatedData", TR_F_OBJECT, false },
			{ "loggingContext", TR_F_OBJECT, false },
			{ "keyVersionId", TR_F_STRING, false },
			{ "encryptionAlgorithm", TR_F_STRING, false },
			{ NULL, 0, false }
		};

		if (tr_api_body(c) < 0 ||
		    tr_api_check_fields(c, c->body, fields, "") < 0 ||
		    check_algorithm(c) < 0)
			goto out;
	}
	kid = json_string_value(json_object_get(c->body, "keyId"));
	b64 = json_string_value(json_object_get(c->body, "ciphertext"));
	len = strlen(b64);
	if (len > CIPHERTEXT_B64_MAX)
		goto bad;
	blob = tr_malloc(tr_base64_decoded_max(len));
	if (blob == NULL) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		goto out;
	}
	if (tr_base64_decode(blob, tr_base64_decoded_max(len), &blen, b64,
	    len) < 0 || blen < MAGIC_LEN + 2 ||
	    memcmp(blob, MAGIC, MAGIC_LEN) != 0)
		goto bad;
	idlen = (size_t)blob[4] << 8 | blob[5];
	hdr = MAGIC_LEN + 2 + idlen;
	if (idlen == 0 || idlen >= sizeof(kvid) || blen < hdr)
		goto bad;
	memcpy(kvid, blob + 6, idlen);
	kvid[idlen] = '\0';
	if (!tr_ocid_valid(kvid, "keyversion"))
		goto bad;
	if (key_for_crypto(c, kid, "KEY_DECRYPT", NULL, &key, &kv, true) < 0)
		goto out;
	want = json_string_value(json_object_get(c->body, "keyVersionId"));
	if (want != NULL && strcmp(want, kvid) != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "the ciphertext was made with key version %s, not %s",
		    kvid, want);
		goto out;
	}
	if (strcmp(kv.id, kvid) != 0) {
		tr_key_version_dispose(&kv);
		rc = c->st->ops->kv_get(c->st, &kv, kvid);
		if (rc == TRESOR_ENOTFOUND || (rc == 0 &&
		    strcmp(kv.key_id, key.id) != 0)) {
			tr_api_error(c, 400, "InvalidParameter",
			    "the ciphertext was not made with key %s", key.id);
			goto out;
		}
		if (rc < 0) {
			tr_api_error_rc(c, rc, "key version lookup failed");
			goto out;
		}
		if (strcmp(kv.state, "ENABLED") != 0) {
			tr_time_rfc3339(when, kv.time_of_deletion);
			tr_api_error(c, 409, "Conflict",
			    "key version %s that made the ciphertext is %s%s%s",
			    kv.id, kv.state, kv.time_of_deletion != 0 ?
			    " (time of deletion " : "",
			    kv.time_of_deletion != 0 ? when : "");
			goto out;
		}
	}
	if ((rc = build_aad(c, &aad, kvid)) < 0) {
		if (rc != TRESOR_EINVAL)
			tr_api_error_rc(c, rc, "decryption failed");
		goto out;
	}
	ref.version_id = kv.id;
	ref.wrapped = kv.wrapped;
	ref.wrapped_len = kv.wrapped_len;
	rc = tr_keystore_decrypt(c->t->env->ks, &ref, aad.ptr, aad.len,
	    blob + hdr, blen - hdr, &pt);
	if (rc == TRESOR_EAUTH) {
		tr_api_error(c, 400, "InvalidParameter",
		    "the ciphertext could not be decrypted: it is damaged, or "
		    "the associatedData differs from the one given to Encrypt");
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "decryption failed");
		goto out;
	}
	o = json_pack("{s:s, s:s, s:s}", "keyId", key.id, "keyVersionId",
	    kv.id, "encryptionAlgorithm", "AES_256_GCM");
	add_plaintext(o, pt);
	c->resp->body_is_secret = true;
	tr_api_send_json(c, 200, o);
	goto out;
bad:
	tr_api_error(c, 400, "InvalidParameter",
	    "field 'ciphertext' is not a ciphertext produced by this service");
out:
	tr_secret_free(pt);
	tr_free(blob);
	tr_buf_dispose(&aad);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&key);
}

void
tr_api_generate_dek(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "keyId", TR_F_STRING, true },
		{ "keyShape", TR_F_OBJECT, true },
		{ "includePlaintextKey", TR_F_BOOL, true },
		{ "associatedData", TR_F_OBJECT, false },
		{ "loggingContext", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	static const struct tr_field shape_fields[] = {
		{ "algorithm", TR_F_STRING, true },
		{ "length", TR_F_INT, true },
		{ "curveId", TR_F_STRING, false },
		{ NULL, 0, false }
	};
	struct tr_key_version kv;
	struct tr_secret *dek = NULL;
	struct tr_obj key;
	const json_t *shape;
	json_int_t len;
	bool include;
	json_t *ct, *o;
	int rc;

	memset(&kv, 0, sizeof(kv));
	memset(&key, 0, sizeof(key));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0)
		return;
	shape = json_object_get(c->body, "keyShape");
	if (tr_api_check_fields(c, shape, shape_fields, "keyShape.") < 0)
		return;
	len = json_integer_value(json_object_get(shape, "length"));
	if (strcmp(json_string_value(json_object_get(shape, "algorithm")),
	    "AES") != 0 || (len != 16 && len != 24 && len != 32)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'keyShape' must be an AES shape of length 16, 24 or "
		    "32");
		return;
	}
	include = json_is_true(json_object_get(c->body, "includePlaintextKey"));
	if (key_for_crypto(c, json_string_value(json_object_get(c->body,
	    "keyId")), "KEY_ENCRYPT", include ? "true" : "false", &key,
	    &kv, true) < 0)
		return;
	if ((rc = tr_secret_new(&dek, (size_t)len)) < 0 ||
	    (rc = tr_random_bytes(dek->ptr, dek->len)) < 0) {
		tr_api_error_rc(c, rc, "key generation failed");
		goto out;
	}
	ct = seal(c, &kv, dek->ptr, dek->len);
	if (ct == NULL)
		goto out;
	o = json_pack("{s:o}", "ciphertext", ct);
	if (include) {
		add_plaintext(o, dek);
		c->resp->body_is_secret = true;
	}
	tr_api_send_json(c, 200, o);
out:
	tr_secret_free(dek);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&key);
}

/* ---------------------------------------------------------------- */
/* Sign and Verify                                                  */
/* ---------------------------------------------------------------- */

#define SIGN_MESSAGE_MAX 4096

/* The key shape stored in a key's attrs. */
static void
shape_of(const struct tr_obj *key, struct tr_key_shape *out)
{
	json_t *a = tr_api_attrs(key->attrs);
	const json_t *s = json_object_get(a, "keyShape");
	const char *alg = json_string_value(json_object_get(s, "algorithm"));
	const char *curve = json_string_value(json_object_get(s, "curveId"));

	memset(out, 0, sizeof(*out));
	out->alg = alg == NULL ? 0 : strcmp(alg, "AES") == 0 ? TR_KEY_AES :
	    strcmp(alg, "RSA") == 0 ? TR_KEY_RSA : TR_KEY_ECDSA;
	out->length = (size_t)json_integer_value(json_object_get(s, "length"));
	out->curve = curve == NULL ? TR_CURVE_NONE :
	    strcmp(curve, "NIST_P256") == 0 ? TR_CURVE_P256 :
	    strcmp(curve, "NIST_P384") == 0 ? TR_CURVE_P384 : TR_CURVE_P521;
	json_decref(a);
}

/* The message of a Sign/Verify body, decoded, with its type. */
static int
read_message(struct tr_api_ctx *c, unsigned char **msg, size_t *len,
    bool *is_digest)
{
	const char *b64 = json_string_value(json_object_get(c->body,
	    "message"));
	const char *type = json_string_value(json_object_get(c->body,
	    "messageType"));
	size_t n = strlen(b64);

	*msg = NULL;
	*is_digest = false;
	if (type != NULL && strcmp(type, "RAW") != 0 &&
	    strcmp(type, "DIGEST") != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'messageType' must be RAW or DIGEST");
		return TRESOR_EINVAL;
	}
	*is_digest = type != NULL && strcmp(type, "DIGEST") == 0;
	if (n > tr_base64_encoded_len(SIGN_MESSAGE_MAX) + 16)
		goto toobig;
	*msg = tr_malloc(tr_base64_decoded_max(n));
	if (*msg == NULL) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		return TRESOR_ENOMEM;
	}
	if (tr_base64_decode(*msg, tr_base64_decoded_max(n), len, b64, n) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'message' is not valid base64");
		TR_FREE_AND_NULL(*msg);
		return TRESOR_EINVAL;
	}
	if (*len <= SIGN_MESSAGE_MAX)
		return 0;
	TR_FREE_AND_NULL(*msg);
toobig:
	tr_api_error(c, 400, "InvalidParameter",
	    "field 'message' must decode to at most %d bytes; sign a DIGEST "
	    "of larger messages", SIGN_MESSAGE_MAX);
	return TRESOR_EINVAL;
}

void
tr_api_sign(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "keyId", TR_F_STRING, true },
		{ "message", TR_F_STRING, true },
		{ "signingAlgorithm", TR_F_STRING, true },
		{ "keyVersionId", TR_F_STRING, false },
		{ "messageType", TR_F_STRING, false },
		{ "loggingContext", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	struct tr_key_version kv;
	struct tr_key_shape shape;
	struct tr_keyref ref;
	struct tr_obj key;
	unsigned char *msg = NULL, *sig = NULL;
	const char *alg;
	char *b64 = NULL;
	size_t len = 0, siglen = 0, cap;
	bool is_digest;
	int rc;

	memset(&kv, 0, sizeof(kv));
	memset(&key, 0, sizeof(key));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    read_message(c, &msg, &len, &is_digest) < 0)
		goto out;
	alg = json_string_value(json_object_get(c->body, "signingAlgorithm"));
	if (key_for_crypto(c, json_string_value(json_object_get(c->body,
	    "keyId")), "KEY_SIGN", NULL, &key, &kv, false) < 0 ||
	    pick_version(c, &key, &kv) < 0)
		goto out;
	shape_of(&key, &shape);
	if (!tr_sign_alg_fits(alg, &shape)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'signingAlgorithm' %.40s does not fit key %s (RSA "
		    "keys: SHA_*_RSA_PKCS_PSS, SHA_*_RSA_PKCS1_V1_5; ECDSA keys:"
		    " ECDSA_SHA_256/384/512)", alg, key.id);
		goto out;
	}
	ref.version_id = kv.id;
	ref.wrapped = kv.wrapped;
	ref.wrapped_len = kv.wrapped_len;
	rc = tr_keystore_sign(c->t->env->ks, &ref, alg, msg, len, is_digest,
	    &sig, &siglen);
	if (rc == TRESOR_EINVAL) {
		tr_api_error(c, 400, "InvalidParameter", "%s",
		    tresor_error_last());
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "signing failed");
		goto out;
	}
	cap = tr_base64_encoded_len(siglen) + 1;
	b64 = tr_malloc(cap);
	if (b64 == NULL || tr_base64_encode(b64, cap, sig, siglen) < 0) {
		tr_api_error(c, 500, "InternalServerError", "out of memory");
		goto out;
	}
	tr_api_send_json(c, 200, json_pack("{s:s, s:s, s:s, s:s}", "keyId",
	    key.id, "keyVersionId", kv.id, "signature", b64,
	    "signingAlgorithm", alg));
out:
	tr_free(b64);
	tr_free(sig);
	tr_free(msg);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&key);
}

void
tr_api_verify(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "keyId", TR_F_STRING, true },
		{ "keyVersionId", TR_F_STRING, true },
		{ "message", TR_F_STRING, true },
		{ "signature", TR_F_STRING, true },
		{ "signingAlgorithm", TR_F_STRING, true },
		{ "messageType", TR_F_STRING, false },
		{ "loggingContext", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	struct tr_key_version kv;
	struct tr_key_shape shape;
	struct tr_keyref ref;
	struct tr_obj key;
	unsigned char *msg = NULL, sig[1024];
	const char *alg, *sb64;
	size_t len = 0, siglen = 0;
	bool is_digest, valid = false;
	int rc;

	memset(&kv, 0, sizeof(kv));
	memset(&key, 0, sizeof(key));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    read_message(c, &msg, &len, &is_digest) < 0)
		goto out;
	alg = json_string_value(json_object_get(c->body, "signingAlgorithm"));
	sb64 = json_string_value(json_object_get(c->body, "signature"));
	if (tr_base64_decode(sig, sizeof(sig), &siglen, sb64,
	    strlen(sb64)) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'signature' is not valid base64 (or too long)");
		goto out;
	}
	if (key_for_crypto(c, json_string_value(json_object_get(c->body,
	    "keyId")), "KEY_VERIFY", NULL, &key, &kv, false) < 0 ||
	    pick_version(c, &key, &kv) < 0)
		goto out;
	shape_of(&key, &shape);
	if (!tr_sign_alg_fits(alg, &shape)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'signingAlgorithm' %.40s does not fit key %s", alg,
		    key.id);
		goto out;
	}
	ref.version_id = kv.id;
	ref.wrapped = kv.wrapped;
	ref.wrapped_len = kv.wrapped_len;
	rc = tr_keystore_verify(c->t->env->ks, &ref, kv.public_pem, alg, msg,
	    len, is_digest, sig, siglen, &valid);
	if (rc == TRESOR_EINVAL) {
		tr_api_error(c, 400, "InvalidParameter", "%s",
		    tresor_error_last());
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "verification failed");
		goto out;
	}
	tr_api_send_json(c, 200, json_pack("{s:b}", "isSignatureValid",
	    valid));
out:
	tr_free(msg);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&key);
}
