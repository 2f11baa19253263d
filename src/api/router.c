/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The router: from a raw request to a handler.
 *
 * Paths follow OCI's services on one base URL (oci-wire.md 2.3):
 * /20190301/secretbundles... (Secrets), /20180608/secrets... (Vault),
 * /20180608/vaults... (KMS vaults) and /20160918/... (Identity); the KMS
 * management and crypto calls of a vault go to the endpoints that vault
 * advertises, /kms/<vault OCID>/management/20180608/... and
 * /kms/<vault OCID>/crypto/20180608/....  Empty path segments are
 * collapsed ("//" from endpoints copied with a trailing slash).  Query
 * values are percent-decoded with '+' kept literal (the SDK never
 * encodes query values).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "auth/auth.h"
#include "crypto/envelope.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/rand.h"

#define MAX_SEGMENTS 16
/* past these, 400 naming the limit (h2o itself stops at 100 headers) */
#define MAX_HEADERS 64
#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_PATH 4096
#define MAX_ROUTE_SEGS 9

enum route_scope {
	SCOPE_ROOT = 0,		/* the base URL */
	SCOPE_MANAGEMENT,	/* /kms/<vault>/management */
	SCOPE_CRYPTO		/* /kms/<vault>/crypto */
};

struct route {
	enum route_scope scope;
	const char *method;
	const char *seg[MAX_ROUTE_SEGS]; /* "*" is a parameter; NULL ends */
	const char *operation;
	tr_api_handler_fn fn;
	bool public;		/* no authentication */
};

static void health(struct tr_api_ctx *c);

