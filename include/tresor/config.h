/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration of a libtresor client: an OCI config file profile
 * (~/.oci/config layout: user, fingerprint, key_file, tenancy, region,
 * pass_phrase, security_token_file, plus tresor's endpoint), overridden
 * by environment variables, or the resource-principal 2.2 environment
 * (OCI_RESOURCE_PRINCIPAL_VERSION, OCI_RESOURCE_PRINCIPAL_RPST,
 * OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM) as the OCI SDKs read it.
 *
 * Precedence, highest first: the options struct, the environment
 * (TRESOR_* then OCI_CLI_*), the profile, the DEFAULT section of the
 * file.  docs/cli.md lists every variable.
 */
#ifndef TRESOR_CONFIG_H
#define TRESOR_CONFIG_H

#include <stdbool.h>

#include "tresor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A loaded configuration (opaque). */
typedef struct tresor_config tresor_config;

/** How requests are authenticated. */
typedef enum {
	TRESOR_AUTH_DEFAULT = 0,	/**< $OCI_CLI_AUTH, else API key */
	TRESOR_AUTH_API_KEY = 1,	/**< user + API key of the profile */
	TRESOR_AUTH_RESOURCE_PRINCIPAL = 2, /**< RP 2.2 environment */
	TRESOR_AUTH_SECURITY_TOKEN = 3	/**< security_token_file */
} tresor_auth_kind;

/** Options of tresor_config_load(); initialise with the macro below. */
typedef struct {
	unsigned int version;	/**< TRESOR_CONFIG_OPTIONS_VERSION */
	const char *config_file; /**< NULL: $TRESOR_CONFIG_FILE,
				      $OCI_CLI_CONFIG_FILE, ~/.oci/config */
	const char *profile;	/**< NULL: $TRESOR_PROFILE,
				      $OCI_CLI_PROFILE, "DEFAULT" */
	const char *endpoint;	/**< NULL: $TRESOR_ENDPOINT,
				      $OCI_CLI_ENDPOINT, the profile's */
	tresor_auth_kind auth;	/**< TRESOR_AUTH_DEFAULT: $OCI_CLI_AUTH */
	bool ignore_environment; /**< read no environment variable */
} tresor_config_options;

#define TRESOR_CONFIG_OPTIONS_VERSION 1
#define TRESOR_CONFIG_OPTIONS_INIT \
	{ TRESOR_CONFIG_OPTIONS_VERSION, NULL, NULL, NULL, \
	  TRESOR_AUTH_DEFAULT, false }

/**
 * Load a configuration.  The key file is not read here (the signer
 * reads it), but every required value is checked.
 * @param out receives the configuration; free with tresor_config_free()
 * @param opts options, or NULL for the defaults
 * @return 0; TRESOR_ENOTFOUND (no config file or profile),
 *         TRESOR_EINVAL (malformed file, missing value, bad environment),
 *         TRESOR_ETOOBIG (file or line past the limits), TRESOR_EIO,
 *         TRESOR_ENOMEM.  tresor_error_last() names the file, line and
 *         fix.
 */
TRESOR_EXTERN int tresor_config_load(tresor_config **out,
    const tresor_config_options *opts);

/**
 * A value of the configuration after overrides: "user", "tenancy",
 * "fingerprint", "key_file", "region", "endpoint",
 * "security_token_file", "profile", "config_file".  pass_phrase is never
 * returned.
 * @return a borrowed string, or NULL when unset
 */
TRESOR_EXTERN const char *tresor_config_get(const tresor_config *cfg,
    const char *name);

/**
 * Parse an authentication name as oci-cli spells it: "api_key",
 * "resource_principal" or "security_token".
 * @return 0 or TRESOR_EINVAL (the message lists the names)
 */
TRESOR_EXTERN int tresor_auth_parse(tresor_auth_kind *out,
    const char *name);

/** The authentication kind in effect (never TRESOR_AUTH_DEFAULT). */
TRESOR_EXTERN tresor_auth_kind tresor_config_auth(const tresor_config *cfg);

/** Free a configuration; NULL is fine.  Zeroes the pass phrase. */
TRESOR_EXTERN void tresor_config_free(tresor_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_CONFIG_H */
