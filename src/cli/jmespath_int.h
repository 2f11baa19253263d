/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the JMESPath files of src/cli/: tokens (jmespath_lex.c), the
 * syntax tree (jmespath_parse.c), the evaluation context and tree walker
 * (jmespath_eval.c), the function table (jmespath_func.c) and the value
 * helpers (jmespath_value.c).  The CLI sees only jmespath.h.
 *
 * tr_jp_ is short for tr_jmespath_.
 */
#ifndef TR_CLI_JMESPATH_INT_H
#define TR_CLI_JMESPATH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/jmespath.h"
#include "util/buf.h"

/* ---------------------------------------------------------------- */
/* tokens (jmespath_lex.c)                                          */
/* ---------------------------------------------------------------- */

enum tr_jp_tok {
	TR_JP_T_EOF,
	TR_JP_T_UNQUOTED,	/* foo */
	TR_JP_T_QUOTED,		/* "foo" */
	TR_JP_T_NUMBER,		/* -12 */
	TR_JP_T_LITERAL,	/* `json` and 'raw string' */
	TR_JP_T_DOT,
	TR_JP_T_STAR,
	TR_JP_T_FLATTEN,	/* [] */
	TR_JP_T_FILTER,		/* [? */
	TR_JP_T_LBRACKET,
	TR_JP_T_RBRACKET,
	TR_JP_T_LBRACE,
	TR_JP_T_RBRACE,
	TR_JP_T_LPAREN,
	TR_JP_T_RPAREN,
	TR_JP_T_COMMA,
	TR_JP_T_COLON,
	TR_JP_T_PIPE,
	TR_JP_T_OR,
	TR_JP_T_AND,
	TR_JP_T_NOT,
	TR_JP_T_EXPREF,		/* & */
	TR_JP_T_CURRENT,	/* @ */
	TR_JP_T_EQ,
	TR_JP_T_NE,
	TR_JP_T_LT,
	TR_JP_T_LTE,
	TR_JP_T_GT,
	TR_JP_T_GTE
};

struct tr_jp_token {
	enum tr_jp_tok type;
	size_t pos;		/* byte offset of the token in the text */
	char *str;		/* identifiers: the decoded name (owned) */
	size_t str_len;		/* its length; it may hold NUL bytes */
	int64_t num;		/* numbers, saturated to +-INT64_MAX */
	json_t *lit;		/* literals (owned reference) */
};

struct tr_jp_tokens {
	struct tr_jp_token *v;
	size_t n;
	size_t cap;
};

/*
 * Split the `len` bytes of `expr` into tokens, the last one TR_JP_T_EOF.
 * The caller disposes of *out even on failure.  Returns 0, TRESOR_EINVAL
 * ("syntax: ...") or TRESOR_ENOMEM.
 */
int tr_jp_lex(struct tr_jp_tokens *out, const char *expr, size_t len);

/* Free what the tokens own; the struct may be reused after. */
void tr_jp_tokens_dispose(struct tr_jp_tokens *t);

/* A short human name of a token type for error messages ("']'"). */
const char *tr_jp_tok_name(enum tr_jp_tok type);

/* ---------------------------------------------------------------- */
/* syntax tree (jmespath_parse.c)                                   */
/* ---------------------------------------------------------------- */

enum tr_jp_kind {
	TR_JP_N_FIELD,		/* name */
	TR_JP_N_CURRENT,	/* @, and the implicit right of projections */
	TR_JP_N_LITERAL,	/* lit */
	TR_JP_N_INDEX,		/* [idx] */
	TR_JP_N_SLICE,		/* [start:stop:step] */
	TR_JP_N_SUBEXPR,	/* kids applied in turn: a.b[0].c */
	TR_JP_N_PIPE,		/* kids applied in turn: a | b | c */
	TR_JP_N_PROJECT,	/* list projection: kids left, right */
	TR_JP_N_VPROJECT,	/* object projection: kids left, right */
	TR_JP_N_FILTER,		/* kids left, condition, right */
	TR_JP_N_FLATTEN,	/* kids[0][] */
	TR_JP_N_MLIST,		/* [a, b] */
	TR_JP_N_MHASH,		/* {k: a}: kids are TR_JP_N_PAIR */
	TR_JP_N_PAIR,		/* name: kids[0] */
	TR_JP_N_OR,		/* kids[0] || kids[1] || ... */
	TR_JP_N_AND,		/* kids[0] && kids[1] && ... */
	TR_JP_N_NOT,
	TR_JP_N_CMP,		/* kids[0] op kids[1] */
	TR_JP_N_FUNC,		/* fn(kids...) */
	TR_JP_N_EXPREF		/* &kids[0] */
};

enum tr_jp_cmp {
	TR_JP_CMP_EQ,
	TR_JP_CMP_NE,
	TR_JP_CMP_LT,
	TR_JP_CMP_LTE,
	TR_JP_CMP_GT,
	TR_JP_CMP_GTE
};

struct tr_jp_func;

struct tr_jp_node {
	enum tr_jp_kind kind;
	enum tr_jp_cmp cmp;		/* TR_JP_N_CMP */
	bool quoted;			/* TR_JP_N_FIELD from "quoted" */
	char *name;			/* FIELD, PAIR, FUNC: NUL-ended */
	size_t name_len;
	json_t *lit;			/* TR_JP_N_LITERAL */
	int64_t idx;			/* TR_JP_N_INDEX */
	int64_t slice[3];		/* TR_JP_N_SLICE start, stop, step */
	bool has[3];			/* which of them were given */
	const struct tr_jp_func *fn;	/* TR_JP_N_FUNC */
	struct tr_jp_node **kids;
	size_t nkids;
	size_t cap;
	size_t depth;			/* 1 + the deepest kid */
};

