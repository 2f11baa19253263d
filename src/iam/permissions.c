/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The permission model of tresor's services: which permissions each verb
 * grants on each resource type (spec oci-iam.md section 3.2, verbs
 * cumulative, families expanded), the permissions every API operation
 * needs (section 3.3 plus the Identity operations), and the extra key
 * permissions of secret content operations (sections 3.4 and 9).
 * Interface: iam.h (operations) and iam_int.h (tables).
 *
 * Identity permissions are tresor's, modelled on OCI's "Details for
 * IAM": inspect < read < use < manage per type; API keys are managed with
 * `manage users` (USER_APIKEY_ADD/REMOVE), group membership needs
 * USER_UPDATE and GROUP_UPDATE (`use users` + `use groups`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam/iam_int.h"

/* ---------------------------------------------------------------- */
/* permission names                                                 */
/* ---------------------------------------------------------------- */

static const char *const perm_names[TR_IAM_NPERMS] = {
#define TR_IAM_PERM_NAME(n) #n,
	TR_IAM_PERMISSIONS(TR_IAM_PERM_NAME)
#undef TR_IAM_PERM_NAME
};

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Compare counted `a` with NUL-terminated `b`, folding to upper case. */
static int
cmp_upper(const char *a, size_t alen, const char *b)
{
	size_t i;
	int ca, cb;

	for (i = 0; i < alen; i++) {
		ca = upper((unsigned char)a[i]);
		cb = (unsigned char)b[i];
		if (cb == '\0')
			return 1;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return b[alen] == '\0' ? 0 : -1;
}

/* Binary search of the sorted permission names, any case. */
int
tr_iam_perm_lookup(const char *name, size_t len)
{
	size_t lo = 0, hi = TR_IAM_NPERMS, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cmp_upper(name, len, perm_names[mid]);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* The canonical (upper-case) name of a permission. */
const char *
tr_iam_perm_name(int p)
{
	if (p < 0 || p >= TR_IAM_NPERMS)
		return "?";
	return perm_names[p];
}

/* ---------------------------------------------------------------- */
/* resource types                                                   */
/* ---------------------------------------------------------------- */

#define P(n) TR_IAM_P_##n
#define END (-1)

/*
 * One individual type: the permissions each verb adds to the one below.
 * Lists end with END.
 */
struct rtype_def {
	const char *name;
	int add[4][16];		/* inspect, read, use, manage */
};

static const struct rtype_def rtypes[TR_IAM_T_NINDIVIDUAL] = {
	[TR_IAM_T_VAULTS] = { "vaults", {
		{ P(VAULT_INSPECT), END },
		{ P(VAULT_READ), END },
		{ P(VAULT_CREATE_KEY), P(VAULT_IMPORT_KEY),
		  P(VAULT_CREATE_SECRET), END },
		{ P(VAULT_CREATE), P(VAULT_UPDATE), P(VAULT_DELETE),
		  P(VAULT_MOVE), P(VAULT_BACKUP), P(VAULT_RESTORE),
		  P(VAULT_REPLICATE), END } } },
	[TR_IAM_T_KEYS] = { "keys", {
		{ P(KEY_INSPECT), END },
		{ P(KEY_READ), END },
		{ P(KEY_ENCRYPT), P(KEY_DECRYPT), P(KEY_EXPORT), P(KEY_SIGN),
		  P(KEY_VERIFY), END },
		{ P(KEY_CREATE), P(KEY_UPDATE), P(KEY_ROTATE), P(KEY_DELETE),
		  P(KEY_MOVE), P(KEY_IMPORT), P(KEY_BACKUP), P(KEY_RESTORE),
		  END } } },
	[TR_IAM_T_KEY_DELEGATE] = { "key-delegate", {
		{ END },
		{ END },
		{ P(KEY_ASSOCIATE), P(KEY_DISASSOCIATE), END },
		{ END } } },
	[TR_IAM_T_HSM_CLUSTER] = { "hsm-cluster", {
		{ P(HSM_CLUSTER_INSPECT), END },
		{ P(HSM_CLUSTER_READ), END },
		{ P(HSM_CLUSTER_UPDATE), END },
		{ P(HSM_CLUSTER_CREATE), P(HSM_CLUSTER_DELETE),
		  P(HSM_CLUSTER_MOVE), END } } },
	[TR_IAM_T_SECRETS] = { "secrets", {
		{ P(SECRET_INSPECT), END },
		{ P(SECRET_READ), END },
		{ P(SECRET_UPDATE), END },
		{ P(SECRET_CREATE), P(SECRET_DELETE), P(SECRET_MOVE), END } } },
	[TR_IAM_T_SECRET_VERSIONS] = { "secret-versions", {
		{ P(SECRET_VERSION_INSPECT), END },
		{ P(SECRET_VERSION_READ), END },
		{ END },
		{ P(SECRET_VERSION_DELETE), END } } },
	[TR_IAM_T_SECRET_BUNDLES] = { "secret-bundles", {
		{ P(SECRET_BUNDLE_INSPECT), END },
		{ P(SECRET_BUNDLE_READ), END },
		{ END },
		{ END } } },
	[TR_IAM_T_COMPARTMENTS] = { "compartments", {
		{ P(COMPARTMENT_INSPECT), END },
		{ P(COMPARTMENT_READ), END },
		{ END },
		{ P(COMPARTMENT_CREATE), P(COMPARTMENT_UPDATE),
		  P(COMPARTMENT_DELETE), P(COMPARTMENT_RECOVER),
		  P(COMPARTMENT_MOVE), END } } },
	[TR_IAM_T_USERS] = { "users", {
		{ P(USER_INSPECT), END },
		{ P(USER_READ), END },
		{ P(USER_UPDATE), END },
		{ P(USER_CREATE), P(USER_DELETE), P(USER_UNBLOCK),
		  P(USER_APIKEY_ADD), P(USER_APIKEY_REMOVE),
		  P(USER_AUTHTOKEN_SET), P(USER_AUTHTOKEN_RESET),
		  P(USER_UIPASS_SET), P(USER_UIPASS_RESET), END } } },
	[TR_IAM_T_GROUPS] = { "groups", {
		{ P(GROUP_INSPECT), END },
		{ P(GROUP_READ), END },
		{ P(GROUP_UPDATE), END },
		{ P(GROUP_CREATE), P(GROUP_DELETE), END } } },
	[TR_IAM_T_DYNAMIC_GROUPS] = { "dynamic-groups", {
		{ P(DYNAMIC_GROUP_INSPECT), END },
		{ P(DYNAMIC_GROUP_READ), END },
		{ END },
		{ P(DYNAMIC_GROUP_CREATE), P(DYNAMIC_GROUP_UPDATE),
		  P(DYNAMIC_GROUP_DELETE), END } } },
	[TR_IAM_T_POLICIES] = { "policies", {
		{ P(POLICY_INSPECT), END },
		{ P(POLICY_READ), END },
		{ END },
		{ P(POLICY_CREATE), P(POLICY_UPDATE), P(POLICY_DELETE),
		  END } } },
	[TR_IAM_T_TENANCIES] = { "tenancies", {
		{ P(TENANCY_INSPECT), END },
		{ END },
		{ END },
		{ P(TENANCY_UPDATE), END } } },
};

/* Families and their members; all-resources is every individual type. */
static const char *const family_names[] = {
	"secret-family", "key-family", "all-resources"
};

static const int secret_family[] = {
	TR_IAM_T_SECRETS, TR_IAM_T_SECRET_VERSIONS, TR_IAM_T_SECRET_BUNDLES,
	END
};

static const int key_family[] = {
	TR_IAM_T_VAULTS, TR_IAM_T_KEYS, TR_IAM_T_KEY_DELEGATE, END
};

/* A resource type or family by name, any case; -1 when unknown. */
int
tr_iam_type_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < TR_IAM_T_NINDIVIDUAL; i++)
		if (tr_iam_eq_ci(name, len, rtypes[i].name,
		    strlen(rtypes[i].name)))
			return (int)i;
	for (i = 0; i < sizeof(family_names) / sizeof(family_names[0]); i++)
		if (tr_iam_eq_ci(name, len, family_names[i],
		    strlen(family_names[i])))
			return TR_IAM_T_NINDIVIDUAL + (int)i;
	return -1;
}

/* The canonical name of a resource type or family. */
const char *
tr_iam_type_name(int t)
{
	if (t >= 0 && t < TR_IAM_T_NINDIVIDUAL)
		return rtypes[t].name;
	if (t >= TR_IAM_T_NINDIVIDUAL && t < TR_IAM_T_COUNT)
		return family_names[t - TR_IAM_T_NINDIVIDUAL];
	return "?";
}

static const char *const verb_names[] = {
	"", "inspect", "read", "use", "manage"
};

/* inspect, read, use or manage, any case. */
enum tr_iam_verb
tr_iam_verb_lookup(const char *name, size_t len)
{
	int v;

	for (v = TR_IAM_VERB_INSPECT; v <= TR_IAM_VERB_MANAGE; v++)
		if (tr_iam_eq_ci(name, len, verb_names[v],
		    strlen(verb_names[v])))
			return (enum tr_iam_verb)v;
	return TR_IAM_VERB_NONE;
}

/* The canonical name of a verb. */
const char *
tr_iam_verb_name(enum tr_iam_verb v)
{
	if (v < TR_IAM_VERB_INSPECT || v > TR_IAM_VERB_MANAGE)
		return "?";
	return verb_names[v];
}

/* Add what `verb` grants on individual type `t` to *out. */
static void
add_individual(int t, enum tr_iam_verb verb, struct tr_iam_permset *out)
{
	int level, i;

	for (level = 0; level < (int)verb && level < 4; level++)
		for (i = 0; rtypes[t].add[level][i] != END; i++)
			tr_iam_permset_add(out, rtypes[t].add[level][i]);
}

/* Everything `verb` grants on `t`: cumulative verbs, expanded families. */
void
tr_iam_type_perms(int t, enum tr_iam_verb verb, struct tr_iam_permset *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (verb < TR_IAM_VERB_INSPECT || verb > TR_IAM_VERB_MANAGE)
		return;
	if (t >= 0 && t < TR_IAM_T_NINDIVIDUAL) {
		add_individual(t, verb, out);
	} else if (t == TR_IAM_T_SECRET_FAMILY) {
		for (i = 0; secret_family[i] != END; i++)
			add_individual(secret_family[i], verb, out);
	} else if (t == TR_IAM_T_KEY_FAMILY) {
		for (i = 0; key_family[i] != END; i++)
			add_individual(key_family[i], verb, out);
	} else if (t == TR_IAM_T_ALL_RESOURCES) {
		for (i = 0; i < TR_IAM_T_NINDIVIDUAL; i++)
			add_individual(i, verb, out);
	}
}

/* The smallest "verb type" holding `p`, for suggestions. */
bool
tr_iam_perm_grant_hint(int p, char *out, size_t outsz)
{
	struct tr_iam_permset s;
	int t, v;

	for (t = 0; t < TR_IAM_T_NINDIVIDUAL; t++) {
		for (v = TR_IAM_VERB_INSPECT; v <= TR_IAM_VERB_MANAGE; v++) {
			tr_iam_type_perms(t, (enum tr_iam_verb)v, &s);
			if (tr_iam_permset_has(&s, p)) {
				(void)snprintf(out, outsz, "%s %s",
				    verb_names[v], rtypes[t].name);
				return true;
			}
		}
	}
	return false;
}

#undef P
#undef END

/* ---------------------------------------------------------------- */
/* operations                                                       */
/* ---------------------------------------------------------------- */

#define PERMS(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct op_def {
	const char *name;
	const char *const *perms;
};

