/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The instance-principal certificate authority (see x509ca.h).
 *
 * The CA key travels sealed under the root key (base64 of the sealed
 * PKCS#8 DER); the daemon keeps it with the certificate in the store.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/x509ca.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"

#define CA_LABEL "tresor/instance-ca-key/v1"
#define CA_DAYS 3650

struct tr_ca {
	EVP_PKEY *key;
	X509 *cert;
	char *cert_pem;
};

void
tr_ca_free(struct tr_ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	tr_free(ca->cert_pem);
	tr_free(ca);
}

const char *
tr_ca_cert_pem(const struct tr_ca *ca)
{
	return ca->cert_pem;
}

static char *
pem_of_cert(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long len;

	if (bio != NULL && PEM_write_bio_X509(bio, x) == 1) {
		len = BIO_get_mem_data(bio, &data);
		s = tr_strndup(data, (size_t)len);
	}
	BIO_free(bio);
	return s;
}

/* A random positive 128-bit serial. */
static int
set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok;

	ok = bn != NULL && BN_rand(bn, 127, BN_RAND_TOP_ANY,
	    BN_RAND_BOTTOM_ANY) == 1 &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* Create the CA key and self-signed certificate. */
static int
ca_create(struct tr_ca *ca)
{
	X509_NAME *name;

	ca->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca->cert = X509_new();
	if (ca->key == NULL || ca->cert == NULL ||
	    X509_set_version(ca->cert, 2) != 1 || set_serial(ca->cert) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(ca->cert), -300) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(ca->cert),
	    (long)CA_DAYS * 86400) == NULL ||
	    X509_set_pubkey(ca->cert, ca->key) != 1)
		return tr_error_set(TRESOR_EINTERNAL, "CA creation failed");
	name = X509_get_subject_name(ca->cert);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"tresor", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"tresor instance principal CA", -1, -1,
	    0) != 1 ||
	    X509_set_issuer_name(ca->cert, name) != 1 ||
	    add_ext(ca->cert, ca->cert, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(ca->cert, ca->cert, NID_key_usage,
	    "critical,keyCertSign,cRLSign") < 0 ||
	    X509_sign(ca->cert, ca->key, EVP_sha256()) <= 0)
		return tr_error_set(TRESOR_EINTERNAL, "CA creation failed");
	return 0;
}

int
tr_ca_create(struct tr_ca **out, struct tr_keystore *ks,
    char **sealed_key_out)
{
	struct tr_ca *ca = NULL;
	unsigned char *der = NULL, *sealed = NULL;
	size_t sealed_len = 0, b64len;
	char *b64 = NULL;
	int dlen = 0, rc;

	*out = NULL;
	*sealed_key_out = NULL;
	ca = tr_calloc(1, sizeof(*ca));
	if (ca == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if ((rc = ca_create(ca)) < 0)
		goto out;
	ca->cert_pem = pem_of_cert(ca->cert);
	dlen = i2d_PrivateKey(ca->key, &der);
	if (ca->cert_pem == NULL || dlen <= 0) {
		rc = tr_error_set(TRESOR_EINTERNAL, "CA encoding failed");
		goto out;
	}
	if ((rc = tr_keystore_seal_root(ks, CA_LABEL, der, (size_t)dlen,
	    &sealed, &sealed_len)) < 0)
		goto out;
	b64len = tr_base64_encoded_len(sealed_len) + 1;
	b64 = tr_malloc(b64len);
	if (b64 == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = tr_base64_encode(b64, b64len, sealed, sealed_len)) < 0)
		goto out;
	*out = ca;
	*sealed_key_out = b64;
	ca = NULL;
	b64 = NULL;
	rc = 0;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)dlen);
	tr_free(b64);
	tr_free(sealed);
	tr_ca_free(ca);
	return rc;
}

int
tr_ca_open(struct tr_ca **out, struct tr_keystore *ks, const char *cert_pem,
    const char *sealed_key)
{
	struct tr_ca *ca = NULL;
	unsigned char *blob = NULL;
	const unsigned char *p;
	struct tr_secret *der = NULL;
	size_t blen = 0, max = tr_base64_decoded_max(strlen(sealed_key));
	BIO *bio = NULL;
	int rc;

	*out = NULL;
	ca = tr_calloc(1, sizeof(*ca));
	blob = tr_malloc(max);
	if (ca == NULL || blob == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (tr_base64_decode(blob, max, &blen, sealed_key,
	    strlen(sealed_key)) < 0 ||
	    tr_keystore_open_root(ks, CA_LABEL, blob, blen, &der) < 0) {
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "the instance CA key does not open under this root key");
		goto out;
	}
	p = der->ptr;
	ca->key = d2i_AutoPrivateKey(NULL, &p, (long)der->len);
	bio = BIO_new_mem_buf(cert_pem, -1);
	ca->cert = bio == NULL ? NULL : PEM_read_bio_X509(bio, NULL, NULL,
	    NULL);
	ca->cert_pem = tr_strdup(cert_pem);
	if (ca->key == NULL || ca->cert == NULL || ca->cert_pem == NULL) {
		rc = tr_error_set(TRESOR_EINTERNAL, "the instance CA is damaged");
		goto out;
	}
	*out = ca;
	ca = NULL;
	rc = 0;
out:
	BIO_free(bio);
	tr_secret_free(der);
	tr_free(blob);
	tr_ca_free(ca);
	return rc;
}

