/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresor's certificate authority for instance principals.
 *
 * An enrolled instance receives a leaf certificate and key from this CA
 * (served to it through its instance-metadata capability URL); with them
 * it signs OCI's X.509 federation request, and tresor exchanges the
 * certificate for a session token.  The CA key is sealed under the root
 * key; the daemon keeps it in the store, so every node sharing the root
 * key and the store is the same CA.
 */
#ifndef TR_CRYPTO_X509CA_H
#define TR_CRYPTO_X509CA_H

#include <stdint.h>

#include <openssl/x509.h>

#include "crypto/keystore.h"
#include "util/secret.h"

struct tr_ca;

/*
 * Create a CA (EC P-256 key, self-signed certificate for ten years).
 * *sealed_key_out receives the key sealed under the root key, base64
 * (caller frees with tr_free); tr_ca_cert_pem() gives the certificate.
 */
int tr_ca_create(struct tr_ca **out, struct tr_keystore *ks,
    char **sealed_key_out);

/* Open a CA from its certificate and sealed key. */
int tr_ca_open(struct tr_ca **out, struct tr_keystore *ks, const char *cert_pem,
    const char *sealed_key);
void tr_ca_free(struct tr_ca *ca);

/* The CA certificate in PEM (borrowed, lives as long as the CA). */
const char *tr_ca_cert_pem(const struct tr_ca *ca);

/*
 * Issue a leaf certificate for instance `instance_id` of `tenancy` in
 * `compartment`, valid `days` days, with a fresh RSA-2048 key.  The
 * subject carries OCI's attributes (OU=opc-tenant:<tenancy>,
 * OU=opc-instance:<id>, OU=opc-compartment:<id>, OU=opc-certtype:instance).
 * Both PEM texts are new: the certificate with tr_malloc, the private key
 * in a secret.
 */
int tr_ca_issue(struct tr_ca *ca, const char *tenancy, const char *compartment,
    const char *instance_id, int days, char **cert_pem_out,
    struct tr_secret **key_pem_out);

/*
 * Check that `leaf` was issued by this CA and is valid at `now_sec`.
 * TRESOR_EAUTH with the reason otherwise.
 */
int tr_ca_verify_leaf(const struct tr_ca *ca, X509 *leaf, int64_t now_sec);

/*
 * The value after "<prefix>" in the first subject component that holds
 * it (e.g. prefix "opc-tenant:"), into `out`.  TRESOR_ENOTFOUND if none.
 */
int tr_ca_subject_value(X509 *cert, const char *prefix, char *out,
    size_t cap);

#endif /* TR_CRYPTO_X509CA_H */
