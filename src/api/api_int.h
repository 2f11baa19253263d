/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/api/: the per-request context, the router's view of a
 * request, and the helpers every service file uses (errors, body
 * readers, JSON output, pagination, retry tokens, authorisation).
 */
#ifndef TR_API_API_INT_H
#define TR_API_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api.h"
#include "iam/iam.h"
#include "store/store.h"

#define TR_API_MAX_PARAMS 4
#define TR_API_MAX_QUERY 32
#define TR_API_PAGE_MAX 1000
#define TR_API_PAGE_DEFAULT 100
#define TR_SECRET_CONTENT_MAX (25 * 1024)
#define TR_API_NAME_MAX 255
#define TR_API_DESCRIPTION_MAX 400

struct tr_api_thread {
	struct tr_api_env *env;
	struct tr_store *store;
	struct tr_auth *auth;
	struct tr_iam_world *world;
	uint64_t world_generation;
	bool have_world;
	char tenancy_id[TR_ID_MAX];
	struct attrs_slot *attrs_cache;	/* parsed attrs, by text */
	struct decision_slot *decisions; /* authz.c, per world */
	struct tr_dek_cache *deks;	/* opened data keys (envelope.h) */
	/* random bytes for request ids, drawn 4 KiB at a time */
	unsigned char ids_pool[4096];
	size_t ids_left;
};

struct tr_query_param {
	char *name;
	char *value;
};

struct tr_api_ctx {
	struct tr_api_thread *t;
	struct tr_store *st;
	const struct tr_request *req;
	struct tr_response *resp;
	struct tr_principal principal;
	bool authenticated;
	const char *operation;
	char request_id[128];
	/* path parameters, percent-decoded */
	char *param[TR_API_MAX_PARAMS];
	size_t nparams;
	/* the vault a KMS endpoint path names ("" elsewhere) */
	char endpoint_vault[TR_ID_MAX];
	struct tr_query_param query[TR_API_MAX_QUERY];
	size_t nquery;
	json_t *body;
	char base_url[512];
	char *principal_tags;		/* a workload's defined tags, JSON */
	char missing_permission[64];	/* of the last denial, for audit */
	const char *method;		/* for the audit record */
	char usage_target[TR_ID_MAX];	/* secret read, for metering */
};

typedef void (*tr_api_handler_fn)(struct tr_api_ctx *c);

/* ---------------------------------------------------------------- */
/* errors (errors.c)                                                */
/* ---------------------------------------------------------------- */