static const struct route routes[] = {
	{ SCOPE_ROOT, "GET", { "health" }, "Health", health, true },

	/* SecretsClient */
	{ SCOPE_ROOT, "GET", { "20190301", "secretbundles", "*" },
	    "GetSecretBundle", tr_api_get_secret_bundle, false },
	{ SCOPE_ROOT, "POST", { "20190301", "secretbundles", "actions",
	    "getByName" }, "GetSecretBundleByName",
	    tr_api_get_secret_bundle_by_name, false },
	{ SCOPE_ROOT, "GET", { "20190301", "secretbundles", "*", "versions" },
	    "ListSecretBundleVersions", tr_api_list_secret_bundle_versions,
	    false },

	/* VaultsClient */
	{ SCOPE_ROOT, "POST", { "20180608", "secrets" }, "CreateSecret",
	    tr_api_create_secret, false },
	{ SCOPE_ROOT, "GET", { "20180608", "secrets" }, "ListSecrets",
	    tr_api_list_secrets, false },
	{ SCOPE_ROOT, "GET", { "20180608", "secrets", "*" }, "GetSecret",
	    tr_api_get_secret, false },
	{ SCOPE_ROOT, "PUT", { "20180608", "secrets", "*" }, "UpdateSecret",
	    tr_api_update_secret, false },
	{ SCOPE_ROOT, "POST", { "20180608", "secrets", "*", "actions",
	    "scheduleDeletion" }, "ScheduleSecretDeletion",
	    tr_api_schedule_secret_deletion, false },
	{ SCOPE_ROOT, "POST", { "20180608", "secrets", "*", "actions",
	    "cancelDeletion" }, "CancelSecretDeletion",
	    tr_api_cancel_secret_deletion, false },
	{ SCOPE_ROOT, "GET", { "20180608", "secrets", "*", "versions" },
	    "ListSecretVersions", tr_api_list_secret_versions, false },
	{ SCOPE_ROOT, "GET", { "20180608", "secrets", "*", "version", "*" },
	    "GetSecretVersion", tr_api_get_secret_version, false },
	{ SCOPE_ROOT, "POST", { "20180608", "secrets", "*", "version", "*",
	    "actions", "scheduleDeletion" }, "ScheduleSecretVersionDeletion",
	    tr_api_schedule_version_deletion, false },
	{ SCOPE_ROOT, "POST", { "20180608", "secrets", "*", "version", "*",
	    "actions", "cancelDeletion" }, "CancelSecretVersionDeletion",
	    tr_api_cancel_version_deletion, false },
	{ SCOPE_ROOT, "POST", { "20180608", "secrets", "*", "actions",
	    "rotate" }, "RotateSecret", tr_api_rotate_secret, false },
	{ SCOPE_ROOT, "POST", { "20180608", "secrets", "*", "actions",
	    "cancelRotation" }, "CancelSecretRotation",
	    tr_api_cancel_secret_rotation, false },

	/* KmsVaultClient */
	{ SCOPE_ROOT, "POST", { "20180608", "vaults" }, "CreateVault",
	    tr_api_create_vault, false },
	{ SCOPE_ROOT, "GET", { "20180608", "vaults" }, "ListVaults",
	    tr_api_list_vaults, false },
	{ SCOPE_ROOT, "GET", { "20180608", "vaults", "*" }, "GetVault",
	    tr_api_get_vault, false },
	{ SCOPE_ROOT, "PUT", { "20180608", "vaults", "*" }, "UpdateVault",
	    tr_api_update_vault, false },
	{ SCOPE_ROOT, "POST", { "20180608", "vaults", "*", "actions",
	    "scheduleDeletion" }, "ScheduleVaultDeletion",
	    tr_api_schedule_vault_deletion, false },
	{ SCOPE_ROOT, "POST", { "20180608", "vaults", "*", "actions",
	    "cancelDeletion" }, "CancelVaultDeletion",
	    tr_api_cancel_vault_deletion, false },
	{ SCOPE_ROOT, "GET", { "20180608", "vaults", "*", "usage" },
	    "GetVaultUsage", tr_api_get_vault_usage, false },

	/* IdentityClient */
	{ SCOPE_ROOT, "GET", { "20160918", "tenancies", "*" }, "GetTenancy",
	    tr_api_get_tenancy, false },
#define ID_ROUTES(path, Name, sfx)					\
	{ SCOPE_ROOT, "POST", { "20160918", path }, "Create" Name,	\
	    tr_api_create_##sfx, false },				\
	{ SCOPE_ROOT, "GET", { "20160918", path }, "List" Name "s",	\
	    tr_api_list_##sfx, false },					\
	{ SCOPE_ROOT, "GET", { "20160918", path, "*" }, "Get" Name,	\
	    tr_api_get_##sfx, false },					\
	{ SCOPE_ROOT, "PUT", { "20160918", path, "*" }, "Update" Name,	\
	    tr_api_update_##sfx, false },				\
	{ SCOPE_ROOT, "DELETE", { "20160918", path, "*" }, "Delete" Name,\
	    tr_api_delete_##sfx, false }
	ID_ROUTES("compartments", "Compartment", compartment),
	ID_ROUTES("users", "User", user),
	ID_ROUTES("groups", "Group", group),
	ID_ROUTES("dynamicGroups", "DynamicGroup", dynamic_group),
	{ SCOPE_ROOT, "POST", { "20160918", "policies" }, "CreatePolicy",
	    tr_api_create_policy, false },
	{ SCOPE_ROOT, "GET", { "20160918", "policies" }, "ListPolicies",
	    tr_api_list_policy, false },
	{ SCOPE_ROOT, "GET", { "20160918", "policies", "*" }, "GetPolicy",
	    tr_api_get_policy, false },
	{ SCOPE_ROOT, "PUT", { "20160918", "policies", "*" }, "UpdatePolicy",
	    tr_api_update_policy, false },
	{ SCOPE_ROOT, "DELETE", { "20160918", "policies", "*" },
	    "DeletePolicy", tr_api_delete_policy, false },
#undef ID_ROUTES
	{ SCOPE_ROOT, "POST", { "20160918", "userGroupMemberships" },
	    "AddUserToGroup", tr_api_add_user_to_group, false },
	{ SCOPE_ROOT, "GET", { "20160918", "userGroupMemberships" },
	    "ListUserGroupMemberships", tr_api_list_user_group_memberships,
	    false },
	{ SCOPE_ROOT, "GET", { "20160918", "userGroupMemberships", "*" },
	    "GetUserGroupMembership", tr_api_get_user_group_membership, false },
	{ SCOPE_ROOT, "DELETE", { "20160918", "userGroupMemberships", "*" },
	    "RemoveUserFromGroup", tr_api_remove_user_from_group, false },
	{ SCOPE_ROOT, "POST", { "20160918", "users", "*", "apiKeys" },
	    "UploadApiKey", tr_api_upload_api_key, false },
	{ SCOPE_ROOT, "GET", { "20160918", "users", "*", "apiKeys" },
	    "ListApiKeys", tr_api_list_api_keys, false },
	{ SCOPE_ROOT, "DELETE", { "20160918", "users", "*", "apiKeys", "*" },
	    "DeleteApiKey", tr_api_delete_api_key, false },

	/* tresor's own (docs/api/tresor-v1.md) */
	{ SCOPE_ROOT, "POST", { "tresor", "v1", "actions", "simulatePolicy" },
	    "SimulatePolicy", tr_api_simulate_policy, false },
	{ SCOPE_ROOT, "POST", { "tresor", "v1", "actions", "lintPolicy" },
	    "LintPolicy", tr_api_lint_policy, false },
	{ SCOPE_ROOT, "POST", { "tresor", "v1", "workloads" },
	    "CreateWorkload", tr_api_create_workload, false },
	{ SCOPE_ROOT, "GET", { "tresor", "v1", "workloads" },
	    "ListWorkloads", tr_api_list_workloads, false },
	{ SCOPE_ROOT, "GET", { "tresor", "v1", "workloads", "*" },
	    "GetWorkload", tr_api_get_workload, false },
	{ SCOPE_ROOT, "DELETE", { "tresor", "v1", "workloads", "*" },
	    "DeleteWorkload", tr_api_delete_workload, false },
	{ SCOPE_ROOT, "POST", { "tresor", "v1", "authentication",
	    "resourcePrincipalSessionToken" }, "RequestResourcePrincipalToken",
	    tr_api_rp_session_token, false },
	{ SCOPE_ROOT, "GET", { "tresor", "v1", "settings" },
	    "GetTenancySettings", tr_api_get_settings, false },
	{ SCOPE_ROOT, "PUT", { "tresor", "v1", "settings" },
	    "UpdateTenancySettings", tr_api_update_settings, false },
	{ SCOPE_ROOT, "POST", { "tresor", "v1", "keys", "*", "actions",
	    "rewrapSecretVersions" }, "RewrapSecretVersions",
	    tr_api_rewrap_secrets, false },
	{ SCOPE_ROOT, "GET", { "tresor", "v1", "usage" }, "GetUsage",
	    tr_api_get_usage, false },
	{ SCOPE_ROOT, "PUT", { "tresor", "v1", "testing", "clock" },
	    "TestingClock", tr_api_test_clock, false },
	{ SCOPE_ROOT, "POST", { "tresor", "v1", "testing", "maintenance" },
	    "TestingMaintenance", tr_api_test_maintenance, false },
	/* instance principals: metadata capability URLs, federation */
	{ SCOPE_ROOT, "GET", { "tresor", "v1", "imds", "*", "opc", "v2",
	    "identity", "*" }, "InstanceMetadata", tr_api_imds, true },
	{ SCOPE_ROOT, "GET", { "tresor", "v1", "imds", "*", "opc", "v2",
	    "instance", "region" }, "InstanceMetadata", tr_api_imds_region,
	    true },
	{ SCOPE_ROOT, "POST", { "auth", "v1", "x509" }, "FederateX509",
	    tr_api_x509_federation, true },

	/* KmsManagementClient */
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys" }, "CreateKey",
	    tr_api_create_key, false },
	{ SCOPE_MANAGEMENT, "GET", { "20180608", "keys" }, "ListKeys",
	    tr_api_list_keys, false },
	{ SCOPE_MANAGEMENT, "GET", { "20180608", "keys", "*" }, "GetKey",
	    tr_api_get_key, false },
	{ SCOPE_MANAGEMENT, "PUT", { "20180608", "keys", "*" }, "UpdateKey",
	    tr_api_update_key, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "actions",
	    "enable" }, "EnableKey", tr_api_enable_key, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "actions",
	    "disable" }, "DisableKey", tr_api_disable_key, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "actions",
	    "scheduleDeletion" }, "ScheduleKeyDeletion",
	    tr_api_schedule_key_deletion, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "actions",
	    "cancelDeletion" }, "CancelKeyDeletion",
	    tr_api_cancel_key_deletion, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "keyVersions" },
	    "CreateKeyVersion", tr_api_create_key_version, false },
	{ SCOPE_MANAGEMENT, "GET", { "20180608", "keys", "*", "keyVersions" },
	    "ListKeyVersions", tr_api_list_key_versions, false },
	{ SCOPE_MANAGEMENT, "GET", { "20180608", "keys", "*", "keyVersions",
	    "*" }, "GetKeyVersion", tr_api_get_key_version, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "keyVersions",
	    "*", "actions", "scheduleDeletion" }, "ScheduleKeyVersionDeletion",
	    tr_api_schedule_key_version_deletion, false },
	{ SCOPE_MANAGEMENT, "POST", { "20180608", "keys", "*", "keyVersions",
	    "*", "actions", "cancelDeletion" }, "CancelKeyVersionDeletion",
	    tr_api_cancel_key_version_deletion, false },

	/* KmsCryptoClient */
	{ SCOPE_CRYPTO, "POST", { "20180608", "encrypt" }, "Encrypt",
	    tr_api_encrypt, false },
	{ SCOPE_CRYPTO, "POST", { "20180608", "decrypt" }, "Decrypt",
	    tr_api_decrypt, false },
	{ SCOPE_CRYPTO, "POST", { "20180608", "generateDataEncryptionKey" },
	    "GenerateDataEncryptionKey", tr_api_generate_dek, false },
	{ SCOPE_CRYPTO, "POST", { "20180608", "sign" }, "Sign", tr_api_sign,
	    false },
	{ SCOPE_CRYPTO, "POST", { "20180608", "verify" }, "Verify",
	    tr_api_verify, false },
};

