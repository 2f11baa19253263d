/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret management (VaultsClient, /20180608/secrets): create, get,
 * list, update (new versions, promotion, rollback), versions, scheduled
 * deletion.
 *
 * A secret is a store object whose parent is its vault and whose name is
 * unique in the vault; its seq is the highest version number given so
 * far.  Each version's content is sealed by envelope encryption under the
 * current version of the secret's master key (crypto/envelope.h).  Every
 * change to a secret and its versions is one atomic batch guarded by the
 * secret's etag: concurrent updates re-read and retry, so version numbers
 * stay gapless and unique.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/secret_stages.h"
#include "crypto/envelope.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/error.h"
#include "util/ocid.h"
#include "util/parse.h"

#define CAS_RETRIES 32
#define METADATA_MAX 8192

/* ---------------------------------------------------------------- */
/* shared with secret_bundles.c                                     */
/* ---------------------------------------------------------------- */

int
tr_api_load_secret(struct tr_api_ctx *c, struct tr_obj *s, const char *id)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (!tr_ocid_valid(id, "vaultsecret")) {
		tr_api_not_found(c, "secret");
		return TRESOR_ENOTFOUND;
	}
	rc = c->st->ops->obj_get(c->st, s, id, "vaultsecret");
	if (rc == 0 && (strcmp(s->tenancy_id, tr_api_tenancy(c)) != 0 ||
	    strcmp(s->state, "DELETED") == 0))
		rc = TRESOR_ENOTFOUND;
	if (rc == TRESOR_ENOTFOUND) {
		tr_obj_dispose(s);
		tr_api_not_found(c, "secret");
		return rc;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "secret lookup failed");
		return rc;
	}
	return 0;
}

void
tr_api_secret_target(const struct tr_obj *s, struct tr_api_target *t)
{
	memset(t, 0, sizeof(*t));
	t->compartment_id = s->compartment_id;
	t->vault_id = s->parent_id;
	t->secret_id = s->id;
	t->secret_name = s->name;
}

int
tr_api_secret_for_op(struct tr_api_ctx *c, struct tr_obj *s, const char *id,
    const char *const *perms)
{
	struct tr_api_target t;
	int rc;

	if ((rc = tr_api_load_secret(c, s, id)) < 0)
		return rc;
	tr_api_secret_target(s, &t);
	if ((rc = tr_api_authorize(c, &t, perms, "secret")) < 0) {
		tr_obj_dispose(s);
		return rc;
	}
	return 0;
}

json_t *
tr_api_secret_json(const struct tr_obj *s, bool summary)
{
	json_t *a = tr_api_attrs(s->attrs), *o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:O, s:O, s:O}",
	    "id", s->id,
	    "compartmentId", s->compartment_id,
	    "vaultId", s->parent_id,
	    "secretName", s->name,
	    "lifecycleState", s->state,
	    "timeCreated", tr_api_time(s->time_created),
	    "keyId", json_object_get(a, "keyId"),
	    "freeformTags", json_object_get(a, "freeformTags"),
	    "definedTags", json_object_get(a, "definedTags"));
	if (o == NULL)
		goto out;
	tr_api_copy_member(o, a, "description");
	tr_api_copy_member(o, a, "rotationConfig");
	tr_api_copy_member(o, a, "secretGenerationContext");
	tr_api_copy_member(o, a, "timeOfCurrentVersionExpiry");
	json_object_set_new(o, "timeOfDeletion",
	    tr_api_time(s->time_of_deletion));
	json_object_set_new(o, "rotationStatus",
	    json_object_get(a, "rotationStatus") != NULL ?
	    json_incref(json_object_get(a, "rotationStatus")) :
	    json_string("NOT_ENABLED"));
	tr_api_copy_member(o, a, "nextRotationTime");
	tr_api_copy_member(o, a, "lastRotationTime");
	json_object_set_new(o, "isReplica", json_false());
	json_object_set_new(o, "isAutoGenerationEnabled",
	    json_is_true(json_object_get(a, "isAutoGenerationEnabled")) ?
	    json_true() : json_false());
	if (summary) {
		json_object_set_new(o, "systemTags", json_object());
	} else {
		json_object_set(o, "currentVersionNumber",
		    json_object_get(a, "currentVersionNumber"));
		tr_api_copy_member(o, a, "metadata");
		json_object_set_new(o, "secretRules",
		    json_object_get(a, "secretRules") != NULL ?
		    json_incref(json_object_get(a, "secretRules")) :
		    json_array());
	}
out:
	json_decref(a);
	return o;
}

/* ---------------------------------------------------------------- */
/* input checks                                                     */
/* ---------------------------------------------------------------- */

/*
 * Read a secretContent object: contentType BASE64 (PLAIN refused with a
 * message saying to send BASE64), content decoded into a new secret,
 * optional version name and stage.
 */
static int
read_content(struct tr_api_ctx *c, const json_t *sc, bool on_create,
    struct tr_secret **pt_out, const char **name_out, bool *pending_out)
{
	static const struct tr_field fields[] = {
		{ "contentType", TR_F_STRING, true },
		{ "content", TR_F_STRING, false },
		{ "name", TR_F_STRING, false },
		{ "stage", TR_F_STRING, false },
		{ NULL, 0, false }
	};
	struct tr_secret *pt = NULL;
	const char *type, *b64, *name, *stage;
	size_t len, outlen;
	int rc;

