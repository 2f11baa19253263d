/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line of `tresor`: oci-cli's grammar (see cli_int.h).
 *
 *   tresor [GLOBAL OPTIONS] GROUP... COMMAND [OPTIONS]
 *
 * Global options may appear anywhere, as in oci-cli.  Options take their
 * value as the next argument or after '='; an option given twice keeps
 * the last value unless it may repeat.  --help (-h, -?) prints the help
 * of the group or command it follows.  A usage error (unknown command or
 * option, missing or invalid value) prints the usage, the error and, for
 * a mistyped command, the nearest real one, and exits 2.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/parse.h"

enum gopt_id {
	G_PROFILE, G_CONFIG_FILE, G_ENDPOINT, G_AUTH, G_OUTPUT, G_QUERY,
	G_RAW_OUTPUT, G_REGION, G_NO_RETRY, G_MAX_RETRIES, G_CONNECT_TIMEOUT,
	G_READ_TIMEOUT, G_CERT_BUNDLE, G_REQUEST_ID, G_DEBUG, G_VERSION
};

static const struct gopt {
	const char *flag;
	const char *alias;
	enum gopt_id id;
	bool value;
	const char *metavar;
	const char *help;
} gopts[] = {
	{ "--config-file", NULL, G_CONFIG_FILE, true, "TEXT",
	    "The OCI config file (default ~/.oci/config; "
	    "$OCI_CLI_CONFIG_FILE)." },
	{ "--profile", NULL, G_PROFILE, true, "TEXT",
	    "The profile of the config file (default DEFAULT; "
	    "$OCI_CLI_PROFILE)." },
	{ "--endpoint", NULL, G_ENDPOINT, true, "TEXT",
	    "The service endpoint: tresord's base URL, or a vault's "
	    "management or crypto endpoint for kms management key and kms "
	    "crypto commands." },
	{ "--auth", NULL, G_AUTH, true, "[api_key|resource_principal|"
	    "security_token]", "How to authenticate (default api_key; "
	    "$OCI_CLI_AUTH)." },
	{ "--output", NULL, G_OUTPUT, true, "[json|table]",
	    "The output format (default json)." },
	{ "--query", NULL, G_QUERY, true, "TEXT",
	    "A JMESPath query run on the output, e.g. "
	    "'data.\"management-endpoint\"'." },
	{ "--raw-output", NULL, G_RAW_OUTPUT, false, NULL,
	    "If the result is a single string, print it without quotes." },
	{ "--region", NULL, G_REGION, true, "TEXT",
	    "The region (accepted for compatibility; tresor uses the "
	    "endpoint)." },
	{ "--no-retry", NULL, G_NO_RETRY, false, NULL,
	    "Disable retries of failed calls." },
	{ "--max-retries", NULL, G_MAX_RETRIES, true, "INTEGER",
	    "The most retries of a failed call (default 4)." },
	{ "--connection-timeout", NULL, G_CONNECT_TIMEOUT, true, "INTEGER",
	    "The connection timeout in seconds (default 10)." },
	{ "--read-timeout", NULL, G_READ_TIMEOUT, true, "INTEGER",
	    "The timeout of a call in seconds (default 60)." },
	{ "--cert-bundle", NULL, G_CERT_BUNDLE, true, "TEXT",
	    "A CA bundle to verify the endpoint's TLS certificate with." },
	{ "--opc-request-id", "--request-id", G_REQUEST_ID, true, "TEXT",
	    "The request id to send (opc-request-id)." },
	{ "--debug", "-d", G_DEBUG, false, NULL,
	    "Log every request attempt and retry to stderr (never bodies)." },
	{ "--version", "-v", G_VERSION, false, NULL,
	    "Show the version and exit." },
};

static const char *const help_flags[] = { "--help", "-h", "-?", NULL };

/* ------------------------------------------------------------------ */
/* the tree                                                           */
/* ------------------------------------------------------------------ */

static const struct cli_cmd *
find_cmd(const char *path)
{
	size_t i;

	for (i = 0; i < tr_cli_ncommands; i++)
		if (strcmp(tr_cli_commands[i].path, path) == 0)
			return &tr_cli_commands[i];
	return NULL;
}

static const struct cli_group *
find_group(const char *path)
{
	size_t i;

	for (i = 0; i < tr_cli_ngroups; i++)
		if (strcmp(tr_cli_groups[i].path, path) == 0)
			return &tr_cli_groups[i];
	return NULL;
}

