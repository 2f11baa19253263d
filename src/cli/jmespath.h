/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JMESPath for the `tresor` CLI's --query option, as in oci-cli: the whole
 * language of https://jmespath.org/specification.html (identifiers,
 * sub-expressions, indices and slices, projections, flatten, filters,
 * comparators, ||, &&, !, pipes, multi-selects, literals, @, & and every
 * built-in function) evaluated over jansson values.
 *
 * Errors are TRESOR_EINVAL with tresor_error_last() starting with the
 * JMESPath error kind and a colon: "syntax:", "invalid-type:",
 * "invalid-value:", "invalid-arity:" or "unknown-function:".  Running out
 * of memory is TRESOR_ENOMEM; exceeding the evaluation budget, nesting
 * values past TR_JMESPATH_MAX_VALUE_DEPTH or making a string longer than
 * TR_JMESPATH_MAX_STRING is TRESOR_ELIMIT ("limit: ...").
 *
 * One extension, shared with jmespath.py (and so with oci-cli): the
 * ordering comparators also compare two strings, by code point, so that
 * `[?"time-created" > '2024-01-01']` works.  The specification makes
 * that null.
 *
 * Implementation: jmespath_lex.c (tokens), jmespath_parse.c (Pratt
 * parser), jmespath_eval.c (tree walker and the entry points below),
 * jmespath_func.c (built-in functions), jmespath_value.c (comparison,
 * truth and serialisation of values).  Private interface: jmespath_int.h.
 */
#ifndef TR_CLI_JMESPATH_H
#define TR_CLI_JMESPATH_H

#include <stddef.h>

#include <jansson.h>

/* Longest expression accepted, in bytes. */
#define TR_JMESPATH_MAX_EXPR		((size_t)64 * 1024)
/* Deepest nesting of an expression (parentheses, brackets, operands). */
#define TR_JMESPATH_MAX_DEPTH		256
/* Deepest value the evaluator compares, sorts or serialises. */
#define TR_JMESPATH_MAX_VALUE_DEPTH	4096
/* Longest string join() or to_string() may make, in bytes. */
#define TR_JMESPATH_MAX_STRING		((size_t)64 * 1024 * 1024)
/* Work units one evaluation may use when the caller passes 0. */
#define TR_JMESPATH_STEPS_DEFAULT	((size_t)1 << 26)

/* A compiled expression; immutable, so it may be searched concurrently. */
struct tr_jmespath;

/*
 * Compile the NUL-terminated expression `expr` into *out (free with
 * tr_jmespath_free()).  Unknown functions, wrong argument counts and a
 * slice step of 0 are found here, before any data is seen.
 * Returns 0, TRESOR_EINVAL ("syntax:", "unknown-function:",
 * "invalid-arity:" or "invalid-value:" detail) or TRESOR_ENOMEM.
 */
int tr_jmespath_compile(struct tr_jmespath **out, const char *expr);

/*
 * Evaluate the compiled expression `jp` against `data`.  On success *out
 * is a new reference the caller decrefs: JSON null when nothing matched.
 * The result may share (reference-counted) sub-values with `data`, so
 * json_deep_copy() it before changing it in place.  `max_steps` bounds
 * the work (roughly: nodes visited, elements produced, string bytes / 16
 * read or written); 0 means TR_JMESPATH_STEPS_DEFAULT.  The result, read
 * as a tree, also has at most `max_steps` values and nests at most
 * TR_JMESPATH_MAX_VALUE_DEPTH deep, so printing it is bounded too.
 * Returns 0, TRESOR_EINVAL ("invalid-type:", "invalid-value:"),
 * TRESOR_ELIMIT or TRESOR_ENOMEM.
 */
int tr_jmespath_search(json_t **out, const struct tr_jmespath *jp,
    const json_t *data, size_t max_steps);

/* Free a compiled expression; NULL is fine. */
void tr_jmespath_free(struct tr_jmespath *jp);

/*
 * Compile-and-evaluate `expr` against `data` with the default budget.
 * On success *out is a new reference (JSON null for no match).  Errors
 * are those of tr_jmespath_compile() and tr_jmespath_search().
 */
int tr_jmespath_eval(json_t **out, const char *expr, const json_t *data);

#endif /* TR_CLI_JMESPATH_H */