/*
 * Parse the `len` bytes of `expr` into *out (free with tr_jp_node_free).
 * Returns 0, TRESOR_EINVAL or TRESOR_ENOMEM.
 */
int tr_jp_parse(struct tr_jp_node **out, const char *expr, size_t len);

/* Free a tree; NULL is fine. */
void tr_jp_node_free(struct tr_jp_node *n);

/* ---------------------------------------------------------------- */
/* evaluation (jmespath_eval.c)                                     */
/* ---------------------------------------------------------------- */

struct tr_jp_ctx {
	size_t steps;		/* work done so far */
	size_t max_steps;	/* budget */
};

/*
 * Charge `n` units of work; TRESOR_ELIMIT once the budget is spent.
 */
int tr_jp_charge(struct tr_jp_ctx *ctx, size_t n);

/*
 * Evaluate `n` with `cur` as the current node.  *out is a new reference
 * (json_null() for no match).  Returns 0 or a negative TRESOR_E* code.
 */
int tr_jp_eval(struct tr_jp_ctx *ctx, const struct tr_jp_node *n,
    json_t *cur, json_t **out);

/* ---------------------------------------------------------------- */
/* functions (jmespath_func.c)                                      */
/* ---------------------------------------------------------------- */

/* Types of function parameters (bit set). */
#define TR_JP_TY_NUMBER		0x01u
#define TR_JP_TY_STRING		0x02u
#define TR_JP_TY_BOOLEAN	0x04u
#define TR_JP_TY_NULL		0x08u
#define TR_JP_TY_ARRAY		0x10u
#define TR_JP_TY_OBJECT		0x20u
#define TR_JP_TY_EXPREF		0x40u
#define TR_JP_TY_ARRAY_NUMBER	0x80u	/* array of numbers only */
#define TR_JP_TY_ARRAY_STRING	0x100u	/* array of strings only */
#define TR_JP_TY_ANY		0x3fu	/* every JSON type, no expref */

/* One argument: a value, or an expression reference. */
struct tr_jp_arg {
	json_t *v;			/* NULL for an expref */
	const struct tr_jp_node *expr;	/* the &expression */
};

struct tr_jp_func {
	const char *name;
	size_t nparams;		/* the minimum when variadic */
	bool variadic;		/* the last type repeats */
	unsigned int types[2];
	int (*call)(struct tr_jp_ctx *ctx, const struct tr_jp_arg *args,
	    size_t nargs, json_t **out);
};

/* The function called `name` (`len` bytes), or NULL. */
const struct tr_jp_func *tr_jp_func_lookup(const char *name, size_t len);

/*
 * Check `nargs` arguments against the signature of `fn` (TRESOR_EINVAL
 * "invalid-type: ...") and run it.  *out is a new reference.
 */
int tr_jp_func_call(struct tr_jp_ctx *ctx, const struct tr_jp_func *fn,
    const struct tr_jp_arg *args, size_t nargs, json_t **out);

/* ---------------------------------------------------------------- */
/* values (jmespath_value.c)                                        */
/* ---------------------------------------------------------------- */

/* JMESPath truth: false, null, "", [] and {} are false. */
bool tr_jp_truthy(const json_t *v);

/* The JMESPath type name of a value: "number", "string", ... */
const char *tr_jp_type_name(const json_t *v);

/*
 * The work, in steps, of reading a value byte by byte: a sixteenth of
 * the length of a string, 0 for the other types.
 */
size_t tr_jp_cost(const json_t *v);

/* The value of a jansson integer or real as a double. */
double tr_jp_number(const json_t *v);

/*
 * Order two numbers or two strings (the caller checks the types):
 * negative, 0 or positive.  Numbers compare by value whatever their
 * jansson type, strings by code point.
 */
int tr_jp_order(const json_t *a, const json_t *b);

/*
 * Deep equality with numbers compared by value (1 == 1.0).  Charges the
 * work to `ctx`.  Returns 0 with *eq_out set, or TRESOR_ELIMIT.
 */
int tr_jp_equal(struct tr_jp_ctx *ctx, const json_t *a, const json_t *b,
    bool *eq_out);

/*
 * Append the compact JSON text of `v` to `b` (as to_string() does: no
 * blanks, UTF-8 kept, reals in their shortest round-trip form).
 * Returns 0, TRESOR_ELIMIT, TRESOR_ENOMEM or TRESOR_ETOOBIG.
 */
int tr_jp_serialize(struct tr_jp_ctx *ctx, const json_t *v,
    struct tr_buf *b);

/*
 * A new number value for `d`: an integer when `d` is integral and fits,
 * else a real.  NULL with TRESOR_EINVAL detail when `d` is not finite,
 * or on no memory (TRESOR_ENOMEM detail); *rc_out says which.
 */
json_t *tr_jp_number_new(double d, int *rc_out);

/* Number of code points of the valid UTF-8 `s` of `len` bytes. */
size_t tr_jp_utf8_count(const char *s, size_t len);

/* True when `len` bytes at `s` are valid UTF-8 (no surrogates). */
bool tr_jp_utf8_valid(const char *s, size_t len);

/*
 * Parse `len` bytes as a JSON number (json-number of RFC 8259, nothing
 * else) into a new value in *out: an integer when it has no fraction or
 * exponent and fits int64_t, else a real.  *out is NULL when the text is
 * not a number or the value is not finite.  Returns 0 or TRESOR_ENOMEM.
 */
int tr_jp_parse_number(json_t **out, const char *s, size_t len);

#endif /* TR_CLI_JMESPATH_INT_H */