static void
health(struct tr_api_ctx *c)
{
	char *v = NULL;
	int rc;

	/*
	 * Healthy means able to serve: the store answers (a load balancer
	 * then stops sending to a node whose database is unreachable).
	 */
	rc = c->st->ops->setting_get(c->st, &v, "iam_generation");
	tr_free(v);
	if (rc < 0 && rc != TRESOR_ENOTFOUND) {
		tr_api_send_json(c, 503, json_pack("{s:s, s:s}", "status",
		    "unavailable", "reason", tresor_error_last()));
		return;
	}
	tr_api_send_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

/* ---------------------------------------------------------------- */
/* threads                                                          */
/* ---------------------------------------------------------------- */

/*
 * Opened data keys a thread keeps: 256 (8 KiB of locked memory), each
 * for at most a minute after its unwrap.
 */
#define DEK_CACHE_SLOTS 256
#define DEK_CACHE_TTL_MS 60000

int
tr_api_thread_new(struct tr_api_thread **out, struct tr_api_env *env)
{
	struct tr_api_thread *t;
	int rc;

	*out = NULL;
	t = tr_calloc(1, sizeof(*t));
	if (t == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	t->env = env;
	if ((rc = env->store_open(&t->store, env->store_payload)) < 0 ||
	    (rc = tr_auth_new(&t->auth)) < 0 ||
	    (rc = tr_dek_cache_new(&t->deks, DEK_CACHE_SLOTS,
	    DEK_CACHE_TTL_MS)) < 0) {
		tr_api_thread_free(t);
		return rc;
	}
	tr_auth_set_token_issuer(t->auth, env->issuer);
	*out = t;
	return 0;
}

struct tr_store *
tr_api_thread_store(struct tr_api_thread *t)
{
	return t->store;
}

void
tr_api_thread_free(struct tr_api_thread *t)
{
	if (t == NULL)
		return;
	if (t->world != NULL)
		tr_iam_world_unlink(t->world);
	tr_api_attrs_cache_free(t);
	tr_api_decisions_free(t);
	tr_dek_cache_free(t->deks);
	tr_auth_free(t->auth);
	tr_store_close(t->store);
	tr_free(t);
}

/* ---------------------------------------------------------------- */
/* request parsing                                                  */
/* ---------------------------------------------------------------- */

static int
hexv(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Percent-decode `len` bytes into a new string.  '+' stays '+'.  NUL and
 * other control bytes are refused (they have no place in an OCID, a name
 * or a token).
 */
static int
pct_decode(char **out, const char *s, size_t len)
{
	char *d;
	size_t i, o = 0;
	int hi, lo;

	*out = NULL;
	d = tr_malloc(len + 1);
	if (d == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '%' && i + 2 < len) {
			hi = hexv(s[i + 1]);
			lo = hexv(s[i + 2]);
			if (hi >= 0 && lo >= 0) {
				ch = (unsigned char)(hi << 4 | lo);
				i += 2;
			}
		}
		if (ch < 0x20 || ch == 0x7f) {
			tr_free(d);
			return tr_error_set(TRESOR_EINVAL,
			    "control characters are not allowed in the URL");
		}
		d[o++] = (char)ch;
	}
	d[o] = '\0';
	*out = d;
	return 0;
}

static int
parse_query(struct tr_api_ctx *c, const char *q, size_t len)
{
	const char *p = q, *end = q + len, *amp, *eq;
	int rc;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp > p) {
			if (c->nquery == TR_API_MAX_QUERY)
				return tr_error_set(TRESOR_ETOOBIG,
				    "more than %d query parameters",
				    TR_API_MAX_QUERY);
			eq = memchr(p, '=', (size_t)(amp - p));
			if (eq == NULL)
				eq = amp;
			if ((rc = pct_decode(&c->query[c->nquery].name, p,
			    (size_t)(eq - p))) < 0)
				return rc;
			rc = pct_decode(&c->query[c->nquery].value,
			    eq < amp ? eq + 1 : amp,
			    eq < amp ? (size_t)(amp - eq - 1) : 0);
			if (rc < 0) {
				TR_FREE_AND_NULL(c->query[c->nquery].name);
				return rc;
			}
			c->nquery++;
		}
		p = amp + 1;
	}
	return 0;
}

