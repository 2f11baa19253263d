/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command tree of `tresor`: oci-cli's command names and options for
 * every operation tresord serves (kms management vault|key|key-version,
 * kms crypto, vault secret|secret-version, secrets secret-bundle,
 * iam compartment|user|group|dynamic-group|policy|tenancy), tresor's own
 * (iam policy simulate|lint, iam workload, doctor, agent).
 *
 * Each leaf says where its options go; cli_run.c needs nothing else to
 * send it.  Commands whose behaviour is more than one request name a
 * `run` function (cli_custom.c, cli_doctor.c).
 */
#include <stddef.h>

#include "cli/cli_int.h"

#define END { NULL, PT_STRING, W_LOCAL, NULL, 0, NULL, NULL }

/* ---------------------------------------------------------------- */
/* shared options                                                   */
/* ---------------------------------------------------------------- */

#define IF_MATCH { "--if-match", PT_STRING, W_IF_MATCH, NULL, 0, NULL, \
	"For optimistic concurrency control: the etag from a previous GET " \
	"or POST of the resource; the change happens only if it still " \
	"matches." }
#define FORCE { "--force", PT_FLAG, W_LOCAL, "force", 0, NULL, \
	"Perform the update or deletion without prompting for " \
	"confirmation." }
#define FREEFORM { "--freeform-tags", PT_JSON, W_BODY, "freeformTags", 0, \
	NULL, "Free-form tags as JSON, e.g. '{\"Department\": " \
	"\"Finance\"}' (or file://path)." }
#define DEFINED { "--defined-tags", PT_JSON, W_BODY, "definedTags", 0, \
	NULL, "Defined tags as JSON, e.g. '{\"Operations\": " \
	"{\"CostCenter\": \"42\"}}' (or file://path)." }
#define LIMIT { "--limit", PT_INT, W_QUERY, "limit", 0, NULL, \
	"The maximum number of items to return." }
#define PAGE { "--page", PT_STRING, W_QUERY, "page", 0, NULL, \
	"The value of opc-next-page from the previous List call." }
#define ALL { "--all", PT_FLAG, W_LOCAL, "all", 0, NULL, \
	"Fetch all pages of results (not with --limit)." }
#define PAGE_SIZE { "--page-size", PT_INT, W_LOCAL, "page-size", 0, NULL, \
	"With --all or --limit: the number of items to fetch per call." }
#define SORT_BY(c) { "--sort-by", PT_CHOICE, W_QUERY, "sortBy", 0, c, \
	"The field to sort by." }
#define SORT_ORDER { "--sort-order", PT_CHOICE, W_QUERY, "sortOrder", 0, \
	"ASC|DESC", "The sort order to use." }
#define LIST(c) LIMIT, PAGE, SORT_BY(c), SORT_ORDER, ALL, PAGE_SIZE
#define WAIT(states) \
	{ "--wait-for-state", PT_CHOICE, W_LOCAL, "wait-for-state", P_MULTI, \
	  states, "Perform the action, then wait until the resource reaches " \
	  "this lifecycle state (may be given several times); exit code 2 " \
	  "on timeout." }, \
	{ "--max-wait-seconds", PT_INT, W_LOCAL, "max-wait-seconds", 0, \
	  NULL, "The longest wait for --wait-for-state (default 1200)." }, \
	{ "--wait-interval-seconds", PT_INT, W_LOCAL, \
	  "wait-interval-seconds", 0, NULL, \
	  "The interval of the --wait-for-state checks (default 30)." }
#define TOD(what) { "--time-of-deletion", PT_DATETIME, W_BODY, \
	"timeOfDeletion", 0, NULL, "When to delete the " what ", RFC 3339 " \
	"(e.g. 2030-01-02T03:04:05.000Z); default: the longest window." }

#define VAULT_STATES "CREATING|ACTIVE|DELETING|DELETED|PENDING_DELETION|" \
	"SCHEDULING_DELETION|CANCELLING_DELETION|UPDATING|" \
	"BACKUP_IN_PROGRESS|RESTORING"
#define KEY_STATES "CREATING|ENABLING|ENABLED|DISABLING|DISABLED|DELETING|" \
	"DELETED|PENDING_DELETION|SCHEDULING_DELETION|CANCELLING_DELETION|" \
	"UPDATING|BACKUP_IN_PROGRESS|RESTORING"
#define SECRET_STATES "CREATING|ACTIVE|UPDATING|DELETING|DELETED|" \
	"SCHEDULING_DELETION|PENDING_DELETION|CANCELLING_DELETION|FAILED"
#define ID_STATES "CREATING|ACTIVE|INACTIVE|DELETING|DELETED"
#define STAGES "CURRENT|PENDING|LATEST|PREVIOUS|DEPRECATED"

/* ---------------------------------------------------------------- */
/* kms management vault                                             */
/* ---------------------------------------------------------------- */

#define VAULT_ID { "--vault-id", PT_STRING, W_PATH, "vaultId", P_REQUIRED, \
	NULL, "The OCID of the vault." }

static const struct cli_param p_vault_create[] = {
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment where the vault is created." },
	{ "--display-name", PT_STRING, W_BODY, "displayName", P_REQUIRED,
	    NULL, "A user-friendly name for the vault." },
	{ "--vault-type", PT_CHOICE, W_BODY, "vaultType", P_REQUIRED,
	    "VIRTUAL_PRIVATE|DEFAULT|EXTERNAL", "The type of vault." },
	DEFINED, FREEFORM,
	{ "--external-key-manager-metadata", PT_JSON, W_BODY,
	    "externalKeyManagerMetadata", 0, NULL,
	    "Metadata of an external key manager (JSON)." },
	WAIT(VAULT_STATES), END
};
static const struct cli_param p_vault_id[] = { VAULT_ID, END };
static const struct cli_param p_vault_list[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId",
	    P_REQUIRED, NULL, "The OCID of the compartment." },
	LIST("TIMECREATED|DISPLAYNAME"), END
};
static const struct cli_param p_vault_update[] = {
	VAULT_ID, DEFINED,
	{ "--display-name", PT_STRING, W_BODY, "displayName", 0, NULL,
	    "A user-friendly name for the vault." },
	FREEFORM, IF_MATCH, FORCE, WAIT(VAULT_STATES), END
};
static const struct cli_param p_vault_sched[] = {
	VAULT_ID, TOD("vault (7 to 30 days ahead)"), IF_MATCH,
	WAIT(VAULT_STATES), END
};
static const struct cli_param p_vault_cancel[] = {
	VAULT_ID, IF_MATCH, WAIT(VAULT_STATES), END
};

/* ---------------------------------------------------------------- */
/* kms management key / key-version                                 */
/* ---------------------------------------------------------------- */

#define KEY_ID_PATH { "--key-id", PT_STRING, W_PATH, "keyId", P_REQUIRED, \
	NULL, "The OCID of the key." }
#define KEY_SHAPE { "--key-shape", PT_JSON, W_BODY, "keyShape", P_REQUIRED, \
	NULL, "The key's algorithm and length in bytes, as JSON: " \
	"'{\"algorithm\": \"AES\", \"length\": 32}'." }