/* The first sentence of a help text, for listings. */
static void
short_help(char *out, size_t cap, const char *help)
{
	const char *dot = strstr(help, ". ");
	size_t n = dot == NULL ? strlen(help) : (size_t)(dot - help + 1);

	if (n >= cap)
		n = cap - 1;
	memcpy(out, help, n);
	out[n] = '\0';
	if (n == cap - 1 && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

/* Print `text` wrapped at 79 columns, continuation lines at `indent`. */
static void
wrap(FILE *f, const char *text, size_t col, size_t indent)
{
	const char *p = text;
	size_t w;
	bool first = true;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = strcspn(p, " ");
		if (!first && col + 1 + w > 79) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
		first = false;
	}
	fputc('\n', f);
}

static const char *
metavar(const struct cli_param *p, char *buf, size_t cap)
{
	switch (p->type) {
	case PT_INT:
		return "INTEGER";
	case PT_BOOL:
		return "BOOLEAN";
	case PT_FLAG:
		return "";
	case PT_JSON:
		return "[COMPLEX TYPE]";
	case PT_DATETIME:
		return "DATETIME";
	case PT_CHOICE:
		(void)snprintf(buf, cap, "[%s]", p->choices);
		return buf;
	default:
		return "TEXT";
	}
}

static void
print_option(FILE *f, const char *flag, const char *mv, const char *help,
    const char *suffix)
{
	char head[160], full[1024];
	int n;

	n = snprintf(head, sizeof(head), "  %s%s%s", flag, mv[0] != '\0' ?
	    " " : "", mv);
	if (n < 0)
		return;
	(void)snprintf(full, sizeof(full), "%s%s", help, suffix);
	if (n >= 36) {
		fprintf(f, "%s\n%38s", head, "");
	} else {
		fprintf(f, "%-38s", head);
	}
	wrap(f, full, 38, 38);
}

static void
print_globals(FILE *f)
{
	size_t i;

	fputs("\nGlobal options (accepted anywhere on the line):\n", f);
	for (i = 0; i < sizeof(gopts) / sizeof(gopts[0]); i++) {
		char flag[64];

		(void)snprintf(flag, sizeof(flag), "%s%s%s", gopts[i].flag,
		    gopts[i].alias != NULL ? ", " : "", gopts[i].alias != NULL ?
		    gopts[i].alias : "");
		print_option(f, flag, gopts[i].value ? gopts[i].metavar : "",
		    gopts[i].help, "");
	}
}

static void
help_command(FILE *f, const struct cli_cmd *cmd)
{
	const struct cli_param *p;
	char buf[512];

	fprintf(f, "Usage: tresor %s [OPTIONS]%s\n\n  ", cmd->path,
	    (cmd->flags & C_ARGS) != 0 ? " FILE..." : "");
	wrap(f, cmd->help, 2, 2);
	fputs("\nOptions:\n", f);
	for (p = cmd->params; p->flag != NULL; p++) {
		if ((p->flags & P_HIDDEN) != 0)
			continue;
		print_option(f, p->flag, metavar(p, buf, sizeof(buf)), p->help,
		    (p->flags & P_REQUIRED) != 0 ? "  [required]" : "");
	}
	print_option(f, "--from-json", "TEXT", "Provide the options as JSON "
	    "(keys are the option names in camelCase), inline or "
	    "file://path.", "");
	print_option(f, "-?, -h, --help", "", "Show this message and exit.",
	    "");
	if (cmd->svc == SVC_KMS_MGMT || cmd->svc == SVC_KMS_CRYPTO)
		fprintf(f, "\nThis command needs --endpoint: the vault's %s "
		    "endpoint (tresor kms management vault get --vault-id "
		    "OCID --query 'data.\"%s-endpoint\"' --raw-output).\n",
		    cmd->svc == SVC_KMS_MGMT ? "management" : "crypto",
		    cmd->svc == SVC_KMS_MGMT ? "management" : "crypto");
	print_globals(f);
}

/*
 * The distinct next words below group `prefix`, in table order: each
 * entry points into a table path and ends at a space or NUL.
 */
static size_t
children(const char *prefix, const char **out, size_t cap)
{
	size_t plen = strlen(prefix), i, k, n = 0, wl;
	const char *rest;

	for (i = 0; i < tr_cli_ncommands + tr_cli_ngroups; i++) {
		const char *path = i < tr_cli_ncommands ?
		    tr_cli_commands[i].path :
		    tr_cli_groups[i - tr_cli_ncommands].path;

		if (plen > 0 && (strncmp(path, prefix, plen) != 0 ||
		    path[plen] != ' '))
			continue;
		rest = plen > 0 ? path + plen + 1 : path;
		if (rest[0] == '\0')
			continue;
		wl = strcspn(rest, " ");
		for (k = 0; k < n; k++)
			if (strcspn(out[k], " ") == wl &&
			    strncmp(out[k], rest, wl) == 0)
				break;
		if (k < n || n == cap)
			continue;
		out[n++] = rest;
	}
	return n;
}

static void
help_group(FILE *f, const char *prefix)
{
	const struct cli_group *g = find_group(prefix);
	const char *kids[128];
	char path[512], sh[200], name[64];
	size_t n, i, wl, width = 0;

	n = children(prefix, kids, 128);
	fprintf(f, "Usage: tresor%s%s [OPTIONS] COMMAND [ARGS]...\n\n  ",
	    prefix[0] != '\0' ? " " : "", prefix);
	wrap(f, g != NULL ? g->help : "", 2, 2);
	fputs("\nOptions:\n", f);
	print_option(f, "-?, -h, --help", "", "Show this message and exit.",
	    "");
	fputs("\nCommands:\n", f);
	for (i = 0; i < n; i++) {
		wl = strcspn(kids[i], " ");
		if (wl > width)
			width = wl;
	}
	for (i = 0; i < n; i++) {
		const struct cli_cmd *c;
		const struct cli_group *cg;

		wl = strcspn(kids[i], " ");
		(void)snprintf(name, sizeof(name), "%.*s", (int)wl, kids[i]);
		(void)snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? " " : "", name);
		c = find_cmd(path);
		cg = find_group(path);
		short_help(sh, sizeof(sh), c != NULL ? c->help :
		    cg != NULL ? cg->help : "");
		fprintf(f, "  %-*s  ", (int)width, name);
		wrap(f, sh, width + 4, width + 4);
	}
	if (prefix[0] == '\0')
		print_globals(f);
}