static void
new_request_id(struct tr_api_ctx *c)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char r[16];
	char server[33];
	const char *cid;
	size_t clen, i;
	bool ok = true;

	/*
	 * Request ids are public, not secrets: one getrandom per 256 ids
	 * instead of one per request.
	 */
	if (c->t->ids_left < sizeof(r)) {
		if (tr_random_bytes(c->t->ids_pool,
		    sizeof(c->t->ids_pool)) < 0)
			memset(c->t->ids_pool, 0, sizeof(c->t->ids_pool));
		c->t->ids_left = sizeof(c->t->ids_pool);
	}
	c->t->ids_left -= sizeof(r);
	memcpy(r, c->t->ids_pool + c->t->ids_left, sizeof(r));
	for (i = 0; i < 16; i++) {
		server[2 * i] = hex[r[i] >> 4];
		server[2 * i + 1] = hex[r[i] & 15];
	}
	server[32] = '\0';
	cid = tr_request_header(c->req, "opc-request-id", &clen, NULL);
	if (cid != NULL && clen > 0 && clen <= 90) {
		for (i = 0; i < clen; i++)
			if (!((cid[i] >= 'A' && cid[i] <= 'Z') ||
			    (cid[i] >= 'a' && cid[i] <= 'z') ||
			    (cid[i] >= '0' && cid[i] <= '9') || cid[i] == '-' ||
			    cid[i] == '_' || cid[i] == '/' || cid[i] == '.'))
				ok = false;
		if (ok) {
			(void)snprintf(c->request_id, sizeof(c->request_id),
			    "%.*s/%s", (int)clen, cid, server);
			return;
		}
	}
	memcpy(c->request_id, server, sizeof(server));
}

