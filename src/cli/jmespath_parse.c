/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JMESPath parser: tokens to the syntax tree of jmespath_int.h.
 *
 * A Pratt (top-down operator precedence) parser with the binding powers
 * of the reference implementation, jmespath.py, so that projections stop
 * where the specification says: a projection's right side takes every
 * token that binds at least as tightly as PROJECTION_STOP.
 * Sub-expressions, pipes, || and && are kept as n-ary nodes so that long
 * chains stay shallow.  Both the recursion of the parser and the depth of
 * the tree are bounded by TR_JMESPATH_MAX_DEPTH.  Once the whole text
 * has parsed, function names are resolved and argument counts checked
 * ("unknown-function", "invalid-arity"), and a slice step of 0 is an
 * "invalid-value" error, all before any data is seen.
 */
#include <string.h>

#include "cli/jmespath_int.h"
#include "util/alloc.h"
#include "util/error.h"

#define PROJECTION_STOP 10

struct parser {
	struct tr_jp_tokens toks;
	size_t pos;		/* index of the current token */
	size_t depth;		/* nesting of expression() */
};

/* Binding powers; the tokens not listed bind with 0. */
static const int bp[] = {
	[TR_JP_T_PIPE] = 1,
	[TR_JP_T_OR] = 2,
	[TR_JP_T_AND] = 3,
	[TR_JP_T_EQ] = 5,
	[TR_JP_T_NE] = 5,
	[TR_JP_T_LT] = 5,
	[TR_JP_T_LTE] = 5,
	[TR_JP_T_GT] = 5,
	[TR_JP_T_GTE] = 5,
	[TR_JP_T_FLATTEN] = 9,
	[TR_JP_T_STAR] = 20,
	[TR_JP_T_FILTER] = 21,
	[TR_JP_T_DOT] = 40,
	[TR_JP_T_NOT] = 45,
	[TR_JP_T_LBRACE] = 50,
	[TR_JP_T_LBRACKET] = 55,
	[TR_JP_T_LPAREN] = 60
};

static int expression(struct parser *p, int rbp, struct tr_jp_node **out);

/* ---------------------------------------------------------------- */
/* tree                                                             */
/* ---------------------------------------------------------------- */

void
tr_jp_node_free(struct tr_jp_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		tr_jp_node_free(n->kids[i]);
	tr_free(n->kids);
	tr_free(n->name);
	json_decref(n->lit);
	tr_free(n);
}

static int
node_new(enum tr_jp_kind kind, struct tr_jp_node **out)
{
	*out = tr_calloc(1, sizeof(**out));
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	(*out)->kind = kind;
	(*out)->depth = 1;
	return 0;
}

/*
 * Append `kid` to `n`.  Takes `kid` in every case (it is freed on
 * failure).  Fails when the tree grows deeper than the limit.
 */
static int
node_add(struct tr_jp_node *n, struct tr_jp_node *kid)
{
	struct tr_jp_node **v;
	size_t ncap;
	int rc = TRESOR_EINTERNAL;

	if (kid->depth + 1 > TR_JMESPATH_MAX_DEPTH) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: expression nested deeper than %d levels",
		    TR_JMESPATH_MAX_DEPTH);
		goto out;
	}
	if (n->nkids == n->cap) {
		ncap = n->cap == 0 ? 2 : n->cap * 2;
		v = tr_reallocarray(n->kids, ncap, sizeof(*v));
		if (v == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		n->kids = v;
		n->cap = ncap;
	}
	n->kids[n->nkids++] = kid;
	kid = NULL;
	if (n->kids[n->nkids - 1]->depth + 1 > n->depth)
		n->depth = n->kids[n->nkids - 1]->depth + 1;
	rc = 0;
out:
	tr_jp_node_free(kid);
	return rc;
}

/*
 * A new node of `kind` over `a` and `b` (b may be NULL).  Takes both in
 * every case.
 */
static int
node_make(enum tr_jp_kind kind, struct tr_jp_node *a, struct tr_jp_node *b,
    struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = node_new(kind, &n)) < 0)
		goto out;
	rc = node_add(n, a);
	a = NULL;
	if (rc < 0)
		goto out;
	if (b != NULL) {
		rc = node_add(n, b);
		b = NULL;
		if (rc < 0)
			goto out;
	}
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(a);
	tr_jp_node_free(b);
	tr_jp_node_free(n);
	return rc;
}

