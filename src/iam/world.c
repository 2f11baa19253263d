/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM world: an immutable snapshot of compartments, groups,
 * memberships, dynamic groups and policies, with every statement parsed
 * and resolved once (spec oci-iam.md sections 1.5, 4 and 5).  Built by
 * tr_iam_world_build(), shared between threads by reference count
 * (tr_iam_world_link/unlink); nothing in it changes after the build, so
 * readers need no lock.  Interface: iam.h and iam_int.h.
 *
 * What does not parse or resolve is kept out of evaluation, never fatal;
 * it is logged at debug level only (every thread may rebuild its world)
 * and listed by tr_iam_world_problems() for the administrator.
 *
 * Indexes built here for the request path (policy_eval.c):
 * - compartment OCID -> index (open addressing), parent links, and an
 *   in_tree flag (the parent chain reaches the root without a cycle);
 * - group OCID -> index; memberships sorted by user OCID;
 * - per group and per dynamic group, the statements naming it, plus the
 *   any-user and any-group statements, so that a request looks only at
 *   statements whose subject can match its principal.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iam/iam_int.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"

/* ---------------------------------------------------------------- */
/* string hash tables                                               */
/* ---------------------------------------------------------------- */

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Slots for `n` keys: a power of two at least 2n, all empty. */
static int
slots_alloc(uint32_t **slots, size_t *mask, size_t n)
{
	size_t cap = 16, i;
	int rc = TRESOR_EINTERNAL;

	while (cap < n * 2) {
		if (cap > SIZE_MAX / 4) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		cap *= 2;
	}
	*slots = tr_reallocarray(NULL, cap, sizeof(**slots));
	if (*slots == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < cap; i++)
		(*slots)[i] = TR_IAM_NONE;
	*mask = cap - 1;
	rc = 0;
out:
	return rc;
}

/*
 * Find `key` in a table over an array of structs whose first member is
 * the `char *id` key (struct tr_iam_wcomp, struct tr_iam_wgroup), each
 * `stride` bytes.  Returns the index, or TR_IAM_NONE with *slot_out the
 * empty slot where the key goes.
 */
static uint32_t
slot_find(const uint32_t *slots, size_t mask, const void *base,
    size_t stride, const char *key, size_t *slot_out)
{
	const char *k;
	size_t s = (size_t)hash_str(key) & mask;

	while (slots[s] != TR_IAM_NONE) {
		memcpy(&k, (const char *)base + (size_t)slots[s] * stride,
		    sizeof(k));
		if (strcmp(k, key) == 0) {
			*slot_out = s;
			return slots[s];
		}
		s = (s + 1) & mask;
	}
	*slot_out = s;
	return TR_IAM_NONE;
}

_Static_assert(offsetof(struct tr_iam_wcomp, id) == 0, "id first");
_Static_assert(offsetof(struct tr_iam_wgroup, id) == 0, "id first");

/* Compartment index of an OCID (hash lookup, allocation-free). */
uint32_t
tr_iam_world_comp(const struct tr_iam_world *w, const char *id)
{
	size_t s;

	if (w == NULL || id == NULL || w->comp_slots == NULL)
		return TR_IAM_NONE;
	return slot_find(w->comp_slots, w->comp_mask, w->comps,
	    sizeof(*w->comps), id, &s);
}

/* Group index of an OCID (hash lookup). */
uint32_t
tr_iam_world_group_by_id(const struct tr_iam_world *w, const char *id)
{
	size_t s;

	if (w == NULL || id == NULL || w->group_slots == NULL)
		return TR_IAM_NONE;
	return slot_find(w->group_slots, w->group_mask, w->groups,
	    sizeof(*w->groups), id, &s);
}

/* Group index of a name, any case (build and validation only). */
uint32_t
tr_iam_world_group_by_name(const struct tr_iam_world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->ngroups; i++)
		if (tr_iam_streq_ci(w->groups[i].name, name))
			return (uint32_t)i;
	return TR_IAM_NONE;
}

/* Dynamic-group index of an OCID (build and validation only). */
uint32_t
tr_iam_world_dg_by_id(const struct tr_iam_world *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->ndgs; i++)
		if (strcmp(w->dgs[i].id, id) == 0)
			return (uint32_t)i;
	return TR_IAM_NONE;
}

/* Dynamic-group index of a name, any case. */
uint32_t
tr_iam_world_dg_by_name(const struct tr_iam_world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->ndgs; i++)
		if (tr_iam_streq_ci(w->dgs[i].name, name))
			return (uint32_t)i;
	return TR_IAM_NONE;
}