static void
set_base_url(struct tr_api_ctx *c)
{
	/* "scheme://host": 8 + 255 bytes at most, base_url has room */
	const char *host, *scheme = c->req->tls ? "https://" : "http://";
	size_t hlen, i, sl = strlen(scheme);

	if (c->t->env->public_url != NULL) {
		(void)snprintf(c->base_url, sizeof(c->base_url), "%s",
		    c->t->env->public_url);
		return;
	}
	host = tr_request_header(c->req, "host", &hlen, NULL);
	if (host == NULL || hlen == 0 || hlen > 255) {
		host = "127.0.0.1";
		hlen = strlen(host);
	}
	for (i = 0; i < hlen; i++)
		if (host[i] == '/' || host[i] == '@' || host[i] == '"' ||
		    host[i] == '\\' || (unsigned char)host[i] <= 0x20)
			break;
	memcpy(c->base_url, scheme, sl);
	memcpy(c->base_url + sl, host, i);
	c->base_url[sl + i] = '\0';
}

/*
 * A workload's defined tags, for dynamic-group rules on tag.<ns>.<key>:
 * read at each request, so a tag change applies at once.
 */
static int
workload_tags(struct tr_api_ctx *c)
{
	struct tr_obj o = { 0 };
	json_t *a, *tags;
	int rc;

	rc = c->st->ops->obj_get(c->st, &o, c->principal.id, "workload");
	if (rc < 0) {
		tr_api_error_rc(c, rc, "workload lookup failed");
		return rc;
	}
	a = tr_api_attrs(o.attrs);
	tags = tr_api_object_or_empty(a, "definedTags");
	c->principal_tags = json_dumps(tags, JSON_COMPACT);
	c->principal.defined_tags_json = c->principal_tags;
	json_decref(tags);
	json_decref(a);
	tr_obj_dispose(&o);
	return 0;
}

/* ---------------------------------------------------------------- */
/* audit                                                            */
/* ---------------------------------------------------------------- */

/* A record longer than this is refused (the log's line limit is 64 KiB). */
#define TR_AUDIT_RECORD_MAX (60 * 1024)

/*
 * Records are written as text straight into a buffer (no jansson values:
 * a record is made for every request).  Members in the order the
 * records have always had.
 */

/* ,"key": then a value the caller appends (never the first member) */
static void
aj_key(struct tr_buf *b, const char *key)
{
	(void)tr_buf_addstr(b, ",\"");
	(void)tr_buf_addstr(b, key);
	(void)tr_buf_addstr(b, "\":");
}

/* ,"key":"value" */
static void
aj_str(struct tr_buf *b, const char *key, const char *v)
{
	aj_key(b, key);
	(void)tr_json_add_string(b, v);
}

/* ,"sourceAddress":"<peer>" */
static void
audit_source(struct tr_api_ctx *c, struct tr_buf *b)
{
	aj_str(b, "sourceAddress", c->req->peer == NULL ? "" : c->req->peer);
}

/* The principal as the audit records it (never a key or token). */
static void
audit_principal(struct tr_api_ctx *c, struct tr_buf *b)
{
	static const char *const kinds[] = { "none", "user", "resource",
		"instance" };
	struct tr_iam_world *w;
	const char *names[16];
	size_t n = 0, i;

	aj_key(b, "principal");
	if (!c->authenticated) {
		(void)tr_buf_addstr(b, "null");
		return;
	}
	(void)tr_buf_addstr(b, "{\"id\":");
	(void)tr_json_add_string(b, c->principal.id);
	(void)tr_buf_addstr(b, ",\"type\":");
	(void)tr_json_add_string(b,
	    kinds[c->principal.kind <= 3 ? c->principal.kind : 0]);
	(void)tr_buf_addstr(b, ",\"tenancyId\":");
	(void)tr_json_add_string(b, c->principal.tenancy_id);
	if (c->principal.kind == TR_PRINCIPAL_USER) {
		(void)tr_buf_addstr(b, ",\"apiKeyFingerprint\":");
		(void)tr_json_add_string(b, c->principal.key_id);
	}
	if (tr_api_world(c, &w) == 0)
		n = tr_iam_world_principal_groups(w, &c->principal, names, 16);
	(void)tr_buf_addstr(b, c->principal.kind == TR_PRINCIPAL_USER ?
	    ",\"groups\":[" : ",\"dynamicGroups\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)tr_buf_addc(b, ',');
		(void)tr_json_add_string(b, names[i]);
	}
	(void)tr_buf_addstr(b, "]}");
}

