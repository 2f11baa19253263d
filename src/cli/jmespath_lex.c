/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JMESPath lexer: expression text to an array of tokens, the last one
 * TR_JP_T_EOF (interface: jmespath_int.h).
 *
 * Quoted identifiers are JSON strings and are decoded by jansson.  JSON
 * literals (`...`) are parsed by jansson after "\`" is unescaped; text
 * that is not JSON is taken as the deprecated elided-quotes string form
 * (`foo` is "foo"), as jmespath.py does.  Raw strings ('...') keep every
 * byte except that \' stands for '.  Positions are byte offsets; error
 * messages show them 1-based as columns.
 */
#include <string.h>

#include "cli/jmespath_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"

static const char *const tok_names[] = {
	[TR_JP_T_EOF] = "end of expression",
	[TR_JP_T_UNQUOTED] = "identifier",
	[TR_JP_T_QUOTED] = "quoted identifier",
	[TR_JP_T_NUMBER] = "number",
	[TR_JP_T_LITERAL] = "literal",
	[TR_JP_T_DOT] = "'.'",
	[TR_JP_T_STAR] = "'*'",
	[TR_JP_T_FLATTEN] = "'[]'",
	[TR_JP_T_FILTER] = "'[?'",
	[TR_JP_T_LBRACKET] = "'['",
	[TR_JP_T_RBRACKET] = "']'",
	[TR_JP_T_LBRACE] = "'{'",
	[TR_JP_T_RBRACE] = "'}'",
	[TR_JP_T_LPAREN] = "'('",
	[TR_JP_T_RPAREN] = "')'",
	[TR_JP_T_COMMA] = "','",
	[TR_JP_T_COLON] = "':'",
	[TR_JP_T_PIPE] = "'|'",
	[TR_JP_T_OR] = "'||'",
	[TR_JP_T_AND] = "'&&'",
	[TR_JP_T_NOT] = "'!'",
	[TR_JP_T_EXPREF] = "'&'",
	[TR_JP_T_CURRENT] = "'@'",
	[TR_JP_T_EQ] = "'=='",
	[TR_JP_T_NE] = "'!='",
	[TR_JP_T_LT] = "'<'",
	[TR_JP_T_LTE] = "'<='",
	[TR_JP_T_GT] = "'>'",
	[TR_JP_T_GTE] = "'>='"
};

const char *
tr_jp_tok_name(enum tr_jp_tok type)
{
	if ((size_t)type >= sizeof(tok_names) / sizeof(tok_names[0]))
		return "token";
	return tok_names[type];
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c);
}

/*
 * Append a zeroed token of `type` at `pos` and point *tok_out at it (valid
 * until the next push).
 */
static int
push(struct tr_jp_tokens *t, enum tr_jp_tok type, size_t pos,
    struct tr_jp_token **tok_out)
{
	struct tr_jp_token *v;
	size_t ncap;

	if (t->n == t->cap) {
		ncap = t->cap == 0 ? 32 : t->cap * 2;
		v = tr_reallocarray(t->v, ncap, sizeof(*v));
		if (v == NULL)
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		t->v = v;
		t->cap = ncap;
	}
	v = &t->v[t->n++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->pos = pos;
	*tok_out = v;
	return 0;
}

/*
 * Find the closing `delim` of the token opened at `start`, stepping over
 * backslash escapes.  *end_out is the offset of the delimiter.
 */
static int
scan_delimited(const char *s, size_t len, size_t start, char delim,
    const char *what, size_t *end_out)
{
	size_t j = start + 1;

	while (j < len && s[j] != delim) {
		if (s[j] == '\\')
			j++;
		j++;
	}
	if (j >= len)
		return tr_error_set(TRESOR_EINVAL,
		    "syntax: unterminated %s at column %zu", what, start + 1);
	*end_out = j;
	return 0;
}

/*
 * Parse `len` bytes of JSON text with jansson into *out.  On a syntax
 * error *out stays NULL and 0 is returned, with *overflow_out set when
 * the only problem was an integer too big for jansson.
 */
static int
load_json(json_t **out, const char *s, size_t len, bool *overflow_out)
{
	json_error_t err;
	enum json_error_code code;

	*overflow_out = false;
	memset(&err, 0, sizeof(err));
	*out = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (*out != NULL)
		return 0;
	/* jansson leaves no text when its first allocation fails */
	code = json_error_code(&err);
	if (code == json_error_out_of_memory || err.text[0] == '\0')
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (code == json_error_numeric_overflow)
		*overflow_out = true;
	return 0;
}

/* A "quoted identifier" from `start` to its closing quote. */
static int
lex_quoted(struct tr_jp_token *tok, const char *s, size_t len,
    size_t start, size_t *next_out)
{
	json_t *v = NULL;
	bool overflow;
	size_t end = 0, n;
	int rc = TRESOR_EINTERNAL;

	if ((rc = scan_delimited(s, len, start, '"', "quoted identifier",
	    &end)) < 0)
		goto out;
	if ((rc = load_json(&v, s + start, end + 1 - start, &overflow)) < 0)
		goto out;
	if (v == NULL || !json_is_string(v)) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: invalid quoted identifier at column %zu",
		    start + 1);
		goto out;
	}
	n = json_string_length(v);
	tok->str = tr_malloc(n + 1);
	if (tok->str == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(tok->str, json_string_value(v), n + 1);
	tok->str_len = n;
	*next_out = end + 1;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

/* A 'raw string' from `start`: every byte kept, but \' is '. */
static int
lex_raw(struct tr_jp_token *tok, const char *s, size_t len, size_t start,
    size_t *next_out)
{
	struct tr_buf b;
	size_t end = 0, j;
	int rc = TRESOR_EINTERNAL;

	tr_buf_init(&b, TR_JMESPATH_MAX_EXPR);
	if ((rc = scan_delimited(s, len, start, '\'', "raw string",
	    &end)) < 0)
		goto out;
	for (j = start + 1; j < end; j++) {
		if (s[j] == '\\' && j + 1 < end && s[j + 1] == '\'')
			j++;
		(void)tr_buf_addc(&b, s[j]);
	}
	if ((rc = tr_buf_error(&b)) < 0)
		goto out;
	if (!tr_jp_utf8_valid(tr_buf_cstr(&b), b.len)) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: raw string at column %zu is not UTF-8",
		    start + 1);
		goto out;
	}
	tok->lit = json_stringn(tr_buf_cstr(&b), b.len);
	if (tok->lit == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	*next_out = end + 1;
	rc = 0;
out:
	tr_buf_dispose(&b);
	return rc;
}