/*
 * `left` `kind` `right` for the associative n-ary kinds: appends to
 * `left` when it already is such a node.  Takes both in every case.
 */
static int
node_chain(enum tr_jp_kind kind, struct tr_jp_node *left,
    struct tr_jp_node *right, struct tr_jp_node **out)
{
	int rc;

	*out = NULL;
	if (left->kind != kind)
		return node_make(kind, left, right, out);
	if ((rc = node_add(left, right)) < 0) {
		tr_jp_node_free(left);
		return rc;
	}
	*out = left;
	return 0;
}

static int
node_current(struct tr_jp_node **out)
{
	return node_new(TR_JP_N_CURRENT, out);
}

/* ---------------------------------------------------------------- */
/* tokens                                                           */
/* ---------------------------------------------------------------- */

static struct tr_jp_token *
cur(struct parser *p)
{
	return &p->toks.v[p->pos];
}

static enum tr_jp_tok
peek(struct parser *p, size_t k)
{
	if (p->pos + k >= p->toks.n)
		return TR_JP_T_EOF;
	return p->toks.v[p->pos + k].type;
}

static void
advance(struct parser *p)
{
	if (p->toks.v[p->pos].type != TR_JP_T_EOF)
		p->pos++;
}

static int
binding(enum tr_jp_tok t)
{
	if ((size_t)t >= sizeof(bp) / sizeof(bp[0]))
		return 0;
	return bp[t];
}

/* The "expected X, found Y" error at token `t`. */
static int
unexpected_at(const struct tr_jp_token *t, const char *expected)
{
	if (t->type == TR_JP_T_UNQUOTED)
		return tr_error_set(TRESOR_EINVAL,
		    "syntax: expected %s, found identifier '%.40s' at "
		    "column %zu", expected, t->str, t->pos + 1);
	return tr_error_set(TRESOR_EINVAL,
	    "syntax: expected %s, found %s at column %zu", expected,
	    tr_jp_tok_name(t->type), t->pos + 1);
}

/* The "expected X, found Y" error at the current token. */
static int
unexpected(struct parser *p, const char *expected)
{
	return unexpected_at(cur(p), expected);
}

static int
expect(struct parser *p, enum tr_jp_tok type)
{
	if (cur(p)->type != type)
		return unexpected(p, tr_jp_tok_name(type));
	advance(p);
	return 0;
}

/* ---------------------------------------------------------------- */
/* grammar                                                          */
/* ---------------------------------------------------------------- */

static int parse_dot_rhs(struct parser *p, int rbp,
    struct tr_jp_node **out);

/*
 * What may follow a projection: nothing (a token binding below
 * PROJECTION_STOP ends it), [index], [?filter] or .rhs.
 */
static int
parse_projection_rhs(struct parser *p, int rbp, struct tr_jp_node **out)
{
	enum tr_jp_tok t = cur(p)->type;

	*out = NULL;
	if (binding(t) < PROJECTION_STOP)
		return node_current(out);
	if (t == TR_JP_T_LBRACKET || t == TR_JP_T_FILTER)
		return expression(p, rbp, out);
	if (t == TR_JP_T_DOT) {
		advance(p);
		return parse_dot_rhs(p, rbp, out);
	}
	return unexpected(p, "'.', '[' or '|' after a projection");
}

/* [a, b, ...] once the '[' is consumed. */
static int
parse_mlist(struct parser *p, struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL, *e = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = node_new(TR_JP_N_MLIST, &n)) < 0)
		goto out;
	for (;;) {
		if ((rc = expression(p, 0, &e)) < 0)
			goto out;
		rc = node_add(n, e);
		e = NULL;
		if (rc < 0)
			goto out;
		if (cur(p)->type == TR_JP_T_RBRACKET)
			break;
		if ((rc = expect(p, TR_JP_T_COMMA)) < 0)
			goto out;
	}
	advance(p);
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(n);
	return rc;
}

