/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The resource-principal session-token flow (docs/api/tresor-v1.md):
 * a workload enrolled with an enrollment key asks tresord for a
 * short-lived session token bound to a fresh session key, and stores the
 * pair where the resource-principal 2.2 environment points
 * (OCI_RESOURCE_PRINCIPAL_RPST, OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM).
 */
#ifndef TRESOR_WORKLOAD_H
#define TRESOR_WORKLOAD_H

#include <stdint.h>

#include "tresor/client.h"
#include "tresor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Request a resource-principal session token.  `c` must sign with the
 * workload's enrollment key (a profile whose user is the workload OCID).
 * A new RSA-2048 session key is generated; the token and the key are
 * written with tresor_secret_write_file() (mode 0600).
 * @param ttl_seconds requested lifetime (0: the server's default)
 * @param expires_at_ms receives the expiry (may be NULL)
 * @return 0 or an error of tresor_client_call() or the file writer
 */
TRESOR_EXTERN int tresor_rp_token_request(tresor_client *c,
    unsigned int ttl_seconds, const char *token_path,
    const char *private_key_path, int64_t *expires_at_ms);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_WORKLOAD_H */