/* The OCIDs a request names: path, query and body. */
static void
audit_targets(struct tr_api_ctx *c, struct tr_buf *b)
{
	static const char *const fields[] = { "compartmentId", "vaultId",
		"keyId", "secretId", "userId", "groupId", NULL };
	const char *s;
	json_t *v;
	size_t i, n = 0;

#define TARGET(str) do {						\
		(void)tr_buf_addstr(b, n++ > 0 ? "," : "");		\
		(void)tr_json_add_string(b, (str));			\
	} while (0)
	aj_key(b, "targets");
	(void)tr_buf_addc(b, '[');
	for (i = 0; i < c->nparams; i++)
		TARGET(c->param[i]);
	if (c->endpoint_vault[0] != '\0')
		TARGET(c->endpoint_vault);
	for (i = 0; fields[i] != NULL; i++) {
		s = tr_api_query(c, fields[i]);
		if (s != NULL && strncmp(s, "ocid1.", 6) == 0)
			TARGET(s);
		v = c->body == NULL ? NULL : json_object_get(c->body,
		    fields[i]);
		if (json_is_string(v) && strncmp(json_string_value(v),
		    "ocid1.", 6) == 0)
			TARGET(json_string_value(v));
	}
#undef TARGET
	(void)tr_buf_addc(b, ']');
}

/* A new record in `b`: {"event":EVENT,"requestId":...,"time":... */
static void
audit_begin(struct tr_api_ctx *c, struct tr_buf *b, const char *event)
{
	char now[TR_TIME_RFC3339_LEN];

	tr_buf_init(b, TR_AUDIT_RECORD_MAX);
	(void)tr_buf_reserve(b, 1024);
	tr_time_rfc3339(now, tr_real_now_ms());
	(void)tr_buf_addstr(b, "{\"event\":");
	(void)tr_json_add_string(b, event);
	(void)tr_buf_addstr(b, ",\"requestId\":");
	(void)tr_json_add_string(b, c->request_id);
	(void)tr_buf_addstr(b, ",\"time\":");
	(void)tr_json_add_string(b, now);
}

/*
 * The record written before the handler runs.  Returns 0, or a negative
 * code after answering 503 (the audit log fails closed).
 */
static int
audit_request(struct tr_api_ctx *c)
{
	struct tr_buf b;
	int rc;

	if (c->t->env->audit == NULL)
		return 0;
	audit_begin(c, &b, "request");
	audit_source(c, &b);
	aj_str(&b, "operation", c->operation);
	aj_str(&b, "method", c->method);
	audit_principal(c, &b);
	audit_targets(c, &b);
	(void)tr_buf_addc(&b, '}');
	/* checked now: a log that was removed refuses before any change */
	rc = tr_buf_error(&b);
	if (rc == 0)
		rc = c->t->env->audit(c->t->env->audit_payload, b.ptr, b.len,
		    TR_API_AUDIT_CHECK, NULL);
	tr_buf_dispose(&b);
	if (rc < 0) {
		tr_log_error("audit log: %s", tresor_error_last());
		tr_api_error(c, 503, "ServiceUnavailable",
		    "the audit log cannot be written, so the request was not "
		    "carried out; retry later");
		return rc;
	}
	return 0;
}

/* The record written after the handler ran; a failure answers 503. */
static void
audit_response(struct tr_api_ctx *c, bool read_only)
{
	const char *decision;
	int status = c->resp->status;
	struct tr_buf b;
	uint64_t ticket = 0;
	bool queued = c->t->env->durable != NULL;
	int rc;

	if (c->t->env->audit == NULL)
		return;
	if (status == 401)
		decision = "unauthenticated";
	else if (status == 403 || (status == 404 && strcmp(
	    c->resp->error_code, "NotAuthorizedOrNotFound") == 0 &&
	    c->missing_permission[0] != '\0'))
		decision = "deny";
	else if (status >= 200 && status < 300)
		decision = "allow";
	else
		decision = "error";
	audit_begin(c, &b, "response");
	aj_str(&b, "operation", c->operation == NULL ? "" : c->operation);
	(void)tr_buf_addstr(&b, ",\"status\":");
	(void)tr_buf_add_u64(&b, (uint64_t)status);
	aj_str(&b, "decision", decision);
	if (c->resp->error_code[0] != '\0')
		aj_str(&b, "errorCode", c->resp->error_code);
	if (strcmp(decision, "deny") == 0)
		aj_str(&b, "missingPermission", c->missing_permission);
	if (!c->authenticated) {
		(void)tr_buf_addstr(&b, ",\"principal\":null");
		audit_source(c, &b);
	} else if (read_only) {
		audit_principal(c, &b);
		audit_source(c, &b);
		aj_str(&b, "method", c->method);
		audit_targets(c, &b);
	}
	/* a create names what it made */
	if (status >= 200 && status < 300 && !c->resp->body_is_secret &&
	    c->resp->body.len > 0 && c->resp->body.len < 65536) {
		json_t *body = json_loadb(c->resp->body.ptr, c->resp->body.len,
		    0, NULL);
		json_t *target = json_object_get(body, "id");

		if (json_is_string(target))
			aj_str(&b, "resourceId", json_string_value(target));
		json_decref(body);
	}
	(void)tr_buf_addc(&b, '}');
	/*
	 * With group commit the record is queued and the sync round writes
	 * it, checks that the log is still in place and makes it durable
	 * (failing the answers it covers otherwise); without, here.
	 */
	rc = tr_buf_error(&b);
	if (rc == 0)
		rc = c->t->env->audit(c->t->env->audit_payload, b.ptr, b.len,
		    queued ? 0 : TR_API_AUDIT_SYNC | TR_API_AUDIT_CHECK,
		    queued ? &ticket : NULL);
	tr_buf_dispose(&b);
	if (rc == 0)
		c->resp->durable_ticket = ticket;
	if (rc < 0) {
		tr_log_error("audit log: %s", tresor_error_last());
		c->resp->body_is_secret = true;	/* zero what was there */
		tr_api_error(c, 503, "ServiceUnavailable",
		    "the audit log cannot be written; the outcome of this "
		    "request is unknown to the caller, retry with the same "
		    "opc-retry-token");
	}
}