	*pt_out = NULL;
	*name_out = NULL;
	*pending_out = false;
	if (tr_api_check_fields(c, sc, fields, "secretContent.") < 0)
		return TRESOR_EINVAL;
	type = json_string_value(json_object_get(sc, "contentType"));
	if (strcmp(type, "BASE64") != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "secretContent.contentType %.32s is not supported: send the "
		    "content base64-encoded with contentType BASE64", type);
		return TRESOR_EINVAL;
	}
	b64 = json_string_value(json_object_get(sc, "content"));
	if (b64 == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required field 'secretContent.content'");
		return TRESOR_EINVAL;
	}
	name = json_string_value(json_object_get(sc, "name"));
	if (name != NULL && tr_api_check_name(c, "secretContent.name", name,
	    false) < 0)
		return TRESOR_EINVAL;
	stage = json_string_value(json_object_get(sc, "stage"));
	if (stage != NULL && strcmp(stage, "CURRENT") != 0 &&
	    (on_create || strcmp(stage, "PENDING") != 0)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'secretContent.stage' must be %s",
		    on_create ? "CURRENT when a secret is created" :
		    "CURRENT or PENDING");
		return TRESOR_EINVAL;
	}
	len = strlen(b64);
	if (len == 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'secretContent.content' is empty");
		return TRESOR_EINVAL;
	}
	if (tr_base64_decoded_max(len) > TR_SECRET_CONTENT_MAX * 2 + 1024) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'secretContent.content' decodes to more than %d "
		    "bytes (the secret content limit)", TR_SECRET_CONTENT_MAX);
		return TRESOR_EINVAL;
	}
	if ((rc = tr_secret_new(&pt, tr_base64_decoded_max(len))) < 0) {
		tr_api_error_rc(c, rc, "out of memory");
		return rc;
	}
	if (tr_base64_decode(pt->ptr, pt->len, &outlen, b64, len) < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'secretContent.content' is not valid base64: %s",
		    tresor_error_last());
		tr_secret_free(pt);
		return TRESOR_EINVAL;
	}
	tr_secret_truncate(pt, outlen);
	if (outlen > TR_SECRET_CONTENT_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'secretContent.content' decodes to %zu bytes, more "
		    "than the limit of %d bytes", outlen,
		    TR_SECRET_CONTENT_MAX);
		tr_secret_free(pt);
		return TRESOR_EINVAL;
	}
	*pt_out = pt;
	*name_out = name;
	*pending_out = stage != NULL && strcmp(stage, "PENDING") == 0;
	return 0;
}

/* Check secretRules: at most one rule of each type, sane values. */
static int
check_rules(struct tr_api_ctx *c, const json_t *rules)
{
	static const struct tr_field expiry_fields[] = {
		{ "ruleType", TR_F_STRING, true },
		{ "secretVersionExpiryInterval", TR_F_STRING, false },
		{ "timeOfAbsoluteExpiry", TR_F_TIME, false },
		{ "isSecretContentRetrievalBlockedOnExpiry", TR_F_BOOL, false },
		{ NULL, 0, false }
	};
	static const struct tr_field reuse_fields[] = {
		{ "ruleType", TR_F_STRING, true },
		{ "isEnforcedOnDeletedSecretVersions", TR_F_BOOL, false },
		{ NULL, 0, false }
	};
	bool seen_expiry = false, seen_reuse = false;
	const char *type, *s;
	char prefix[48];
	uint64_t days;
	int64_t t, now = tr_now_ms();
	json_t *r;
	size_t i;

	if (rules == NULL || json_is_null(rules))
		return 0;
	json_array_foreach(rules, i, r) {
		(void)snprintf(prefix, sizeof(prefix), "secretRules[%zu].", i);
		if (!json_is_object(r)) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'secretRules[%zu]' must be an object", i);
			return TRESOR_EINVAL;
		}
		type = json_string_value(json_object_get(r, "ruleType"));
		if (type != NULL && strcmp(type, "SECRET_EXPIRY_RULE") == 0) {
			if (tr_api_check_fields(c, r, expiry_fields,
			    prefix) < 0)
				return TRESOR_EINVAL;
			if (seen_expiry)
				goto dup;
			seen_expiry = true;
			s = json_string_value(json_object_get(r,
			    "secretVersionExpiryInterval"));
			if (s != NULL && (tr_api_parse_days(s, &days) < 0 ||
			    days < 1 || days > 90)) {
				tr_api_error(c, 400, "InvalidParameter",
				    "field '%ssecretVersionExpiryInterval' must"
				    " be P1D to P90D (whole days)", prefix);
				return TRESOR_EINVAL;
			}
			s = json_string_value(json_object_get(r,
			    "timeOfAbsoluteExpiry"));
			if (s != NULL) {
				(void)tr_time_parse_rfc3339(s, &t);
				if (t < now + TR_API_DAY_MS - 60000 ||
				    t > now + 365 * TR_API_DAY_MS + 60000) {
					tr_api_error(c, 400,
					    "InvalidParameter",
					    "field '%stimeOfAbsoluteExpiry' "
					    "must be 1 to 365 days from now",
					    prefix);
					return TRESOR_EINVAL;
				}
			}
		} else if (type != NULL &&
		    strcmp(type, "SECRET_REUSE_RULE") == 0) {
			if (tr_api_check_fields(c, r, reuse_fields,
			    prefix) < 0)
				return TRESOR_EINVAL;
			if (seen_reuse)
				goto dup;
			seen_reuse = true;
		} else {
			tr_api_error(c, 400, "InvalidParameter",
			    "field '%sruleType' must be SECRET_EXPIRY_RULE or "
			    "SECRET_REUSE_RULE", prefix);
			return TRESOR_EINVAL;
		}
	}
	return 0;
dup:
	tr_api_error(c, 400, "InvalidParameter",
	    "field 'secretRules' holds more than one rule of type %s", type);
	return TRESOR_EINVAL;
}

static int
check_metadata(struct tr_api_ctx *c, const json_t *md)
{
	char *s;
	size_t len;

	if (md == NULL || json_is_null(md))
		return 0;
	s = json_dumps(md, JSON_COMPACT);
	len = s == NULL ? 0 : strlen(s);
	tr_free(s);
	if (len > METADATA_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'metadata' is larger than %d bytes as JSON",
		    METADATA_MAX);
		return TRESOR_EINVAL;
	}
	return 0;
}