/* ------------------------------------------------------------------ */
/* suggestions                                                        */
/* ------------------------------------------------------------------ */

#define MAX_TOKENS 16
#define MAX_TOKEN 48

static size_t
tokenize(char tok[][MAX_TOKEN], const char *s)
{
	size_t n = 0, l;

	while (*s != '\0' && n < MAX_TOKENS) {
		while (*s == ' ' || *s == '-' || *s == '_')
			s++;
		if (*s == '\0')
			break;
		for (l = 0; s[l] != '\0' && s[l] != ' ' && s[l] != '-' &&
		    s[l] != '_'; l++)
			;
		if (l >= MAX_TOKEN)
			l = MAX_TOKEN - 1;
		memcpy(tok[n], s, l);
		tok[n][l] = '\0';
		{
			size_t k;

			for (k = 0; k < l; k++)
				if (tok[n][k] >= 'A' && tok[n][k] <= 'Z')
					tok[n][k] = (char)(tok[n][k] + 32);
		}
		n++;
		s += strcspn(s, " -_");
	}
	return n;
}

static size_t
levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev[MAX_TOKEN + 1], cur[MAX_TOKEN + 1];

	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

double
tr_cli_path_distance(const char *typed, const char *candidate)
{
	char a[MAX_TOKENS][MAX_TOKEN], b[MAX_TOKENS][MAX_TOKEN];
	double d[MAX_TOKENS + 1][MAX_TOKENS + 1], sub, x;
	size_t na = tokenize(a, typed), nb = tokenize(b, candidate), i, j;

	/*
	 * Typed words missing from the candidate cost 1, candidate words
	 * not typed 0.25 ("create" finds "create-base64"), and a word
	 * typed differently 0.1 plus its edit distance over its length.
	 */
	for (i = 0; i <= na; i++)
		d[i][0] = (double)i;
	for (j = 0; j <= nb; j++)
		d[0][j] = 0.25 * (double)j;
	for (i = 1; i <= na; i++) {
		for (j = 1; j <= nb; j++) {
			size_t la = strlen(a[i - 1]), lb = strlen(b[j - 1]);

			sub = strcmp(a[i - 1], b[j - 1]) == 0 ? 0.0 : 0.1 +
			    (double)levenshtein(a[i - 1], b[j - 1]) /
			    (double)(la > lb ? la : lb);
			x = d[i - 1][j - 1] + sub;
			if (d[i - 1][j] + 1.0 < x)
				x = d[i - 1][j] + 1.0;
			if (d[i][j - 1] + 0.25 < x)
				x = d[i][j - 1] + 0.25;
			d[i][j] = x;
		}
	}
	return d[na][nb];
}

