/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IAM: OCI's policy language, dynamic-group matching rules and the
 * authorisation decision.  Facts: ../shared/spec/oci-iam.md.
 *
 * The engine works on an immutable snapshot, struct tr_iam_world, built
 * from plain arrays (compartments, groups, memberships, dynamic groups,
 * policies).  Policies are parsed once, when the world is built; the
 * request path only evaluates.  The daemon rebuilds the world when the
 * store's IAM generation changes and shares it between threads by
 * reference count (tr_iam_world_link/unlink).
 *
 * Nothing here touches the store or HTTP: every function is testable
 * with arrays built in a test.
 */
#ifndef TR_IAM_IAM_H
#define TR_IAM_IAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct tr_principal;

/* Longest policy statement and matching rule accepted, in bytes. */
#define TR_IAM_STATEMENT_MAX 4096
#define TR_IAM_RULE_MAX 4096
/* Most statements one policy may hold (OCI: 500 along a path). */
#define TR_IAM_POLICY_STATEMENTS_MAX 500

/* ---------------------------------------------------------------- */
/* the world                                                        */
/* ---------------------------------------------------------------- */

/* A compartment; the tenancy itself is the root (parent_id NULL). */
struct tr_iam_compartment {
	const char *id;
	const char *parent_id;	/* NULL for the tenancy (root) */
	const char *name;
	const char *defined_tags_json;	/* {"ns":{"k":"v"}} or NULL */
};

struct tr_iam_group {
	const char *id;
	const char *name;
};

struct tr_iam_membership {
	const char *user_id;
	const char *group_id;
};

struct tr_iam_dynamic_group {
	const char *id;
	const char *name;
	const char *matching_rule;
};

struct tr_iam_policy {
	const char *id;
	const char *name;
	const char *compartment_id;	/* where it is attached */
	const char *const *statements;
	size_t nstatements;
};

struct tr_iam_world_input {
	const char *tenancy_id;
	const char *tenancy_name;
	const struct tr_iam_compartment *compartments; /* tenancy included */
	size_t ncompartments;
	const struct tr_iam_group *groups;
	size_t ngroups;
	const struct tr_iam_membership *memberships;
	size_t nmemberships;
	const struct tr_iam_dynamic_group *dynamic_groups;
	size_t ndynamic_groups;
	const struct tr_iam_policy *policies;
	size_t npolicies;
	/*
	 * Tenancy setting secret_reads_require_key_use (default on): content
	 * reads and content updates also need KEY_DECRYPT / KEY_ENCRYPT on
	 * the secret's key.  See tr_iam_op_permissions().
	 */
	bool secret_reads_require_key_use;
};

struct tr_iam_world;

/*
 * Build a world; copies everything it needs from `in`.  A statement that
 * no longer parses or resolves (e.g. its compartment was deleted) is kept
 * out of evaluation and reported through the log callback of the
 * caller, never fatal.  Returns 0 or TRESOR_ENOMEM.
 */
int tr_iam_world_build(struct tr_iam_world **out,
    const struct tr_iam_world_input *in);

/* Reference counting: the last unlink frees. */
struct tr_iam_world *tr_iam_world_link(struct tr_iam_world *w);
void tr_iam_world_unlink(struct tr_iam_world *w);

bool tr_iam_world_secret_reads_require_key_use(const struct tr_iam_world *w);

/*
 * True when a statement's condition reads the clock: a decision then
 * holds for one request only.  Otherwise a decision depends on the world
 * and the request's fields alone, and may be remembered with the world.
 */
bool tr_iam_world_time_dependent(const struct tr_iam_world *w);

/*
 * Append to `out` one line per statement of the world that is kept out
 * of evaluation (does not parse, names a compartment that no longer
 * exists or lies outside its policy's subtree), and per dynamic group
 * whose rule does not parse: "policy 'P' statement 3: column 12: ...";
 * also one line per group or dynamic group a statement names that does
 * not exist (the name matches nobody).  For an administrator's health
 * view.  Returns 0 or the sticky error of
 * `out`.
 */
int tr_iam_world_problems(const struct tr_iam_world *w, struct tr_buf *out);

/*
 * The names of the groups (users) or dynamic groups (workloads) the
 * principal belongs to, up to `max`, borrowed from the world; returns
 * how many.  For the audit record.
 */
size_t tr_iam_world_principal_groups(const struct tr_iam_world *w,
    const struct tr_principal *p, const char **names, size_t max);

/*
 * True when compartment `id` is `ancestor` or lies below it.  Both are
 * OCIDs; the tenancy OCID is the root.
 */
bool tr_iam_world_in_subtree(const struct tr_iam_world *w, const char *id,
    const char *ancestor);

/* ---------------------------------------------------------------- */
/* principals and requests                                          */
/* ---------------------------------------------------------------- */

enum tr_principal_kind {
	TR_PRINCIPAL_USER = 1,		/* API key */
	TR_PRINCIPAL_RESOURCE = 2,	/* resource principal session token */
	TR_PRINCIPAL_INSTANCE = 3	/* instance principal session token */
};

/* The caller, as authentication established it. */
struct tr_principal {
	enum tr_principal_kind kind;
	char id[256];			/* user, resource or instance OCID */
	char tenancy_id[256];
	char compartment_id[256];	/* workloads: where they live */
	char resource_type[64];		/* request.principal.type: "user",
					 * "instance", or e.g. "fnfunc" */
	char name[256];			/* user name; "" for workloads */
	const char *defined_tags_json;	/* workload tags or NULL; borrowed */
	char key_id[128];		/* API key fingerprint, for audit */
	/* authenticated with a workload's enrollment key: may only ask for
	 * a session token (docs/api/tresor-v1.md) */
	bool via_enrollment_key;
};