/*
 * Load the secret's key with its current version; the key must be
 * ENABLED.  Answers and returns a negative code otherwise.
 */
static int
usable_key(struct tr_api_ctx *c, const char *key_id, const char *vault_id,
    struct tr_obj *key, struct tr_key_version *kv)
{
	json_t *a;
	const char *alg;
	int rc;

	if ((rc = tr_api_load_key(c, key, kv, key_id, vault_id)) < 0)
		return rc;
	if (strcmp(key->state, "ENABLED") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "master encryption key %s is %s; secret content needs an "
		    "ENABLED key", key->id, key->state);
		goto fail;
	}
	a = tr_api_attrs(key->attrs);
	alg = json_string_value(json_object_get(a, "algorithm"));
	rc = alg != NULL && strcmp(alg, "AES") == 0 ? 0 : TRESOR_EINVAL;
	json_decref(a);
	if (rc < 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "key %s is not a symmetric (AES) key; secrets must be "
		    "encrypted with an AES key", key->id);
		goto fail;
	}
	return 0;
fail:
	tr_obj_dispose(key);
	tr_key_version_dispose(kv);
	return TRESOR_ECONFLICT;
}

/*
 * Check a rotationConfig: interval P1D..P360D, target system details of
 * OCI's shapes.  Scheduled rotation needs automatic generation (tresor
 * rotates by generating new content).
 */
static int
check_rotation(struct tr_api_ctx *c, const json_t *rc, bool autogen)
{
	static const struct tr_field fields[] = {
		{ "rotationInterval", TR_F_STRING, false },
		{ "isScheduledRotationEnabled", TR_F_BOOL, false },
		{ "targetSystemDetails", TR_F_OBJECT, false },
		{ NULL, 0, false }
	};
	const json_t *tsd;
	const char *iv, *type;
	uint64_t days;

	if (rc == NULL || json_is_null(rc))
		return 0;
	if (tr_api_check_fields(c, rc, fields, "rotationConfig.") < 0)
		return TRESOR_EINVAL;
	iv = json_string_value(json_object_get(rc, "rotationInterval"));
	if (iv != NULL && (tr_api_parse_days(iv, &days) < 0 || days < 1 ||
	    days > 360)) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'rotationConfig.rotationInterval' must be P1D to "
		    "P360D (whole days)");
		return TRESOR_EINVAL;
	}
	tsd = json_object_get(rc, "targetSystemDetails");
	if (tsd != NULL && !json_is_null(tsd)) {
		type = json_string_value(json_object_get(tsd,
		    "targetSystemType"));
		if (type == NULL || (strcmp(type, "ADB") != 0 &&
		    strcmp(type, "FUNCTION") != 0)) {
			tr_api_error(c, 400, "InvalidParameter",
			    "field 'rotationConfig.targetSystemDetails."
			    "targetSystemType' must be ADB or FUNCTION");
			return TRESOR_EINVAL;
		}
	}
	if (json_is_true(json_object_get(rc, "isScheduledRotationEnabled"))) {
		if (iv == NULL) {
			tr_api_error(c, 400, "MissingParameter",
			    "scheduled rotation needs "
			    "'rotationConfig.rotationInterval'");
			return TRESOR_EINVAL;
		}
		if (!autogen) {
			tr_api_error(c, 400, "InvalidParameter",
			    "scheduled rotation needs automatic generation "
			    "(secretGenerationContext with "
			    "enableAutoGeneration): tresor rotates a secret "
			    "by generating its new content");
			return TRESOR_EINVAL;
		}
	}
	return 0;
}

/* rotationStatus and nextRotationTime for a rotation config. */
static void
set_rotation_status(json_t *attrs, int64_t now)
{
	int64_t iv = tr_api_rotation_interval(json_object_get(attrs,
	    "rotationConfig"));

	if (iv > 0) {
		json_object_set_new(attrs, "rotationStatus",
		    json_string("SCHEDULED"));
		json_object_set_new(attrs, "nextRotationTime",
		    tr_api_time(now + iv));
	} else {
		json_object_set_new(attrs, "rotationStatus",
		    json_string("NOT_ENABLED"));
		json_object_del(attrs, "nextRotationTime");
	}
}

