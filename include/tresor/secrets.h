/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret bundles: GetSecretBundle and GetSecretBundleByName, with the
 * content decoded into memory that is zeroed when the bundle is freed.
 */
#ifndef TRESOR_SECRETS_H
#define TRESOR_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tresor/client.h"
#include "tresor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A secret bundle: one version's metadata and content (opaque). */
typedef struct tresor_secret_bundle tresor_secret_bundle;

/**
 * Which bundle to read: by secret OCID, or by vault OCID and secret
 * name; then by stage, version number or version name (none: CURRENT).
 */
typedef struct {
	unsigned int version;	  /**< TRESOR_BUNDLE_SELECTOR_VERSION */
	const char *secret_id;	  /**< or NULL with vault_id and
				       secret_name */
	const char *vault_id;
	const char *secret_name;
	const char *stage;	  /**< CURRENT, PENDING, LATEST, PREVIOUS,
				       DEPRECATED or NULL */
	uint64_t version_number;  /**< 0: not given */
	const char *version_name; /**< NULL: not given */
} tresor_bundle_selector;

#define TRESOR_BUNDLE_SELECTOR_VERSION 1
#define TRESOR_BUNDLE_SELECTOR_INIT \
	{ TRESOR_BUNDLE_SELECTOR_VERSION, NULL, NULL, NULL, NULL, 0, NULL }

/**
 * Read a bundle from the service.
 * @param out receives the bundle; free with tresor_secret_bundle_free()
 * @return 0 or an error of tresor_client_call(); TRESOR_EINVAL for a
 *         selector naming neither a secret nor a vault and name, or a
 *         malformed answer
 */
TRESOR_EXTERN int tresor_secret_bundle_get(tresor_secret_bundle **out,
    tresor_client *c, const tresor_bundle_selector *sel);

/** The secret's OCID (borrowed). */
TRESOR_EXTERN const char *tresor_secret_bundle_secret_id(
    const tresor_secret_bundle *b);

/** The version number. */
TRESOR_EXTERN uint64_t tresor_secret_bundle_version(
    const tresor_secret_bundle *b);

/** The version name, or NULL. */
TRESOR_EXTERN const char *tresor_secret_bundle_version_name(
    const tresor_secret_bundle *b);

/** True when the version carries `stage` ("CURRENT", ...). */
TRESOR_EXTERN bool tresor_secret_bundle_has_stage(
    const tresor_secret_bundle *b, const char *stage);

/** When the version expires (ms since the epoch), 0 when it does not. */
TRESOR_EXTERN int64_t tresor_secret_bundle_time_of_expiry(
    const tresor_secret_bundle *b);

/**
 * The decoded content, borrowed: valid until the bundle is freed.
 * Never log it.
 */
TRESOR_EXTERN const unsigned char *tresor_secret_bundle_content(
    const tresor_secret_bundle *b, size_t *len);

/** A copy of `b` (content included) for another owner. */
TRESOR_EXTERN int tresor_secret_bundle_dup(tresor_secret_bundle **out,
    const tresor_secret_bundle *b);

/** Free a bundle, zeroing its content; NULL is fine. */
TRESOR_EXTERN void tresor_secret_bundle_free(tresor_secret_bundle *b);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_SECRETS_H */