static const struct cli_param p_key_create[] = {
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment of the key." },
	{ "--display-name", PT_STRING, W_BODY, "displayName", P_REQUIRED,
	    NULL, "A user-friendly name for the key." },
	KEY_SHAPE, DEFINED, FREEFORM,
	{ "--is-auto-rotation-enabled", PT_BOOL, W_BODY,
	    "isAutoRotationEnabled", 0, NULL,
	    "Whether the key is rotated automatically." },
	{ "--auto-key-rotation-details", PT_JSON, W_BODY,
	    "autoKeyRotationDetails", 0, NULL,
	    "The automatic rotation schedule (JSON)." },
	{ "--protection-mode", PT_CHOICE, W_BODY, "protectionMode", 0,
	    "HSM|SOFTWARE|EXTERNAL",
	    "Where the key's operations run (default HSM)." },
	{ "--external-key-reference", PT_JSON, W_BODY, "externalKeyReference",
	    0, NULL, "A reference to an external key (JSON)." },
	WAIT(KEY_STATES), END
};
static const struct cli_param p_key_id[] = { KEY_ID_PATH, END };
static const struct cli_param p_key_list[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId",
	    P_REQUIRED, NULL, "The OCID of the compartment." },
	LIMIT, PAGE, SORT_BY("TIMECREATED|DISPLAYNAME"), SORT_ORDER,
	{ "--protection-mode", PT_CHOICE, W_QUERY, "protectionMode", 0,
	    "HSM|SOFTWARE|EXTERNAL", "Only keys of this protection mode." },
	{ "--algorithm", PT_CHOICE, W_QUERY, "algorithm", 0, "AES|RSA|ECDSA",
	    "Only keys of this algorithm." },
	{ "--length", PT_INT, W_QUERY, "length", 0, NULL,
	    "Only keys of this length in bytes." },
	{ "--curve-id", PT_CHOICE, W_QUERY, "curveId", 0,
	    "NIST_P256|NIST_P384|NIST_P521", "Only ECDSA keys of this curve." },
	ALL, PAGE_SIZE, END
};
static const struct cli_param p_key_update[] = {
	KEY_ID_PATH,
	{ "--is-auto-rotation-enabled", PT_BOOL, W_BODY,
	    "isAutoRotationEnabled", 0, NULL,
	    "Whether the key is rotated automatically." },
	{ "--auto-key-rotation-details", PT_JSON, W_BODY,
	    "autoKeyRotationDetails", 0, NULL,
	    "The automatic rotation schedule (JSON)." },
	DEFINED,
	{ "--display-name", PT_STRING, W_BODY, "displayName", 0, NULL,
	    "A user-friendly name for the key." },
	FREEFORM, IF_MATCH, FORCE, WAIT(KEY_STATES), END
};
static const struct cli_param p_key_action[] = {
	KEY_ID_PATH, IF_MATCH, WAIT(KEY_STATES), END
};
static const struct cli_param p_key_sched[] = {
	KEY_ID_PATH, TOD("key (7 to 30 days ahead)"), IF_MATCH,
	WAIT(KEY_STATES), END
};
static const struct cli_param p_keyver_create[] = {
	KEY_ID_PATH,
	{ "--external-key-version-id", PT_STRING, W_BODY,
	    "externalKeyVersionId", 0, NULL,
	    "The version of an external key (EXTERNAL keys only)." },
	END
};
static const struct cli_param p_keyver_get[] = {
	KEY_ID_PATH,
	{ "--key-version-id", PT_STRING, W_PATH, "keyVersionId", P_REQUIRED,
	    NULL, "The OCID of the key version." },
	END
};
static const struct cli_param p_keyver_list[] = {
	KEY_ID_PATH, LIST("TIMECREATED|DISPLAYNAME"), END
};

/* ---------------------------------------------------------------- */
/* kms crypto                                                       */
/* ---------------------------------------------------------------- */

#define AAD { "--associated-data", PT_JSON, W_BODY, "associatedData", 0, \
	NULL, "Associated data as a JSON map of strings; the same map must " \
	"be given to decrypt." }
#define LOGCTX { "--logging-context", PT_JSON, W_BODY, "loggingContext", 0, \
	NULL, "Information to log with the operation (JSON map)." }
#define KEY_ID_BODY { "--key-id", PT_STRING, W_BODY, "keyId", P_REQUIRED, \
	NULL, "The OCID of the key." }
#define ENC_ALG { "--encryption-algorithm", PT_CHOICE, W_BODY, \
	"encryptionAlgorithm", 0, \
	"AES_256_GCM|RSA_OAEP_SHA_1|RSA_OAEP_SHA_256", \
	"The encryption algorithm (AES keys: AES_256_GCM)." }
#define KEYVER_BODY { "--key-version-id", PT_STRING, W_BODY, "keyVersionId", \
	0, NULL, "The OCID of the key version (default: the current one)." }

static const struct cli_param p_encrypt[] = {
	KEY_ID_BODY,
	{ "--plaintext", PT_STRING, W_BODY, "plaintext", P_REQUIRED, NULL,
	    "The plaintext, base64-encoded." },
	AAD, LOGCTX, KEYVER_BODY, ENC_ALG, END
};
static const struct cli_param p_decrypt[] = {
	{ "--ciphertext", PT_STRING, W_BODY, "ciphertext", P_REQUIRED, NULL,
	    "The ciphertext returned by encrypt." },
	KEY_ID_BODY, AAD, LOGCTX, KEYVER_BODY, ENC_ALG, END
};
static const struct cli_param p_gen_dek[] = {
	{ "--include-plaintext-key", PT_BOOL, W_BODY, "includePlaintextKey",
	    P_REQUIRED, NULL,
	    "Whether the answer includes the plaintext key (true/false)." },
	KEY_ID_BODY,
	{ "--key-shape", PT_JSON, W_BODY, "keyShape", P_REQUIRED, NULL,
	    "The data key's shape, e.g. '{\"algorithm\": \"AES\", "
	    "\"length\": 32}'." },
	AAD, LOGCTX, END
};

#define SIGN_ALGS "SHA_224_RSA_PKCS_PSS|SHA_256_RSA_PKCS_PSS|" \
	"SHA_384_RSA_PKCS_PSS|SHA_512_RSA_PKCS_PSS|SHA_224_RSA_PKCS1_V1_5|" \
	"SHA_256_RSA_PKCS1_V1_5|SHA_384_RSA_PKCS1_V1_5|" \
	"SHA_512_RSA_PKCS1_V1_5|ECDSA_SHA_256|ECDSA_SHA_384|ECDSA_SHA_512"
#define MESSAGE_TYPE { "--message-type", PT_CHOICE, W_BODY, "messageType", \
	0, "RAW|DIGEST", "Whether --message is the message (RAW, the " \
	"default) or its digest." }

static const struct cli_param p_sign[] = {
	{ "--message", PT_STRING, W_BODY, "message", P_REQUIRED, NULL,
	    "The message or its digest, base64-encoded." },
	KEY_ID_BODY,
	{ "--signing-algorithm", PT_CHOICE, W_BODY, "signingAlgorithm",
	    P_REQUIRED, SIGN_ALGS, "The signing algorithm." },
	KEYVER_BODY, MESSAGE_TYPE, LOGCTX, END
};
static const struct cli_param p_verify[] = {
	KEY_ID_BODY,
	{ "--key-version-id", PT_STRING, W_BODY, "keyVersionId", P_REQUIRED,
	    NULL, "The OCID of the key version that signed." },
	{ "--signature", PT_STRING, W_BODY, "signature", P_REQUIRED, NULL,
	    "The signature, base64-encoded." },
	{ "--message", PT_STRING, W_BODY, "message", P_REQUIRED, NULL,
	    "The message or its digest, base64-encoded." },
	{ "--signing-algorithm", PT_CHOICE, W_BODY, "signingAlgorithm",
	    P_REQUIRED, SIGN_ALGS, "The signing algorithm." },
	MESSAGE_TYPE, END
};

/* ---------------------------------------------------------------- */
/* vault secret / secret-version                                    */
/* ---------------------------------------------------------------- */

#define SECRET_ID { "--secret-id", PT_STRING, W_PATH, "secretId", P_REQUIRED, \
	NULL, "The OCID of the secret." }
#define METADATA { "--metadata", PT_JSON, W_BODY, "metadata", 0, NULL, \
	"Additional metadata as a JSON object." }
#define RULES { "--secret-rules", PT_JSON, W_BODY, "secretRules", 0, NULL, \
	"Secret rules as a JSON array, e.g. '[{\"ruleType\": " \
	"\"SECRET_EXPIRY_RULE\", \"secretVersionExpiryInterval\": " \
	"\"P30D\"}]'." }
#define ROTATION { "--rotation-config", PT_JSON, W_BODY, "rotationConfig", 0, \
	NULL, "The rotation configuration (JSON)." }
#define REPLICATION { "--replication-config", PT_JSON, W_BODY, \
	"replicationConfig", 0, NULL, "The replication configuration (JSON)." }
