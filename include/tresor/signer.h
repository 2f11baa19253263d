/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI request signing (draft-cavage HTTP signatures exactly as the OCI
 * SDKs produce them, ../shared/spec/oci-wire.md section 1): rsa-sha256
 * over "x-date (request-target) host", plus "Content-Type Content-Length
 * x-content-sha256" for POST, PUT and PATCH.
 *
 * The signer is public so that a load generator can pre-sign requests:
 * tresor_sign() returns the four headers to send (and Content-Type for
 * body methods).  A signer is safe to use from several threads.
 */
#ifndef TRESOR_SIGNER_H
#define TRESOR_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "tresor/common.h"
#include "tresor/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A signing identity: key id and private key (opaque). */
typedef struct tresor_signer tresor_signer;

/** The headers a signed request carries.  Dispose after use. */
typedef struct {
	char *authorization;	 /**< "Signature version=\"1\",keyId=..." */
	char x_date[40];	 /**< RFC 7231 date: x-date and date */
	char x_content_sha256[48]; /**< base64 SHA-256 of the body; "" for
					GET, DELETE and HEAD */
	char content_length[24]; /**< decimal body length; "" when unsigned */
	const char *content_type; /**< "application/json"; always send it */
} tresor_signed_headers;

/**
 * A signer for the configuration's authentication: API key (the key
 * file is read now and refused when group or others may read it),
 * resource principal 2.2 or security token.
 * @param out receives the signer; free with tresor_signer_free()
 * @return 0, TRESOR_EPERM (unsafe key file mode or owner),
 *         TRESOR_ENOTFOUND (no key file), TRESOR_EINVAL (not an RSA
 *         private key, wrong pass phrase), TRESOR_EIO, TRESOR_ENOMEM
 */
TRESOR_EXTERN int tresor_signer_new(tresor_signer **out,
    const tresor_config *cfg);

/**
 * A signer from explicit material.
 * @param key_id "<tenancy>/<user>/<fingerprint>" or "ST$<token>"
 * @param pem an RSA private key in PEM (PKCS#1 or PKCS#8), copied
 * @param passphrase NULL when the key is not encrypted
 */
TRESOR_EXTERN int tresor_signer_new_from_pem(tresor_signer **out,
    const char *key_id, const char *pem, size_t pem_len,
    const char *passphrase);

/**
 * The OCI fingerprint of the signer's public key: MD5 over its DER
 * SubjectPublicKeyInfo, 16 lowercase hex pairs joined by ':' (what
 * UploadApiKey answers and the profile's fingerprint must be).
 * @param out 48 bytes, NUL-terminated
 * @return 0 or TRESOR_EINTERNAL
 */
TRESOR_EXTERN int tresor_signer_fingerprint(tresor_signer *s, char *out);

/** Free a signer; NULL is fine.  Key material is zeroed. */
TRESOR_EXTERN void tresor_signer_free(tresor_signer *s);

/**
 * Sign a request at the current time.
 * @param out receives the headers; tresor_signed_headers_dispose() them
 * @param method "GET", "POST", "PUT", "DELETE", ... (case-insensitive)
 * @param host the Host header: host[:port], port omitted when default
 * @param target the request-target exactly as sent: path[?query]
 * @param body the body bytes (NULL with body_len 0 for none)
 * @return 0, TRESOR_EINVAL, TRESOR_EAUTH (an expired or unreadable
 *         session token), TRESOR_ENOMEM or TRESOR_EINTERNAL
 */
TRESOR_EXTERN int tresor_sign(tresor_signed_headers *out, tresor_signer *s,
    const char *method, const char *host, const char *target,
    const void *body, size_t body_len);

/** Like tresor_sign() at `unix_seconds` (pre-signing, tests). */
TRESOR_EXTERN int tresor_sign_at(tresor_signed_headers *out,
    tresor_signer *s, const char *method, const char *host,
    const char *target, const void *body, size_t body_len,
    int64_t unix_seconds);

/** Free the contents of `h` (zeroing the authorization); NULL is fine. */
TRESOR_EXTERN void tresor_signed_headers_dispose(tresor_signed_headers *h);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_SIGNER_H */