/* ---------------------------------------------------------------- */
/* queries                                                          */
/* ---------------------------------------------------------------- */

/* Inheritance: `c` is `anc` or a descendant of it. */
bool
tr_iam_world_comp_below(const struct tr_iam_world *w, uint32_t c,
    uint32_t anc)
{
	if (c >= w->ncomps || anc >= w->ncomps || !w->comps[c].in_tree)
		return false;
	/* in_tree chains end at the root: no cycle, at most ncomps steps */
	while (c != TR_IAM_NONE) {
		if (c == anc)
			return true;
		c = w->comps[c].parent;
	}
	return false;
}

/* tr_iam_world_comp_below() on OCIDs; unknown ones are outside. */
bool
tr_iam_world_in_subtree(const struct tr_iam_world *w, const char *id,
    const char *ancestor)
{
	if (w == NULL || id == NULL || ancestor == NULL)
		return false;
	return tr_iam_world_comp_below(w, tr_iam_world_comp(w, id),
	    tr_iam_world_comp(w, ancestor));
}

/* True when a condition reads the clock (request.utc-*). */
static bool
cond_uses_time(const struct tr_iam_cond *c)
{
	size_t i;

	if (c == NULL)
		return false;
	if (c->kind != TR_IAM_COND_CMP) {
		for (i = 0; i < c->nkids; i++)
			if (cond_uses_time(c->kids[i]))
				return true;
		return false;
	}
	switch (c->lhs.var) {
	case TR_IAM_V_REQUEST_UTC_TIMESTAMP:
	case TR_IAM_V_REQUEST_UTC_MONTH_OF_YEAR:
	case TR_IAM_V_REQUEST_UTC_DAY_OF_MONTH:
	case TR_IAM_V_REQUEST_UTC_DAY_OF_WEEK:
	case TR_IAM_V_REQUEST_UTC_TIME_OF_DAY:
		return true;
	default:
		return false;
	}
}

bool
tr_iam_world_time_dependent(const struct tr_iam_world *w)
{
	return w == NULL || w->time_dependent;
}

/* The tenancy setting the world was built with. */
bool
tr_iam_world_secret_reads_require_key_use(const struct tr_iam_world *w)
{
	return w != NULL && w->secret_reads_require_key_use;
}