/* Check the generation members of a body; *autogen tells if on. */
static int
check_generation(struct tr_api_ctx *c, const json_t *body, const json_t *attrs,
    bool *autogen)
{
	const json_t *ctx = json_object_get(body, "secretGenerationContext");
	const json_t *en = json_object_get(body, "enableAutoGeneration");
	char why[256];

	if (ctx != NULL && !json_is_null(ctx) &&
	    tr_api_generation_check(ctx, why, sizeof(why)) < 0) {
		tr_api_error(c, 400, "InvalidParameter", "%s", why);
		return TRESOR_EINVAL;
	}
	if (en != NULL && !json_is_null(en))
		*autogen = json_is_true(en);
	else
		*autogen = json_is_true(json_object_get(attrs,
		    "isAutoGenerationEnabled"));
	if (*autogen && (ctx == NULL || json_is_null(ctx)) &&
	    !json_is_object(json_object_get(attrs, "secretGenerationContext"))) {
		tr_api_error(c, 400, "MissingParameter",
		    "enableAutoGeneration needs 'secretGenerationContext'");
		return TRESOR_EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* CreateSecret                                                     */
/* ---------------------------------------------------------------- */

void
tr_api_create_secret(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "compartmentId", TR_F_STRING, true },
		{ "vaultId", TR_F_STRING, true },
		{ "keyId", TR_F_STRING, true },
		{ "secretName", TR_F_STRING, true },
		{ "description", TR_F_STRING, false },
		{ "secretContent", TR_F_OBJECT, false },
		{ "secretRules", TR_F_ARRAY, false },
		{ "metadata", TR_F_OBJECT, false },
		{ "freeformTags", TR_F_OBJECT, false },
		{ "definedTags", TR_F_OBJECT, false },
		{ "rotationConfig", TR_F_OBJECT, false },
		{ "replicationConfig", TR_F_OBJECT, false },
		{ "secretGenerationContext", TR_F_OBJECT, false },
		{ "enableAutoGeneration", TR_F_BOOL, false },
		{ NULL, 0, false }
	};
	static const char *const secret_perms[] = { "SECRET_CREATE", NULL };
	static const char *const vault_perms[] = { "VAULT_CREATE_SECRET",
		NULL };
	static const char *const key_perms[] = { "KEY_ENCRYPT",
		"KEY_DECRYPT", NULL };
	struct tr_api_retry retry = { 0 };
	struct tr_api_target t = { 0 };
	struct tr_store_write w[4];
	struct tr_secret_version v;
	struct tr_key_version kv;
	struct tr_obj vault, key, s, job;
	struct tr_secret *pt = NULL;
	const char *comp, *vault_id, *key_id, *name, *desc, *vname = NULL;
	const json_t *content;
	json_t *attrs = NULL, *resp = NULL, *empty = json_object();
	bool pending, autogen = false;
	size_t nw;
	int64_t iv;
	int rc;

	memset(&vault, 0, sizeof(vault));
	memset(&key, 0, sizeof(key));
	memset(&s, 0, sizeof(s));
	memset(&job, 0, sizeof(job));
	memset(&kv, 0, sizeof(kv));
	memset(&v, 0, sizeof(v));
	memset(w, 0, sizeof(w));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0 ||
	    check_rules(c, json_object_get(c->body, "secretRules")) < 0 ||
	    check_metadata(c, json_object_get(c->body, "metadata")) < 0 ||
	    check_generation(c, c->body, empty, &autogen) < 0 ||
	    check_rotation(c, json_object_get(c->body, "rotationConfig"),
	    autogen) < 0)
		goto out;
	comp = json_string_value(json_object_get(c->body, "compartmentId"));
	vault_id = json_string_value(json_object_get(c->body, "vaultId"));
	key_id = json_string_value(json_object_get(c->body, "keyId"));
	name = json_string_value(json_object_get(c->body, "secretName"));
	desc = json_string_value(json_object_get(c->body, "description"));
	content = json_object_get(c->body, "secretContent");
	if (json_is_null(content))
		content = NULL;
	if (tr_api_check_name(c, "secretName", name, true) < 0)
		goto out;
	if (desc != NULL && strlen(desc) > TR_API_DESCRIPTION_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'description' is longer than %d characters",
		    TR_API_DESCRIPTION_MAX);
		goto out;
	}
	if (autogen && content != NULL) {
		tr_api_error(c, 400, "InvalidParameter",
		    "give either 'secretContent' or enableAutoGeneration, not "
		    "both");
		goto out;
	}
	if (!autogen && content == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required field 'secretContent' (or "
		    "enableAutoGeneration with a secretGenerationContext)");
		goto out;
	}
	if (tr_api_check_ocid(c, "compartmentId", comp, NULL) < 0 ||
	    tr_api_check_ocid(c, "vaultId", vault_id, "vault") < 0 ||
	    tr_api_check_ocid(c, "keyId", key_id, "key") < 0)
		goto out;
	if (content != NULL && read_content(c, content, true, &pt, &vname,
	    &pending) < 0)
		goto out;
	if (tr_api_compartment_exists(c, "compartmentId", comp) < 0 ||
	    tr_api_load_vault(c, &vault, vault_id) < 0)
		goto out;
	t.compartment_id = comp;
	t.vault_id = vault.id;
	t.secret_name = name;
	if (tr_api_authorize(c, &t, secret_perms, "compartment") < 0)
		goto out;
	memset(&t, 0, sizeof(t));
	t.compartment_id = vault.compartment_id;
	t.vault_id = vault.id;
	if (tr_api_authorize(c, &t, vault_perms, "vault") < 0)
		goto out;
	if (tr_api_load_key(c, &key, &kv, key_id, vault.id) < 0)
		goto out;
	t.compartment_id = key.compartment_id;
	t.key_id = key.id;
	if (tr_api_authorize(c, &t, key_perms, "key") < 0)
		goto out;
	tr_obj_dispose(&key);
	tr_key_version_dispose(&kv);
	if (strcmp(vault.state, "ACTIVE") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "vault %s is %s; secrets can be created only in an ACTIVE "
		    "vault", vault.id, vault.state);
		goto out;
	}
	if (usable_key(c, key_id, vault.id, &key, &kv) < 0)
		goto out;
	if (autogen && (rc = tr_api_generate(json_object_get(c->body,
	    "secretGenerationContext"), &pt)) < 0) {
		tr_api_error_rc(c, rc, "cannot generate the secret");
		goto out;
	}
	if ((rc = tr_api_retry_begin(c, &retry)) != 0)
		goto out;

	if ((rc = tr_ocid_new(s.id, sizeof(s.id), "vaultsecret",
	    c->t->env->region)) < 0 ||
	    (rc = tr_store_new_etag(s.etag)) < 0)
		goto fail;
	(void)snprintf(s.type, sizeof(s.type), "vaultsecret");
	(void)snprintf(s.tenancy_id, sizeof(s.tenancy_id), "%s",
	    tr_api_tenancy(c));
	(void)snprintf(s.compartment_id, sizeof(s.compartment_id), "%s", comp);
	(void)snprintf(s.parent_id, sizeof(s.parent_id), "%s", vault.id);
	(void)snprintf(s.name, sizeof(s.name), "%s", name);
	(void)snprintf(s.state, sizeof(s.state), "ACTIVE");
	s.time_created = tr_now_ms();
	s.seq = 1;
	attrs = json_pack("{s:s, s:I, s:b}", "keyId", key.id,
	    "currentVersionNumber", (json_int_t)1, "isAutoGenerationEnabled",
	    autogen);
	if (attrs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	if (desc != NULL)
		json_object_set_new(attrs, "description", json_string(desc));
	json_object_set_new(attrs, "freeformTags",
	    tr_api_object_or_empty(c->body, "freeformTags"));
	json_object_set_new(attrs, "definedTags",
	    tr_api_object_or_empty(c->body, "definedTags"));
	tr_api_copy_member(attrs, c->body, "metadata");
	tr_api_copy_member(attrs, c->body, "secretRules");
	tr_api_copy_member(attrs, c->body, "rotationConfig");
	tr_api_copy_member(attrs, c->body, "secretGenerationContext");
	set_rotation_status(attrs, s.time_created);

	(void)snprintf(v.secret_id, sizeof(v.secret_id), "%s", s.id);
	v.number = 1;
	if (vname != NULL)
		(void)snprintf(v.name, sizeof(v.name), "%s", vname);
	v.stages = TR_STAGE_CURRENT | TR_STAGE_LATEST;
	v.time_created = s.time_created;
	v.time_of_expiry = tr_api_version_expiry(attrs, v.time_created);
	if (autogen)
		v.attrs = tr_strdup("{\"isContentAutoGenerated\":true}");
	if (v.time_of_expiry != 0)
		json_object_set_new(attrs, "timeOfCurrentVersionExpiry",
		    tr_api_time(v.time_of_expiry));
	if ((rc = tr_api_seal_version(c->t->env->ks, &kv, pt, &v)) < 0)
		goto fail;
	s.attrs = json_dumps(attrs, JSON_COMPACT);
	if (s.attrs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	resp = tr_api_secret_json(&s, false);
	nw = 0;
	w[nw].kind = TR_W_OBJ_PUT;
	w[nw++].obj = &s;
	w[nw].kind = TR_W_SV_INSERT;
	w[nw++].sv = &v;
	iv = tr_api_rotation_interval(json_object_get(attrs,
	    "rotationConfig"));
	if (iv > 0) {
		if ((rc = tr_api_job_new(&job, s.tenancy_id, s.id, "rotate",
		    s.time_created + iv)) < 0)
			goto fail;
		w[nw].kind = TR_W_OBJ_PUT;
		w[nw++].obj = &job;
	}
	rc = tr_api_apply_create(c, &retry, w, nw, resp, s.etag);
	if (rc == TRESOR_EEXISTS) {
		tr_api_error(c, 409, "Conflict",
		    "a secret named '%s' already exists in vault %s", name,
		    vault.id);
		goto out;
	}
	if (rc < 0)
		goto fail;
	tr_api_set_etag(c, s.etag);
	tr_api_send_json(c, 200, resp);
	resp = NULL;
	goto out;
fail:
	tr_api_error_rc(c, rc, "cannot create the secret");
out:
	tr_api_retry_end(c, &retry);
	json_decref(resp);
	json_decref(attrs);
	json_decref(empty);
	tr_secret_free(pt);
	tr_secret_version_dispose(&v);
	tr_key_version_dispose(&kv);
	tr_obj_dispose(&job);
	tr_obj_dispose(&s);
	tr_obj_dispose(&key);
	tr_obj_dispose(&vault);
}

/* ---------------------------------------------------------------- */
/* GetSecret, ListSecrets                                           */
/* ---------------------------------------------------------------- */

void
tr_api_get_secret(struct tr_api_ctx *c)
{
	struct tr_obj s;

	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	tr_api_set_etag(c, s.etag);
	tr_api_send_json(c, 200, tr_api_secret_json(&s, false));
	tr_obj_dispose(&s);
}

static const char *const secret_states[] = { "CREATING", "ACTIVE",
	"UPDATING", "DELETING", "DELETED", "SCHEDULING_DELETION",
	"PENDING_DELETION", "CANCELLING_DELETION", "FAILED", NULL };

void
tr_api_list_secrets(struct tr_api_ctx *c)
{
	struct tr_api_target t = { 0 };
	struct tr_obj_filter f = { 0 };
	struct tr_obj *items = NULL;
	struct tr_page pg;
	char key[512];
	const char *comp = tr_api_query(c, "compartmentId");
	const char *vault = tr_api_query(c, "vaultId");
	json_t *arr;
	size_t n = 0, i;
	bool more = false, ok;
	int rc;

	if (comp == NULL) {
		tr_api_error(c, 400, "MissingParameter",
		    "missing required query parameter 'compartmentId'");
		return;
	}
	if (tr_api_page(c, &pg, "NAME", key, sizeof(key)) < 0 ||
	    tr_api_compartment_exists(c, "compartmentId", comp) < 0)
		return;
	t.compartment_id = comp;
	t.vault_id = vault;
	if (tr_api_authorize(c, &t, NULL, "compartment") < 0)
		return;
	f.type = "vaultsecret";
	f.tenancy_id = tr_api_tenancy(c);
	f.compartment_id = comp;
	f.parent_id = vault;
	f.name = tr_api_query(c, "name");
	if (tr_api_query_enum(c, "lifecycleState", secret_states) < 0)
		return;
	f.state = tr_api_query(c, "lifecycleState");
	f.hide_deleted = f.state == NULL;
	if ((rc = c->st->ops->obj_list(c->st, &items, &n, &more, &f,
	    &pg)) < 0) {
		tr_api_error_rc(c, rc, "cannot list secrets");
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		/* drop what the caller may not see one by one (tresor's
		 * narrowing; never wider than the list grant) */
		tr_api_secret_target(&items[i], &t);
		if (tr_api_allowed(c, &t, NULL, &ok) < 0 || !ok)
			continue;
		json_array_append_new(arr, tr_api_secret_json(&items[i], true));
	}
	if (more && n > 0)
		tr_api_next_page(c, &pg, &items[n - 1]);
	tr_api_send_json(c, 200, arr);
	tr_obj_list_free(items, n);
}

/* ---------------------------------------------------------------- */
/* UpdateSecret                                                     */
/* ---------------------------------------------------------------- */

/* 409 for a secret that is not ACTIVE, naming its state. */
int
tr_api_secret_active(struct tr_api_ctx *c, const struct tr_obj *s)
{
	char when[TR_TIME_RFC3339_LEN];

	if (strcmp(s->state, "ACTIVE") == 0)
		return 0;
	if (s->time_of_deletion != 0) {
		tr_time_rfc3339(when, s->time_of_deletion);
		tr_api_error(c, 409, "IncorrectState",
		    "secret %s is %s (deletion scheduled for %s); cancel the "
		    "deletion first", s->id, s->state, when);
	} else {
		tr_api_error(c, 409, "IncorrectState", "secret %s is %s",
		    s->id, s->state);
	}
	return TRESOR_ECONFLICT;
}

void
tr_api_update_secret(struct tr_api_ctx *c)
{
	static const struct tr_field fields[] = {
		{ "currentVersionNumber", TR_F_INT, false },
		{ "description", TR_F_STRING, false },
		{ "secretContent", TR_F_OBJECT, false },
		{ "secretRules", TR_F_ARRAY, false },
		{ "metadata", TR_F_OBJECT, false },
		{ "freeformTags", TR_F_OBJECT, false },
		{ "definedTags", TR_F_OBJECT, false },
		{ "rotationConfig", TR_F_OBJECT, false },
		{ "replicationConfig", TR_F_OBJECT, false },
		{ "secretGenerationContext", TR_F_OBJECT, false },
		{ "enableAutoGeneration", TR_F_BOOL, false },
		{ NULL, 0, false }
	};
	static const char *const copied[] = { "description", "freeformTags",
		"definedTags", "metadata", "secretRules", "rotationConfig",
		"secretGenerationContext", NULL };
	struct tr_change_error e;
	struct tr_version_req req;
	struct tr_store_write w[2];
	struct tr_obj s, key, out, oldjob, newjob;
	struct tr_secret *pt = NULL;
	const json_t *content, *cvn;
	const char *desc, *kid, *im;
	char ifm[TR_ETAG_MAX];
	size_t imlen;
	json_t *attrs = NULL, *upd = NULL;
	bool pending = false, autogen;
	size_t i;
	int64_t iv;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(&key, 0, sizeof(key));
	memset(&out, 0, sizeof(out));
	memset(&oldjob, 0, sizeof(oldjob));
	memset(&newjob, 0, sizeof(newjob));
	memset(&req, 0, sizeof(req));
	memset(w, 0, sizeof(w));
	if (tr_api_body(c) < 0 ||
	    tr_api_check_fields(c, c->body, fields, "") < 0 ||
	    tr_api_check_tags(c, c->body) < 0 ||
	    check_rules(c, json_object_get(c->body, "secretRules")) < 0 ||
	    check_metadata(c, json_object_get(c->body, "metadata")) < 0)
		return;
	content = json_object_get(c->body, "secretContent");
	if (json_is_null(content))
		content = NULL;
	cvn = json_object_get(c->body, "currentVersionNumber");
	if (json_is_null(cvn))
		cvn = NULL;
	/*
	 * oci-cli's update-base64 always sends secretContent, with only
	 * contentType when no content was given: that changes nothing.
	 */
	if (content != NULL && json_object_get(content, "content") == NULL &&
	    (cvn != NULL || json_object_get(c->body, "secretRules") != NULL))
		content = NULL;
	desc = json_string_value(json_object_get(c->body, "description"));
	if ((content != NULL) + (cvn != NULL) +
	    (json_object_get(c->body, "secretRules") != NULL) > 1) {
		tr_api_error(c, 400, "InvalidParameter",
		    "secretContent, currentVersionNumber and secretRules cannot"
		    " be changed in the same request");
		return;
	}
	if (desc != NULL && strlen(desc) > TR_API_DESCRIPTION_MAX) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'description' is longer than %d characters",
		    TR_API_DESCRIPTION_MAX);
		return;
	}
	if (cvn != NULL && json_integer_value(cvn) < 1) {
		tr_api_error(c, 400, "InvalidParameter",
		    "field 'currentVersionNumber' must be a version number (1 "
		    "or more)");
		return;
	}
	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	attrs = tr_api_attrs(s.attrs);
	if (tr_api_if_match(c, s.etag) < 0 || tr_api_secret_active(c, &s) < 0 ||
	    check_generation(c, c->body, attrs, &autogen) < 0 ||
	    check_rotation(c, json_object_get(c->body, "rotationConfig") !=
	    NULL ? json_object_get(c->body, "rotationConfig") :
	    json_object_get(attrs, "rotationConfig"), autogen) < 0)
		goto out;
	if (content != NULL) {
		if (read_content(c, content, false, &pt, &req.name,
		    &pending) < 0)
			goto out;
		/* the key must be usable, and usable by the caller */
		kid = json_string_value(json_object_get(attrs, "keyId"));
		if (tr_api_load_key(c, &key, NULL, kid == NULL ? "" : kid,
		    NULL) < 0 || tr_api_authorize_key_use(c, &key, true) < 0)
			goto out;
	}
	/* the members this request sets */
	upd = json_object();
	for (i = 0; copied[i] != NULL; i++)
		tr_api_copy_member(upd, c->body, copied[i]);
	if (json_object_get(c->body, "enableAutoGeneration") != NULL)
		json_object_set_new(upd, "isAutoGenerationEnabled",
		    autogen ? json_true() : json_false());
	if (json_object_get(c->body, "rotationConfig") != NULL) {
		/* a new schedule replaces the old one */
		json_t *tmp = json_object();

		json_object_set(tmp, "rotationConfig",
		    json_object_get(c->body, "rotationConfig"));
		set_rotation_status(tmp, tr_now_ms());
		json_object_set(upd, "rotationStatus",
		    json_object_get(tmp, "rotationStatus"));
		json_object_set(upd, "nextRotationTime",
		    json_object_get(tmp, "nextRotationTime") != NULL ?
		    json_object_get(tmp, "nextRotationTime") : json_null());
		json_decref(tmp);
		if (tr_api_job_find(c->st, s.tenancy_id, s.id, "rotate",
		    &oldjob) == 0) {
			w[req.nextra].kind = TR_W_OBJ_DELETE;
			w[req.nextra].obj = &oldjob;
			w[req.nextra++].expect_etag = oldjob.etag;
		}
		iv = tr_api_rotation_interval(json_object_get(c->body,
		    "rotationConfig"));
		if (iv > 0) {
			if ((rc = tr_api_job_new(&newjob, s.tenancy_id, s.id,
			    "rotate", tr_now_ms() + iv)) < 0) {
				tr_api_error_rc(c, rc, "cannot schedule");
				goto out;
			}
			w[req.nextra].kind = TR_W_OBJ_PUT;
			w[req.nextra++].obj = &newjob;
		}
		req.extra = w;
	}
	req.pt = pt;
	req.pending = pending;
	req.promote = cvn == NULL ? 0 : (uint64_t)json_integer_value(cvn);
	req.attr_updates = upd;
	/* the client's if-match, checked again inside the change */
	im = tr_request_header(c->req, "if-match", &imlen, NULL);
	if (im != NULL && imlen > 0 && imlen < sizeof(ifm) &&
	    !(imlen == 1 && im[0] == '*')) {
		memcpy(ifm, im, imlen);
		ifm[imlen] = '\0';
		req.if_match = ifm;
	}
	rc = tr_secret_change(c->st, c->t->env->ks, s.id, &req, &out, &e);
	if (rc < 0) {
		tr_api_change_error(c, rc, &e);
		goto out;
	}
	tr_api_set_etag(c, out.etag);
	tr_api_send_json(c, 200, tr_api_secret_json(&out, false));