/* A `JSON literal` from `start`, with \` unescaped. */
static int
lex_literal(struct tr_jp_token *tok, const char *s, size_t len,
    size_t start, size_t *next_out)
{
	struct tr_buf b;
	struct tr_buf q;
	bool overflow;
	size_t end = 0, j, k;
	int rc = TRESOR_EINTERNAL;

	tr_buf_init(&b, TR_JMESPATH_MAX_EXPR);
	tr_buf_init(&q, TR_JMESPATH_MAX_EXPR + 2);
	if ((rc = scan_delimited(s, len, start, '`', "JSON literal",
	    &end)) < 0)
		goto out;
	for (j = start + 1; j < end; j++) {
		if (s[j] == '\\' && j + 1 < end && s[j + 1] == '`')
			j++;
		(void)tr_buf_addc(&b, s[j]);
	}
	if ((rc = tr_buf_error(&b)) < 0)
		goto out;
	for (k = 0; k < b.len && is_ws(b.ptr[k]); k++)
		continue;
	if (k == b.len) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: empty JSON literal at column %zu", start + 1);
		goto out;
	}
	if ((rc = load_json(&tok->lit, b.ptr, b.len, &overflow)) < 0)
		goto out;
	if (tok->lit == NULL && overflow) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: number out of range in JSON literal at column %zu",
		    start + 1);
		goto out;
	}
	if (tok->lit == NULL) {
		/* deprecated form: `foo` is the string "foo" */
		(void)tr_buf_addc(&q, '"');
		(void)tr_buf_add(&q, b.ptr + k, b.len - k);
		(void)tr_buf_addc(&q, '"');
		if ((rc = tr_buf_error(&q)) < 0)
			goto out;
		if ((rc = load_json(&tok->lit, q.ptr, q.len, &overflow)) < 0)
			goto out;
	}
	if (tok->lit == NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "syntax: invalid JSON literal at column %zu", start + 1);
		goto out;
	}
	*next_out = end + 1;
	rc = 0;
out:
	tr_buf_dispose(&b);
	tr_buf_dispose(&q);
	return rc;
}