const char *
tr_cli_suggest(const char *const *words, size_t nwords)
{
	char typed[512];
	const char *best = "";
	double bd = 1e9, dd;
	size_t i, o = 0, ntok;
	char tmp[MAX_TOKENS][MAX_TOKEN];

	typed[0] = '\0';
	for (i = 0; i < nwords && o < sizeof(typed) - 1; i++) {
		int n = snprintf(typed + o, sizeof(typed) - o, "%s%s",
		    i > 0 ? " " : "", words[i]);

		if (n < 0 || (size_t)n >= sizeof(typed) - o)
			break;
		o += (size_t)n;
	}
	ntok = tokenize(tmp, typed);
	if (ntok == 0)
		return "";
	for (i = 0; i < tr_cli_ncommands + tr_cli_ngroups; i++) {
		const char *path = i < tr_cli_ncommands ?
		    tr_cli_commands[i].path :
		    tr_cli_groups[i - tr_cli_ncommands].path;

		if (path[0] == '\0')
			continue;
		dd = tr_cli_path_distance(typed, path);
		if (dd < bd - 1e-9 || (dd < bd + 1e-9 &&
		    strlen(path) < strlen(best))) {
			bd = dd;
			best = path;
		}
	}
	/* nothing close: no suggestion */
	if (bd > 0.3 + 0.5 * (double)ntok)
		return "";
	return best;
}

/* ------------------------------------------------------------------ */
/* errors                                                             */
/* ------------------------------------------------------------------ */

static void
usage_head(FILE *f, const char *path, bool group)
{
	fprintf(f, "Usage: tresor%s%s [OPTIONS]%s\nTry 'tresor%s%s -h' for "
	    "help.\n\n", path[0] != '\0' ? " " : "", path, group ?
	    " COMMAND [ARGS]..." : "", path[0] != '\0' ? " " : "", path);
}

int
tr_cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	usage_head(stderr, ctx->cmd != NULL ? ctx->cmd->path : "", false);
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EUSAGE;
}

static int
no_such_command(const char *prefix, char **argv, int i, int argc)
{
	const char *words[MAX_TOKENS];
	const char *sug;
	char pw[512], *w;
	size_t nw = 0;
	int k;

	/* the words typed so far, then the rest up to the first option */
	(void)snprintf(pw, sizeof(pw), "%s", prefix);
	for (w = pw; *w != '\0' && nw < MAX_TOKENS;) {
		char *sp = strchr(w, ' ');

		words[nw++] = w;
		if (sp == NULL)
			break;
		*sp = '\0';
		w = sp + 1;
	}
	for (k = i; k < argc && nw < MAX_TOKENS && argv[k][0] != '-'; k++)
		words[nw++] = argv[k];
	usage_head(stderr, prefix, true);
	fprintf(stderr, "Error: No such command '%s'.\n", argv[i]);
	sug = tr_cli_suggest(words, nw);
	if (sug[0] != '\0')
		fprintf(stderr, "Did you mean: tresor %s\n", sug);
	return CLI_EUSAGE;
}