out:
	json_decref(attrs);
	json_decref(upd);
	tr_secret_free(pt);
	tr_obj_dispose(&oldjob);
	tr_obj_dispose(&newjob);
	tr_obj_dispose(&out);
	tr_obj_dispose(&key);
	tr_obj_dispose(&s);
}

/* ---------------------------------------------------------------- */
/* deletion                                                         */
/* ---------------------------------------------------------------- */

/*
 * Save a state change of secret `s` over its etag, with the extra writes
 * (its deletion job) in the same batch; 200, empty body.
 */
static void
save_secret_state(struct tr_api_ctx *c, struct tr_obj *s,
    struct tr_store_write *extra, size_t nextra)
{
	struct tr_store_write w[3];
	char old[TR_ETAG_MAX];
	size_t i;
	int rc;

	memset(w, 0, sizeof(w));
	(void)snprintf(old, sizeof(old), "%s", s->etag);
	if ((rc = tr_store_new_etag(s->etag)) < 0) {
		tr_api_error_rc(c, rc, "cannot change the secret");
		return;
	}
	w[0].kind = TR_W_OBJ_PUT;
	w[0].obj = s;
	w[0].expect_etag = old;
	for (i = 0; i < nextra && i < 2; i++)
		w[1 + i] = extra[i];
	rc = c->st->ops->apply(c->st, w, 1 + i);
	if (rc == TRESOR_EPRECOND || rc == TRESOR_EEXISTS) {
		tr_api_error(c, 409, "IncorrectState",
		    "the secret was changed by another request; retry");
		return;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "cannot change the secret");
		return;
	}
	tr_api_set_etag(c, s->etag);
	tr_api_send_empty(c, 200);
}