/* Count secret retrievals and KMS operations for the usage report. */
static void
meter(struct tr_api_ctx *c)
{
	static const char *const kms_ops[] = { "Encrypt", "Decrypt",
		"GenerateDataEncryptionKey", "Sign", "Verify", NULL };
	const char *kid;
	size_t i;

	if (c->t->env->usage == NULL || !c->authenticated ||
	    c->resp->status < 200 || c->resp->status > 299 ||
	    c->operation == NULL)
		return;
	if (c->usage_target[0] != '\0') {
		tr_usage_count(c->t->env->usage, "retrieval",
		    c->principal.tenancy_id, c->principal.id, c->usage_target);
		return;
	}
	for (i = 0; kms_ops[i] != NULL; i++) {
		if (strcmp(c->operation, kms_ops[i]) != 0)
			continue;
		kid = json_string_value(json_object_get(c->body, "keyId"));
		tr_usage_count(c->t->env->usage, "kms",
		    c->principal.tenancy_id, c->principal.id, kid);
		return;
	}
}

/* ---------------------------------------------------------------- */
/* dispatch                                                         */
/* ---------------------------------------------------------------- */

static bool
method_is(const struct tr_request *req, const char *m)
{
	return req->method_len == strlen(m) &&
	    memcmp(req->method, m, req->method_len) == 0;
}

void
tr_api_handle(struct tr_api_thread *t, const struct tr_request *req,
    struct tr_response *resp)
{
	struct tr_api_ctx c;
	const char *segs[MAX_SEGMENTS], *p, *end, *q, *slash;
	size_t seglen[MAX_SEGMENTS], nseg = 0, i, k, first = 0, pathlen;
	size_t ml = req->method_len > 15 ? 15 : req->method_len;
	enum route_scope scope = SCOPE_ROOT;
	const struct route *match = NULL;
	bool path_matched = false, in_read = false;
	char *vault = NULL, method[16];
	unsigned int retry_after = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	c.method = method;
	c.t = t;
	c.st = t->store;
	c.req = req;
	c.resp = resp;
	tr_error_clear();
	memcpy(method, req->method, ml);
	method[ml] = '\0';
	new_request_id(&c);
	tr_response_header(resp, "opc-request-id", c.request_id);

