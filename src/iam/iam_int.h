/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/iam/: the permission tables, the lexer shared by the
 * policy and matching-rule parsers, the statement AST, the matching-rule
 * AST and the layout of struct tr_iam_world.  Other modules see only
 * iam.h.
 */
#ifndef TR_IAM_IAM_INT_H
#define TR_IAM_IAM_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "iam/iam.h"

/* ---------------------------------------------------------------- */
/* limits                                                           */
/* ---------------------------------------------------------------- */

#define TR_IAM_COND_DEPTH_MAX	8	/* nesting of all {} / any {} */
#define TR_IAM_COND_NODES_MAX	128	/* condition nodes per statement */
#define TR_IAM_LIST_MAX		32	/* subjects, children, in () values */
#define TR_IAM_PERM_LIST_MAX	64	/* names in { PERM, ... } */
#define TR_IAM_RULE_DEPTH_MAX	4	/* nesting of ANY {} / ALL {} */
#define TR_IAM_RULE_NODES_MAX	64	/* conditions per matching rule */
#define TR_IAM_TAGS_JSON_MAX	(64 * 1024)	/* defined_tags_json size */

/* ---------------------------------------------------------------- */
/* permissions and resource types (permissions.c)                   */
/* ---------------------------------------------------------------- */

/*
 * Every permission of the domain, in ASCII order so that a name is found
 * by binary search (tests/unit/iam checks the order).
 */
#define TR_IAM_PERMISSIONS(X)						\
	X(COMPARTMENT_CREATE) X(COMPARTMENT_DELETE)			\
	X(COMPARTMENT_INSPECT) X(COMPARTMENT_MOVE) X(COMPARTMENT_READ)	\
	X(COMPARTMENT_RECOVER) X(COMPARTMENT_UPDATE)			\
	X(DYNAMIC_GROUP_CREATE) X(DYNAMIC_GROUP_DELETE)			\
	X(DYNAMIC_GROUP_INSPECT) X(DYNAMIC_GROUP_READ)			\
	X(DYNAMIC_GROUP_UPDATE)						\
	X(GROUP_CREATE) X(GROUP_DELETE) X(GROUP_INSPECT) X(GROUP_READ)	\
	X(GROUP_UPDATE)							\
	X(HSM_CLUSTER_CREATE) X(HSM_CLUSTER_DELETE)			\
	X(HSM_CLUSTER_INSPECT) X(HSM_CLUSTER_MOVE) X(HSM_CLUSTER_READ)	\
	X(HSM_CLUSTER_UPDATE)						\
	X(KEY_ASSOCIATE) X(KEY_BACKUP) X(KEY_CREATE) X(KEY_DECRYPT)	\
	X(KEY_DELETE) X(KEY_DISASSOCIATE) X(KEY_ENCRYPT) X(KEY_EXPORT)	\
	X(KEY_IMPORT) X(KEY_INSPECT) X(KEY_MOVE) X(KEY_READ)		\
	X(KEY_RESTORE) X(KEY_ROTATE) X(KEY_SIGN) X(KEY_UPDATE)		\
	X(KEY_VERIFY)							\
	X(POLICY_CREATE) X(POLICY_DELETE) X(POLICY_INSPECT)		\
	X(POLICY_READ) X(POLICY_UPDATE)					\
	X(SECRET_BUNDLE_INSPECT) X(SECRET_BUNDLE_READ)			\
	X(SECRET_CREATE) X(SECRET_DELETE) X(SECRET_INSPECT)		\
	X(SECRET_MOVE) X(SECRET_READ) X(SECRET_UPDATE)			\
	X(SECRET_VERSION_DELETE) X(SECRET_VERSION_INSPECT)		\
	X(SECRET_VERSION_READ)						\
	X(TENANCY_INSPECT) X(TENANCY_UPDATE)				\
	X(USER_APIKEY_ADD) X(USER_APIKEY_REMOVE)			\
	X(USER_AUTHTOKEN_RESET) X(USER_AUTHTOKEN_SET) X(USER_CREATE)	\
	X(USER_DELETE) X(USER_INSPECT) X(USER_READ)			\
	X(USER_UIPASS_RESET)						\
	X(USER_UIPASS_SET) X(USER_UNBLOCK) X(USER_UPDATE)		\
	X(VAULT_BACKUP) X(VAULT_CREATE) X(VAULT_CREATE_KEY)		\
	X(VAULT_CREATE_SECRET) X(VAULT_DELETE) X(VAULT_IMPORT_KEY)	\
	X(VAULT_INSPECT) X(VAULT_MOVE) X(VAULT_READ) X(VAULT_REPLICATE)	\
	X(VAULT_RESTORE) X(VAULT_UPDATE)