/*
 * Sorted by name (strcmp) for binary search; tests/unit/iam checks the
 * order and that every name is a known permission.  Choices where the
 * spec has no source ([?]) are marked.
 */
static const struct op_def ops[] = {
	{ "AddUserToGroup", PERMS("USER_UPDATE", "GROUP_UPDATE") },
	{ "BackupKey", PERMS("KEY_BACKUP") },
	{ "BackupVault", PERMS("VAULT_BACKUP") },
	{ "CancelKeyDeletion", PERMS("KEY_DELETE") },
	/* [?] not listed; KEY_DELETE as for the key itself */
	{ "CancelKeyVersionDeletion", PERMS("KEY_DELETE") },
	{ "CancelSecretDeletion", PERMS("SECRET_DELETE") },
	/* [?] not listed; rotation changes the secret */
	{ "CancelSecretRotation", PERMS("SECRET_UPDATE") },
	{ "CancelSecretVersionDeletion",
	  PERMS("SECRET_VERSION_DELETE", "SECRET_UPDATE") },
	{ "CancelVaultDeletion", PERMS("VAULT_DELETE") },
	{ "ChangeKeyCompartment", PERMS("KEY_MOVE") },
	{ "ChangeSecretCompartment", PERMS("SECRET_MOVE", "SECRET_UPDATE") },
	{ "ChangeVaultCompartment", PERMS("VAULT_MOVE") },
	{ "CreateCompartment", PERMS("COMPARTMENT_CREATE") },
	{ "CreateDynamicGroup", PERMS("DYNAMIC_GROUP_CREATE") },
	{ "CreateGroup", PERMS("GROUP_CREATE") },
	{ "CreateKey", PERMS("KEY_CREATE", "VAULT_CREATE_KEY") },
	{ "CreateKeyVersion", PERMS("KEY_ROTATE") },
	{ "CreatePolicy", PERMS("POLICY_CREATE") },
	/* KEY_ENCRYPT + KEY_DECRYPT on the key: tr_iam_op_key_permissions */
	{ "CreateSecret", PERMS("SECRET_CREATE", "VAULT_CREATE_SECRET") },
	{ "CreateUser", PERMS("USER_CREATE") },
	{ "CreateVault", PERMS("VAULT_CREATE") },
	{ "CreateVaultReplica", PERMS("VAULT_REPLICATE") },
	{ "Decrypt", PERMS("KEY_DECRYPT") },
	{ "DeleteApiKey", PERMS("USER_APIKEY_REMOVE") },
	{ "DeleteCompartment", PERMS("COMPARTMENT_DELETE") },
	{ "DeleteDynamicGroup", PERMS("DYNAMIC_GROUP_DELETE") },
	{ "DeleteGroup", PERMS("GROUP_DELETE") },
	{ "DeletePolicy", PERMS("POLICY_DELETE") },
	{ "DeleteUser", PERMS("USER_DELETE") },
	{ "DeleteVaultReplica", PERMS("VAULT_REPLICATE") },
	{ "DisableKey", PERMS("KEY_UPDATE") },
	{ "EnableKey", PERMS("KEY_UPDATE") },
	{ "Encrypt", PERMS("KEY_ENCRYPT") },
	{ "ExportKey", PERMS("KEY_EXPORT") },
	{ "GenerateDataEncryptionKey", PERMS("KEY_ENCRYPT") },
	{ "GetCompartment", PERMS("COMPARTMENT_INSPECT") },
	{ "GetDynamicGroup", PERMS("DYNAMIC_GROUP_INSPECT") },
	{ "GetGroup", PERMS("GROUP_INSPECT") },
	{ "GetKey", PERMS("KEY_READ") },
	{ "GetKeyVersion", PERMS("KEY_READ") },
	{ "GetPolicy", PERMS("POLICY_READ") },
	{ "GetSecret", PERMS("SECRET_READ") },
	{ "GetSecretBundle", PERMS("SECRET_BUNDLE_READ") },
	{ "GetSecretBundleByName", PERMS("SECRET_BUNDLE_READ") },
	{ "GetSecretVersion", PERMS("SECRET_VERSION_READ") },
	{ "GetTenancy", PERMS("TENANCY_INSPECT") },
	{ "GetUser", PERMS("USER_INSPECT") },
	{ "GetUserGroupMembership", PERMS("USER_READ", "GROUP_READ") },
	{ "GetVault", PERMS("VAULT_READ") },
	/* [?] not listed; usage counts are vault metadata */
	{ "GetVaultUsage", PERMS("VAULT_READ") },
	/* [?] not listed; the wrapping key is public vault metadata */
	{ "GetWrappingKey", PERMS("VAULT_READ") },
	{ "ImportKey", PERMS("KEY_IMPORT", "VAULT_IMPORT_KEY") },
	{ "ImportKeyVersion", PERMS("KEY_IMPORT") },
	{ "ListApiKeys", PERMS("USER_READ") },
	{ "ListCompartments", PERMS("COMPARTMENT_INSPECT") },
	{ "ListDynamicGroups", PERMS("DYNAMIC_GROUP_INSPECT") },
	{ "ListGroups", PERMS("GROUP_INSPECT") },
	{ "ListKeyVersions", PERMS("KEY_INSPECT") },
	{ "ListKeys", PERMS("KEY_INSPECT") },
	{ "ListPolicies", PERMS("POLICY_INSPECT") },
	{ "ListSecretBundleVersions", PERMS("SECRET_BUNDLE_INSPECT") },
	{ "ListSecretVersions", PERMS("SECRET_VERSION_INSPECT") },
	{ "ListSecrets", PERMS("SECRET_INSPECT") },
	{ "ListUserGroupMemberships", PERMS("USER_READ", "GROUP_READ") },
	{ "ListUsers", PERMS("USER_INSPECT") },
	{ "ListVaultReplicas", PERMS("VAULT_INSPECT") },
	{ "ListVaults", PERMS("VAULT_INSPECT") },
	{ "RemoveUserFromGroup", PERMS("USER_UPDATE", "GROUP_UPDATE") },
	{ "RestoreKeyFromFile", PERMS("KEY_RESTORE") },
	{ "RestoreKeyFromObjectStore", PERMS("KEY_RESTORE") },
	{ "RestoreVaultFromFile", PERMS("VAULT_RESTORE") },
	{ "RestoreVaultFromObjectStore", PERMS("VAULT_RESTORE") },
	/* [?] not listed; rotation makes a new version like UpdateSecret */
	{ "RotateSecret", PERMS("SECRET_UPDATE") },
	{ "ScheduleKeyDeletion", PERMS("KEY_DELETE") },
	/* [?] not listed; KEY_DELETE as for the key itself */
	{ "ScheduleKeyVersionDeletion", PERMS("KEY_DELETE") },
	{ "ScheduleSecretDeletion", PERMS("SECRET_DELETE") },
	{ "ScheduleSecretVersionDeletion",
	  PERMS("SECRET_VERSION_DELETE", "SECRET_UPDATE") },
	{ "ScheduleVaultDeletion", PERMS("VAULT_DELETE") },
	{ "Sign", PERMS("KEY_SIGN") },
	{ "UpdateCompartment", PERMS("COMPARTMENT_UPDATE") },
	{ "UpdateDynamicGroup", PERMS("DYNAMIC_GROUP_UPDATE") },
	{ "UpdateGroup", PERMS("GROUP_UPDATE") },
	{ "UpdateKey", PERMS("KEY_UPDATE") },
	{ "UpdatePolicy", PERMS("POLICY_UPDATE") },
	{ "UpdateSecret", PERMS("SECRET_UPDATE") },
	{ "UpdateUser", PERMS("USER_UPDATE") },
	{ "UpdateVault", PERMS("VAULT_UPDATE") },
	{ "UploadApiKey", PERMS("USER_APIKEY_ADD") },
	{ "Verify", PERMS("KEY_VERIFY") },
};