#define GENCTX { "--secret-generation-context", PT_JSON, W_BODY, \
	"secretGenerationContext", 0, NULL, \
	"How the secret is generated (JSON)." }
#define AUTOGEN { "--enable-auto-generation", PT_BOOL, W_BODY, \
	"enableAutoGeneration", 0, NULL, \
	"Whether the service generates the content." }
#define CONTENT_NAME { "--secret-content-name", PT_STRING, W_BODY, \
	"secretContent.name", 0, NULL, \
	"A name for the secret version, unique within the secret." }
#define CONTENT_STAGE { "--secret-content-stage", PT_CHOICE, W_BODY, \
	"secretContent.stage", 0, "CURRENT|PENDING", \
	"The stage of the new version (default CURRENT)." }
#define CONTENT { "--secret-content-content", PT_STRING, W_BODY, \
	"secretContent.content", 0, NULL, \
	"The content of the secret, base64-encoded." }
#define DESCRIPTION(w) { "--description", PT_STRING, W_BODY, "description", \
	0, NULL, "A brief description of the " w "." }

static const struct cli_param p_secret_create[] = {
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment of the secret." },
	{ "--key-id", PT_STRING, W_BODY, "keyId", P_REQUIRED, NULL,
	    "The OCID of the master encryption key that encrypts the secret."
	},
	{ "--secret-name", PT_STRING, W_BODY, "secretName", P_REQUIRED, NULL,
	    "A name for the secret, unique within the vault." },
	{ "--vault-id", PT_STRING, W_BODY, "vaultId", P_REQUIRED, NULL,
	    "The OCID of the vault of the secret." },
	DEFINED, DESCRIPTION("secret"), FREEFORM, METADATA, REPLICATION,
	ROTATION, RULES, GENCTX, AUTOGEN, CONTENT_NAME, CONTENT_STAGE,
	CONTENT, WAIT(SECRET_STATES), END
};
static const struct cli_param p_secret_update_b64[] = {
	SECRET_ID,
	{ "--current-version-number", PT_INT, W_BODY, "currentVersionNumber",
	    0, NULL, "Make this version CURRENT (a rollback)." },
	DEFINED, DESCRIPTION("secret"), FREEFORM, METADATA, REPLICATION,
	ROTATION, RULES, GENCTX, AUTOGEN, IF_MATCH, CONTENT_NAME,
	CONTENT_STAGE, CONTENT, FORCE, WAIT(SECRET_STATES), END
};
static const struct cli_param p_secret_update[] = {
	SECRET_ID,
	{ "--current-version-number", PT_INT, W_BODY, "currentVersionNumber",
	    0, NULL, "Make this version CURRENT (a rollback)." },
	DEFINED, DESCRIPTION("secret"), FREEFORM, METADATA,
	{ "--secret-content", PT_JSON, W_BODY, "secretContent", 0, NULL,
	    "The new content as JSON: '{\"contentType\": \"BASE64\", "
	    "\"content\": \"...\"}'." },
	REPLICATION, ROTATION, RULES, GENCTX, AUTOGEN, IF_MATCH, FORCE,
	WAIT(SECRET_STATES), END
};
static const struct cli_param p_secret_id[] = { SECRET_ID, END };
static const struct cli_param p_secret_list[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId",
	    P_REQUIRED, NULL, "The OCID of the compartment." },
	{ "--name", PT_STRING, W_QUERY, "name", 0, NULL,
	    "Only the secret of this name." },
	LIMIT, PAGE, SORT_BY("TIMECREATED|NAME"), SORT_ORDER,
	{ "--vault-id", PT_STRING, W_QUERY, "vaultId", 0, NULL,
	    "Only secrets of this vault." },
	{ "--lifecycle-state", PT_CHOICE, W_QUERY, "lifecycleState", 0,
	    SECRET_STATES, "Only secrets in this lifecycle state." },
	ALL, PAGE_SIZE, END
};
static const struct cli_param p_secret_versions[] = {
	SECRET_ID, LIST("VERSION_NUMBER"), END
};
static const struct cli_param p_secret_version_get[] = {
	SECRET_ID,
	{ "--secret-version-number", PT_INT, W_PATH, "secretVersionNumber",
	    P_REQUIRED, NULL, "The version number of the secret." },
	END
};
static const struct cli_param p_secret_sched[] = {
	SECRET_ID, TOD("secret (1 to 30 days ahead)"), IF_MATCH, END
};
static const struct cli_param p_secret_cancel[] = {
	SECRET_ID, IF_MATCH, END
};

static const struct cli_param p_secret_version_sched[] = {
	SECRET_ID,
	{ "--secret-version-number", PT_INT, W_PATH, "secretVersionNumber",
	    P_REQUIRED, NULL, "The version number of the secret." },
	TOD("secret version (1 to 30 days ahead)"), IF_MATCH, END
};
static const struct cli_param p_secret_version_cancel[] = {
	SECRET_ID,
	{ "--secret-version-number", PT_INT, W_PATH, "secretVersionNumber",
	    P_REQUIRED, NULL, "The version number of the secret." },
	IF_MATCH, END
};

/* ---------------------------------------------------------------- */
/* secrets secret-bundle                                            */
/* ---------------------------------------------------------------- */

#define BUNDLE_SELECT \
	{ "--version-number", PT_INT, W_QUERY, "versionNumber", 0, NULL, \
	  "The version number of the secret." }, \
	{ "--secret-version-name", PT_STRING, W_QUERY, "secretVersionName", \
	  0, NULL, "The name of the secret version." }, \
	{ "--stage", PT_CHOICE, W_QUERY, "stage", 0, STAGES, \
	  "The rotation stage of the version (default CURRENT)." }, \
	{ "--decode", PT_FLAG, W_LOCAL, "decode", 0, NULL, \
	  "tresor: print the decoded content itself (raw bytes, no JSON) " \
	  "instead of the bundle." }

static const struct cli_param p_bundle_get[] = {
	{ "--secret-id", PT_STRING, W_PATH, "secretId", P_REQUIRED, NULL,
	    "The OCID of the secret." },
	BUNDLE_SELECT, END
};
static const struct cli_param p_bundle_by_name[] = {
	{ "--secret-name", PT_STRING, W_QUERY, "secretName", P_REQUIRED, NULL,
	    "The name of the secret." },
	{ "--vault-id", PT_STRING, W_QUERY, "vaultId", P_REQUIRED, NULL,
	    "The OCID of the vault of the secret." },
	BUNDLE_SELECT, END
};

/* ---------------------------------------------------------------- */
/* iam                                                              */
/* ---------------------------------------------------------------- */