void
tr_api_schedule_secret_deletion(struct tr_api_ctx *c)
{
	struct tr_store_write w = { 0 };
	struct tr_obj s, job;
	int64_t when;
	int rc;

	memset(&job, 0, sizeof(job));
	if (tr_api_deletion_time(c, 1, 30, &when) < 0)
		return;
	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	if (tr_api_if_match(c, s.etag) < 0 || tr_api_secret_active(c, &s) < 0)
		goto out;
	(void)snprintf(s.state, sizeof(s.state), "PENDING_DELETION");
	s.time_of_deletion = when;
	if ((rc = tr_api_job_new(&job, s.tenancy_id, s.id, "reap-secret",
	    when)) < 0) {
		tr_api_error_rc(c, rc, "cannot schedule the deletion");
		goto out;
	}
	w.kind = TR_W_OBJ_PUT;
	w.obj = &job;
	save_secret_state(c, &s, &w, 1);
out:
	tr_obj_dispose(&job);
	tr_obj_dispose(&s);
}

void
tr_api_cancel_secret_deletion(struct tr_api_ctx *c)
{
	struct tr_store_write w = { 0 };
	struct tr_obj s, job;
	size_t n = 0;

	memset(&job, 0, sizeof(job));
	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	if (tr_api_if_match(c, s.etag) < 0)
		goto out;
	if (strcmp(s.state, "PENDING_DELETION") != 0) {
		tr_api_error(c, 409, "Conflict",
		    "secret %s is %s; only a secret pending deletion can have "
		    "its deletion cancelled", s.id, s.state);
		goto out;
	}
	(void)snprintf(s.state, sizeof(s.state), "ACTIVE");
	s.time_of_deletion = 0;
	if (tr_api_job_find(c->st, s.tenancy_id, s.id, "reap-secret",
	    &job) == 0) {
		w.kind = TR_W_OBJ_DELETE;
		w.obj = &job;
		w.expect_etag = job.etag;
		n = 1;
	}
	save_secret_state(c, &s, &w, n);
out:
	tr_obj_dispose(&job);
	tr_obj_dispose(&s);
}