static int
no_such_option(struct cli_ctx *ctx, const char *prefix, const char *opt)
{
	const char *best = NULL;
	size_t bd = (size_t)-1, d, i, ol;
	char name[MAX_TOKEN];
	const struct cli_param *p;

	ol = strcspn(opt, "=");
	(void)snprintf(name, sizeof(name), "%.*s", (int)(ol < 47 ? ol : 47),
	    opt);
	if (ctx->cmd != NULL) {
		for (p = ctx->cmd->params; p->flag != NULL; p++) {
			d = levenshtein(name, p->flag);
			if (d < bd) {
				bd = d;
				best = p->flag;
			}
		}
	}
	for (i = 0; i < sizeof(gopts) / sizeof(gopts[0]); i++) {
		d = levenshtein(name, gopts[i].flag);
		if (d < bd) {
			bd = d;
			best = gopts[i].flag;
		}
	}
	usage_head(stderr, ctx->cmd != NULL ? ctx->cmd->path : prefix,
	    ctx->cmd == NULL);
	fprintf(stderr, "Error: No such option: %s\n", name);
	if (best != NULL && bd <= 3)
		fprintf(stderr, "Did you mean %s?\n", best);
	return CLI_EUSAGE;
}

/* ------------------------------------------------------------------ */
/* parsing                                                            */
/* ------------------------------------------------------------------ */

/* Split "--name=value"; *value NULL when there is no '='. */
static bool
flag_is(const char *arg, const char *flag, const char **value)
{
	size_t fl = strlen(flag);

	*value = NULL;
	if (strncmp(arg, flag, fl) != 0)
		return false;
	if (arg[fl] == '\0')
		return true;
	if (arg[fl] == '=') {
		*value = arg + fl + 1;
		return true;
	}
	return false;
}

static int
parse_long(long *out, const char *v, const char *flag, struct cli_ctx *ctx)
{
	uint64_t n;

	if (tr_parse_u64(v, strlen(v), 0, 1000000000, &n) < 0)
		return tr_cli_usage_error(ctx, "Invalid value for '%s': '%s' "
		    "is not a valid integer.", flag, v);
	*out = (long)n;
	return 0;
}

/* A global option at argv[*i]?  1 when consumed, 0 when not, <0 error. */
static int
global_opt(struct cli_ctx *ctx, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = NULL;
	size_t k;
	int rc;

	for (k = 0; k < sizeof(gopts) / sizeof(gopts[0]); k++) {
		const struct gopt *g = &gopts[k];

		if (!flag_is(a, g->flag, &v) && (g->alias == NULL ||
		    !flag_is(a, g->alias, &v)))
			continue;
		if (g->value && v == NULL) {
			if (*i + 1 >= argc)
				return -tr_cli_usage_error(ctx,
				    "Option '%s' requires an argument.",
				    g->flag);
			v = argv[++*i];
		} else if (!g->value && v != NULL) {
			return -tr_cli_usage_error(ctx,
			    "Option '%s' does not take a value.", g->flag);
		}
		switch (g->id) {
		case G_PROFILE:
			ctx->profile = v;
			break;
		case G_CONFIG_FILE:
			ctx->config_file = v;
			break;
		case G_ENDPOINT:
			ctx->endpoint = v;
			break;
		case G_AUTH: {
			tresor_auth_kind kind;

			if (tresor_auth_parse(&kind, v) < 0)
				return -tr_cli_usage_error(ctx, "Invalid value "
				    "for '--auth': '%s' is not one of "
				    "'api_key', 'resource_principal', "
				    "'security_token'.", v);
			ctx->auth = v;
			break;
		}
		case G_OUTPUT:
			if (strcmp(v, "json") != 0 && strcmp(v, "table") != 0)
				return -tr_cli_usage_error(ctx, "Invalid value "
				    "for '--output': '%s' is not one of "
				    "'json', 'table'.", v);
			ctx->output = v;
			break;
		case G_QUERY:
			ctx->query = v;
			break;
		case G_RAW_OUTPUT:
			ctx->raw_output = true;
			break;
		case G_REGION:
			ctx->region = v;
			break;
		case G_NO_RETRY:
			ctx->no_retry = true;
			break;
		case G_MAX_RETRIES:
			if ((rc = parse_long(&ctx->max_retries, v, g->flag,
			    ctx)) != 0)
				return -rc;
			break;
		case G_CONNECT_TIMEOUT:
			if ((rc = parse_long(&ctx->connect_timeout, v, g->flag,
			    ctx)) != 0)
				return -rc;
			break;
		case G_READ_TIMEOUT:
			if ((rc = parse_long(&ctx->read_timeout, v, g->flag,
			    ctx)) != 0)
				return -rc;
			break;
		case G_CERT_BUNDLE:
			ctx->cert_bundle = v;
			break;
		case G_REQUEST_ID:
			ctx->request_id = v;
			break;
		case G_DEBUG:
			ctx->debug = true;
			break;
		case G_VERSION:
			printf("tresor %s\n", tresor_version());
			exit(0);
		}
		return 1;
	}
	return 0;
}