/* The memberships of a user: binary search of the sorted array. */
void
tr_iam_world_user_range(const struct tr_iam_world *w, const char *user_id,
    size_t *lo, size_t *hi)
{
	size_t a = 0, b = w->nmembers, mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (strcmp(w->members[mid].user_id, user_id) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	b = a;
	while (b < w->nmembers && strcmp(w->members[b].user_id, user_id) == 0)
		b++;
	*hi = b;
}

/* The child of `parent` named (or with OCID) `part`, or TR_IAM_NONE. */
static uint32_t
child_named(const struct tr_iam_world *w, uint32_t parent, const char *part)
{
	uint32_t c;
	bool by_id = strncmp(part, "ocid1.", 6) == 0;

	for (c = w->comps[parent].first_child; c != TR_IAM_NONE;
	    c = w->comps[c].next_sibling) {
		if (by_id ? strcmp(w->comps[c].id, part) == 0 :
		    tr_iam_streq_ci(w->comps[c].name, part))
			return c;
	}
	return TR_IAM_NONE;
}

/* Where a statement grants, relative to its policy (spec 1.5). */
int
tr_iam_world_resolve_location(const struct tr_iam_world *w,
    const struct tr_iam_stmt *st, uint32_t attach, uint32_t *out)
{
	uint32_t c = TR_IAM_NONE;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = TR_IAM_NONE;
	if (attach >= w->ncomps || !w->comps[attach].in_tree) {
		rc = tr_iam_lex_fail_at(st->loc_col, "the policy's "
		    "compartment is not part of the tenancy");
		goto out;
	}
	switch (st->loc) {
	case TR_IAM_LOC_TENANCY:
		if (attach != w->root) {
			rc = tr_iam_lex_fail_at(st->loc_col, "expected a "
			    "compartment in the policy's subtree: 'in "
			    "tenancy' is allowed only in a policy attached to "
			    "the tenancy (root compartment)");
			goto out;
		}
		c = w->root;
		break;
	case TR_IAM_LOC_ID:
		c = tr_iam_world_comp(w, st->loc_parts[0]);
		if (c == TR_IAM_NONE ||
		    !tr_iam_world_comp_below(w, c, attach)) {
			rc = tr_iam_lex_fail_at(st->loc_col, "Compartment "
			    "{%s} does not exist or is not part of the policy "
			    "compartment subtree", st->loc_parts[0]);
			goto out;
		}
		break;
	case TR_IAM_LOC_PATH:
		/* a direct child first, then the attachment itself */
		c = child_named(w, attach, st->loc_parts[0]);
		if (c == TR_IAM_NONE && st->nloc_parts == 1 &&
		    (tr_iam_streq_ci(w->comps[attach].name, st->loc_parts[0]) ||
		    strcmp(w->comps[attach].id, st->loc_parts[0]) == 0))
			c = attach;
		for (i = 1; i < st->nloc_parts && c != TR_IAM_NONE; i++)
			c = child_named(w, c, st->loc_parts[i]);
		if (c == TR_IAM_NONE) {
			rc = tr_iam_lex_fail_at(st->loc_col, "The "
			    "compartment %s%s specified in the policy "
			    "statement does not exist under current "
			    "compartment hierarchy (expected the policy's "
			    "compartment, one of its direct children, or a "
			    "path a:b:c below it)",
			    st->loc_parts[0], st->nloc_parts > 1 ? ":..." : "");
			goto out;
		}
		break;
	}
	if (c == TR_IAM_NONE) {
		rc = tr_iam_lex_fail_at(st->loc_col, "expected a location");
		goto out;
	}
	*out = c;
	rc = 0;
out:
	return rc;
}

/* A group or dynamic group named by a statement, or TR_IAM_NONE. */
uint32_t
tr_iam_world_resolve_subject(const struct tr_iam_world *w,
    enum tr_iam_subject_kind kind, const struct tr_iam_subject_item *it)
{
	/* tresor has one identity domain, 'Default' */
	if (it->domain != NULL && !tr_iam_streq_ci(it->domain, "Default"))
		return TR_IAM_NONE;
	if (kind == TR_IAM_SUBJ_GROUP)
		return it->id != NULL ? tr_iam_world_group_by_id(w, it->id) :
		    tr_iam_world_group_by_name(w, it->name);
	if (kind == TR_IAM_SUBJ_DYNAMIC_GROUP)
		return it->id != NULL ? tr_iam_world_dg_by_id(w, it->id) :
		    tr_iam_world_dg_by_name(w, it->name);
	return TR_IAM_NONE;
}

/* ---------------------------------------------------------------- */
/* reference counting and freeing                                   */
/* ---------------------------------------------------------------- */

static void
world_free(struct tr_iam_world *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->ncomps; i++) {
		tr_free(w->comps[i].id);
		tr_free(w->comps[i].name);
		json_decref(w->comps[i].tags);
	}
	tr_free(w->comps);
	tr_free(w->comp_slots);
	for (i = 0; i < w->ngroups; i++) {
		tr_free(w->groups[i].id);
		tr_free(w->groups[i].name);
		tr_free(w->groups[i].stmts);
	}
	tr_free(w->groups);
	tr_free(w->group_slots);
	for (i = 0; i < w->nmembers; i++)
		tr_free(w->members[i].user_id);
	tr_free(w->members);
	for (i = 0; i < w->ndgs; i++) {
		tr_free(w->dgs[i].id);
		tr_free(w->dgs[i].name);
		tr_iam_rule_free(w->dgs[i].rule);
		tr_free(w->dgs[i].error);
		tr_free(w->dgs[i].stmts);
	}
	tr_free(w->dgs);
	for (i = 0; i < w->npolicies; i++) {
		tr_free(w->policies[i].id);
		tr_free(w->policies[i].name);
	}
	tr_free(w->policies);
	for (i = 0; i < w->nstmts; i++) {
		tr_free(w->stmts[i].text);
		tr_iam_stmt_free(w->stmts[i].st);
		tr_free(w->stmts[i].error);
		tr_free(w->stmts[i].subj);
	}
	tr_free(w->stmts);
	tr_free(w->any_user_stmts);
	tr_free(w->any_group_stmts);
	tr_free(w->tenancy_id);
	tr_free(w->tenancy_name);
	memset(w, 0, sizeof(*w));
	tr_free(w);
}

/* Take a reference (atomic); returns `w`. */
struct tr_iam_world *
tr_iam_world_link(struct tr_iam_world *w)
{
	if (w != NULL)
		atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
	return w;
}