/* Answer with OCI's error envelope. */
void tr_api_error(struct tr_api_ctx *c, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Answer for a failed call that returned `rc`, through the one table of
 * code -> status; the message is tresor_error_last() when set, else
 * `fallback`.
 */
void tr_api_error_rc(struct tr_api_ctx *c, int rc, const char *fallback);

/* 404 NotAuthorizedOrNotFound with OCI's wording for `what`. */
void tr_api_not_found(struct tr_api_ctx *c, const char *what);

/* ---------------------------------------------------------------- */
/* request helpers (body.c)                                         */
/* ---------------------------------------------------------------- */

/* A query parameter's value, or NULL when absent or empty. */
const char *tr_api_query(struct tr_api_ctx *c, const char *name);

enum tr_field_type {
	TR_F_STRING = 1,
	TR_F_BOOL,
	TR_F_INT,
	TR_F_NUMBER,
	TR_F_OBJECT,
	TR_F_ARRAY,
	TR_F_ANY,
	TR_F_TIME		/* RFC 3339 string */
};

struct tr_field {
	const char *name;
	enum tr_field_type type;
	bool required;
};

/*
 * Parse the body (empty is {}) into c->body.  On failure answer 400 and
 * return a negative code.
 */
int tr_api_body(struct tr_api_ctx *c);

/*
 * Check `obj` against `fields` (NULL-name terminated): unknown members,
 * wrong types, missing required members and JSON null for a required
 * member are answered with 400 naming the field, e.g.
 * "secretContent.content".  `prefix` is "" at the top level.
 */
int tr_api_check_fields(struct tr_api_ctx *c, const json_t *obj,
    const struct tr_field *fields, const char *prefix);

#define TR_API_DAY_MS (24LL * 3600 * 1000)

/*
 * The body's optional timeOfDeletion (the body is parsed and checked
 * here): between `min_days` and `max_days` from now, a minute of slack
 * either way; `max_days` from now when absent.  On failure answer 400
 * and return a negative code.
 */
int tr_api_deletion_time(struct tr_api_ctx *c, int min_days, int max_days,
    int64_t *out);

/* Check a map<string,string> (freeformTags) and map<string,map> (defined
 * tags) members when present; answer 400 on failure. */
int tr_api_check_tags(struct tr_api_ctx *c, const json_t *obj);

/*
 * Check a display name or secret name: 1..255 bytes of UTF-8 without
 * control characters; `strict` allows only [A-Za-z0-9._-].
 */
int tr_api_check_name(struct tr_api_ctx *c, const char *field,
    const char *value, bool strict);

/* Check an OCID-shaped field; 400 naming the field when it is not. */
int tr_api_check_ocid(struct tr_api_ctx *c, const char *field,
    const char *value, const char *type);

/* ---------------------------------------------------------------- */
/* responses                                                        */
/* ---------------------------------------------------------------- */

/* Send `v` (stolen) as the JSON body with `status`. */
void tr_api_send_json(struct tr_api_ctx *c, int status, json_t *v);
/* An empty successful answer (200 or 204). */
void tr_api_send_empty(struct tr_api_ctx *c, int status);
void tr_api_set_etag(struct tr_api_ctx *c, const char *etag);

/* RFC 3339 string value for a time in ms; JSON null for 0. */
json_t *tr_api_time(int64_t ms);
/* The attrs JSON of an object, parsed (a new empty object when bad). */
json_t *tr_api_attrs(const char *attrs);
/* A new reference to object member `name`, or a new empty object. */
/*
 * tr_api_attrs for the read path: the parse of the same text is kept
 * per thread, so a hot object is parsed once.  The result is shared:
 * never change it; json_decref it as usual.
 */
json_t *tr_api_attrs_shared(struct tr_api_ctx *c, const char *attrs);

/*
 * A query parameter that takes one of `allowed` (NULL-terminated): 0
 * when absent or allowed, else 400 naming the values, TRESOR_EINVAL.
 */
int tr_api_query_enum(struct tr_api_ctx *c, const char *name,
    const char *const *allowed);
void tr_api_attrs_cache_free(struct tr_api_thread *t);
void tr_api_decisions_free(struct tr_api_thread *t);

json_t *tr_api_object_or_empty(const json_t *from, const char *name);
/* Copy member `name` of `from` into `to` when present and not null. */
void tr_api_copy_member(json_t *to, const json_t *from, const char *name);

/* ---------------------------------------------------------------- */
/* if-match, pagination, retry tokens                               */
/* ---------------------------------------------------------------- */

/*
 * Check the if-match header against `etag`: absent passes; a mismatch is
 * answered with 412 NoEtagMatch and returns TRESOR_EPRECOND.
 */
int tr_api_if_match(struct tr_api_ctx *c, const char *etag);

/*
 * Read limit, page, sortBy, sortOrder into `pg`.  `name_sort` is the
 * sortBy value meaning "by name" (NAME, DISPLAYNAME) or NULL;
 * `default_desc_time` selects TIMECREATED DESC as the default order.
 * Strings in `pg` point into `keybuf` (caller's, 512 bytes).
 */
int tr_api_page(struct tr_api_ctx *c, struct tr_page *pg, const char *name_sort,
    char *keybuf, size_t keycap);

/* Set opc-next-page from the last item of a full page. */
void tr_api_next_page(struct tr_api_ctx *c, const struct tr_page *pg,
    const struct tr_obj *last);

/*
 * opc-retry-token handling for creates.  tr_api_retry_begin() returns
 * 1 when the answer was replayed (the caller returns at once), 0 when
 * the caller must do the work (and then call tr_api_retry_end() with
 * the outcome), or a negative code after answering an error.
 */
struct tr_api_retry {
	bool active;
	bool done;		/* completed inside the create's own batch */
	unsigned char key[32];
};

int tr_api_retry_begin(struct tr_api_ctx *c, struct tr_api_retry *r);
/* Record the answer now in c->resp (or forget the claim on failure). */
void tr_api_retry_end(struct tr_api_ctx *c, struct tr_api_retry *r);

/* The write that completes a retry claim, to add to the same batch. */
void tr_api_retry_write(struct tr_api_retry *r, struct tr_retry_rec *rec,
    struct tr_store_write *w, const char *response, const char *etag);

/*
 * Apply the `n` writes of a create together with the completion of its
 * retry claim (when one is active), so that the object and the stored
 * answer commit atomically.  `w` must have room for n + 1 entries.
 * `response` is the answer that will be sent with status 200.
 */
int tr_api_apply_create(struct tr_api_ctx *c, struct tr_api_retry *r,
    struct tr_store_write *w, size_t n, const json_t *response,
    const char *etag);

/* ---------------------------------------------------------------- */
/* authorisation (authz.c)                                          */
/* ---------------------------------------------------------------- */

/* The IAM variables of a target; unset ones do not apply. */
struct tr_api_target {
	const char *compartment_id;
	const char *vault_id;
	const char *key_id;
	const char *secret_id;
	const char *secret_name;
	const char *include_plaintext_key;
};

/*
 * The current IAM snapshot for this thread (rebuilt when the store's IAM
 * generation moved).  Borrowed until the next call.
 */
int tr_api_world(struct tr_api_ctx *c, struct tr_iam_world **out);

/*
 * May the caller perform c->operation on `target`, needing
 * `permissions` (NULL: the operation's own table entry)?  Returns 0 when
 * allowed; otherwise answers 404 NotAuthorizedOrNotFound with `what`
 * (so existence does not leak) and returns TRESOR_EDENIED.
 */
int tr_api_authorize(struct tr_api_ctx *c, const struct tr_api_target *target,
    const char *const *permissions, const char *what);

/*
 * The decision for principal `p` (with the trace of every statement
 * considered when `trace` is not NULL); answers nothing.
 */
int tr_api_decide(struct tr_api_ctx *c, const struct tr_principal *p,
    const struct tr_api_target *target, const char *const *permissions,
    struct tr_iam_decision *dec, struct tr_buf *trace);

/*
 * Like tr_api_authorize() but answers nothing: *allowed tells.  For list
 * filtering.
 */
int tr_api_allowed(struct tr_api_ctx *c, const struct tr_api_target *target,
    const char *const *permissions, bool *allowed);

/*
 * The extra key permission of secret content operations (spec 3.4):
 * checks tr_iam_op_key_permissions() on `key` and, when missing, answers
 * 403 NotAuthorized naming the permission, the key, its compartment and
 * a statement that would grant it.  `key` is the key object.
 */
int tr_api_authorize_key_use(struct tr_api_ctx *c, const struct tr_obj *key,
    bool has_new_content);

/* Resolve the tenancy a request acts in (the caller's). */
const char *tr_api_tenancy(struct tr_api_ctx *c);

/*
 * Check that compartment `id` exists in the caller's tenancy (the
 * tenancy itself counts).  Answers 404 and returns ENOTFOUND otherwise.
 */
int tr_api_compartment_exists(struct tr_api_ctx *c, const char *field,
    const char *id);

/* ---------------------------------------------------------------- */
/* service handlers                                                 */
/* ---------------------------------------------------------------- */

/* kms_vault.c */
void tr_api_create_vault(struct tr_api_ctx *c);
void tr_api_get_vault(struct tr_api_ctx *c);
void tr_api_list_vaults(struct tr_api_ctx *c);
void tr_api_update_vault(struct tr_api_ctx *c);
void tr_api_schedule_vault_deletion(struct tr_api_ctx *c);
void tr_api_cancel_vault_deletion(struct tr_api_ctx *c);
void tr_api_get_vault_usage(struct tr_api_ctx *c);
/* Vault JSON, shared with the model of other files. */
json_t *tr_api_vault_json(struct tr_api_ctx *c, const struct tr_obj *v,
    bool summary);
/* Load vault `id` visible to the caller; answers 404 otherwise. */
int tr_api_load_vault(struct tr_api_ctx *c, struct tr_obj *out,
    const char *id);

/* kms_management.c */
void tr_api_create_key(struct tr_api_ctx *c);
void tr_api_get_key(struct tr_api_ctx *c);
void tr_api_list_keys(struct tr_api_ctx *c);
void tr_api_update_key(struct tr_api_ctx *c);
void tr_api_enable_key(struct tr_api_ctx *c);
void tr_api_disable_key(struct tr_api_ctx *c);
void tr_api_schedule_key_deletion(struct tr_api_ctx *c);
void tr_api_cancel_key_deletion(struct tr_api_ctx *c);
void tr_api_create_key_version(struct tr_api_ctx *c);
void tr_api_list_key_versions(struct tr_api_ctx *c);
void tr_api_get_key_version(struct tr_api_ctx *c);
void tr_api_schedule_key_version_deletion(struct tr_api_ctx *c);
void tr_api_cancel_key_version_deletion(struct tr_api_ctx *c);
void tr_api_rewrap_secrets(struct tr_api_ctx *c);
/*
 * Load key `id` and its current version.  `vault_id` (when not NULL)
 * must match.  Answers 404 and returns a negative code when absent.
 */
int tr_api_load_key(struct tr_api_ctx *c, struct tr_obj *key,
    struct tr_key_version *current, const char *id, const char *vault_id);

/* kms_crypto.c */
void tr_api_encrypt(struct tr_api_ctx *c);
void tr_api_decrypt(struct tr_api_ctx *c);
void tr_api_generate_dek(struct tr_api_ctx *c);
void tr_api_sign(struct tr_api_ctx *c);
void tr_api_verify(struct tr_api_ctx *c);

/* vault_secrets.c (VaultsClient) */
void tr_api_create_secret(struct tr_api_ctx *c);
void tr_api_get_secret(struct tr_api_ctx *c);
void tr_api_list_secrets(struct tr_api_ctx *c);
void tr_api_update_secret(struct tr_api_ctx *c);
void tr_api_schedule_secret_deletion(struct tr_api_ctx *c);
void tr_api_cancel_secret_deletion(struct tr_api_ctx *c);
void tr_api_list_secret_versions(struct tr_api_ctx *c);
void tr_api_get_secret_version(struct tr_api_ctx *c);

/* Load secret `id` in the caller's tenancy (not DELETED); 404 if not. */
int tr_api_load_secret(struct tr_api_ctx *c, struct tr_obj *s,
    const char *id);
/* The IAM target of a secret. */
void tr_api_secret_target(const struct tr_obj *s, struct tr_api_target *t);
/* Load and authorise (perms NULL: the operation's own). */
int tr_api_secret_for_op(struct tr_api_ctx *c, struct tr_obj *s,
    const char *id, const char *const *perms);
json_t *tr_api_secret_json(const struct tr_obj *s, bool summary);
/* 409 IncorrectState (naming state and deletion time) unless ACTIVE. */
int tr_api_secret_active(struct tr_api_ctx *c, const struct tr_obj *s);
/* Paging of version lists: sortBy VERSION_NUMBER, tokens "v.<n>". */
int tr_api_version_page(struct tr_api_ctx *c, size_t *limit, bool *desc,
    bool *has_after, uint64_t *after);
void tr_api_version_next(struct tr_api_ctx *c, uint64_t last);
/* SecretVersionSummary (bundle = false) or SecretBundleVersionSummary. */
json_t *tr_api_version_summary_json(const struct tr_secret_version *v,
    bool bundle);

/* identity.c (IdentityClient) */
#define TR_API_ID_HANDLERS(sfx)						\
	void tr_api_create_##sfx(struct tr_api_ctx *c);			\
	void tr_api_get_##sfx(struct tr_api_ctx *c);			\
	void tr_api_list_##sfx(struct tr_api_ctx *c);			\
	void tr_api_update_##sfx(struct tr_api_ctx *c);			\
	void tr_api_delete_##sfx(struct tr_api_ctx *c);
TR_API_ID_HANDLERS(compartment)
TR_API_ID_HANDLERS(user)
TR_API_ID_HANDLERS(group)
TR_API_ID_HANDLERS(dynamic_group)
TR_API_ID_HANDLERS(policy)
void tr_api_get_tenancy(struct tr_api_ctx *c);
void tr_api_add_user_to_group(struct tr_api_ctx *c);
void tr_api_get_user_group_membership(struct tr_api_ctx *c);
void tr_api_remove_user_from_group(struct tr_api_ctx *c);
void tr_api_list_user_group_memberships(struct tr_api_ctx *c);
void tr_api_upload_api_key(struct tr_api_ctx *c);
void tr_api_list_api_keys(struct tr_api_ctx *c);
void tr_api_delete_api_key(struct tr_api_ctx *c);

/* tresor_ext.c (/tresor/v1, instance metadata, X.509 federation) */
void tr_api_simulate_policy(struct tr_api_ctx *c);
void tr_api_lint_policy(struct tr_api_ctx *c);
void tr_api_create_workload(struct tr_api_ctx *c);
void tr_api_get_workload(struct tr_api_ctx *c);
void tr_api_list_workloads(struct tr_api_ctx *c);
void tr_api_delete_workload(struct tr_api_ctx *c);
void tr_api_rp_session_token(struct tr_api_ctx *c);
void tr_api_imds(struct tr_api_ctx *c);
void tr_api_imds_region(struct tr_api_ctx *c);
void tr_api_x509_federation(struct tr_api_ctx *c);
void tr_api_get_settings(struct tr_api_ctx *c);
void tr_api_update_settings(struct tr_api_ctx *c);
void tr_api_test_clock(struct tr_api_ctx *c);
void tr_api_test_maintenance(struct tr_api_ctx *c);
void tr_api_get_usage(struct tr_api_ctx *c);

/* secret_change.c: one change to a secret and its versions */
struct tr_version_req {
	const struct tr_secret *pt;	/* new content, or NULL */
	bool pending;			/* new version is PENDING */
	bool generated;			/* content was generated */
	const char *name;		/* version name or NULL */
	uint64_t promote;		/* make this version CURRENT (0: no) */
	const json_t *attr_updates;	/* members to set in attrs, or NULL */
	const char *if_match;		/* etag required, or NULL */
	const struct tr_store_write *extra; /* more writes, same batch */
	size_t nextra;
};

/* How a failed change should be answered (status 0: by its rc). */
struct tr_change_error {
	int status;
	const char *code;
};

/*
 * Apply `req` to secret `secret_id` atomically (under its etag, retried
 * on concurrent change): stages, rules (reuse, expiry), version limits.
 * *out receives the secret as written.
 */
int tr_secret_change(struct tr_store *st, struct tr_keystore *ks,
    const char *secret_id, const struct tr_version_req *req,
    struct tr_obj *out, struct tr_change_error *e);
void tr_api_change_error(struct tr_api_ctx *c, int rc,
    const struct tr_change_error *e);
/* Seal content into version `v` (number and secret id set) with `kv`. */
int tr_api_seal_version(struct tr_keystore *ks, const struct tr_key_version *kv,
    const struct tr_secret *pt, struct tr_secret_version *v);
int tr_api_parse_days(const char *s, uint64_t *days);
const json_t *tr_api_secret_rule(const json_t *attrs, const char *type);
int64_t tr_api_version_expiry(const json_t *attrs, int64_t created);
/* Check a secretGenerationContext; 0 or TRESOR_EINVAL with `why`. */
int tr_api_generation_check(const json_t *ctx, char *why, size_t whycap);
/* Generate content for a (checked) secretGenerationContext. */
int tr_api_generate(const json_t *ctx, struct tr_secret **out);
/* The interval of a rotationConfig in ms; 0 when not scheduled. */
int64_t tr_api_rotation_interval(const json_t *rotation_config);
void tr_api_rotate_secret(struct tr_api_ctx *c);
void tr_api_cancel_secret_rotation(struct tr_api_ctx *c);
void tr_api_schedule_version_deletion(struct tr_api_ctx *c);
void tr_api_cancel_version_deletion(struct tr_api_ctx *c);

/* lifecycle.c: scheduled jobs and the reaper */
int tr_api_job_new(struct tr_obj *job, const char *tenancy, const char *parent,
    const char *kind, int64_t due);
int tr_api_job_find(struct tr_store *st, const char *tenancy,
    const char *parent, const char *kind, struct tr_obj *out);
int tr_api_rotate_scheduled(struct tr_api_thread *t, const struct tr_obj *job,
    int64_t now);

/* secret_bundles.c (SecretsClient) */
void tr_api_get_secret_bundle(struct tr_api_ctx *c);
void tr_api_get_secret_bundle_by_name(struct tr_api_ctx *c);
void tr_api_list_secret_bundle_versions(struct tr_api_ctx *c);

/* Stage bits <-> JSON array of names. */
json_t *tr_api_stages_json(unsigned int stages);
/* The same array as text, appended to `b`. */
struct tr_buf;
void tr_api_stages_text(struct tr_buf *b, unsigned int stages);
int tr_api_stage_parse(const char *s, unsigned int *out);

#endif /* TR_API_API_INT_H */