static bool
is_help(const char *a)
{
	size_t i;

	for (i = 0; help_flags[i] != NULL; i++)
		if (strcmp(a, help_flags[i]) == 0)
			return true;
	return false;
}

static int
add_value(struct cli_ctx *ctx, const struct cli_param *p, const char *v,
    char *owned)
{
	size_t i;

	if ((p->flags & P_MULTI) == 0) {
		for (i = 0; i < ctx->nvals; i++) {
			if (ctx->vals[i].p == p) {
				tr_free(ctx->vals[i].owned);
				ctx->vals[i].value = v;
				ctx->vals[i].owned = owned;
				return 0;
			}
		}
	}
	if (ctx->nvals == CLI_MAX_VALUES) {
		tr_free(owned);
		return tr_cli_usage_error(ctx, "too many options");
	}
	ctx->vals[ctx->nvals].p = p;
	ctx->vals[ctx->nvals].value = v;
	ctx->vals[ctx->nvals].owned = owned;
	ctx->vals[ctx->nvals].from_json = owned != NULL;
	ctx->nvals++;
	return 0;
}

static const struct cli_param *
find_param(const struct cli_cmd *cmd, const char *arg, const char **v)
{
	const struct cli_param *p;

	for (p = cmd->params; p->flag != NULL; p++)
		if (flag_is(arg, p->flag, v))
			return p;
	return NULL;
}

/* --from-json: fill the options not given on the line. */
static int
apply_from_json(struct cli_ctx *ctx, const char *text)
{
	json_t *o = NULL, *v;
	const char *key;
	char flag[128], *owned;
	const struct cli_param *p;
	const char *dummy;
	size_t i;
	int rc = 0;

	if (tr_cli_json_value(&o, text, "--from-json") < 0)
		return tr_cli_usage_error(ctx, "%s", tresor_error_last());
	if (!json_is_object(o)) {
		json_decref(o);
		return tr_cli_usage_error(ctx,
		    "--from-json must be a JSON object");
	}
	json_object_foreach(o, key, v) {
		bool given = false;

		flag[0] = '-';
		flag[1] = '-';
		tr_cli_kebab_name(flag + 2, sizeof(flag) - 2, key);
		p = find_param(ctx->cmd, flag, &dummy);
		if (p == NULL || json_is_null(v))
			continue;
		for (i = 0; i < ctx->nvals; i++)
			if (ctx->vals[i].p == p && !ctx->vals[i].from_json)
				given = true;
		if (given)
			continue;
		if (json_is_string(v))
			owned = tr_strdup(json_string_value(v));
		else if (json_is_true(v))
			owned = tr_strdup("true");
		else if (json_is_false(v))
			owned = tr_strdup("false");
		else
			owned = tr_cli_json_text(v);
		if (owned == NULL) {
			rc = tr_cli_usage_error(ctx, "out of memory");
			break;
		}
		if (p->type == PT_FLAG) {
			bool on = strcmp(owned, "true") == 0;

			tr_free(owned);
			if (!on)
				continue;
			owned = tr_strdup("true");
			if (owned == NULL)
				break;
		}
		if ((rc = add_value(ctx, p, owned, owned)) != 0)
			break;
	}
	json_decref(o);
	return rc;
}

/* Canonical form of a choice value, or NULL. */
static const char *
choose(const char *choices, const char *v, char *buf, size_t cap)
{
	const char *p = choices, *bar;
	size_t l, vl = strlen(v);

	while (*p != '\0') {
		bar = strchr(p, '|');
		l = bar == NULL ? strlen(p) : (size_t)(bar - p);
		if (l == vl && strncasecmp(p, v, l) == 0 && l < cap) {
			memcpy(buf, p, l);
			buf[l] = '\0';
			return buf;
		}
		p += l + (bar != NULL);
	}
	return NULL;
}