#define ID_LIST_HEAD \
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId", \
	  P_TENANCY, NULL, "The OCID of the tenancy (default: the " \
	  "profile's tenancy)." }, \
	PAGE, LIMIT
#define ID_LIST_TAIL \
	{ "--name", PT_STRING, W_QUERY, "name", 0, NULL, \
	  "Only the resource of this name." }, \
	SORT_BY("TIMECREATED|NAME"), SORT_ORDER, \
	{ "--lifecycle-state", PT_CHOICE, W_QUERY, "lifecycleState", 0, \
	  ID_STATES, "Only resources in this lifecycle state." }, \
	ALL, PAGE_SIZE, END

static const struct cli_param p_comp_create[] = {
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the parent compartment." },
	{ "--name", PT_STRING, W_BODY, "name", P_REQUIRED, NULL,
	    "The name of the compartment, unique within its parent." },
	{ "--description", PT_STRING, W_BODY, "description", P_REQUIRED,
	    NULL, "The description of the compartment." },
	FREEFORM, DEFINED, WAIT(ID_STATES), END
};
static const struct cli_param p_comp_id[] = {
	{ "--compartment-id", PT_STRING, W_PATH, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment." },
	END
};
static const struct cli_param p_comp_list[] = {
	ID_LIST_HEAD,
	{ "--access-level", PT_CHOICE, W_QUERY, "accessLevel", 0,
	    "ANY|ACCESSIBLE", "ANY, or only the ACCESSIBLE compartments." },
	{ "--compartment-id-in-subtree", PT_BOOL, W_QUERY,
	    "compartmentIdInSubtree", 0, NULL,
	    "Also list the compartments below the children." },
	ID_LIST_TAIL
};
static const struct cli_param p_comp_update[] = {
	{ "--compartment-id", PT_STRING, W_PATH, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment." },
	{ "--description", PT_STRING, W_BODY, "description", 0, NULL,
	    "The description of the compartment." },
	{ "--name", PT_STRING, W_BODY, "name", 0, NULL,
	    "The new name of the compartment." },
	FREEFORM, DEFINED, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_comp_delete[] = {
	{ "--compartment-id", PT_STRING, W_PATH, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment." },
	IF_MATCH, FORCE, WAIT(ID_STATES), END
};

#define TENANCY_BODY { "--compartment-id", PT_STRING, W_BODY, \
	"compartmentId", P_TENANCY, NULL, \
	"The OCID of the tenancy (default: the profile's tenancy)." }

static const struct cli_param p_user_create[] = {
	TENANCY_BODY,
	{ "--name", PT_STRING, W_BODY, "name", P_REQUIRED, NULL,
	    "The name of the user, unique in the tenancy." },
	{ "--description", PT_STRING, W_BODY, "description", P_REQUIRED, NULL,
	    "The description of the user." },
	{ "--email", PT_STRING, W_BODY, "email", 0, NULL,
	    "The email address of the user." },
	FREEFORM, DEFINED, WAIT(ID_STATES), END
};
#define USER_ID { "--user-id", PT_STRING, W_PATH, "userId", P_REQUIRED, NULL, \
	"The OCID of the user." }
static const struct cli_param p_user_id[] = { USER_ID, END };
static const struct cli_param p_user_list[] = {
	ID_LIST_HEAD,
	{ "--identity-provider-id", PT_STRING, W_QUERY, "identityProviderId",
	    0, NULL, "Only users of this identity provider." },
	{ "--external-identifier", PT_STRING, W_QUERY, "externalIdentifier",
	    0, NULL, "Only the user of this external identifier." },
	ID_LIST_TAIL
};
static const struct cli_param p_user_update[] = {
	USER_ID,
	{ "--description", PT_STRING, W_BODY, "description", 0, NULL,
	    "The description of the user." },
	{ "--email", PT_STRING, W_BODY, "email", 0, NULL,
	    "The email address of the user." },
	FREEFORM, DEFINED, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_user_delete[] = {
	USER_ID, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_user_list_groups[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId", P_TENANCY,
	    NULL, "The OCID of the tenancy (default: the profile's tenancy)."
	},
	{ "--user-id", PT_STRING, W_QUERY, "userId", P_REQUIRED, NULL,
	    "The OCID of the user." },
	PAGE, LIMIT, ALL, PAGE_SIZE, END
};
static const struct cli_param p_apikey_upload[] = {
	USER_ID,
	{ "--key", PT_STRING, W_LOCAL, "key", 0, NULL,
	    "The public key, RSA in PEM format (or use --key-file)." },
	{ "--key-file", PT_STRING, W_LOCAL, "key-file", 0, NULL,
	    "A file holding the public key, RSA in PEM format." },
	END
};
static const struct cli_param p_apikey_list[] = {
	USER_ID, ALL, END
};
static const struct cli_param p_apikey_delete[] = {
	USER_ID,
	{ "--fingerprint", PT_STRING, W_PATH, "fingerprint", P_REQUIRED, NULL,
	    "The key's fingerprint." },
	IF_MATCH, FORCE, END
};

static const struct cli_param p_group_create[] = {
	TENANCY_BODY,
	{ "--name", PT_STRING, W_BODY, "name", P_REQUIRED, NULL,
	    "The name of the group, unique in the tenancy." },
	{ "--description", PT_STRING, W_BODY, "description", P_REQUIRED, NULL,
	    "The description of the group." },
	FREEFORM, DEFINED, WAIT(ID_STATES), END
};
#define GROUP_ID { "--group-id", PT_STRING, W_PATH, "groupId", P_REQUIRED, \
	NULL, "The OCID of the group." }
static const struct cli_param p_group_id[] = { GROUP_ID, END };
static const struct cli_param p_group_list[] = { ID_LIST_HEAD, ID_LIST_TAIL };
static const struct cli_param p_group_update[] = {
	GROUP_ID,
	{ "--description", PT_STRING, W_BODY, "description", 0, NULL,
	    "The description of the group." },
	FREEFORM, DEFINED, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_group_delete[] = {
	GROUP_ID, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_group_add_user[] = {
	{ "--user-id", PT_STRING, W_BODY, "userId", P_REQUIRED, NULL,
	    "The OCID of the user." },
	{ "--group-id", PT_STRING, W_BODY, "groupId", P_REQUIRED, NULL,
	    "The OCID of the group." },
	END
};
static const struct cli_param p_group_remove_user[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId", P_TENANCY,
	    NULL, "The OCID of the tenancy (default: the profile's tenancy)."
	},
	{ "--user-id", PT_STRING, W_QUERY, "userId", P_REQUIRED, NULL,
	    "The OCID of the user." },
	{ "--group-id", PT_STRING, W_QUERY, "groupId", P_REQUIRED, NULL,
	    "The OCID of the group." },
	END
};
static const struct cli_param p_group_list_users[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId", P_TENANCY,
	    NULL, "The OCID of the tenancy (default: the profile's tenancy)."
	},
	{ "--group-id", PT_STRING, W_QUERY, "groupId", P_REQUIRED, NULL,
	    "The OCID of the group." },
	PAGE, LIMIT, ALL, PAGE_SIZE, END
};

static const struct cli_param p_dg_create[] = {
	TENANCY_BODY,
	{ "--name", PT_STRING, W_BODY, "name", P_REQUIRED, NULL,
	    "The name of the dynamic group, unique in the tenancy." },
	{ "--matching-rule", PT_STRING, W_BODY, "matchingRule", P_REQUIRED,
	    NULL, "The matching rule, e.g. \"ALL {resource.type = 'fnfunc'}\"."
	},
	{ "--description", PT_STRING, W_BODY, "description", P_REQUIRED, NULL,
	    "The description of the dynamic group." },
	FREEFORM, DEFINED, WAIT(ID_STATES), END
};
#define DG_ID { "--dynamic-group-id", PT_STRING, W_PATH, "dynamicGroupId", \
	P_REQUIRED, NULL, "The OCID of the dynamic group." }
static const struct cli_param p_dg_id[] = { DG_ID, END };
static const struct cli_param p_dg_list[] = { ID_LIST_HEAD, ID_LIST_TAIL };
static const struct cli_param p_dg_update[] = {
	DG_ID,
	{ "--description", PT_STRING, W_BODY, "description", 0, NULL,
	    "The description of the dynamic group." },
	{ "--matching-rule", PT_STRING, W_BODY, "matchingRule", 0, NULL,
	    "The matching rule." },
	FREEFORM, DEFINED, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_dg_delete[] = {
	DG_ID, IF_MATCH, FORCE, WAIT(ID_STATES), END
};

static const struct cli_param p_policy_create[] = {
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", P_REQUIRED,
	    NULL, "The OCID of the compartment the policy is attached to." },
	{ "--name", PT_STRING, W_BODY, "name", P_REQUIRED, NULL,
	    "The name of the policy, unique in the tenancy." },
	{ "--statements", PT_JSON, W_BODY, "statements", P_REQUIRED, NULL,
	    "The policy statements as a JSON array of strings: "
	    "'[\"Allow group A to read secret-family in tenancy\"]'." },
	{ "--description", PT_STRING, W_BODY, "description", P_REQUIRED, NULL,
	    "The description of the policy." },
	{ "--version-date", PT_STRING, W_BODY, "versionDate", 0, NULL,
	    "Evaluate the policy as the services behaved on this date "
	    "(YYYY-MM-DD)." },
	FREEFORM, DEFINED, WAIT(ID_STATES), END
};
#define POLICY_ID { "--policy-id", PT_STRING, W_PATH, "policyId", P_REQUIRED, \
	NULL, "The OCID of the policy." }
static const struct cli_param p_policy_id[] = { POLICY_ID, END };
static const struct cli_param p_policy_list[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId",
	    P_REQUIRED, NULL, "The OCID of the compartment." },
	PAGE, LIMIT,
	{ "--name", PT_STRING, W_QUERY, "name", 0, NULL,
	    "Only the policy of this name." },
	SORT_BY("TIMECREATED|NAME"), SORT_ORDER,
	{ "--lifecycle-state", PT_CHOICE, W_QUERY, "lifecycleState", 0,
	    ID_STATES, "Only policies in this lifecycle state." },
	ALL, PAGE_SIZE, END
};
static const struct cli_param p_policy_update[] = {
	POLICY_ID,
	{ "--description", PT_STRING, W_BODY, "description", 0, NULL,
	    "The description of the policy." },
	{ "--statements", PT_JSON, W_BODY, "statements", 0, NULL,
	    "The policy statements as a JSON array of strings." },
	{ "--version-date", PT_STRING, W_BODY, "versionDate", 0, NULL,
	    "Evaluate the policy as the services behaved on this date." },
	FREEFORM, DEFINED, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_policy_delete[] = {
	POLICY_ID, IF_MATCH, FORCE, WAIT(ID_STATES), END
};
static const struct cli_param p_simulate[] = {
	{ "--operation", PT_STRING, W_BODY, "operation", P_REQUIRED, NULL,
	    "The OCI operation to simulate: GetSecretBundle, CreateSecret, "
	    "Encrypt, ..." },
	{ "--secret-id", PT_STRING, W_BODY, "target.secretId", 0, NULL,
	    "Target: the OCID of the secret." },
	{ "--secret-name", PT_STRING, W_BODY, "target.secretName", 0, NULL,
	    "Target: a secret name (with --vault-id)." },
	{ "--vault-id", PT_STRING, W_BODY, "target.vaultId", 0, NULL,
	    "Target: the OCID of the vault." },
	{ "--key-id", PT_STRING, W_BODY, "target.keyId", 0, NULL,
	    "Target: the OCID of the key." },
	{ "--compartment-id", PT_STRING, W_BODY, "target.compartmentId", 0,
	    NULL, "Target: the compartment (List and Create operations)." },
	{ "--user-id", PT_STRING, W_BODY, "principal.userId", 0, NULL,
	    "Simulate this user (default: yourself)." },
	{ "--user-name", PT_STRING, W_BODY, "principal.userName", 0, NULL,
	    "Simulate the user of this name." },
	{ "--workload-id", PT_STRING, W_BODY, "principal.workloadId", 0, NULL,
	    "Simulate this workload (resource or instance principal)." },
	END
};
static const struct cli_param p_lint[] = {
	{ "--statements", PT_JSON, W_BODY, "statements", 0, NULL,
	    "Policy statements as a JSON array of strings (or file://path)."
	},
	{ "--policy-id", PT_STRING, W_BODY, "policyId", 0, NULL,
	    "Lint an existing policy instead." },
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", 0, NULL,
	    "Where the statements would be attached (default the tenancy)." },
	END
};
static const struct cli_param p_tenancy_get[] = {
	{ "--tenancy-id", PT_STRING, W_PATH, "tenancyId", P_TENANCY, NULL,
	    "The OCID of the tenancy (default: the profile's tenancy)." },
	END
};