	{
		size_t hbytes = 0, k2;

		for (k2 = 0; k2 < req->nheaders; k2++)
			hbytes += req->headers[k2].name_len +
			    req->headers[k2].value_len + 4;
		if (req->nheaders > MAX_HEADERS) {
			tr_api_error(&c, 400, "LimitExceeded",
			    "the request has %zu headers; the limit is %d",
			    req->nheaders, MAX_HEADERS);
			goto out;
		}
		if (hbytes > MAX_HEADER_BYTES) {
			tr_api_error(&c, 400, "LimitExceeded",
			    "the request headers take %zu bytes; the limit is "
			    "%d", hbytes, MAX_HEADER_BYTES);
			goto out;
		}
	}
	q = memchr(req->target, '?', req->target_len);
	pathlen = q == NULL ? req->target_len : (size_t)(q - req->target);
	if (pathlen > MAX_PATH || req->target_len == 0 ||
	    req->target[0] != '/') {
		tr_api_error(&c, 400, "InvalidParameter",
		    "request path is empty or longer than %d bytes", MAX_PATH);
		goto out;
	}
	p = req->target;
	end = req->target + pathlen;
	while (p < end) {
		while (p < end && *p == '/')
			p++;
		if (p == end)
			break;
		slash = memchr(p, '/', (size_t)(end - p));
		if (slash == NULL)
			slash = end;
		if (nseg == MAX_SEGMENTS) {
			tr_api_error(&c, 404, "NotFound",
			    "no such operation: too many path segments");
			goto out;
		}
		segs[nseg] = p;
		seglen[nseg] = (size_t)(slash - p);
		nseg++;
		p = slash;
	}
	if (nseg >= 3 && seglen[0] == 3 && memcmp(segs[0], "kms", 3) == 0) {
		if (seglen[2] == 10 && memcmp(segs[2], "management", 10) == 0)
			scope = SCOPE_MANAGEMENT;
		else if (seglen[2] == 6 && memcmp(segs[2], "crypto", 6) == 0)
			scope = SCOPE_CRYPTO;
		if (scope != SCOPE_ROOT) {
			if (pct_decode(&vault, segs[1], seglen[1]) < 0 ||
			    strlen(vault) >= sizeof(c.endpoint_vault)) {
				tr_api_error(&c, 404, "NotFound",
				    "no such vault endpoint");
				goto out;
			}
			(void)snprintf(c.endpoint_vault,
			    sizeof(c.endpoint_vault), "%s", vault);
			first = 3;
		}
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (r->scope != scope)
			continue;
		for (k = 0; k < MAX_ROUTE_SEGS && r->seg[k] != NULL; k++) {
			if (first + k >= nseg)
				break;
			if (r->seg[k][0] == '*' && r->seg[k][1] == '\0')
				continue;
			/* strnlen: at most one byte past the request's */
			if (strnlen(r->seg[k], seglen[first + k] + 1) !=
			    seglen[first + k] || memcmp(r->seg[k],
			    segs[first + k], seglen[first + k]) != 0)
				break;
		}
		if ((k == MAX_ROUTE_SEGS || r->seg[k] == NULL) &&
		    first + k == nseg) {
			path_matched = true;
			if (method_is(req, r->method)) {
				match = r;
				break;
			}
		}
	}
	if (match == NULL) {
		if (path_matched)
			tr_api_error(&c, 405, "MethodNotAllowed",
			    "method %.*s is not allowed on this path",
			    (int)(req->method_len > 16 ? 16 : req->method_len),
			    req->method);
		else
			tr_api_error(&c, 404, "NotFound",
			    "no such operation: %.*s %.*s",
			    (int)(req->method_len > 16 ? 16 : req->method_len),
			    req->method, (int)(pathlen > 200 ? 200 : pathlen),
			    req->target);
		goto out;
	}
	c.operation = match->operation;
	for (k = 0; k < MAX_ROUTE_SEGS && match->seg[k] != NULL; k++) {
		if (strcmp(match->seg[k], "*") != 0)
			continue;
		if (pct_decode(&c.param[c.nparams], segs[first + k],
		    seglen[first + k]) < 0) {
			tr_api_error(&c, 400, "InvalidParameter", "%s",
			    tresor_error_last());
			goto out;
		}
		c.nparams++;
	}
	if (q != NULL && (rc = parse_query(&c, q + 1,
	    req->target_len - pathlen - 1)) < 0) {
		tr_api_error(&c, 400, "InvalidParameter", "%s",
		    tresor_error_last());
		goto out;
	}
	set_base_url(&c);
	/*
	 * A read sees one snapshot and takes SQLite's lock once; a request
	 * that may write reads what is committed, never the cache.
	 */
	if (method_is(req, "GET")) {
		if (t->store->ops->read_begin != NULL &&
		    t->store->ops->read_begin(t->store) == 0)
			in_read = true;
	} else {
		tr_store_cache_bypass(t->store, true);
	}
	if (!match->public) {
		rc = tr_auth_request(t->auth, t->store, req, &c.principal);
		if (rc == TRESOR_EAUTH) {
			tr_api_error(&c, 401, "NotAuthenticated", "%s",
			    tresor_error_last());
			goto out;
		}
		if (rc < 0) {
			tr_api_error_rc(&c, rc, "authentication failed");
			goto out;
		}
		c.authenticated = true;
		if (c.principal.via_enrollment_key &&
		    strcmp(match->operation,
		    "RequestResourcePrincipalToken") != 0) {
			tr_api_error(&c, 401, "NotAuthenticated",
			    "a workload's enrollment key can only request "
			    "session tokens; sign other requests with the "
			    "session key and keyId ST$<token>");
			goto out;
		}
		if (c.principal.kind != TR_PRINCIPAL_USER &&
		    workload_tags(&c) < 0)
			goto out;
	}
	if (!match->public && t->env->rate_limit != NULL &&
	    t->env->rate_limit(t->env->rate_payload, c.principal.id,
	    &retry_after) < 0) {
		char ra[16];

		(void)snprintf(ra, sizeof(ra), "%u", retry_after);
		tr_response_header(resp, "retry-after", ra);
		tr_api_error(&c, 429, "TooManyRequests",
		    "rate limit exceeded for %s; retry after %u s",
		    c.principal.id, retry_after);
		goto out;
	}
	/*
	 * A request that may change something is recorded before it runs
	 * (so that a log that cannot be written refuses it and changes
	 * nothing); a read is recorded once, after, with everything.
	 */
	if (!match->public && !in_read && audit_request(&c) < 0)
		goto out;
	match->fn(&c);
out:
	if (in_read)
		t->store->ops->read_end(t->store);
	tr_store_cache_bypass(t->store, false);
	if (match == NULL || !match->public)
		audit_response(&c, in_read);
	meter(&c);
	for (i = 0; i < c.nparams; i++)
		tr_free(c.param[i]);
	for (i = 0; i < c.nquery; i++) {
		tr_free(c.query[i].name);
		tr_free(c.query[i].value);
	}
	json_decref(c.body);
	tr_free(c.principal_tags);
	tr_free(vault);
}