/* Check and canonicalise every option value; usage errors exit 2. */
static int
validate(struct cli_ctx *ctx)
{
	const struct cli_param *p;
	struct cli_value *cv;
	char buf[128], missing[512];
	uint64_t n;
	size_t i;
	int64_t ms;
	bool have;

	missing[0] = '\0';
	for (p = ctx->cmd->params; p->flag != NULL; p++) {
		if ((p->flags & P_REQUIRED) == 0)
			continue;
		have = false;
		for (i = 0; i < ctx->nvals; i++)
			if (ctx->vals[i].p == p)
				have = true;
		if (!have)
			(void)snprintf(missing + strlen(missing),
			    sizeof(missing) - strlen(missing), "%s%s",
			    missing[0] != '\0' ? ", " : "", p->flag);
	}
	if (missing[0] != '\0')
		return tr_cli_usage_error(ctx, "Missing option(s) %s.",
		    missing);
	for (i = 0; i < ctx->nvals; i++) {
		cv = &ctx->vals[i];
		p = cv->p;
		switch (p->type) {
		case PT_INT:
			if (tr_parse_u64(cv->value, strlen(cv->value), 0,
			    (uint64_t)1 << 53, &n) < 0)
				return tr_cli_usage_error(ctx, "Invalid value "
				    "for '%s': '%s' is not a valid integer.",
				    p->flag, cv->value);
			break;
		case PT_BOOL:
			if (strcasecmp(cv->value, "true") == 0 ||
			    strcmp(cv->value, "1") == 0 ||
			    strcasecmp(cv->value, "yes") == 0 ||
			    strcasecmp(cv->value, "y") == 0 ||
			    strcasecmp(cv->value, "t") == 0 ||
			    strcasecmp(cv->value, "on") == 0)
				cv->value = "true";
			else if (strcasecmp(cv->value, "false") == 0 ||
			    strcmp(cv->value, "0") == 0 ||
			    strcasecmp(cv->value, "no") == 0 ||
			    strcasecmp(cv->value, "n") == 0 ||
			    strcasecmp(cv->value, "f") == 0 ||
			    strcasecmp(cv->value, "off") == 0)
				cv->value = "false";
			else
				return tr_cli_usage_error(ctx, "Invalid value "
				    "for '%s': '%s' is not a valid boolean.",
				    p->flag, cv->value);
			break;
		case PT_CHOICE: {
			const char *c = choose(p->choices, cv->value, buf,
			    sizeof(buf));
			char *dup;

			if (c == NULL) {
				struct tr_buf list;
				int rc;

				tr_buf_init(&list, 2048);
				{
					const char *q = p->choices;

					tr_buf_addc(&list, '\'');
					for (; *q != '\0'; q++) {
						if (*q == '|')
							tr_buf_addstr(&list,
							    "', '");
						else
							tr_buf_addc(&list, *q);
					}
					tr_buf_addc(&list, '\'');
				}
				rc = tr_cli_usage_error(ctx, "Invalid value "
				    "for '%s': '%s' is not one of %s.",
				    p->flag, cv->value, tr_buf_cstr(&list));
				tr_buf_dispose(&list);
				return rc;
			}
			dup = tr_strdup(c);
			if (dup == NULL)
				return tr_cli_usage_error(ctx, "out of memory");
			tr_free(cv->owned);
			cv->owned = dup;
			cv->value = dup;
			break;
		}
		case PT_DATETIME: {
			char norm[TR_TIME_RFC3339_LEN], *dup;
			char tmp[64];

			if (tr_time_parse_rfc3339(cv->value, &ms) < 0) {
				(void)snprintf(tmp, sizeof(tmp),
				    "%.10sT00:00:00Z", cv->value);
				if (strlen(cv->value) != 10 ||
				    tr_time_parse_rfc3339(tmp, &ms) < 0)
					return tr_cli_usage_error(ctx,
					    "Invalid value for '%s': '%s' is "
					    "not a date and time (use RFC "
					    "3339, e.g. 2030-01-02T03:04:05Z,"
					    " or YYYY-MM-DD).", p->flag,
					    cv->value);
			}
			tr_time_rfc3339(norm, ms);
			dup = tr_strdup(norm);
			if (dup == NULL)
				return tr_cli_usage_error(ctx, "out of memory");
			tr_free(cv->owned);
			cv->owned = dup;
			cv->value = dup;
			break;
		}
		case PT_JSON: {
			json_t *j = NULL;
			char pname[128];
			size_t k;

			if (tr_cli_json_value(&j, cv->value, p->flag) < 0) {
				/* oci-cli names the parameter snake_case */
				(void)snprintf(pname, sizeof(pname), "%s",
				    p->flag + 2);
				for (k = 0; pname[k] != '\0'; k++)
					if (pname[k] == '-')
						pname[k] = '_';
				return tr_cli_usage_error(ctx, "Parameter '%s' "
				    "must be in JSON format. %s", pname,
				    tresor_error_last());
			}
			json_decref(j);
			break;
		}
		default:
			break;
		}
	}
	if (tr_cli_flag(ctx, "--all") && tr_cli_opt(ctx, "--limit") != NULL)
		return tr_cli_usage_error(ctx, "If you provide the --all "
		    "option, you cannot provide the --limit option");
	return 0;
}