/* tresor's workloads (docs/api/tresor-v1.md) */
#define WORKLOAD_ID { "--workload-id", PT_STRING, W_PATH, "workloadId", \
	P_REQUIRED, NULL, "The OCID of the workload." }
static const struct cli_param p_wl_create[] = {
	{ "--compartment-id", PT_STRING, W_BODY, "compartmentId", P_REQUIRED,
	    NULL, "The compartment of the workload." },
	{ "--display-name", PT_STRING, W_BODY, "displayName", P_REQUIRED,
	    NULL, "A name for the workload." },
	{ "--kind", PT_CHOICE, W_BODY, "kind", P_REQUIRED, "RESOURCE|INSTANCE",
	    "RESOURCE (resource principal) or INSTANCE (instance principal)." },
	{ "--resource-type", PT_STRING, W_BODY, "resourceType", 0, NULL,
	    "The resource type, e.g. fnfunc (instance for INSTANCE)." },
	{ "--public-key", PT_STRING, W_BODY, "publicKey", 0, NULL,
	    "RESOURCE: the PEM public key of the enrollment key." },
	FREEFORM, DEFINED, END
};
static const struct cli_param p_wl_id[] = { WORKLOAD_ID, END };
static const struct cli_param p_wl_list[] = {
	{ "--compartment-id", PT_STRING, W_QUERY, "compartmentId",
	    P_REQUIRED, NULL, "The OCID of the compartment." },
	LIMIT, PAGE, ALL, PAGE_SIZE, END
};
static const struct cli_param p_wl_delete[] = {
	WORKLOAD_ID, IF_MATCH, FORCE, END
};
static const struct cli_param p_wl_token[] = {
	{ "--token-file", PT_STRING, W_LOCAL, "token-file", P_REQUIRED, NULL,
	    "Where to write the session token (mode 0600); point "
	    "OCI_RESOURCE_PRINCIPAL_RPST at it." },
	{ "--private-key-file", PT_STRING, W_LOCAL, "private-key-file",
	    P_REQUIRED, NULL, "Where to write the session private key (mode "
	    "0600); point OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM at it." },
	{ "--ttl-seconds", PT_INT, W_LOCAL, "ttl-seconds", 0, NULL,
	    "The requested token lifetime (default: the server's)." },
	END
};

/* ---------------------------------------------------------------- */
/* tresor's own                                                     */
/* ---------------------------------------------------------------- */

static const struct cli_param p_settings_get[] = { END };
static const struct cli_param p_settings_update[] = {
	{ "--secret-reads-require-key-use", PT_BOOL, W_BODY,
	    "secretReadsRequireKeyUse", P_REQUIRED, NULL,
	    "Whether reading a secret's content also needs use keys on its "
	    "key (true, the default) or only read secret-bundles (false, as "
	    "OCI)." },
	END
};
static const struct cli_param p_usage[] = {
	{ "--time-start", PT_DATETIME, W_QUERY, "timeStart", 0, NULL,
	    "The start of the period (default: 30 days ago)." },
	{ "--time-end", PT_DATETIME, W_QUERY, "timeEnd", 0, NULL,
	    "The end of the period (default: now)." },
	END
};
static const struct cli_param p_rewrap[] = {
	{ "--key-id", PT_STRING, W_PATH, "keyId", P_REQUIRED, NULL,
	    "The OCID of the key." },
	{ "--limit", PT_INT, W_QUERY, "limit", 0, NULL,
	    "The most secret versions to re-wrap in this step (default "
	    "100)." },
	END
};
static const struct cli_param p_audit_verify[] = { END };

static const struct cli_param p_doctor_secret[] = {
	{ "--secret-id", PT_STRING, W_LOCAL, "secret-id", P_REQUIRED, NULL,
	    "The OCID of the secret the current profile should read." },
	END
};
static const struct cli_param p_agent[] = {
	{ "--config", PT_STRING, W_LOCAL, "config", P_REQUIRED, NULL,
	    "The agent's configuration file (see docs/agent.md)." },
	{ "--once", PT_FLAG, W_LOCAL, "once", 0, NULL,
	    "Render every secret once and exit (1 if any failed)." },
	{ "--log-level", PT_CHOICE, W_LOCAL, "log-level", 0,
	    "DEBUG|INFO|WARN|ERROR", "The least severe message logged "
	    "(default INFO)." },
	END
};

/* ---------------------------------------------------------------- */
/* the tree                                                         */
/* ---------------------------------------------------------------- */