/* {key: a, ...} once the '{' is consumed. */
static int
parse_mhash(struct parser *p, struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL, *pair = NULL, *e = NULL;
	struct tr_jp_token *key;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = node_new(TR_JP_N_MHASH, &n)) < 0)
		goto out;
	for (;;) {
		key = cur(p);
		if (key->type != TR_JP_T_UNQUOTED &&
		    key->type != TR_JP_T_QUOTED) {
			rc = unexpected(p, "a key name");
			goto out;
		}
		advance(p);
		if ((rc = expect(p, TR_JP_T_COLON)) < 0)
			goto out;
		if ((rc = node_new(TR_JP_N_PAIR, &pair)) < 0)
			goto out;
		pair->name = key->str;
		pair->name_len = key->str_len;
		key->str = NULL;
		if ((rc = expression(p, 0, &e)) < 0)
			goto out;
		rc = node_add(pair, e);
		e = NULL;
		if (rc < 0)
			goto out;
		rc = node_add(n, pair);
		pair = NULL;
		if (rc < 0)
			goto out;
		if (cur(p)->type == TR_JP_T_RBRACE)
			break;
		if (cur(p)->type != TR_JP_T_COMMA) {
			rc = unexpected(p, "',' or '}'");
			goto out;
		}
		advance(p);
	}
	advance(p);
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(pair);
	tr_jp_node_free(n);
	return rc;
}

/* What may follow a '.': an identifier, *, [multi-list] or {multi-hash}. */
static int
parse_dot_rhs(struct parser *p, int rbp, struct tr_jp_node **out)
{
	enum tr_jp_tok t = cur(p)->type;

	*out = NULL;
	if (t == TR_JP_T_UNQUOTED || t == TR_JP_T_QUOTED ||
	    t == TR_JP_T_STAR)
		return expression(p, rbp, out);
	if (t == TR_JP_T_LBRACKET) {
		advance(p);
		return parse_mlist(p, out);
	}
	if (t == TR_JP_T_LBRACE) {
		advance(p);
		return parse_mhash(p, out);
	}
	return unexpected(p, "an identifier, '*', '[' or '{' after '.'");
}

/* [start:stop:step] once the '[' is consumed; all three optional. */
static int
parse_slice(struct parser *p, struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL;
	size_t part = 0;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = node_new(TR_JP_N_SLICE, &n)) < 0)
		goto out;
	while (cur(p)->type != TR_JP_T_RBRACKET) {
		if (cur(p)->type == TR_JP_T_COLON && part < 2) {
			part++;
		} else if (cur(p)->type == TR_JP_T_NUMBER && !n->has[part]) {
			n->slice[part] = cur(p)->num;
			n->has[part] = true;
		} else {
			rc = unexpected(p, "a number, ':' or ']' in a slice");
			goto out;
		}
		advance(p);
	}
	advance(p);
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(n);
	return rc;
}

/* [number] or a slice, once the '[' is consumed. */
static int
parse_index(struct parser *p, struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (peek(p, 0) == TR_JP_T_COLON || peek(p, 1) == TR_JP_T_COLON)
		return parse_slice(p, out);
	if ((rc = node_new(TR_JP_N_INDEX, &n)) < 0)
		goto out;
	n->idx = cur(p)->num;
	advance(p);
	if ((rc = expect(p, TR_JP_T_RBRACKET)) < 0)
		goto out;
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(n);
	return rc;
}

/*
 * `left` followed by an index or slice: a slice projects what follows.
 * Takes `left` and `idx`.
 */
static int
index_or_slice(struct parser *p, struct tr_jp_node *left,
    struct tr_jp_node *idx, struct tr_jp_node **out)
{
	struct tr_jp_node *base = NULL, *right = NULL;
	bool slice = idx->kind == TR_JP_N_SLICE;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (left == NULL)
		base = idx;
	else if ((rc = node_chain(TR_JP_N_SUBEXPR, left, idx, &base)) < 0)
		goto out;
	if (!slice) {
		*out = base;
		base = NULL;
		rc = 0;
		goto out;
	}
	if ((rc = parse_projection_rhs(p, bp[TR_JP_T_STAR], &right)) < 0)
		goto out;
	rc = node_make(TR_JP_N_PROJECT, base, right, out);
	base = NULL;
out:
	tr_jp_node_free(base);
	return rc;
}