static void
ctx_dispose(struct cli_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nvals; i++)
		tr_free(ctx->vals[i].owned);
	tresor_client_free(ctx->client);
	tresor_config_free(ctx->cfg);
}

int
tr_cli_main(int argc, char **argv)
{
	struct cli_ctx ctx;
	const struct cli_cmd *leaf = NULL;
	const char *from_json = NULL, *v;
	char prefix[512], cand[512];
	bool help = false;
	int i, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.max_retries = -1;
	ctx.connect_timeout = -1;
	ctx.read_timeout = -1;
	prefix[0] = '\0';
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && a[1] != '\0') {
			rc = global_opt(&ctx, argc, argv, &i);
			if (rc < 0) {
				rc = -rc;
				goto out;
			}
			if (rc == 1)
				continue;
			if (is_help(a)) {
				help = true;
				continue;
			}
			if (leaf == NULL) {
				rc = no_such_option(&ctx, prefix, a);
				goto out;
			}
			if (flag_is(a, "--from-json", &v)) {
				if (v == NULL) {
					if (i + 1 >= argc) {
						rc = tr_cli_usage_error(&ctx,
						    "Option '--from-json' "
						    "requires an argument.");
						goto out;
					}
					v = argv[++i];
				}
				from_json = v;
				continue;
			}
			{
				const struct cli_param *p = find_param(leaf, a,
				    &v);

				if (p == NULL) {
					rc = no_such_option(&ctx, prefix, a);
					goto out;
				}
				if (p->type == PT_FLAG) {
					if (v != NULL) {
						rc = tr_cli_usage_error(&ctx,
						    "Option '%s' does not take "
						    "a value.", p->flag);
						goto out;
					}
					v = "true";
				} else if (v == NULL) {
					if (i + 1 >= argc) {
						rc = tr_cli_usage_error(&ctx,
						    "Option '%s' requires an "
						    "argument.", p->flag);
						goto out;
					}
					v = argv[++i];
				}
				if ((rc = add_value(&ctx, p, v, NULL)) != 0)
					goto out;
			}
			continue;
		}
		if (leaf != NULL && (leaf->flags & C_ARGS) != 0 &&
		    ctx.nargs < CLI_MAX_VALUES) {
			ctx.args[ctx.nargs++] = a;
			continue;
		}
		if (leaf != NULL) {
			rc = tr_cli_usage_error(&ctx,
			    "Got unexpected extra argument (%s)", a);
			goto out;
		}
		(void)snprintf(cand, sizeof(cand), "%s%s%s", prefix,
		    prefix[0] != '\0' ? " " : "", a);
		leaf = find_cmd(cand);
		if (leaf != NULL) {
			ctx.cmd = leaf;
			(void)snprintf(prefix, sizeof(prefix), "%s", cand);
			continue;
		}
		if (find_group(cand) != NULL) {
			(void)snprintf(prefix, sizeof(prefix), "%s", cand);
			continue;
		}
		rc = no_such_command(prefix, argv, i, argc);
		goto out;
	}
	if (help || leaf == NULL) {
		if (leaf != NULL)
			help_command(stdout, leaf);
		else
			help_group(stdout, prefix);
		rc = CLI_OK;
		goto out;
	}
	if (from_json != NULL && (rc = apply_from_json(&ctx, from_json)) != 0)
		goto out;
	if ((rc = validate(&ctx)) != 0)
		goto out;
	if (leaf->check != NULL && (rc = leaf->check(&ctx)) != 0)
		goto out;
	rc = leaf->run != NULL ? leaf->run(&ctx) : tr_cli_run_generic(&ctx);
out:
	ctx_dispose(&ctx);
	return rc;
}