enum tr_iam_perm {
#define TR_IAM_PERM_ENUM(n) TR_IAM_P_##n,
	TR_IAM_PERMISSIONS(TR_IAM_PERM_ENUM)
#undef TR_IAM_PERM_ENUM
	TR_IAM_NPERMS
};

#define TR_IAM_PERM_WORDS	2

_Static_assert(TR_IAM_NPERMS <= 64 * TR_IAM_PERM_WORDS,
    "permission set too small");

/* A set of permissions, one bit per enum tr_iam_perm. */
struct tr_iam_permset {
	uint64_t w[TR_IAM_PERM_WORDS];
};

static inline void
tr_iam_permset_add(struct tr_iam_permset *s, int p)
{
	s->w[(unsigned int)p / 64] |= (uint64_t)1 << ((unsigned int)p % 64);
}

static inline bool
tr_iam_permset_has(const struct tr_iam_permset *s, int p)
{
	if (p < 0 || p >= TR_IAM_NPERMS)
		return false;
	return (s->w[(unsigned int)p / 64] >>
	    ((unsigned int)p % 64) & 1) != 0;
}

/* Verbs, cumulative: each includes the ones below it. */
enum tr_iam_verb {
	TR_IAM_VERB_NONE = 0,	/* a permission-list statement */
	TR_IAM_VERB_INSPECT = 1,
	TR_IAM_VERB_READ = 2,
	TR_IAM_VERB_USE = 3,
	TR_IAM_VERB_MANAGE = 4
};

/* Resource types; the families come after the individual types. */
enum tr_iam_rtype {
	TR_IAM_T_VAULTS,
	TR_IAM_T_KEYS,
	TR_IAM_T_KEY_DELEGATE,
	TR_IAM_T_HSM_CLUSTER,
	TR_IAM_T_SECRETS,
	TR_IAM_T_SECRET_VERSIONS,
	TR_IAM_T_SECRET_BUNDLES,
	TR_IAM_T_COMPARTMENTS,
	TR_IAM_T_USERS,
	TR_IAM_T_GROUPS,
	TR_IAM_T_DYNAMIC_GROUPS,
	TR_IAM_T_POLICIES,
	TR_IAM_T_TENANCIES,
	TR_IAM_T_NINDIVIDUAL,
	TR_IAM_T_SECRET_FAMILY = TR_IAM_T_NINDIVIDUAL,
	TR_IAM_T_KEY_FAMILY,
	TR_IAM_T_ALL_RESOURCES,
	TR_IAM_T_COUNT
};

/* Permission index of a name (case-insensitive), or -1. */
int tr_iam_perm_lookup(const char *name, size_t len);
/* Canonical name of permission `p`; "?" out of range. */
const char *tr_iam_perm_name(int p);
/* Resource type of a name (case-insensitive), or -1. */
int tr_iam_type_lookup(const char *name, size_t len);
/* Canonical name of a resource type. */
const char *tr_iam_type_name(int t);
/* Verb of a name (case-insensitive), or TR_IAM_VERB_NONE. */
enum tr_iam_verb tr_iam_verb_lookup(const char *name, size_t len);
const char *tr_iam_verb_name(enum tr_iam_verb v);
/*
 * Every permission `verb` grants on type `t` (families expanded, verbs
 * cumulative) into *out, which is cleared first.
 */
void tr_iam_type_perms(int t, enum tr_iam_verb verb,
    struct tr_iam_permset *out);
/*
 * The smallest "verb type" that grants permission `p`, e.g. "use keys"
 * for KEY_DECRYPT, into `out` (for messages); false when none.
 */
bool tr_iam_perm_grant_hint(int p, char *out, size_t outsz);