/* [?condition] after `left` (which it takes), the '[?' consumed. */
static int
parse_filter(struct parser *p, struct tr_jp_node *left,
    struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL, *e = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if ((rc = node_new(TR_JP_N_FILTER, &n)) < 0)
		goto out;
	rc = node_add(n, left);
	left = NULL;
	if (rc < 0)
		goto out;
	if ((rc = expression(p, 0, &e)) < 0)
		goto out;
	rc = node_add(n, e);
	e = NULL;
	if (rc < 0)
		goto out;
	if ((rc = expect(p, TR_JP_T_RBRACKET)) < 0)
		goto out;
	if ((rc = parse_projection_rhs(p, bp[TR_JP_T_FILTER], &e)) < 0)
		goto out;
	rc = node_add(n, e);
	e = NULL;
	if (rc < 0)
		goto out;
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(left);
	tr_jp_node_free(n);
	return rc;
}

/* name(args...) with `left` the name (taken), the '(' consumed. */
static int
parse_call(struct parser *p, struct tr_jp_node *left,
    struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL, *e = NULL;
	size_t lp = p->pos - 1;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (left->kind != TR_JP_N_FIELD || left->quoted || lp == 0 ||
	    p->toks.v[lp - 1].type != TR_JP_T_UNQUOTED) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: '(' at column %zu does not follow a function "
		    "name", p->toks.v[lp].pos + 1);
		goto out;
	}
	if ((rc = node_new(TR_JP_N_FUNC, &n)) < 0)
		goto out;
	n->name = left->name;
	n->name_len = left->name_len;
	left->name = NULL;
	while (cur(p)->type != TR_JP_T_RPAREN) {
		if ((rc = expression(p, 0, &e)) < 0)
			goto out;
		rc = node_add(n, e);
		e = NULL;
		if (rc < 0)
			goto out;
		if (cur(p)->type == TR_JP_T_COMMA) {
			advance(p);
			if (cur(p)->type == TR_JP_T_RPAREN) {
				rc = unexpected(p, "an argument");
				goto out;
			}
		} else if (cur(p)->type != TR_JP_T_RPAREN) {
			rc = unexpected(p, "',' or ')'");
			goto out;
		}
	}
	advance(p);
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(left);
	tr_jp_node_free(n);
	return rc;
}

/* The prefix ("nud") handler of token `t`, already consumed. */
static int
nud(struct parser *p, struct tr_jp_token *t, struct tr_jp_node **out)
{
	struct tr_jp_node *n = NULL, *a = NULL, *b = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	switch (t->type) {
	case TR_JP_T_LITERAL:
		if ((rc = node_new(TR_JP_N_LITERAL, &n)) < 0)
			goto out;
		n->lit = t->lit;
		t->lit = NULL;
		break;
	case TR_JP_T_UNQUOTED:
	case TR_JP_T_QUOTED:
		if (t->type == TR_JP_T_QUOTED &&
		    cur(p)->type == TR_JP_T_LPAREN) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "syntax: a quoted identifier cannot name a "
			    "function (column %zu)", t->pos + 1);
			goto out;
		}
		if ((rc = node_new(TR_JP_N_FIELD, &n)) < 0)
			goto out;
		n->quoted = t->type == TR_JP_T_QUOTED;
		n->name = t->str;
		n->name_len = t->str_len;
		t->str = NULL;
		break;
	case TR_JP_T_STAR:
		if ((rc = node_current(&a)) < 0)
			goto out;
		if ((rc = parse_projection_rhs(p, bp[TR_JP_T_STAR], &b)) < 0)
			goto out;
		rc = node_make(TR_JP_N_VPROJECT, a, b, &n);
		a = NULL;
		b = NULL;
		if (rc < 0)
			goto out;
		break;
	case TR_JP_T_FILTER:
		if ((rc = node_current(&a)) < 0)
			goto out;
		rc = parse_filter(p, a, &n);
		a = NULL;
		if (rc < 0)
			goto out;
		break;
	case TR_JP_T_LBRACE:
		if ((rc = parse_mhash(p, &n)) < 0)
			goto out;
		break;
	case TR_JP_T_LPAREN:
		if ((rc = expression(p, 0, &n)) < 0)
			goto out;
		if ((rc = expect(p, TR_JP_T_RPAREN)) < 0)
			goto out;
		break;
	case TR_JP_T_FLATTEN:
		if ((rc = node_current(&a)) < 0)
			goto out;
		rc = node_make(TR_JP_N_FLATTEN, a, NULL, &b);
		a = NULL;
		if (rc < 0)
			goto out;
		if ((rc = parse_projection_rhs(p, bp[TR_JP_T_FLATTEN],
		    &a)) < 0)
			goto out;
		rc = node_make(TR_JP_N_PROJECT, b, a, &n);
		a = NULL;
		b = NULL;
		if (rc < 0)
			goto out;
		break;
	case TR_JP_T_NOT:
		if ((rc = expression(p, bp[TR_JP_T_NOT], &a)) < 0)
			goto out;
		rc = node_make(TR_JP_N_NOT, a, NULL, &n);
		a = NULL;
		if (rc < 0)
			goto out;
		break;
	case TR_JP_T_LBRACKET:
		if (cur(p)->type == TR_JP_T_NUMBER ||
		    cur(p)->type == TR_JP_T_COLON) {
			if ((rc = parse_index(p, &a)) < 0)
				goto out;
			rc = index_or_slice(p, NULL, a, &n);
			a = NULL;
		} else if (cur(p)->type == TR_JP_T_STAR &&
		    peek(p, 1) == TR_JP_T_RBRACKET) {
			advance(p);
			advance(p);
			if ((rc = node_current(&a)) < 0)
				goto out;
			if ((rc = parse_projection_rhs(p, bp[TR_JP_T_STAR],
			    &b)) < 0)
				goto out;
			rc = node_make(TR_JP_N_PROJECT, a, b, &n);
			a = NULL;
			b = NULL;
		} else {
			rc = parse_mlist(p, &n);
		}
		if (rc < 0)
			goto out;
		break;
	case TR_JP_T_CURRENT:
		if ((rc = node_current(&n)) < 0)
			goto out;
		break;
	case TR_JP_T_EXPREF:
		if ((rc = expression(p, 0, &a)) < 0)
			goto out;
		rc = node_make(TR_JP_N_EXPREF, a, NULL, &n);
		a = NULL;
		if (rc < 0)
			goto out;
		break;
	default:
		rc = unexpected_at(t, "an expression");
		goto out;
	}
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_node_free(a);
	tr_jp_node_free(b);
	tr_jp_node_free(n);
	return rc;
}