/* ---------------------------------------------------------------- */
/* versions                                                         */
/* ---------------------------------------------------------------- */

int
tr_api_version_page(struct tr_api_ctx *c, size_t *limit, bool *desc,
    bool *has_after, uint64_t *after)
{
	const char *lim = tr_api_query(c, "limit");
	const char *page = tr_api_query(c, "page");
	const char *sort = tr_api_query(c, "sortBy");
	const char *order = tr_api_query(c, "sortOrder");
	uint64_t v;

	*limit = TR_API_PAGE_DEFAULT;
	*desc = true;
	*has_after = false;
	*after = 0;
	if (lim != NULL) {
		if (tr_parse_u64(lim, strlen(lim), 1, TR_API_PAGE_MAX,
		    &v) < 0) {
			tr_api_error(c, 400, "InvalidParameter",
			    "query parameter 'limit' must be an integer from 1 "
			    "to %d (the page size limit)", TR_API_PAGE_MAX);
			return TRESOR_EINVAL;
		}
		*limit = v > TR_API_PAGE_MAX ? TR_API_PAGE_MAX : (size_t)v;
	}
	if (sort != NULL && strcmp(sort, "VERSION_NUMBER") != 0) {
		tr_api_error(c, 400, "InvalidParameter",
		    "query parameter 'sortBy' must be VERSION_NUMBER");
		return TRESOR_EINVAL;
	}
	if (order != NULL) {
		if (strcmp(order, "ASC") == 0) {
			*desc = false;
		} else if (strcmp(order, "DESC") != 0) {
			tr_api_error(c, 400, "InvalidParameter",
			    "query parameter 'sortOrder' must be ASC or DESC");
			return TRESOR_EINVAL;
		}
	}
	if (page != NULL) {
		if (strncmp(page, "v.", 2) != 0 || tr_parse_u64(page + 2,
		    strlen(page + 2), 0, UINT64_MAX, after) < 0) {
			tr_api_error(c, 400, "InvalidParameter",
			    "query parameter 'page' is not a page token this "
			    "server issued");
			return TRESOR_EINVAL;
		}
		*has_after = true;
	}
	return 0;
}