/* ---------------------------------------------------------------- */
/* lexer (lexer.c): a cursor over one statement or rule             */
/* ---------------------------------------------------------------- */

struct tr_iam_lex {
	const char *s;
	size_t len;
	size_t pos;
};

void tr_iam_lex_init(struct tr_iam_lex *lx, const char *s, size_t len);
/* Skip blanks (space, tab, CR, LF, FF, VT). */
void tr_iam_lex_skip_ws(struct tr_iam_lex *lx);
/* 1-based column of the next non-blank character. */
size_t tr_iam_lex_col(struct tr_iam_lex *lx);
/* True when only blanks are left. */
bool tr_iam_lex_eof(struct tr_iam_lex *lx);
/* The next non-blank character, or -1 at the end. */
int tr_iam_lex_peek(struct tr_iam_lex *lx);
/* Consume `c` when it is the next non-blank character. */
bool tr_iam_lex_accept(struct tr_iam_lex *lx, char c);
/* True for the characters of a bare word: [A-Za-z0-9_.:-]. */
bool tr_iam_lex_is_word_char(int c);
/*
 * Read a bare word into (*w, *n), pointing into the input.  False, with
 * nothing consumed, when the next character does not start a word.
 */
bool tr_iam_lex_word(struct tr_iam_lex *lx, const char **w, size_t *n);
/* Consume the word `kw` (case-insensitive) when it comes next. */
bool tr_iam_lex_keyword(struct tr_iam_lex *lx, const char *kw);
/* True when the next word is `kw`, without consuming it. */
bool tr_iam_lex_peek_keyword(struct tr_iam_lex *lx, const char *kw);
/*
 * Read text between two `delim` characters (' or /) into (*v, *n),
 * pointing into the input.  The cursor must be on the opening delimiter.
 * TRESOR_EINVAL "column N: expected a closing ..." when unterminated.
 */
int tr_iam_lex_delimited(struct tr_iam_lex *lx, char delim, const char **v,
    size_t *n);
/*
 * Fail at the current column: TRESOR_EINVAL with "column N: expected
 * <what>, found <token>".
 */