const struct cli_group tr_cli_groups[] = {
	{ "", "tresor: the command-line tool of tresor, with oci-cli's "
	    "commands and options for Vault, KMS, Secrets and IAM." },
	{ "kms", "Key Management." },
	{ "kms management", "Operations for managing keys and vaults." },
	{ "kms management vault", "A logical entity where Key Management "
	    "creates and stores your keys." },
	{ "kms management vault usage", "The usage of a vault." },
	{ "kms management key", "Source of cryptographic material used to "
	    "encrypt and decrypt data (give the vault's management endpoint "
	    "with --endpoint)." },
	{ "kms management key-version", "A specific version of a key (give "
	    "the vault's management endpoint with --endpoint)." },
	{ "kms crypto signed-data", "Signing with asymmetric keys." },
	{ "kms crypto verified-data", "Verifying signatures." },
	{ "kms crypto", "Operations for performing data encryption, "
	    "decryption and generation of data encryption keys (give the "
	    "vault's crypto endpoint with --endpoint)." },
	{ "vault", "Secret management: create, update and rotate secrets." },
	{ "vault secret", "A secret and its versions." },
	{ "vault secret-version", "The versions of a secret." },
	{ "secrets", "Secret retrieval." },
	{ "secrets secret-bundle", "The contents of a secret version." },
	{ "secrets secret-bundle-version", "The versions of a secret bundle."
	},
	{ "iam", "Identity and Access Management." },
	{ "iam compartment", "A collection of related resources." },
	{ "iam user", "An individual who uses tresor." },
	{ "iam user api-key", "A user's API signing keys." },
	{ "iam group", "A collection of users." },
	{ "iam dynamic-group", "A group of workloads matched by a rule." },
	{ "iam policy", "Statements that say who can access what; simulate "
	    "and lint them." },
	{ "iam tenancy", "The root compartment." },
	{ "iam workload", "tresor: workloads (resource and instance "
	    "principals) and their session tokens." },
	{ "iam tenancy-settings", "tresor: the tenancy's settings." },
	{ "usage", "tresor: retrievals and KMS operations per principal and "
	    "secret, their cost, and callers that do not cache." },
	{ "audit", "tresor: the tamper-evident audit log." },
	{ "doctor", "tresor: diagnose why the current profile cannot read a "
	    "secret, step by step, with the fix." },
};
const size_t tr_cli_ngroups = sizeof(tr_cli_groups) /
    sizeof(tr_cli_groups[0]);

#define R(path, help, op, m, svc, url, fl, wait, params) \
	{ path, help, op, m, svc, url, fl, wait, NULL, NULL, NULL, params }
#define X(path, help, op, m, svc, url, fl, wait, run, check, fixed, params) \
	{ path, help, op, m, svc, url, fl, wait, run, check, fixed, params }

