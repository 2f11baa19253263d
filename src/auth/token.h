/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Session tokens for workloads (resource and instance principals): a JWT
 * issued by tresor, bound to the workload's session public key, verified
 * on every request signed with keyId "ST$<token>".
 */
#ifndef TR_AUTH_TOKEN_H
#define TR_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "iam/iam.h"
#include "store/store.h"

struct tr_keystore;
struct tr_token_issuer;

/*
 * An issuer signing with a key derived from the root key; tokens live
 * `ttl_sec` seconds by default.
 */
int tr_token_issuer_new(struct tr_token_issuer **out, struct tr_keystore *ks,
    int64_t ttl_sec);
void tr_token_issuer_free(struct tr_token_issuer *iss);

/* The default lifetime of tokens, seconds. */
int64_t tr_token_issuer_ttl(const struct tr_token_issuer *iss);

/*
 * Issue a token for workload principal `p` bound to `session_key` (an
 * RSA public key), living `ttl_sec` seconds (0: the default).  The token
 * text is a new string (caller frees with tr_free); *exp_out (if not
 * NULL) receives its expiry, seconds since the epoch.
 */
int tr_token_issue(struct tr_token_issuer *iss, const struct tr_principal *p,
    EVP_PKEY *session_key, int64_t ttl_sec, char **token_out,
    int64_t *exp_out);

/*
 * Verify `token` (the part after "ST$"): signature, expiry, and that the
 * workload it names is still enrolled and active.  Fills the principal
 * and hands over the session public key (caller frees with
 * EVP_PKEY_free).  TRESOR_EAUTH with the reason on failure.
 */
int tr_token_verify(struct tr_token_issuer *iss, struct tr_store *st,
    const char *token, size_t len, struct tr_principal *out,
    EVP_PKEY **session_key_out);

#endif /* TR_AUTH_TOKEN_H */
