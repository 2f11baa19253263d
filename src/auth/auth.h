/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request authentication: from a signed request to a principal.
 *
 * keyId forms (spec oci-wire.md 1.2): "<tenancy>/<user>/<fingerprint>"
 * for API keys, "ST$<token>" for session tokens.  A struct tr_auth is
 * per thread: it caches parsed public keys and drops them whenever the
 * store's IAM generation moves (a key or user was deleted or changed).
 */
#ifndef TR_AUTH_AUTH_H
#define TR_AUTH_AUTH_H

#include <openssl/evp.h>

#include "iam/iam.h"
#include "store/store.h"
#include "util/request.h"

struct tr_auth;
struct tr_token_issuer;

int tr_auth_new(struct tr_auth **out);
void tr_auth_free(struct tr_auth *a);

/*
 * Let session tokens ("ST$...") be verified with `issuer` (borrowed; may
 * be NULL, then tokens are refused).
 */
void tr_auth_set_token_issuer(struct tr_auth *a,
    struct tr_token_issuer *issuer);

/*
 * Authenticate `req` against the store.  Returns 0 and fills `out`, or
 * TRESOR_EAUTH with the failed check in tresor_error_last(), or another
 * code for an internal failure (store unavailable...).
 */
int tr_auth_request(struct tr_auth *a, struct tr_store *st,
    const struct tr_request *req, struct tr_principal *out);

/* Parse a PEM public key (RSA, at least 2048 bits) for an API key. */
int tr_auth_parse_public_key(EVP_PKEY **out, const char *pem, size_t len);

#endif /* TR_AUTH_AUTH_H */