/*
 * One authorisation question: may `principal` hold every permission in
 * `permissions` on a target in `compartment_id`?  Target variables that
 * do not apply to the operation are NULL (a condition on them is false,
 * spec section 2.3).
 */
struct tr_iam_request {
	const struct tr_principal *principal;
	const char *operation;		/* request.operation, e.g.
					 * "GetSecretBundle" */
	const char *const *permissions;	/* NULL-terminated; all required */
	const char *compartment_id;	/* target.compartment.id */
	const char *vault_id;		/* target.vault.id */
	const char *key_id;		/* target.key.id */
	const char *secret_id;		/* target.secret.id */
	const char *secret_name;	/* target.secret.name */
	const char *include_plaintext_key; /* request.includePlainTextKey */
	const char *target_tags_json;	/* target.resource.tag.* or NULL */
	int64_t now_ms;			/* request.utc-timestamp */
};

struct tr_iam_decision {
	bool allowed;
	/* when denied: the first permission no statement granted */
	char missing_permission[64];
	/* when allowed: the policy and statement that granted the last
	 * permission, for the audit record */
	char granted_by[512];
};

/*
 * Decide `req` in `w`.  When `trace` is not NULL, append one line per
 * statement considered, saying whether and why it matched (the policy
 * simulator).  Returns 0 with the decision in *out (a denial is not an
 * error), or TRESOR_ENOMEM.
 */
int tr_iam_authorize(const struct tr_iam_world *w,
    const struct tr_iam_request *req, struct tr_iam_decision *out,
    struct tr_buf *trace);

/*
 * A statement that would grant `permission` to the principal of `req`
 * on its target, for a 403 message or the simulator, e.g. "Allow group
 * Readers to use keys in compartment A:B" (the caller's first group or
 * dynamic group, the smallest verb and type holding the permission, the
 * target's path from the tenancy).  Writes a NUL-terminated sentence of
 * at most `outsz` bytes.  Returns 0, TRESOR_EINVAL or TRESOR_ENOMEM.
 */
int tr_iam_suggest_statement(const struct tr_iam_world *w,
    const struct tr_iam_request *req, const char *permission, char *out,
    size_t outsz);

/*
 * The permissions an API operation needs on its primary target, per
 * spec section 3.3, NULL-terminated, static.  NULL for an unknown
 * operation.  The extra key permission of secret content reads is
 * tr_iam_op_key_permission().  (CreateSecret lists SECRET_CREATE and
 * VAULT_CREATE_SECRET here; its KEY_ENCRYPT and KEY_DECRYPT are checked
 * on the key, from tr_iam_op_key_permissions().)
 */
const char *const *tr_iam_op_permissions(const char *operation);

/*
 * The permission an operation needs on the secret's *key* under the
 * tenancy setting, or NULL: CreateSecret always needs KEY_ENCRYPT and
 * KEY_DECRYPT (returned as the NULL-terminated list); GetSecretBundle,
 * GetSecretBundleByName, ListSecretBundleVersions need KEY_DECRYPT and
 * UpdateSecret with new content needs KEY_ENCRYPT only when
 * `reads_require_key_use` is set.
 */
const char *const *tr_iam_op_key_permissions(const char *operation,
    bool reads_require_key_use, bool has_new_content);

/*
 * The operations tr_iam_op_permissions() knows: their number, and the
 * name of the i-th (NULL past the end), in ASCII order.  For docs,
 * the CLI's simulator and tests.
 */
size_t tr_iam_op_count(void);
const char *tr_iam_op_name(size_t i);

/* ---------------------------------------------------------------- */
/* policies: validation at write time, lint                         */
/* ---------------------------------------------------------------- */

/*
 * Check the statements of a policy attached to `compartment_id` before
 * it is stored: each must parse, name groups and dynamic groups that
 * exist, and grant only in the attachment compartment's subtree.  On
 * failure returns TRESOR_EINVAL with a message naming the statement's
 * index (0-based), the column (1-based) and what was expected, e.g.
 * "statement 2, column 17: expected 'to' after the subject".
 */
int tr_iam_policy_validate(const struct tr_iam_world *w,
    const char *compartment_id, const char *const *statements, size_t n);

/*
 * Lint the statements of a policy: append one JSON object per finding
 * to `out` (a JSON array of {"statementIndex", "statement", "rule",
 * "risk", "fix"}).  Returns 0 or TRESOR_ENOMEM.
 */
int tr_iam_policy_lint(const struct tr_iam_world *w,
    const char *const *statements, size_t n, struct tr_buf *out);

/*
 * tr_iam_policy_lint() for a policy attached to `compartment_id`, so
 * that compartment names resolve as they will when the policy is stored
 * (tr_iam_policy_lint() assumes the tenancy).  Same output and errors.
 * Both append one complete JSON array ("[]" when nothing is found), in
 * statement order; each finding also carries "severity" (error, high,
 * medium, low).  Rules: parse-error, location, any-user-sensitive,
 * tenancy-manage-secret-family, tenancy-wide-secret-read,
 * quoted-wildcard, secret-read-without-key-use, variable-never-set.
 */
int tr_iam_policy_lint_at(const struct tr_iam_world *w,
    const char *compartment_id, const char *const *statements, size_t n,
    struct tr_buf *out);

/* ---------------------------------------------------------------- */
/* dynamic groups                                                   */
/* ---------------------------------------------------------------- */

/*
 * Check a matching rule's syntax (at CreateDynamicGroup/Update).
 * TRESOR_EINVAL with column and expectation on failure.
 */
int tr_iam_rule_validate(const char *rule);

#endif /* TR_IAM_IAM_H */
