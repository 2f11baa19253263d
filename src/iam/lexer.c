/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cursor both IAM parsers read with (policy statements in
 * policy_parse.c, dynamic-group rules in dg_rule.c), plus the
 * case-insensitive comparisons and the `*` pattern match of the policy
 * language.  Interface: iam_int.h.
 *
 * The cursor never reads past `len`; columns are 1-based byte offsets
 * into the text, blanks (newlines included) count like any byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iam/iam_int.h"
#include "util/error.h"

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Start a cursor at the first byte of `s` (`len` bytes, no NUL needed). */
void
tr_iam_lex_init(struct tr_iam_lex *lx, const char *s, size_t len)
{
	lx->s = s;
	lx->len = len;
	lx->pos = 0;
}

/* Move past blanks; never past the end. */
void
tr_iam_lex_skip_ws(struct tr_iam_lex *lx)
{
	while (lx->pos < lx->len && is_blank((unsigned char)lx->s[lx->pos]))
		lx->pos++;
}

/* 1-based column of the next token, for messages. */
size_t
tr_iam_lex_col(struct tr_iam_lex *lx)
{
	tr_iam_lex_skip_ws(lx);
	return lx->pos + 1;
}

/* True when only blanks remain. */
bool
tr_iam_lex_eof(struct tr_iam_lex *lx)
{
	tr_iam_lex_skip_ws(lx);
	return lx->pos >= lx->len;
}

/* The next non-blank byte, or -1 at the end; consumes nothing. */
int
tr_iam_lex_peek(struct tr_iam_lex *lx)
{
	tr_iam_lex_skip_ws(lx);
	if (lx->pos >= lx->len)
		return -1;
	return (unsigned char)lx->s[lx->pos];
}

/* Consume one punctuation character when it comes next. */
bool
tr_iam_lex_accept(struct tr_iam_lex *lx, char c)
{
	if (tr_iam_lex_peek(lx) != (unsigned char)c)
		return false;
	lx->pos++;
	return true;
}

/* Bytes of a bare word; anything else ends it. */
bool
tr_iam_lex_is_word_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	    c == ':';
}

/* A bare word, borrowed from the input. */
bool
tr_iam_lex_word(struct tr_iam_lex *lx, const char **w, size_t *n)
{
	size_t start;

	tr_iam_lex_skip_ws(lx);
	start = lx->pos;
	while (lx->pos < lx->len &&
	    tr_iam_lex_is_word_char((unsigned char)lx->s[lx->pos]))
		lx->pos++;
	if (lx->pos == start)
		return false;
	*w = lx->s + start;
	*n = lx->pos - start;
	return true;
}

/* Look ahead for a keyword without moving. */
bool
tr_iam_lex_peek_keyword(struct tr_iam_lex *lx, const char *kw)
{
	size_t save = lx->pos;
	const char *w;
	size_t n;
	bool ok;

	ok = tr_iam_lex_word(lx, &w, &n) &&
	    tr_iam_eq_ci(w, n, kw, strlen(kw));
	lx->pos = save;
	return ok;
}

/* Consume a keyword (whole word, any case) or leave the cursor alone. */
bool
tr_iam_lex_keyword(struct tr_iam_lex *lx, const char *kw)
{
	const char *w;
	size_t n, save = lx->pos;

	if (tr_iam_lex_word(lx, &w, &n) && tr_iam_eq_ci(w, n, kw, strlen(kw)))
		return true;
	lx->pos = save;
	return false;
}

/* Text between two delimiters; no escapes exist in the language. */
int
tr_iam_lex_delimited(struct tr_iam_lex *lx, char delim, const char **v,
    size_t *n)
{
	size_t open, i;
	int rc = TRESOR_EINTERNAL;

	tr_iam_lex_skip_ws(lx);
	open = lx->pos;
	if (open >= lx->len || lx->s[open] != delim) {
		rc = tr_iam_lex_fail(lx, delim == '\'' ? "a quoted value" :
		    "a /pattern/");
		goto out;
	}
	for (i = open + 1; i < lx->len; i++)
		if (lx->s[i] == delim)
			break;
	if (i >= lx->len) {
		rc = tr_iam_lex_fail_at(open + 1, "expected a closing %c for "
		    "the %s opened here", delim, delim == '\'' ? "quote" :
		    "pattern");
		goto out;
	}
	*v = lx->s + open + 1;
	*n = i - open - 1;
	lx->pos = i + 1;
	rc = 0;
out:
	return rc;
}

/* Set "column N: <message>" and return TRESOR_EINVAL. */
int
tr_iam_lex_fail_at(size_t col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tr_error_set(TRESOR_EINVAL, "column %zu: %s", col, msg);
}

/* Set "column N: expected <what>, found <token>" (printable only). */
int
tr_iam_lex_fail(struct tr_iam_lex *lx, const char *what)
{
	char found[48];
	size_t col, n, i;
	int c;

	col = tr_iam_lex_col(lx);
	c = tr_iam_lex_peek(lx);
	if (c < 0) {
		(void)snprintf(found, sizeof(found), "end of text");
	} else if (tr_iam_lex_is_word_char(c)) {
		n = 0;
		while (lx->pos + n < lx->len && n < 32 &&
		    tr_iam_lex_is_word_char((unsigned char)lx->s[lx->pos + n]))
			n++;
		(void)snprintf(found, sizeof(found), "'%.*s%s'", (int)n,
		    lx->s + lx->pos, n == 32 ? "..." : "");
	} else if (c == '\'') {
		(void)snprintf(found, sizeof(found), "a quote");
	} else if (c >= 0x21 && c < 0x7f) {
		(void)snprintf(found, sizeof(found), "'%c'", c);
	} else {
		(void)snprintf(found, sizeof(found), "byte 0x%02x", c);
	}
	/* keep the message printable whatever the input was */
	for (i = 0; found[i] != '\0'; i++)
		if ((unsigned char)found[i] < 0x20 ||
		    (unsigned char)found[i] >= 0x7f)
			found[i] = '?';
	return tr_iam_lex_fail_at(col, "expected %s, found %s", what, found);
}

/* ASCII case-insensitive equality of counted strings. */
bool
tr_iam_eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (upper((unsigned char)a[i]) != upper((unsigned char)b[i]))
			return false;
	return true;
}

/* tr_iam_eq_ci() of C strings; false when either is NULL. */
bool
tr_iam_streq_ci(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	return tr_iam_eq_ci(a, strlen(a), b, strlen(b));
}

/*
 * Classic wildcard match with one backtrack point: on a mismatch after a
 * `*`, retry with the star swallowing one more character.  No recursion,
 * so a hostile pattern costs at most len(s) * len(pat) steps.
 */
bool
tr_iam_glob_ci(const char *pat, size_t plen, const char *s, size_t slen)
{
	size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;

	while (i < slen) {
		if (p < plen && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (p < plen && upper((unsigned char)pat[p]) ==
		    upper((unsigned char)s[i])) {
			p++;
			i++;
		} else if (star != SIZE_MAX) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}