void
tr_api_version_next(struct tr_api_ctx *c, uint64_t last)
{
	char tok[32];

	(void)snprintf(tok, sizeof(tok), "v.%llu", (unsigned long long)last);
	tr_response_header(c->resp, "opc-next-page", tok);
}

json_t *
tr_api_version_summary_json(const struct tr_secret_version *v, bool bundle)
{
	json_t *o;

	o = json_pack("{s:s, s:I, s:o, s:o, s:o}",
	    "secretId", v->secret_id,
	    "versionNumber", (json_int_t)v->number,
	    "stages", tr_api_stages_json(v->stages),
	    "timeCreated", tr_api_time(v->time_created),
	    "timeOfDeletion", tr_api_time(v->time_of_deletion));
	if (o == NULL)
		return NULL;
	if (v->name[0] != '\0')
		json_object_set_new(o, bundle ? "versionName" : "name",
		    json_string(v->name));
	json_object_set_new(o, "timeOfExpiry", tr_api_time(v->time_of_expiry));
	if (!bundle) {
		json_object_set_new(o, "contentType", json_string("BASE64"));
		json_t *a = tr_api_attrs(v->attrs);

		json_object_set_new(o, "isContentAutoGenerated",
		    json_boolean(json_is_true(json_object_get(a,
		    "isContentAutoGenerated"))));
		json_decref(a);
		json_object_set_new(o, "systemTags", json_object());
	}
	return o;
}

void
tr_api_list_secret_versions(struct tr_api_ctx *c)
{
	struct tr_secret_version *vs = NULL;
	struct tr_obj s;
	size_t n = 0, i, limit, emitted = 0, idx;
	uint64_t after;
	bool desc, has_after;
	json_t *arr;
	int rc;

	if (tr_api_version_page(c, &limit, &desc, &has_after, &after) < 0)
		return;
	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	if ((rc = c->st->ops->sv_list(c->st, &vs, &n, s.id, false)) < 0) {
		tr_api_error_rc(c, rc, "cannot list versions");
		goto out;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		idx = desc ? n - 1 - i : i;
		if (has_after && (desc ? vs[idx].number >= after :
		    vs[idx].number <= after))
			continue;
		if (emitted == limit) {
			tr_api_version_next(c, vs[desc ? idx + 1 :
			    idx - 1].number);
			break;
		}
		json_array_append_new(arr, tr_api_version_summary_json(&vs[idx],
		    false));
		emitted++;
	}
	tr_api_send_json(c, 200, arr);
out:
	tr_secret_version_list_free(vs, n);
	tr_obj_dispose(&s);
}

void
tr_api_get_secret_version(struct tr_api_ctx *c)
{
	struct tr_secret_version v;
	struct tr_obj s;
	uint64_t num;
	json_t *o;
	int rc;

	memset(&v, 0, sizeof(v));
	if (tr_api_secret_for_op(c, &s, c->param[0], NULL) < 0)
		return;
	if (tr_parse_u64(c->param[1], strlen(c->param[1]), 1, INT64_MAX,
	    &num) < 0) {
		tr_api_not_found(c, "secret version");
		goto out;
	}
	rc = c->st->ops->sv_get(c->st, &v, s.id, num);
	if (rc == TRESOR_ENOTFOUND) {
		tr_api_not_found(c, "secret version");
		goto out;
	}
	if (rc < 0) {
		tr_api_error_rc(c, rc, "version lookup failed");
		goto out;
	}
	o = tr_api_version_summary_json(&v, false);
	json_object_del(o, "systemTags");
	json_object_del(o, "timeOfExpiry");
	json_object_set_new(o, "timeOfCurrentVersionExpiry",
	    tr_api_time(v.time_of_expiry));
	tr_api_set_etag(c, s.etag);
	tr_api_send_json(c, 200, o);
out:
	tr_secret_version_dispose(&v);
	tr_obj_dispose(&s);
}