int tr_iam_lex_fail(struct tr_iam_lex *lx, const char *what);
/* Fail at column `col` with a free-form message. */
int tr_iam_lex_fail_at(size_t col, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Case-insensitive (ASCII) comparisons of counted strings. */
bool tr_iam_eq_ci(const char *a, size_t alen, const char *b, size_t blen);
bool tr_iam_streq_ci(const char *a, const char *b);
/*
 * Case-insensitive match of `s` against `pat`, where `*` matches any run
 * of characters (possibly empty).  Iterative, O(len(s) * len(pat)).
 */
bool tr_iam_glob_ci(const char *pat, size_t plen, const char *s, size_t slen);

/* ---------------------------------------------------------------- */
/* defined tags (tags.c)                                            */
/* ---------------------------------------------------------------- */

/*
 * Parse a defined-tags document {"ns": {"key": "value"}} with limits.
 * NULL or "" gives *out = NULL and 0.  TRESOR_EINVAL or TRESOR_ENOMEM.
 */
int tr_iam_tags_parse(json_t **out, const char *json);
/*
 * The string value of tag ns.key (names case-insensitive), or NULL when
 * absent or not a string.  `tags` may be NULL.
 */
const char *tr_iam_tag_get(const json_t *tags, const char *ns,
    const char *key);

/* ---------------------------------------------------------------- */
/* policy statements (policy_parse.c)                               */
/* ---------------------------------------------------------------- */

enum tr_iam_subject_kind {
	TR_IAM_SUBJ_GROUP = 1,
	TR_IAM_SUBJ_DYNAMIC_GROUP,
	TR_IAM_SUBJ_ANY_USER,
	TR_IAM_SUBJ_ANY_GROUP
};

/* One name of `group A, B` or `dynamic-group id o1, id o2`. */
struct tr_iam_subject_item {
	char *name;		/* by name; NULL when by id */
	char *id;		/* by OCID; NULL when by name */
	char *domain;		/* 'Domain'/ qualifier or NULL */
	size_t col;
};

enum tr_iam_loc_kind {
	TR_IAM_LOC_TENANCY = 1,
	TR_IAM_LOC_ID,		/* compartment id <ocid> */
	TR_IAM_LOC_PATH		/* compartment a[:b:c] */
};

/* Condition variables (the left side of a comparison). */
enum tr_iam_var {
	TR_IAM_V_REQUEST_OPERATION = 1,
	TR_IAM_V_REQUEST_PERMISSION,
	TR_IAM_V_REQUEST_PRINCIPAL_TYPE,
	TR_IAM_V_REQUEST_PRINCIPAL_ID,
	TR_IAM_V_REQUEST_PRINCIPAL_COMPARTMENT_ID,
	TR_IAM_V_REQUEST_PRINCIPAL_COMPARTMENT_TAG,
	TR_IAM_V_REQUEST_USER_ID,
	TR_IAM_V_REQUEST_USER_NAME,
	TR_IAM_V_REQUEST_GROUPS_ID,		/* list */
	TR_IAM_V_REQUEST_GROUPS_NAME,		/* list */
	TR_IAM_V_REQUEST_DYNAMICGROUP_ID,	/* list */
	TR_IAM_V_REQUEST_DYNAMICGROUP_NAME,	/* list */
	TR_IAM_V_REQUEST_INSTANCE_ID,
	TR_IAM_V_REQUEST_INSTANCE_COMPARTMENT_ID,
	TR_IAM_V_REQUEST_RESOURCE_COMPARTMENT_ID,
	TR_IAM_V_REQUEST_INCLUDE_PLAINTEXT_KEY,
	TR_IAM_V_REQUEST_UTC_TIMESTAMP,
	TR_IAM_V_REQUEST_UTC_MONTH_OF_YEAR,
	TR_IAM_V_REQUEST_UTC_DAY_OF_MONTH,
	TR_IAM_V_REQUEST_UTC_DAY_OF_WEEK,
	TR_IAM_V_REQUEST_UTC_TIME_OF_DAY,
	TR_IAM_V_TARGET_COMPARTMENT_ID,
	TR_IAM_V_TARGET_COMPARTMENT_NAME,
	TR_IAM_V_TARGET_COMPARTMENT_TAG,
	TR_IAM_V_TARGET_RESOURCE_TAG,
	TR_IAM_V_TARGET_VAULT_ID,
	TR_IAM_V_TARGET_KEY_ID,
	TR_IAM_V_TARGET_SECRET_NAME,
	TR_IAM_V_TARGET_SECRET_ID,
	TR_IAM_V_TARGET_TENANT_ID,
	TR_IAM_V_TARGET_TENANT_NAME,
	TR_IAM_V_UNSUPPORTED	/* an OCI variable tresor never sets */
};

struct tr_iam_varref {
	enum tr_iam_var var;
	char *name;		/* as written, for messages */
	char *tag_ns;		/* tag variables */
	char *tag_key;
};

enum tr_iam_value_kind {
	TR_IAM_VAL_STRING = 1,	/* 'text', matched whole */
	TR_IAM_VAL_PATTERN,	/* /te*xt/ */
	TR_IAM_VAL_VAR		/* an unquoted variable name */
};

struct tr_iam_value {
	enum tr_iam_value_kind kind;
	char *s;		/* STRING and PATTERN; "" allowed */
	size_t len;
	struct tr_iam_varref var;	/* VAR */
	int num;		/* month, day or weekday values */
	size_t col;
};

enum tr_iam_op {
	TR_IAM_OP_EQ = 1,
	TR_IAM_OP_NE,
	TR_IAM_OP_IN,
	TR_IAM_OP_NOT_IN,
	TR_IAM_OP_BEFORE,
	TR_IAM_OP_AFTER,
	TR_IAM_OP_BETWEEN
};

enum tr_iam_cond_kind {
	TR_IAM_COND_CMP = 1,
	TR_IAM_COND_ALL,
	TR_IAM_COND_ANY
};

struct tr_iam_cond {
	enum tr_iam_cond_kind kind;
	size_t col;
	/* ALL, ANY */
	struct tr_iam_cond **kids;
	size_t nkids;
	/* CMP */
	struct tr_iam_varref lhs;
	enum tr_iam_op op;
	struct tr_iam_value *vals;
	size_t nvals;
	int64_t t0;		/* BEFORE/AFTER: ms; BETWEEN: second of day */
	int64_t t1;		/* BETWEEN: second of day */
};

/* One parsed `Allow` statement. */
struct tr_iam_stmt {
	enum tr_iam_subject_kind subject;
	struct tr_iam_subject_item *items;
	size_t nitems;
	size_t subject_col;
	enum tr_iam_verb verb;	/* NONE for a permission list */
	int rtype;		/* enum tr_iam_rtype, -1 for a list */
	int *plist;		/* permission list, in written order */
	size_t nplist;
	struct tr_iam_permset perms;	/* everything the statement grants */
	enum tr_iam_loc_kind loc;
	char **loc_parts;	/* LOC_ID: 1 OCID; LOC_PATH: names */
	size_t nloc_parts;
	size_t loc_col;		/* of 'tenancy', the name, path or OCID */
	struct tr_iam_cond *cond;	/* NULL without `where` */
};

/*
 * Parse one statement.  TRESOR_EINVAL with "column N: expected ..." in
 * tresor_error_last(), TRESOR_ENOMEM.  *out is freed with
 * tr_iam_stmt_free().
 */
int tr_iam_stmt_parse(struct tr_iam_stmt **out, const char *text);
void tr_iam_stmt_free(struct tr_iam_stmt *st);
/*
 * The number a value of a request.utc-timestamp.* part denotes: month
 * 1-12 (or its English name), day of month 1-31, day of week 1-7 from
 * Monday (or its English name or abbreviation); -1 when invalid.
 */
int tr_iam_time_part_value(enum tr_iam_var var, const char *s, size_t n);
/* Describe what the statement grants, "read secret-family" or "{A, B}". */
void tr_iam_stmt_grant_text(const struct tr_iam_stmt *st, char *out,
    size_t outsz);
/* True when some condition value is a quoted string holding `*`. */
bool tr_iam_cond_has_quoted_star(const struct tr_iam_cond *c);
/* True when a condition names a variable tresor never sets. */
bool tr_iam_cond_has_unsupported(const struct tr_iam_cond *c,
    const char **name_out);

/* ---------------------------------------------------------------- */
/* dynamic-group matching rules (dg_rule.c)                         */
/* ---------------------------------------------------------------- */

enum tr_iam_rule_var {
	TR_IAM_RV_INSTANCE_ID = 1,
	TR_IAM_RV_INSTANCE_COMPARTMENT_ID,
	TR_IAM_RV_RESOURCE_ID,
	TR_IAM_RV_RESOURCE_TYPE,
	TR_IAM_RV_RESOURCE_COMPARTMENT_ID,
	TR_IAM_RV_TAG
};

struct tr_iam_rule {
	enum tr_iam_cond_kind kind;	/* CMP, ALL, ANY */
	struct tr_iam_rule **kids;
	size_t nkids;
	enum tr_iam_rule_var var;
	char *tag_ns;
	char *tag_key;
	bool presence;		/* tag.ns.key.value alone */
	bool negate;		/* != */
	char *value;
};

/*
 * Parse a matching rule.  TRESOR_EINVAL with "column N: expected ..." or
 * TRESOR_ENOMEM.  Free with tr_iam_rule_free().
 */
int tr_iam_rule_parse(struct tr_iam_rule **out, const char *text);
void tr_iam_rule_free(struct tr_iam_rule *r);
/* True when some condition of the rule reads a tag. */
bool tr_iam_rule_uses_tags(const struct tr_iam_rule *r);
/*
 * Does workload `p` (instance or resource principal) match rule `r`?
 * `tags` are its parsed defined tags or NULL.  Users never match.  A
 * variable that does not apply to the principal makes its condition
 * false, with `!=` too.
 */
bool tr_iam_rule_match(const struct tr_iam_rule *r,
    const struct tr_principal *p, const json_t *tags);

/* ---------------------------------------------------------------- */
/* the world (world.c)                                              */
/* ---------------------------------------------------------------- */

#define TR_IAM_NONE	UINT32_MAX

struct tr_iam_wcomp {
	char *id;
	char *name;
	uint32_t parent;	/* TR_IAM_NONE for the root and orphans */
	uint32_t first_child;
	uint32_t next_sibling;
	bool in_tree;		/* reaches the root without a cycle */
	json_t *tags;		/* parsed defined tags or NULL */
};

struct tr_iam_wgroup {
	char *id;
	char *name;
	uint32_t *stmts;	/* statements naming this group */
	size_t nstmts;
};

struct tr_iam_wdg {
	char *id;
	char *name;
	struct tr_iam_rule *rule;	/* NULL when the rule does not parse */
	char *error;		/* why the rule did not parse */
	uint32_t *stmts;
	size_t nstmts;
};

struct tr_iam_wmember {
	char *user_id;
	uint32_t group;
};

struct tr_iam_wpolicy {
	char *id;
	char *name;
	uint32_t compartment;	/* attachment; TR_IAM_NONE if unknown */
};

/* A statement of a policy, resolved against the world. */
struct tr_iam_wstmt {
	uint32_t policy;
	size_t index;		/* in its policy */
	char *text;		/* blanks collapsed, for traces */
	struct tr_iam_stmt *st;	/* NULL when it did not parse */
	char *error;		/* why it is not evaluated, or NULL */
	uint32_t location;	/* compartment index */
	uint32_t *subj;		/* resolved group / dynamic-group indexes,
				 * TR_IAM_NONE for unknown names */
};

struct tr_iam_world {
	_Atomic long refs;
	char *tenancy_id;
	char *tenancy_name;
	bool secret_reads_require_key_use;
	bool any_rule_uses_tags;
	bool time_dependent;	/* a condition reads request.utc-* */

	struct tr_iam_wcomp *comps;
	size_t ncomps;
	uint32_t root;
	uint32_t *comp_slots;	/* open addressing on id */
	size_t comp_mask;

	struct tr_iam_wgroup *groups;
	size_t ngroups;
	uint32_t *group_slots;	/* on id */
	size_t group_mask;

	struct tr_iam_wmember *members;	/* sorted by user_id, group */
	size_t nmembers;

	struct tr_iam_wdg *dgs;
	size_t ndgs;

	struct tr_iam_wpolicy *policies;
	size_t npolicies;

	struct tr_iam_wstmt *stmts;
	size_t nstmts;
	uint32_t *any_user_stmts;
	size_t nany_user;
	uint32_t *any_group_stmts;
	size_t nany_group;
};

/* Index of compartment `id`, or TR_IAM_NONE. */
uint32_t tr_iam_world_comp(const struct tr_iam_world *w, const char *id);
/* Index of group `id`, or TR_IAM_NONE. */
uint32_t tr_iam_world_group_by_id(const struct tr_iam_world *w,
    const char *id);
/* Index of the group named `name` (case-insensitive), or TR_IAM_NONE. */
uint32_t tr_iam_world_group_by_name(const struct tr_iam_world *w,
    const char *name);
uint32_t tr_iam_world_dg_by_id(const struct tr_iam_world *w, const char *id);
uint32_t tr_iam_world_dg_by_name(const struct tr_iam_world *w,
    const char *name);
/* True when compartment index `c` is `anc` or below it. */
bool tr_iam_world_comp_below(const struct tr_iam_world *w, uint32_t c,
    uint32_t anc);
/*
 * Range [*lo, *hi) of the memberships of `user_id` in w->members.
 */
void tr_iam_world_user_range(const struct tr_iam_world *w,
    const char *user_id, size_t *lo, size_t *hi);
/*
 * Resolve the location of `st` for a policy attached to compartment
 * `attach` into *out.  TRESOR_EINVAL with "column N: ..." when the
 * location does not exist or lies outside the attachment's subtree.
 */
int tr_iam_world_resolve_location(const struct tr_iam_world *w,
    const struct tr_iam_stmt *st, uint32_t attach, uint32_t *out);
/*
 * Resolve subject item `it` of kind `kind` (group or dynamic group) into
 * an index; TR_IAM_NONE when no such group exists.
 */
uint32_t tr_iam_world_resolve_subject(const struct tr_iam_world *w,
    enum tr_iam_subject_kind kind, const struct tr_iam_subject_item *it);

#endif /* TR_IAM_IAM_INT_H */