static int
op_cmp(const void *key, const void *elem)
{
	const struct op_def *op = elem;

	return strcmp(key, op->name);
}

/* The permissions of an operation (static table, binary search). */
const char *const *
tr_iam_op_permissions(const char *operation)
{
	const struct op_def *op;

	if (operation == NULL)
		return NULL;
	op = bsearch(operation, ops, sizeof(ops) / sizeof(ops[0]),
	    sizeof(ops[0]), op_cmp);
	return op == NULL ? NULL : op->perms;
}

/*
 * Spec 3.4 / 9: creating content always needs both key permissions (as
 * in OCI); reading content needs KEY_DECRYPT and adding content needs
 * KEY_ENCRYPT only under the tresor setting secret_reads_require_key_use.
 */
const char *const *
tr_iam_op_key_permissions(const char *operation, bool reads_require_key_use,
    bool has_new_content)
{
	static const char *const create[] = {
		"KEY_ENCRYPT", "KEY_DECRYPT", NULL
	};
	static const char *const decrypt[] = { "KEY_DECRYPT", NULL };
	static const char *const encrypt[] = { "KEY_ENCRYPT", NULL };

	if (operation == NULL)
		return NULL;
	if (strcmp(operation, "CreateSecret") == 0)
		return create;
	if (!reads_require_key_use)
		return NULL;
	if (strcmp(operation, "GetSecretBundle") == 0 ||
	    strcmp(operation, "GetSecretBundleByName") == 0 ||
	    strcmp(operation, "ListSecretBundleVersions") == 0)
		return decrypt;
	if (strcmp(operation, "UpdateSecret") == 0 && has_new_content)
		return encrypt;
	return NULL;
}

/* Number of operations in the table. */
size_t
tr_iam_op_count(void)
{
	return sizeof(ops) / sizeof(ops[0]);
}

/* Name of the i-th operation, or NULL. */
const char *
tr_iam_op_name(size_t i)
{
	if (i >= sizeof(ops) / sizeof(ops[0]))
		return NULL;
	return ops[i].name;
}