const struct cli_cmd tr_cli_commands[] = {
	/* kms management vault */
	R("kms management vault create", "Creates a new vault.",
	    "CreateVault", "POST", SVC_KMS_VAULT, "/vaults", C_CREATE,
	    "/vaults/{}", p_vault_create),
	R("kms management vault get", "Gets the specified vault's "
	    "configuration information.", "GetVault", "GET", SVC_KMS_VAULT,
	    "/vaults/{}", 0, NULL, p_vault_id),
	R("kms management vault list", "Lists the vaults in the specified "
	    "compartment.", "ListVaults", "GET", SVC_KMS_VAULT, "/vaults",
	    C_LIST, NULL, p_vault_list),
	R("kms management vault update", "Updates the properties of a vault.",
	    "UpdateVault", "PUT", SVC_KMS_VAULT, "/vaults/{}", C_UPDATE,
	    "/vaults/{}", p_vault_update),
	R("kms management vault schedule-deletion", "Schedules the deletion "
	    "of the specified vault (and its keys).", "ScheduleVaultDeletion",
	    "POST", SVC_KMS_VAULT, "/vaults/{}/actions/scheduleDeletion",
	    C_CREATE, "/vaults/{}", p_vault_sched),
	R("kms management vault cancel-deletion", "Cancels the scheduled "
	    "deletion of the specified vault.", "CancelVaultDeletion", "POST",
	    SVC_KMS_VAULT, "/vaults/{}/actions/cancelDeletion", C_CREATE,
	    "/vaults/{}", p_vault_cancel),
	R("kms management vault usage get", "Gets the count of keys and key "
	    "versions in the specified vault.", "GetVaultUsage", "GET",
	    SVC_KMS_VAULT, "/vaults/{}/usage", 0, NULL, p_vault_id),

	/* kms management key */
	R("kms management key create", "Creates a new master encryption key "
	    "in the vault of the --endpoint.", "CreateKey", "POST",
	    SVC_KMS_MGMT, "/keys", C_CREATE, "/keys/{}", p_key_create),
	R("kms management key get", "Gets information about the specified "
	    "master encryption key.", "GetKey", "GET", SVC_KMS_MGMT,
	    "/keys/{}", 0, NULL, p_key_id),
	R("kms management key list", "Lists the master encryption keys in "
	    "the vault of the --endpoint.", "ListKeys", "GET", SVC_KMS_MGMT,
	    "/keys", C_LIST, NULL, p_key_list),
	R("kms management key update", "Updates the properties of a master "
	    "encryption key.", "UpdateKey", "PUT", SVC_KMS_MGMT, "/keys/{}",
	    C_UPDATE, "/keys/{}", p_key_update),
	R("kms management key enable", "Enables a master encryption key so "
	    "it can be used.", "EnableKey", "POST", SVC_KMS_MGMT,
	    "/keys/{}/actions/enable", C_CREATE, "/keys/{}", p_key_action),
	R("kms management key disable", "Disables a master encryption key so "
	    "it can no longer be used.", "DisableKey", "POST", SVC_KMS_MGMT,
	    "/keys/{}/actions/disable", C_CREATE, "/keys/{}", p_key_action),
	R("kms management key schedule-deletion", "Schedules the deletion of "
	    "the specified key.", "ScheduleKeyDeletion", "POST", SVC_KMS_MGMT,
	    "/keys/{}/actions/scheduleDeletion", C_CREATE, "/keys/{}",
	    p_key_sched),
	R("kms management key cancel-deletion", "Cancels the scheduled "
	    "deletion of the specified key.", "CancelKeyDeletion", "POST",
	    SVC_KMS_MGMT, "/keys/{}/actions/cancelDeletion", C_CREATE,
	    "/keys/{}", p_key_action),

	/* kms management key-version */
	R("kms management key-version create", "Generates a new key version "
	    "(rotates the key).", "CreateKeyVersion", "POST", SVC_KMS_MGMT,
	    "/keys/{}/keyVersions", C_CREATE, NULL, p_keyver_create),
	R("kms management key-version get", "Gets information about the "
	    "specified key version.", "GetKeyVersion", "GET", SVC_KMS_MGMT,
	    "/keys/{}/keyVersions/{}", 0, NULL, p_keyver_get),
	R("kms management key-version list", "Lists the versions of the "
	    "specified key.", "ListKeyVersions", "GET", SVC_KMS_MGMT,
	    "/keys/{}/keyVersions", C_LIST, NULL, p_keyver_list),

	/* kms crypto */
	R("kms crypto encrypt", "Encrypts data with the specified key.",
	    "Encrypt", "POST", SVC_KMS_CRYPTO, "/encrypt", C_READ, NULL,
	    p_encrypt),
	R("kms crypto decrypt", "Decrypts data with the specified key.",
	    "Decrypt", "POST", SVC_KMS_CRYPTO, "/decrypt", C_READ, NULL,
	    p_decrypt),
	R("kms crypto signed-data sign", "Signs a message or its digest with "
	    "an asymmetric key.", "Sign", "POST", SVC_KMS_CRYPTO, "/sign",
	    C_READ, NULL, p_sign),
	R("kms crypto verified-data verify", "Verifies a signature made by "
	    "an asymmetric key.", "Verify", "POST", SVC_KMS_CRYPTO, "/verify",
	    C_READ, NULL, p_verify),
	R("kms crypto generate-data-encryption-key", "Generates a key to "
	    "encrypt data, wrapped by the specified master key.",
	    "GenerateDataEncryptionKey", "POST", SVC_KMS_CRYPTO,
	    "/generateDataEncryptionKey", C_READ, NULL, p_gen_dek),

	/* vault secret */
	X("vault secret create-base64", "Creates a new secret with base64 "
	    "content.", "CreateSecret", "POST", SVC_VAULT, "/secrets",
	    C_CREATE, "/secrets/{}", NULL, tr_cli_check_create_base64,
	    "secretContent.contentType=BASE64", p_secret_create),
	X("vault secret update-base64", "Updates a secret: new base64 content "
	    "makes a new version; --current-version-number rolls back.",
	    "UpdateSecret", "PUT", SVC_VAULT, "/secrets/{}", C_UPDATE,
	    "/secrets/{}", NULL, NULL, "secretContent.contentType=BASE64",
	    p_secret_update_b64),
	R("vault secret update", "Updates a secret's properties or content "
	    "(--secret-content as JSON).", "UpdateSecret", "PUT", SVC_VAULT,
	    "/secrets/{}", C_UPDATE, "/secrets/{}", p_secret_update),
	R("vault secret get", "Gets information about the specified secret.",
	    "GetSecret", "GET", SVC_VAULT, "/secrets/{}", 0, NULL,
	    p_secret_id),
	R("vault secret list", "Lists the secrets in the specified "
	    "compartment.", "ListSecrets", "GET", SVC_VAULT, "/secrets",
	    C_LIST, NULL, p_secret_list),
	R("vault secret list-versions", "Lists the versions of the specified "
	    "secret.", "ListSecretVersions", "GET", SVC_VAULT,
	    "/secrets/{}/versions", C_LIST, NULL, p_secret_versions),
	R("vault secret get-secret-version", "Gets information about a "
	    "version of the specified secret.", "GetSecretVersion", "GET",
	    SVC_VAULT, "/secrets/{}/version/{}", 0, NULL,
	    p_secret_version_get),
	R("vault secret schedule-secret-deletion", "Schedules the deletion of "
	    "the specified secret.", "ScheduleSecretDeletion", "POST",
	    SVC_VAULT, "/secrets/{}/actions/scheduleDeletion", 0, NULL,
	    p_secret_sched),
	R("vault secret cancel-secret-deletion", "Cancels the scheduled "
	    "deletion of the specified secret.", "CancelSecretDeletion",
	    "POST", SVC_VAULT, "/secrets/{}/actions/cancelDeletion", 0, NULL,
	    p_secret_cancel),
	R("vault secret rotate", "Rotates the specified secret (a new "
	    "version from its rotation configuration).", "RotateSecret", "POST",
	    SVC_VAULT, "/secrets/{}/actions/rotate", C_CREATE, NULL,
	    p_secret_cancel),
	R("vault secret cancel-secret-rotation", "Cancels the ongoing "
	    "rotation of the specified secret.", "CancelSecretRotation", "POST",
	    SVC_VAULT, "/secrets/{}/actions/cancelRotation", 0, NULL,
	    p_secret_cancel),
	R("vault secret-version schedule-deletion", "Schedules the deletion "
	    "of a version of the secret (only a DEPRECATED version).",
	    "ScheduleSecretVersionDeletion", "POST", SVC_VAULT,
	    "/secrets/{}/version/{}/actions/scheduleDeletion", 0, NULL,
	    p_secret_version_sched),
	R("vault secret-version cancel-deletion", "Cancels the scheduled "
	    "deletion of a version of the secret.",
	    "CancelSecretVersionDeletion", "POST", SVC_VAULT,
	    "/secrets/{}/version/{}/actions/cancelDeletion", 0, NULL,
	    p_secret_version_cancel),
	R("vault secret-version get", "Gets information about a version of "
	    "the specified secret.", "GetSecretVersion", "GET", SVC_VAULT,
	    "/secrets/{}/version/{}", 0, NULL, p_secret_version_get),
	R("vault secret-version list", "Lists the versions of the specified "
	    "secret.", "ListSecretVersions", "GET", SVC_VAULT,
	    "/secrets/{}/versions", C_LIST, NULL, p_secret_versions),

	/* secrets */
	X("secrets secret-bundle get", "Gets a secret bundle: the content of "
	    "a version (CURRENT unless --stage, --version-number or "
	    "--secret-version-name).", "GetSecretBundle", "GET", SVC_SECRETS,
	    "/secretbundles/{}", 0, NULL, NULL, NULL, NULL, p_bundle_get),
	X("secrets secret-bundle get-secret-bundle-by-name", "Gets a secret "
	    "bundle by the secret's name and vault.", "GetSecretBundleByName",
	    "POST", SVC_SECRETS, "/secretbundles/actions/getByName", C_READ,
	    NULL, NULL, NULL, NULL, p_bundle_by_name),
	R("secrets secret-bundle-version list-versions", "Lists the versions "
	    "of a secret bundle.", "ListSecretBundleVersions", "GET",
	    SVC_SECRETS, "/secretbundles/{}/versions", C_LIST, NULL,
	    p_secret_versions),

	/* iam compartment */
	R("iam compartment create", "Creates a new compartment.",
	    "CreateCompartment", "POST", SVC_IDENTITY, "/compartments",
	    C_CREATE, "/compartments/{}", p_comp_create),
	R("iam compartment get", "Gets the specified compartment.",
	    "GetCompartment", "GET", SVC_IDENTITY, "/compartments/{}", 0,
	    NULL, p_comp_id),
	R("iam compartment list", "Lists the compartments in a compartment.",
	    "ListCompartments", "GET", SVC_IDENTITY, "/compartments", C_LIST,
	    NULL, p_comp_list),
	R("iam compartment update", "Updates the specified compartment.",
	    "UpdateCompartment", "PUT", SVC_IDENTITY, "/compartments/{}",
	    C_UPDATE, "/compartments/{}", p_comp_update),
	R("iam compartment delete", "Deletes the specified compartment.",
	    "DeleteCompartment", "DELETE", SVC_IDENTITY, "/compartments/{}",
	    C_DELETE, "/compartments/{}", p_comp_delete),

	/* iam user */
	R("iam user create", "Creates a new user in the tenancy.",
	    "CreateUser", "POST", SVC_IDENTITY, "/users", C_CREATE,
	    "/users/{}", p_user_create),
	R("iam user get", "Gets the specified user.", "GetUser", "GET",
	    SVC_IDENTITY, "/users/{}", 0, NULL, p_user_id),
	R("iam user list", "Lists the users in the tenancy.", "ListUsers",
	    "GET", SVC_IDENTITY, "/users", C_LIST, NULL, p_user_list),
	R("iam user update", "Updates the specified user.", "UpdateUser",
	    "PUT", SVC_IDENTITY, "/users/{}", C_UPDATE, "/users/{}",
	    p_user_update),
	R("iam user delete", "Deletes the specified user.", "DeleteUser",
	    "DELETE", SVC_IDENTITY, "/users/{}", C_DELETE, "/users/{}",
	    p_user_delete),
	X("iam user list-groups", "Lists the groups the specified user is a "
	    "member of.", "ListUserGroupMemberships", "GET", SVC_IDENTITY,
	    "/userGroupMemberships", C_LIST, NULL, tr_cli_run_user_list_groups,
	    NULL, NULL, p_user_list_groups),
	X("iam user api-key upload", "Uploads an API signing key for the "
	    "specified user.", "UploadApiKey", "POST", SVC_IDENTITY,
	    "/users/{}/apiKeys", 0, NULL, tr_cli_run_api_key_upload, NULL, NULL,
	    p_apikey_upload),
	R("iam user api-key list", "Lists the API signing keys of the "
	    "specified user.", "ListApiKeys", "GET", SVC_IDENTITY,
	    "/users/{}/apiKeys", 0, NULL, p_apikey_list),
	R("iam user api-key delete", "Deletes the specified API signing key "
	    "of the specified user.", "DeleteApiKey", "DELETE", SVC_IDENTITY,
	    "/users/{}/apiKeys/{}", C_DELETE, NULL, p_apikey_delete),

	/* iam group */
	R("iam group create", "Creates a new group in the tenancy.",
	    "CreateGroup", "POST", SVC_IDENTITY, "/groups", C_CREATE,
	    "/groups/{}", p_group_create),
	R("iam group get", "Gets the specified group.", "GetGroup", "GET",
	    SVC_IDENTITY, "/groups/{}", 0, NULL, p_group_id),
	R("iam group list", "Lists the groups in the tenancy.", "ListGroups",
	    "GET", SVC_IDENTITY, "/groups", C_LIST, NULL, p_group_list),
	R("iam group update", "Updates the specified group.", "UpdateGroup",
	    "PUT", SVC_IDENTITY, "/groups/{}", C_UPDATE, "/groups/{}",
	    p_group_update),
	R("iam group delete", "Deletes the specified group.", "DeleteGroup",
	    "DELETE", SVC_IDENTITY, "/groups/{}", C_DELETE, "/groups/{}",
	    p_group_delete),
	X("iam group add-user", "Adds the specified user to the specified "
	    "group.", "AddUserToGroup", "POST", SVC_IDENTITY,
	    "/userGroupMemberships", C_CREATE, NULL, NULL, NULL, NULL,
	    p_group_add_user),
	X("iam group remove-user", "Removes the specified user from the "
	    "specified group.", "RemoveUserFromGroup", "DELETE", SVC_IDENTITY,
	    "/userGroupMemberships/{}", 0, NULL, tr_cli_run_group_remove_user,
	    NULL, NULL, p_group_remove_user),
	X("iam group list-users", "Lists the users in the specified group.",
	    "ListUserGroupMemberships", "GET", SVC_IDENTITY,
	    "/userGroupMemberships", C_LIST, NULL, tr_cli_run_group_list_users,
	    NULL, NULL, p_group_list_users),

	/* iam dynamic-group */
	R("iam dynamic-group create", "Creates a new dynamic group.",
	    "CreateDynamicGroup", "POST", SVC_IDENTITY, "/dynamicGroups",
	    C_CREATE, "/dynamicGroups/{}", p_dg_create),
	R("iam dynamic-group get", "Gets the specified dynamic group.",
	    "GetDynamicGroup", "GET", SVC_IDENTITY, "/dynamicGroups/{}", 0,
	    NULL, p_dg_id),
	R("iam dynamic-group list", "Lists the dynamic groups in the "
	    "tenancy.", "ListDynamicGroups", "GET", SVC_IDENTITY,
	    "/dynamicGroups", C_LIST, NULL, p_dg_list),
	R("iam dynamic-group update", "Updates the specified dynamic group.",
	    "UpdateDynamicGroup", "PUT", SVC_IDENTITY, "/dynamicGroups/{}",
	    C_UPDATE, "/dynamicGroups/{}", p_dg_update),
	R("iam dynamic-group delete", "Deletes the specified dynamic group.",
	    "DeleteDynamicGroup", "DELETE", SVC_IDENTITY, "/dynamicGroups/{}",
	    C_DELETE, "/dynamicGroups/{}", p_dg_delete),

	/* iam policy */
	R("iam policy create", "Creates a new policy.", "CreatePolicy",
	    "POST", SVC_IDENTITY, "/policies", C_CREATE, "/policies/{}",
	    p_policy_create),
	R("iam policy get", "Gets the specified policy.", "GetPolicy", "GET",
	    SVC_IDENTITY, "/policies/{}", 0, NULL, p_policy_id),
	R("iam policy list", "Lists the policies in a compartment.",
	    "ListPolicies", "GET", SVC_IDENTITY, "/policies", C_LIST, NULL,
	    p_policy_list),
	R("iam policy update", "Updates the specified policy.",
	    "UpdatePolicy", "PUT", SVC_IDENTITY, "/policies/{}", C_UPDATE,
	    "/policies/{}", p_policy_update),
	R("iam policy delete", "Deletes the specified policy.",
	    "DeletePolicy", "DELETE", SVC_IDENTITY, "/policies/{}", C_DELETE,
	    "/policies/{}", p_policy_delete),
	X("iam policy simulate", "tresor: decides whether a principal (you, "
	    "by default) may perform an operation on a target, with the "
	    "statements that decide it and the one that is missing.",
	    "SimulatePolicy", "POST", SVC_TRESOR, "/actions/simulatePolicy",
	    C_READ, NULL, NULL, NULL, NULL, p_simulate),
	X("iam policy lint", "tresor: reports risky or broken policy "
	    "statements and how to fix them.", "LintPolicy", "POST",
	    SVC_TRESOR, "/actions/lintPolicy", C_READ, NULL, NULL,
	    tr_cli_check_lint, NULL, p_lint),

	/* iam tenancy */
	R("iam tenancy get", "Gets the specified tenancy.", "GetTenancy",
	    "GET", SVC_IDENTITY, "/tenancies/{}", 0, NULL, p_tenancy_get),

	/* iam workload (tresor) */
	R("iam workload create", "tresor: enrolls a workload (resource or "
	    "instance principal).", "CreateWorkload", "POST", SVC_TRESOR,
	    "/workloads", C_CREATE, NULL, p_wl_create),
	R("iam workload get", "tresor: gets the specified workload.",
	    "GetWorkload", "GET", SVC_TRESOR, "/workloads/{}", 0, NULL,
	    p_wl_id),
	R("iam workload list", "tresor: lists the workloads of a "
	    "compartment.", "ListWorkloads", "GET", SVC_TRESOR, "/workloads",
	    C_LIST, NULL, p_wl_list),
	R("iam workload delete", "tresor: deletes the specified workload; "
	    "its tokens stop working at once.", "DeleteWorkload", "DELETE",
	    SVC_TRESOR, "/workloads/{}", C_DELETE, NULL, p_wl_delete),
	X("iam workload request-token", "tresor: requests a resource-"
	    "principal session token with the current profile (the "
	    "workload's enrollment key) and writes the token and a new "
	    "session key for OCI_RESOURCE_PRINCIPAL_VERSION=2.2.",
	    "RequestResourcePrincipalToken", "POST", SVC_TRESOR,
	    "/authentication/resourcePrincipalSessionToken", 0, NULL,
	    tr_cli_run_rp_token, NULL, NULL, p_wl_token),

	/* tresor's own */
	R("iam tenancy-settings get", "tresor: gets the tenancy's settings.",
	    "GetTenancySettings", "GET", SVC_TRESOR, "/settings", 0, NULL,
	    p_settings_get),
	R("iam tenancy-settings update", "tresor: updates the tenancy's "
	    "settings.", "UpdateTenancySettings", "PUT", SVC_TRESOR,
	    "/settings", 0, NULL, p_settings_update),
	R("kms management key rewrap-secret-versions", "tresor: re-wraps the "
	    "data keys of secret versions made under older versions of the "
	    "key (one step; call again until complete is true).",
	    "RewrapSecretVersions", "POST", SVC_TRESOR,
	    "/keys/{}/actions/rewrapSecretVersions", C_READ, NULL, p_rewrap),
	R("usage get", "tresor: the usage report of a period.", "GetUsage",
	    "GET", SVC_TRESOR, "/usage", 0, NULL, p_usage),
	X("audit verify", "tresor: verifies the hash chain of audit log files "
	    "(FILE... oldest first: a rotated log's files in order).",
	    "AuditVerify", "GET", SVC_LOCAL, NULL, C_ARGS, NULL,
	    tr_cli_run_audit_verify, NULL, NULL, p_audit_verify),
	X("doctor secret", "tresor: walks the decision tree for reading a "
	    "secret with the current profile (authentication, visibility, "
	    "read secret-family, use keys, key state, deletion) and prints "
	    "each verdict with the exact fix.", "Doctor", "GET", SVC_LOCAL,
	    NULL, 0, NULL, tr_cli_run_doctor_secret, NULL, NULL,
	    p_doctor_secret),
	X("agent", "tresor: keeps secret files fresh: renders the secrets of "
	    "its configuration to files, re-reads them every TTL and "
	    "replaces a file atomically when the version changes.", "Agent",
	    "GET", SVC_LOCAL, NULL, 0, NULL, tr_cli_run_agent, NULL, NULL,
	    p_agent),
};
const size_t tr_cli_ncommands = sizeof(tr_cli_commands) /
    sizeof(tr_cli_commands[0]);