/*
 * The infix ("led") handler of token `t`, already consumed, with `left`
 * (taken) on its left.
 */
static int
led(struct parser *p, struct tr_jp_token *t, struct tr_jp_node *left,
    struct tr_jp_node **out)
{
	struct tr_jp_node *a = NULL, *b = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	switch (t->type) {
	case TR_JP_T_DOT:
		if (cur(p)->type == TR_JP_T_STAR) {
			advance(p);
			if ((rc = parse_projection_rhs(p, bp[TR_JP_T_DOT],
			    &a)) < 0)
				goto out;
			rc = node_make(TR_JP_N_VPROJECT, left, a, out);
		} else {
			if ((rc = parse_dot_rhs(p, bp[TR_JP_T_DOT], &a)) < 0)
				goto out;
			rc = node_chain(TR_JP_N_SUBEXPR, left, a, out);
		}
		left = NULL;
		a = NULL;
		break;
	case TR_JP_T_PIPE:
	case TR_JP_T_OR:
	case TR_JP_T_AND:
		if ((rc = expression(p, bp[t->type], &a)) < 0)
			goto out;
		rc = node_chain(t->type == TR_JP_T_PIPE ? TR_JP_N_PIPE :
		    t->type == TR_JP_T_OR ? TR_JP_N_OR : TR_JP_N_AND,
		    left, a, out);
		left = NULL;
		a = NULL;
		break;
	case TR_JP_T_EQ:
	case TR_JP_T_NE:
	case TR_JP_T_LT:
	case TR_JP_T_LTE:
	case TR_JP_T_GT:
	case TR_JP_T_GTE:
		if ((rc = expression(p, bp[t->type], &a)) < 0)
			goto out;
		rc = node_make(TR_JP_N_CMP, left, a, &b);
		left = NULL;
		a = NULL;
		if (rc < 0)
			goto out;
		b->cmp = (enum tr_jp_cmp)(t->type - TR_JP_T_EQ);
		*out = b;
		b = NULL;
		break;
	case TR_JP_T_LPAREN:
		rc = parse_call(p, left, out);
		left = NULL;
		break;
	case TR_JP_T_FILTER:
		rc = parse_filter(p, left, out);
		left = NULL;
		break;
	case TR_JP_T_FLATTEN:
		rc = node_make(TR_JP_N_FLATTEN, left, NULL, &a);
		left = NULL;
		if (rc < 0)
			goto out;
		if ((rc = parse_projection_rhs(p, bp[TR_JP_T_FLATTEN],
		    &b)) < 0)
			goto out;
		rc = node_make(TR_JP_N_PROJECT, a, b, out);
		a = NULL;
		b = NULL;
		break;
	case TR_JP_T_LBRACKET:
		if (cur(p)->type == TR_JP_T_NUMBER ||
		    cur(p)->type == TR_JP_T_COLON) {
			if ((rc = parse_index(p, &a)) < 0)
				goto out;
			rc = index_or_slice(p, left, a, out);
			left = NULL;
			a = NULL;
			break;
		}
		if ((rc = expect(p, TR_JP_T_STAR)) < 0)
			goto out;
		if ((rc = expect(p, TR_JP_T_RBRACKET)) < 0)
			goto out;
		if ((rc = parse_projection_rhs(p, bp[TR_JP_T_STAR], &a)) < 0)
			goto out;
		rc = node_make(TR_JP_N_PROJECT, left, a, out);
		left = NULL;
		a = NULL;
		break;
	default:
		rc = unexpected_at(t, "an operator");
		goto out;
	}
out:
	tr_jp_node_free(left);
	tr_jp_node_free(a);
	tr_jp_node_free(b);
	return rc;
}