/* A number, -?[0-9]+, saturated to +-INT64_MAX. */
static int
lex_number(struct tr_jp_token *tok, const char *s, size_t len,
    size_t start, size_t *next_out)
{
	bool neg = false;
	int64_t v = 0;
	size_t j = start;
	int d;

	if (s[j] == '-') {
		neg = true;
		j++;
	}
	if (j >= len || !is_digit(s[j]))
		return tr_error_set(TRESOR_EINVAL,
		    "syntax: '-' must start a number at column %zu",
		    start + 1);
	for (; j < len && is_digit(s[j]); j++) {
		d = s[j] - '0';
		if (v > (INT64_MAX - d) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + d;
	}
	tok->num = neg ? -v : v;
	*next_out = j;
	return 0;
}

/*
 * A one- or two-character operator at `i`.  *type_out is TR_JP_T_EOF
 * when `c` starts none.
 */
static int
lex_operator(const char *s, size_t len, size_t i, enum tr_jp_tok *type_out,
    size_t *next_out)
{
	char c = s[i];
	char d = i + 1 < len ? s[i + 1] : '\0';
	enum tr_jp_tok one = TR_JP_T_EOF, two = TR_JP_T_EOF;
	char second = '\0';

	switch (c) {
	case '.':
		one = TR_JP_T_DOT;
		break;
	case '*':
		one = TR_JP_T_STAR;
		break;
	case ']':
		one = TR_JP_T_RBRACKET;
		break;
	case '{':
		one = TR_JP_T_LBRACE;
		break;
	case '}':
		one = TR_JP_T_RBRACE;
		break;
	case '(':
		one = TR_JP_T_LPAREN;
		break;
	case ')':
		one = TR_JP_T_RPAREN;
		break;
	case ',':
		one = TR_JP_T_COMMA;
		break;
	case ':':
		one = TR_JP_T_COLON;
		break;
	case '@':
		one = TR_JP_T_CURRENT;
		break;
	case '[':
		one = TR_JP_T_LBRACKET;
		if (d == ']') {
			two = TR_JP_T_FLATTEN;
			second = ']';
		} else {
			two = TR_JP_T_FILTER;
			second = '?';
		}
		break;
	case '|':
		one = TR_JP_T_PIPE;
		two = TR_JP_T_OR;
		second = '|';
		break;
	case '&':
		one = TR_JP_T_EXPREF;
		two = TR_JP_T_AND;
		second = '&';
		break;
	case '!':
		one = TR_JP_T_NOT;
		two = TR_JP_T_NE;
		second = '=';
		break;
	case '<':
		one = TR_JP_T_LT;
		two = TR_JP_T_LTE;
		second = '=';
		break;
	case '>':
		one = TR_JP_T_GT;
		two = TR_JP_T_GTE;
		second = '=';
		break;
	case '=':
		if (d != '=')
			return tr_error_set(TRESOR_EINVAL,
			    "syntax: '=' at column %zu (did you mean '=='?)",
			    i + 1);
		two = TR_JP_T_EQ;
		second = '=';
		break;
	default:
		break;
	}
	if (second != '\0' && d == second) {
		*type_out = two;
		*next_out = i + 2;
	} else {
		*type_out = one;
		*next_out = i + 1;
	}
	return 0;
}

int
tr_jp_lex(struct tr_jp_tokens *out, const char *expr, size_t len)
{
	struct tr_jp_token *tok = NULL;
	enum tr_jp_tok type = TR_JP_T_EOF;
	size_t i = 0, next = 0;
	char c;
	int rc = TRESOR_EINTERNAL;

	out->v = NULL;
	out->n = 0;
	out->cap = 0;
	for (;;) {
		while (i < len && is_ws(expr[i]))
			i++;
		if (i >= len)
			break;
		c = expr[i];
		if (is_ident_start(c)) {
			for (next = i; next < len && is_ident_char(expr[next]);
			    next++)
				continue;
			if ((rc = push(out, TR_JP_T_UNQUOTED, i, &tok)) < 0)
				goto out;
			tok->str = tr_strndup(expr + i, next - i);
			if (tok->str == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			tok->str_len = next - i;
		} else if (is_digit(c) || c == '-') {
			if ((rc = push(out, TR_JP_T_NUMBER, i, &tok)) < 0)
				goto out;
			if ((rc = lex_number(tok, expr, len, i, &next)) < 0)
				goto out;
		} else if (c == '"') {
			if ((rc = push(out, TR_JP_T_QUOTED, i, &tok)) < 0)
				goto out;
			if ((rc = lex_quoted(tok, expr, len, i, &next)) < 0)
				goto out;
		} else if (c == '\'') {
			if ((rc = push(out, TR_JP_T_LITERAL, i, &tok)) < 0)
				goto out;
			if ((rc = lex_raw(tok, expr, len, i, &next)) < 0)
				goto out;
		} else if (c == '`') {
			if ((rc = push(out, TR_JP_T_LITERAL, i, &tok)) < 0)
				goto out;
			if ((rc = lex_literal(tok, expr, len, i, &next)) < 0)
				goto out;
		} else {
			if ((rc = lex_operator(expr, len, i, &type,
			    &next)) < 0)
				goto out;
			if (type == TR_JP_T_EOF) {
				if ((unsigned char)c >= 0x20 &&
				    (unsigned char)c < 0x7f)
					rc = tr_error_set(TRESOR_EINVAL,
					    "syntax: unexpected character "
					    "'%c' at column %zu", c, i + 1);
				else
					rc = tr_error_set(TRESOR_EINVAL,
					    "syntax: unexpected byte 0x%02x "
					    "at column %zu",
					    (unsigned char)c, i + 1);
				goto out;
			}
			if ((rc = push(out, type, i, &tok)) < 0)
				goto out;
		}
		i = next;
	}
	if ((rc = push(out, TR_JP_T_EOF, len, &tok)) < 0)
		goto out;
	rc = 0;
out:
	return rc;
}

void
tr_jp_tokens_dispose(struct tr_jp_tokens *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		tr_free(t->v[i].str);
		json_decref(t->v[i].lit);
	}
	TR_FREE_AND_NULL(t->v);
	t->n = 0;
	t->cap = 0;
}
