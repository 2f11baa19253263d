/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Session tokens (see token.h).  Workload identity arrives with the IAM
 * issue; until then every token is refused with a clear reason.
 */
#include "auth/token.h"
#include "util/alloc.h"
#include "util/error.h"

struct tr_token_issuer {
	struct tr_keystore *ks;
	int64_t ttl_sec;
};

int
tr_token_issuer_new(struct tr_token_issuer **out, struct tr_keystore *ks,
    int64_t ttl_sec)
{
	*out = tr_calloc(1, sizeof(**out));
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	(*out)->ks = ks;
	(*out)->ttl_sec = ttl_sec;
	return 0;
}

void
tr_token_issuer_free(struct tr_token_issuer *iss)
{
	tr_free(iss);
}

int
tr_token_verify(struct tr_token_issuer *iss, struct tr_store *st,
    const char *token, size_t len, struct tr_principal *out,
    EVP_PKEY **session_key_out)
{
	*session_key_out = NULL;
	return tr_error_set(TRESOR_EAUTH,
	    "session tokens (workload identity) are not enabled on this "
	    "server");
}