/*
 * Parse an expression whose operators bind tighter than `rbp`.
 */
static int
expression(struct parser *p, int rbp, struct tr_jp_node **out)
{
	struct tr_jp_node *left = NULL, *n = NULL;
	struct tr_jp_token *t;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (++p->depth > TR_JMESPATH_MAX_DEPTH) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: expression nested deeper than %d levels",
		    TR_JMESPATH_MAX_DEPTH);
		goto out;
	}
	t = cur(p);
	advance(p);
	if ((rc = nud(p, t, &left)) < 0)
		goto out;
	while (rbp < binding(cur(p)->type)) {
		t = cur(p);
		advance(p);
		rc = led(p, t, left, &n);
		left = n;
		n = NULL;
		if (rc < 0)
			goto out;
	}
	*out = left;
	left = NULL;
	rc = 0;
out:
	p->depth--;
	tr_jp_node_free(left);
	return rc;
}

/*
 * The checks that need a whole, well-formed tree, so that a syntax error
 * anywhere is reported first: resolve function names and check argument
 * counts, and refuse a slice step of 0.  Recursion is bounded by the
 * depth of the tree.
 */
static int
check_tree(struct tr_jp_node *n)
{
	const struct tr_jp_func *fn;
	size_t i;
	int rc;

	for (i = 0; i < n->nkids; i++)
		if ((rc = check_tree(n->kids[i])) < 0)
			return rc;
	if (n->kind == TR_JP_N_SLICE && n->has[2] && n->slice[2] == 0)
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-value: slice step cannot be 0");
	if (n->kind != TR_JP_N_FUNC)
		return 0;
	fn = tr_jp_func_lookup(n->name, n->name_len);
	if (fn == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "unknown-function: no function named %.40s()", n->name);
	if (fn->variadic ? n->nkids < fn->nparams :
	    n->nkids != fn->nparams)
		return tr_error_set(TRESOR_EINVAL,
		    "invalid-arity: %s() takes %s%zu argument%s, %zu given",
		    fn->name, fn->variadic ? "at least " : "", fn->nparams,
		    fn->nparams == 1 ? "" : "s", n->nkids);
	n->fn = fn;
	return 0;
}

int
tr_jp_parse(struct tr_jp_node **out, const char *expr, size_t len)
{
	struct parser p;
	struct tr_jp_node *n = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	if ((rc = tr_jp_lex(&p.toks, expr, len)) < 0)
		goto out;
	if ((rc = expression(&p, 0, &n)) < 0)
		goto out;
	if (cur(&p)->type != TR_JP_T_EOF) {
		rc = unexpected(&p, "the end of the expression");
		goto out;
	}
	if ((rc = check_tree(n)) < 0)
		goto out;
	*out = n;
	n = NULL;
	rc = 0;
out:
	tr_jp_tokens_dispose(&p.toks);
	tr_jp_node_free(n);
	return rc;
}