/* Drop a reference; the last one frees the world. */
void
tr_iam_world_unlink(struct tr_iam_world *w)
{
	if (w == NULL)
		return;
	if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
		world_free(w);
}

/* ---------------------------------------------------------------- */
/* building                                                         */
/* ---------------------------------------------------------------- */

static char *
dup_or_empty(const char *s)
{
	return tr_strdup(s != NULL ? s : "");
}

/* Add compartment (id, name) unless its id is known; *idx gets it. */
static int
add_comp(struct tr_iam_world *w, const char *id, const char *name,
    const char *tags_json, uint32_t *idx)
{
	struct tr_iam_wcomp *c = NULL;
	size_t slot;
	int rc = TRESOR_EINTERNAL;

	*idx = slot_find(w->comp_slots, w->comp_mask, w->comps,
	    sizeof(*w->comps), id, &slot);
	if (*idx != TR_IAM_NONE) {
		rc = 0;
		goto out;
	}
	c = &w->comps[w->ncomps];
	memset(c, 0, sizeof(*c));
	c->parent = TR_IAM_NONE;
	c->first_child = TR_IAM_NONE;
	c->next_sibling = TR_IAM_NONE;
	c->id = tr_strdup(id);
	c->name = dup_or_empty(name);
	if (c->id == NULL || c->name == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = tr_iam_tags_parse(&c->tags, tags_json);
	if (rc == TRESOR_ENOMEM)
		goto out;
	if (rc < 0)
		tr_log_debug("compartment %s: defined tags ignored: %s", id,
		    tresor_error_last());
	w->comp_slots[slot] = (uint32_t)w->ncomps;
	*idx = (uint32_t)w->ncomps;
	w->ncomps++;
	c = NULL;
	rc = 0;
out:
	if (c != NULL) {
		/* not counted in w->ncomps: release here */
		tr_free(c->id);
		tr_free(c->name);
		memset(c, 0, sizeof(*c));
	}
	return rc;
}

/*
 * Mark every compartment whose parent chain reaches the root: walk up,
 * remember the path, and settle the whole path at once (O(n) overall;
 * a cycle or a missing parent settles it as outside the tree).
 */
static int
mark_tree(struct tr_iam_world *w)
{
	enum { UNKNOWN = 0, VISITING, IN, OUT };
	unsigned char *state = NULL;
	uint32_t *path = NULL, c;
	size_t i, n;
	bool in;
	int rc = TRESOR_EINTERNAL;

	state = tr_calloc(w->ncomps, 1);
	path = tr_reallocarray(NULL, w->ncomps, sizeof(*path));
	if (state == NULL || path == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	state[w->root] = IN;
	for (i = 0; i < w->ncomps; i++) {
		n = 0;
		c = (uint32_t)i;
		while (c != TR_IAM_NONE && state[c] == UNKNOWN) {
			state[c] = VISITING;
			path[n++] = c;
			c = w->comps[c].parent;
		}
		in = c != TR_IAM_NONE && state[c] == IN;
		while (n > 0)
			state[path[--n]] = in ? IN : OUT;
	}
	for (i = 0; i < w->ncomps; i++)
		w->comps[i].in_tree = state[i] == IN;
	rc = 0;
out:
	tr_free(state);
	tr_free(path);
	return rc;
}

static int
build_comps(struct tr_iam_world *w, const struct tr_iam_world_input *in)
{
	const struct tr_iam_compartment *ic;
	uint32_t *first = NULL, idx, p;
	size_t i, cap;
	int rc = TRESOR_EINTERNAL;

	if (in->ncompartments > SIZE_MAX / sizeof(*w->comps) - 1 ||
	    in->ncompartments >= TR_IAM_NONE - 1) {
		rc = tr_error_set(TRESOR_ENOMEM, "too many compartments");
		goto out;
	}
	cap = in->ncompartments + 1;
	w->comps = tr_calloc(cap, sizeof(*w->comps));
	/* for each compartment, the input entry that defined it */
	first = tr_reallocarray(NULL, cap, sizeof(*first));
	if (w->comps == NULL || first == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < cap; i++)
		first[i] = TR_IAM_NONE;
	if ((rc = slots_alloc(&w->comp_slots, &w->comp_mask, cap)) < 0)
		goto out;
	/* the root first, so that it exists even when not in the input */
	ic = NULL;
	for (i = 0; i < in->ncompartments && ic == NULL; i++)
		if (in->compartments[i].id != NULL &&
		    strcmp(in->compartments[i].id, in->tenancy_id) == 0)
			ic = &in->compartments[i];
	if ((rc = add_comp(w, in->tenancy_id, ic != NULL ? ic->name :
	    in->tenancy_name, ic != NULL ? ic->defined_tags_json : NULL,
	    &w->root)) < 0)
		goto out;
	for (i = 0; i < in->ncompartments; i++) {
		ic = &in->compartments[i];
		if (ic->id == NULL)
			continue;
		if ((rc = add_comp(w, ic->id, ic->name, ic->defined_tags_json,
		    &idx)) < 0)
			goto out;
		if (first[idx] == TR_IAM_NONE)
			first[idx] = (uint32_t)i;
	}
	/* parents, from the first entry of each id; never for the root */
	for (idx = 0; idx < w->ncomps; idx++) {
		if (idx == w->root || first[idx] == TR_IAM_NONE)
			continue;
		ic = &in->compartments[first[idx]];
		p = ic->parent_id == NULL ? TR_IAM_NONE :
		    tr_iam_world_comp(w, ic->parent_id);
		if (p != idx)
			w->comps[idx].parent = p;
	}
	if ((rc = mark_tree(w)) < 0)
		goto out;
	/* children lists, in input order */
	for (i = w->ncomps; i > 0; i--) {
		idx = (uint32_t)(i - 1);
		p = w->comps[idx].parent;
		if (p == TR_IAM_NONE || !w->comps[idx].in_tree)
			continue;
		w->comps[idx].next_sibling = w->comps[p].first_child;
		w->comps[p].first_child = idx;
	}
	rc = 0;
out:
	tr_free(first);
	return rc;
}

static int
build_groups(struct tr_iam_world *w, const struct tr_iam_world_input *in)
{
	const struct tr_iam_group *ig;
	struct tr_iam_wgroup *g;
	size_t i, slot;
	int rc = TRESOR_EINTERNAL;

	if (in->ngroups >= TR_IAM_NONE - 1) {
		rc = tr_error_set(TRESOR_ENOMEM, "too many groups");
		goto out;
	}
	w->groups = tr_calloc(in->ngroups, sizeof(*w->groups));
	if (w->groups == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = slots_alloc(&w->group_slots, &w->group_mask,
	    in->ngroups)) < 0)
		goto out;
	for (i = 0; i < in->ngroups; i++) {
		ig = &in->groups[i];
		if (ig->id == NULL || slot_find(w->group_slots,
		    w->group_mask, w->groups, sizeof(*w->groups), ig->id,
		    &slot) != TR_IAM_NONE)
			continue;
		/* counted now so world_free() releases whatever is set */
		g = &w->groups[w->ngroups++];
		g->id = tr_strdup(ig->id);
		g->name = dup_or_empty(ig->name);
		if (g->id == NULL || g->name == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		w->group_slots[slot] = (uint32_t)(w->ngroups - 1);
	}
	rc = 0;
out:
	return rc;
}

static int
member_cmp(const void *a, const void *b)
{
	const struct tr_iam_wmember *x = a, *y = b;
	int c;

	c = strcmp(x->user_id, y->user_id);
	if (c != 0)
		return c;
	return x->group < y->group ? -1 : x->group > y->group;
}

static int
build_members(struct tr_iam_world *w, const struct tr_iam_world_input *in)
{
	const struct tr_iam_membership *im;
	size_t i, j;
	uint32_t g;
	int rc = TRESOR_EINTERNAL;

	w->members = tr_calloc(in->nmemberships, sizeof(*w->members));
	if (w->members == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < in->nmemberships; i++) {
		im = &in->memberships[i];
		if (im->user_id == NULL || im->group_id == NULL)
			continue;
		g = tr_iam_world_group_by_id(w, im->group_id);
		if (g == TR_IAM_NONE)
			continue;
		w->members[w->nmembers].user_id = tr_strdup(im->user_id);
		if (w->members[w->nmembers].user_id == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		w->members[w->nmembers].group = g;
		w->nmembers++;
	}
	if (w->nmembers > 1)
		qsort(w->members, w->nmembers, sizeof(*w->members),
		    member_cmp);
	/* drop duplicate pairs */
	for (i = 0, j = 0; i < w->nmembers; i++) {
		if (j > 0 && member_cmp(&w->members[j - 1],
		    &w->members[i]) == 0) {
			tr_free(w->members[i].user_id);
			continue;
		}
		w->members[j++] = w->members[i];
	}
	w->nmembers = j;
	rc = 0;
out:
	return rc;
}

static int
build_dgs(struct tr_iam_world *w, const struct tr_iam_world_input *in)
{
	const struct tr_iam_dynamic_group *id;
	struct tr_iam_wdg *d;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	if (in->ndynamic_groups >= TR_IAM_NONE - 1) {
		rc = tr_error_set(TRESOR_ENOMEM, "too many dynamic groups");
		goto out;
	}
	w->dgs = tr_calloc(in->ndynamic_groups, sizeof(*w->dgs));
	if (w->dgs == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < in->ndynamic_groups; i++) {
		id = &in->dynamic_groups[i];
		if (id->id == NULL || tr_iam_world_dg_by_id(w, id->id) !=
		    TR_IAM_NONE)
			continue;
		/* counted now so world_free() releases whatever is set */
		d = &w->dgs[w->ndgs++];
		d->id = tr_strdup(id->id);
		d->name = dup_or_empty(id->name);
		if (d->id == NULL || d->name == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		rc = tr_iam_rule_parse(&d->rule, id->matching_rule);
		if (rc == TRESOR_ENOMEM)
			goto out;
		if (rc < 0) {
			/* kept, matching nobody, listed by world_problems */
			d->error = tr_strdup(tresor_error_last());
			if (d->error == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			tr_log_debug("dynamic group %s: matching rule ignored: "
			    "%s", d->name, d->error);
			continue;
		}
		if (tr_iam_rule_uses_tags(d->rule))
			w->any_rule_uses_tags = true;
	}
	rc = 0;
out:
	return rc;
}

/* Copy of `s` with runs of blanks collapsed to one space, trimmed. */
static char *
collapse_blanks(const char *s)
{
	size_t n = strnlen(s, TR_IAM_STATEMENT_MAX + 1), i, j;
	bool blank = false;
	char *d, c;

	d = tr_malloc(n + 1);
	if (d == NULL)
		return NULL;
	for (i = 0, j = 0; i < n; i++) {
		c = s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '\f' || c == '\v') {
			blank = j > 0;
			continue;
		}
		if (blank)
			d[j++] = ' ';
		blank = false;
		d[j++] = (unsigned char)c < 0x20 ? '?' : c;
	}
	d[j] = '\0';
	return d;
}

/* Parse and resolve statement `ws` of policy `pi`. */
static int
build_stmt(struct tr_iam_world *w, struct tr_iam_wstmt *ws, const char *text)
{
	const struct tr_iam_wpolicy *pol = &w->policies[ws->policy];
	struct tr_iam_stmt *st;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	ws->location = TR_IAM_NONE;
	ws->text = collapse_blanks(text != NULL ? text : "");
	if (ws->text == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = tr_iam_stmt_parse(&ws->st, text);
	if (rc == 0 && pol->compartment == TR_IAM_NONE)
		rc = tr_error_set(TRESOR_EINVAL, "the policy's compartment "
		    "does not exist");
	if (rc == 0)
		rc = tr_iam_world_resolve_location(w, ws->st, pol->compartment,
		    &ws->location);
	if (rc == TRESOR_ENOMEM)
		goto out;
	if (rc < 0) {
		/* kept out of evaluation, listed by world_problems */
		ws->error = tr_strdup(tresor_error_last());
		if (ws->error == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		tr_log_debug("policy '%s' statement %zu skipped: %s", pol->name,
		    ws->index, ws->error);
		rc = 0;
		goto out;
	}
	st = ws->st;
	ws->subj = tr_calloc(st->nitems, sizeof(*ws->subj));
	if (ws->subj == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < st->nitems; i++)
		ws->subj[i] = tr_iam_world_resolve_subject(w, st->subject,
		    &st->items[i]);
	rc = 0;
out:
	return rc;
}

static int
build_policies(struct tr_iam_world *w, const struct tr_iam_world_input *in)
{
	const struct tr_iam_policy *ip;
	struct tr_iam_wstmt *ws;
	size_t i, j, total = 0;
	int rc = TRESOR_EINTERNAL;

	for (i = 0; i < in->npolicies; i++) {
		if (in->policies[i].nstatements > TR_IAM_NONE - 1 - total) {
			rc = tr_error_set(TRESOR_ENOMEM,
			    "too many statements");
			goto out;
		}
		total += in->policies[i].nstatements;
	}
	w->policies = tr_calloc(in->npolicies, sizeof(*w->policies));
	w->stmts = tr_calloc(total, sizeof(*w->stmts));
	if (w->policies == NULL || w->stmts == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < in->npolicies; i++) {
		ip = &in->policies[i];
		w->policies[i].id = dup_or_empty(ip->id);
		w->policies[i].name = dup_or_empty(ip->name);
		w->npolicies++;
		if (w->policies[i].id == NULL ||
		    w->policies[i].name == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		w->policies[i].compartment = tr_iam_world_comp(w,
		    ip->compartment_id);
		for (j = 0; j < ip->nstatements; j++) {
			ws = &w->stmts[w->nstmts++];
			ws->policy = (uint32_t)i;
			ws->index = j;
			if ((rc = build_stmt(w, ws, ip->statements == NULL ?
			    NULL : ip->statements[j])) < 0)
				goto out;
			if (ws->st != NULL && cond_uses_time(ws->st->cond))
				w->time_dependent = true;
		}
	}
	rc = 0;
out:
	return rc;
}

/*
 * Append statement `s` to a list unless it is already its last entry
 * (a subject naming one group twice).  Lists were sized by count_refs.
 */
static void
list_add(uint32_t *list, size_t *n, uint32_t s)
{
	if (*n > 0 && list[*n - 1] == s)
		return;
	list[(*n)++] = s;
}

/* Build the per-subject statement lists (two passes: count, fill). */
static int
build_index(struct tr_iam_world *w)
{
	size_t *gcount = NULL, *dcount = NULL, i, k, nu = 0, na = 0;
	const struct tr_iam_wstmt *ws;
	uint32_t x;
	int rc = TRESOR_EINTERNAL;

	gcount = tr_calloc(w->ngroups + 1, sizeof(*gcount));
	dcount = tr_calloc(w->ndgs + 1, sizeof(*dcount));
	if (gcount == NULL || dcount == NULL)
		goto nomem;
	for (i = 0; i < w->nstmts; i++) {
		ws = &w->stmts[i];
		if (ws->error != NULL || ws->st == NULL)
			continue;
		switch (ws->st->subject) {
		case TR_IAM_SUBJ_ANY_USER:
			nu++;
			break;
		case TR_IAM_SUBJ_ANY_GROUP:
			na++;
			break;
		case TR_IAM_SUBJ_GROUP:
		case TR_IAM_SUBJ_DYNAMIC_GROUP:
			for (k = 0; k < ws->st->nitems; k++) {
				x = ws->subj[k];
				if (x == TR_IAM_NONE)
					continue;
				if (ws->st->subject == TR_IAM_SUBJ_GROUP)
					gcount[x]++;
				else
					dcount[x]++;
			}
			break;
		}
	}
	w->any_user_stmts = tr_calloc(nu, sizeof(uint32_t));
	w->any_group_stmts = tr_calloc(na, sizeof(uint32_t));
	if (w->any_user_stmts == NULL || w->any_group_stmts == NULL)
		goto nomem;
	for (i = 0; i < w->ngroups; i++) {
		w->groups[i].stmts = tr_calloc(gcount[i], sizeof(uint32_t));
		if (w->groups[i].stmts == NULL)
			goto nomem;
	}
	for (i = 0; i < w->ndgs; i++) {
		w->dgs[i].stmts = tr_calloc(dcount[i], sizeof(uint32_t));
		if (w->dgs[i].stmts == NULL)
			goto nomem;
	}
	for (i = 0; i < w->nstmts; i++) {
		ws = &w->stmts[i];
		if (ws->error != NULL || ws->st == NULL)
			continue;
		switch (ws->st->subject) {
		case TR_IAM_SUBJ_ANY_USER:
			list_add(w->any_user_stmts, &w->nany_user, (uint32_t)i);
			break;
		case TR_IAM_SUBJ_ANY_GROUP:
			list_add(w->any_group_stmts, &w->nany_group,
			    (uint32_t)i);
			break;
		case TR_IAM_SUBJ_GROUP:
		case TR_IAM_SUBJ_DYNAMIC_GROUP:
			for (k = 0; k < ws->st->nitems; k++) {
				x = ws->subj[k];
				if (x == TR_IAM_NONE)
					continue;
				if (ws->st->subject == TR_IAM_SUBJ_GROUP)
					list_add(w->groups[x].stmts,
					    &w->groups[x].nstmts, (uint32_t)i);
				else
					list_add(w->dgs[x].stmts,
					    &w->dgs[x].nstmts, (uint32_t)i);
			}
			break;
		}
	}
	rc = 0;
	goto out;
nomem:
	rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
out:
	tr_free(gcount);
	tr_free(dcount);
	return rc;
}

/* Copy the input into an immutable, indexed world (see the file comment). */
int
tr_iam_world_build(struct tr_iam_world **out,
    const struct tr_iam_world_input *in)
{
	struct tr_iam_world *w = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (in == NULL || in->tenancy_id == NULL ||
	    (in->ncompartments > 0 && in->compartments == NULL) ||
	    (in->ngroups > 0 && in->groups == NULL) ||
	    (in->nmemberships > 0 && in->memberships == NULL) ||
	    (in->ndynamic_groups > 0 && in->dynamic_groups == NULL) ||
	    (in->npolicies > 0 && in->policies == NULL)) {
		rc = tr_error_set(TRESOR_EINVAL, "incomplete IAM world input");
		goto out;
	}
	w = tr_calloc(1, sizeof(*w));
	if (w == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	atomic_init(&w->refs, 1);
	w->secret_reads_require_key_use = in->secret_reads_require_key_use;
	w->tenancy_id = tr_strdup(in->tenancy_id);
	w->tenancy_name = dup_or_empty(in->tenancy_name);
	if (w->tenancy_id == NULL || w->tenancy_name == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = build_comps(w, in)) < 0)
		goto out;
	if ((rc = build_groups(w, in)) < 0)
		goto out;
	if ((rc = build_members(w, in)) < 0)
		goto out;
	if ((rc = build_dgs(w, in)) < 0)
		goto out;
	if ((rc = build_policies(w, in)) < 0)
		goto out;
	if ((rc = build_index(w)) < 0)
		goto out;
	*out = w;
	w = NULL;
	rc = 0;
out:
	world_free(w);
	return rc;
}

/* What the build kept out of evaluation, one line each. */
int
tr_iam_world_problems(const struct tr_iam_world *w, struct tr_buf *out)
{
	const struct tr_iam_subject_item *it;
	const struct tr_iam_wstmt *ws;
	size_t i, k;

	for (i = 0; w != NULL && i < w->nstmts; i++) {
		ws = &w->stmts[i];
		if (ws->error != NULL) {
			(void)tr_buf_addf(out, "policy '%s' statement %zu: "
			    "%s\n", w->policies[ws->policy].name, ws->index,
			    ws->error);
			continue;
		}
		for (k = 0; k < ws->st->nitems; k++) {
			if (ws->subj[k] != TR_IAM_NONE)
				continue;
			it = &ws->st->items[k];
			(void)tr_buf_addf(out, "policy '%s' statement %zu: "
			    "column %zu: the %s %s does not exist and matches "
			    "nobody\n", w->policies[ws->policy].name,
			    ws->index, it->col, ws->st->subject ==
			    TR_IAM_SUBJ_GROUP ? "group" : "dynamic group",
			    it->name != NULL ? it->name : it->id);
		}
	}
	for (i = 0; w != NULL && i < w->ndgs; i++)
		if (w->dgs[i].error != NULL)
			(void)tr_buf_addf(out, "dynamic group '%s': matching "
			    "rule: %s\n", w->dgs[i].name, w->dgs[i].error);
	return tr_buf_error(out);
}

size_t
tr_iam_world_principal_groups(const struct tr_iam_world *w,
    const struct tr_principal *p, const char **names, size_t max)
{
	json_t *tags = NULL;
	size_t lo, hi, i, n = 0;

	if (p->kind == TR_PRINCIPAL_USER) {
		tr_iam_world_user_range(w, p->id, &lo, &hi);
		for (i = lo; i < hi && n < max; i++)
			if (w->members[i].group < w->ngroups)
				names[n++] = w->groups[w->members[i].group].name;
		return n;
	}
	if (p->defined_tags_json != NULL)
		tags = json_loads(p->defined_tags_json, 0, NULL);
	for (i = 0; i < w->ndgs && n < max; i++)
		if (w->dgs[i].rule != NULL &&
		    tr_iam_rule_match(w->dgs[i].rule, p, tags))
			names[n++] = w->dgs[i].name;
	json_decref(tags);
	return n;
}