int
tr_ca_issue(struct tr_ca *ca, const char *tenancy, const char *compartment,
    const char *instance_id, int days, char **cert_pem_out,
    struct tr_secret **key_pem_out)
{
	char ou[400];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIO *bio = NULL;
	char *data;
	long len;
	int rc = TRESOR_EINTERNAL;

	*cert_pem_out = NULL;
	*key_pem_out = NULL;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	x = X509_new();
	if (key == NULL || x == NULL || X509_set_version(x, 2) != 1 ||
	    set_serial(x) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ==
	    NULL || X509_set_pubkey(x, key) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1)
		goto fail;
	/*
	 * OCIDs are longer than X.520's 64-character bounds, as in OCI's own
	 * instance certificates: UTF8String entries set directly (a
	 * non-MBSTRING type) skip OpenSSL's bound table.
	 */
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING,
	    (const unsigned char *)instance_id, -1, -1, 0) != 1)
		goto fail;
	(void)snprintf(ou, sizeof(ou), "opc-certtype:instance");
	if (X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
	    (const unsigned char *)ou, -1, -1, 0) != 1)
		goto fail;
	(void)snprintf(ou, sizeof(ou), "opc-compartment:%s", compartment);
	if (X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
	    (const unsigned char *)ou, -1, -1, 0) != 1)
		goto fail;
	(void)snprintf(ou, sizeof(ou), "opc-instance:%s", instance_id);
	if (X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
	    (const unsigned char *)ou, -1, -1, 0) != 1)
		goto fail;
	(void)snprintf(ou, sizeof(ou), "opc-tenant:%s", tenancy);
	if (X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
	    (const unsigned char *)ou, -1, -1, 0) != 1)
		goto fail;
	if (add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") <
	    0 || add_ext(x, ca->cert, NID_key_usage,
	    "critical,digitalSignature") < 0 ||
	    X509_sign(x, ca->key, EVP_sha256()) <= 0)
		goto fail;
	*cert_pem_out = pem_of_cert(x);
	bio = BIO_new(BIO_s_mem());
	if (*cert_pem_out == NULL || bio == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
		goto fail;
	len = BIO_get_mem_data(bio, &data);
	if ((rc = tr_secret_from(key_pem_out, data, (size_t)len)) < 0)
		goto out;
	rc = 0;
	goto out;
fail:
	rc = tr_error_set(TRESOR_EINTERNAL, "certificate issuance failed");
out:
	if (rc < 0) {
		TR_FREE_AND_NULL(*cert_pem_out);
	}
	if (bio != NULL) {
		/* the private key PEM passed through this buffer */
		(void)BIO_set_close(bio, BIO_CLOSE);
		len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			OPENSSL_cleanse(data, (size_t)len);
		BIO_free(bio);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int
tr_ca_verify_leaf(const struct tr_ca *ca, X509 *leaf, int64_t now_sec)
{
	EVP_PKEY *capub = X509_get0_pubkey(ca->cert);
	time_t now = (time_t)now_sec;

	if (X509_NAME_cmp(X509_get_issuer_name(leaf),
	    X509_get_subject_name(ca->cert)) != 0 ||
	    X509_verify(leaf, capub) != 1)
		return tr_error_set(TRESOR_EAUTH,
		    "the instance certificate was not issued by this tresor");
	if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(leaf), &now) < 0)
		return tr_error_set(TRESOR_EAUTH,
		    "the instance certificate is not valid now (expired or not"
		    " yet valid)");
	return 0;
}

int
tr_ca_subject_value(X509 *cert, const char *prefix, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(cert);
	size_t plen = strlen(prefix);
	int i, n = X509_NAME_entry_count(name);

	for (i = 0; i < n; i++) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(name, i));
		const unsigned char *d = ASN1_STRING_get0_data(s);
		size_t len = (size_t)ASN1_STRING_length(s);

		if (len > plen && memcmp(d, prefix, plen) == 0 &&
		    len - plen < cap && memchr(d, '\0', len) == NULL) {
			memcpy(out, d + plen, len - plen);
			out[len - plen] = '\0';
			return 0;
		}
	}
	return TRESOR_ENOTFOUND;
}
