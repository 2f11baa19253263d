/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output as oci-cli prints it (see cli_int.h): {"data": ...} plus
 * "etag" / "opc-next-page" / "opc-work-request-id", model field names in
 * kebab-case (compartmentId -> compartment-id) but the keys of map-valued
 * fields (tags, metadata, associated data) untouched, JSON indented by 2
 * with sorted keys and raw UTF-8; --query evaluated with JMESPath over
 * the whole envelope; --raw-output for a string result; --output table
 * as terminaltables' AsciiTable; service errors as "ServiceError:" and
 * a JSON object indented by 4 on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"
#include "cli/jmespath.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"

/* Fields whose value is a map of user keys: never converted. */
static const char *const map_fields[] = {
	"freeformTags", "definedTags", "systemTags", "metadata",
	"associatedData", "loggingContext", NULL
};

void
tr_cli_kebab_name(char *out, size_t cap, const char *camel)
{
	size_t o = 0;
	const char *p;

	if (cap == 0)
		return;
	for (p = camel; *p != '\0' && o + 2 < cap; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			if (o > 0)
				out[o++] = '-';
			out[o++] = (char)(*p + 32);
		} else if (*p == '_') {
			out[o++] = '-';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static bool
is_map_field(const char *k)
{
	size_t i;

	for (i = 0; map_fields[i] != NULL; i++)
		if (strcmp(map_fields[i], k) == 0)
			return true;
	return false;
}

json_t *
tr_cli_kebab(const json_t *v)
{
	json_t *o, *c, *child;
	const char *k;
	char name[256];
	size_t i;

	if (json_is_object(v)) {
		o = json_object();
		if (o == NULL)
			return NULL;
		json_object_foreach((json_t *)v, k, child) {
			tr_cli_kebab_name(name, sizeof(name), k);
			c = is_map_field(k) ? json_deep_copy(child) :
			    tr_cli_kebab(child);
			if (c == NULL || json_object_set_new(o, name, c) < 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	if (json_is_array(v)) {
		o = json_array();
		if (o == NULL)
			return NULL;
		json_array_foreach(v, i, child) {
			c = tr_cli_kebab(child);
			if (c == NULL || json_array_append_new(o, c) < 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	return json_deep_copy(v);
}

void
tr_cli_snake(char *out, size_t cap, const char *op)
{
	size_t o = 0;
	const char *p;

	if (cap == 0)
		return;
	for (p = op; *p != '\0' && o + 2 < cap; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			if (o > 0)
				out[o++] = '_';
			out[o++] = (char)(*p + 32);
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* tables                                                             */
/* ------------------------------------------------------------------ */

/* A cell as Python's str() would print it (nested values as JSON). */
static char *
cell(const json_t *v)
{
	char buf[64];

	if (v == NULL || json_is_null(v))
		return tr_strdup("None");
	if (json_is_string(v))
		return tr_strdup(json_string_value(v));
	if (json_is_true(v))
		return tr_strdup("True");
	if (json_is_false(v))
		return tr_strdup("False");
	if (json_is_integer(v)) {
		(void)snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_integer_value(v));
		return tr_strdup(buf);
	}
	if (json_is_real(v)) {
		(void)snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return tr_strdup(buf);
	}
	return tr_cli_json_text(v);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* UTF-8 display width (code points; good enough for ASCII tables). */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
rule(FILE *f, const size_t *w, size_t ncol)
{
	size_t i, k;

	for (i = 0; i < ncol; i++) {
		fputc('+', f);
		for (k = 0; k < w[i] + 2; k++)
			fputc('-', f);
	}
	fputs("+\n", f);
}

static void
row(FILE *f, char **cells, const size_t *w, size_t ncol)
{
	size_t i;

	for (i = 0; i < ncol; i++)
		fprintf(f, "| %s%*s ", cells[i], (int)(w[i] -
		    width(cells[i])), "");
	fputs("|\n", f);
}

void
tr_cli_print_table(FILE *f, const json_t *data)
{
	const char **cols = NULL;
	char ***rows = NULL;
	size_t *w = NULL, ncol = 0, nrow = 0, i, k;
	const json_t *first, *item;
	const char *key;
	json_t *child;

	if (json_is_array(data) && json_array_size(data) == 0) {
		fprintf(f, "Command returned empty list, no table to "
		    "display.\n");
		return;
	}
	first = json_is_array(data) ? json_array_get(data, 0) : data;
	if (json_is_object(first)) {
		/* columns: every key of every object, sorted */
		size_t cap = 0;

		for (i = 0; i < (json_is_array(data) ?
		    json_array_size(data) : 1); i++) {
			item = json_is_array(data) ? json_array_get(data, i) :
			    data;
			json_object_foreach((json_t *)item, key, child) {
				for (k = 0; k < ncol; k++)
					if (strcmp(cols[k], key) == 0)
						break;
				if (k < ncol)
					continue;
				if (ncol == cap) {
					const char **nc;

					cap = cap == 0 ? 16 : cap * 2;
					nc = tr_reallocarray(cols, cap,
					    sizeof(*nc));
					if (nc == NULL)
						goto out;
					cols = nc;
				}
				cols[ncol++] = key;
			}
		}
		qsort(cols, ncol, sizeof(*cols), cmp_str);
	} else {
		cols = tr_calloc(1, sizeof(*cols));
		if (cols == NULL)
			goto out;
		cols[0] = "Column1";
		ncol = 1;
	}
	nrow = json_is_array(data) ? json_array_size(data) : 1;
	rows = tr_calloc(nrow + 1, sizeof(*rows));
	w = tr_calloc(ncol, sizeof(*w));
	if (rows == NULL || w == NULL)
		goto out;
	for (i = 0; i <= nrow; i++) {
		rows[i] = tr_calloc(ncol, sizeof(**rows));
		if (rows[i] == NULL)
			goto out;
		item = i == 0 ? NULL : json_is_array(data) ?
		    json_array_get(data, i - 1) : data;
		for (k = 0; k < ncol; k++) {
			if (i == 0)
				rows[i][k] = tr_strdup(cols[k]);
			else if (json_is_object(first))
				rows[i][k] = json_object_get(item, cols[k]) ==
				    NULL ? tr_strdup("") :
				    cell(json_object_get(item, cols[k]));
			else
				rows[i][k] = cell(item);
			if (rows[i][k] == NULL)
				goto out;
			if (width(rows[i][k]) > w[k])
				w[k] = width(rows[i][k]);
		}
	}
	rule(f, w, ncol);
	row(f, rows[0], w, ncol);
	rule(f, w, ncol);
	for (i = 1; i <= nrow; i++)
		row(f, rows[i], w, ncol);
	rule(f, w, ncol);
out:
	if (rows != NULL) {
		for (i = 0; i <= nrow; i++) {
			if (rows[i] == NULL)
				continue;
			for (k = 0; k < ncol; k++)
				tr_free(rows[i][k]);
			tr_free(rows[i]);
		}
	}
	tr_free(rows);
	tr_free(w);
	tr_free(cols);
}

/* ------------------------------------------------------------------ */
/* printing                                                           */
/* ------------------------------------------------------------------ */

static void
print_json(FILE *f, const json_t *v, size_t indent)
{
	json_malloc_t jm;
	json_free_t jf;
	char *s;

	s = json_dumps(v, JSON_INDENT(indent) | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);
	if (s == NULL) {
		fputs("null\n", f);
		return;
	}
	fputs(s, f);
	fputc('\n', f);
	json_get_alloc_funcs(&jm, &jf);
	jf(s);
}

int
tr_cli_print(struct cli_ctx *ctx, json_t *env)
{
	json_t *result = NULL;
	const json_t *show = env;
	bool table = ctx->output != NULL && strcmp(ctx->output, "table") == 0;
	int rc;

	if (json_object_size(env) == 0)
		return CLI_OK;
	if (ctx->query != NULL) {
		rc = tr_jmespath_eval(&result, ctx->query, env);
		if (rc < 0) {
			fprintf(stderr, "Error: invalid --query: %s\n",
			    tresor_error_last());
			return CLI_EUSAGE;
		}
		if (json_is_null(result)) {
			json_decref(result);
			fprintf(stderr, "Query returned empty result, no "
			    "output to show.\n");
			return CLI_OK;
		}
		show = result;
	}
	if (table) {
		const json_t *td = show;
		const char *k;
		json_t *v;

		if (ctx->query == NULL && json_object_get(env, "data") != NULL)
			td = json_object_get(env, "data");
		tr_cli_print_table(stdout, td);
		if (ctx->query == NULL && json_object_get(env, "data") != NULL)
			json_object_foreach(env, k, v) {
				if (strcmp(k, "data") != 0 &&
				    json_is_string(v))
					fprintf(stderr, "%s: %s\n", k,
					    json_string_value(v));
			}
	} else if (ctx->raw_output && json_is_string(show)) {
		fwrite(json_string_value(show), 1, json_string_length(show),
		    stdout);
		fputc('\n', stdout);
	} else {
		print_json(stdout, show, 2);
	}
	json_decref(result);
	return fflush(stdout) == 0 ? CLI_OK : CLI_ESERVICE;
}

void
tr_cli_print_service_error(struct cli_ctx *ctx, const char *op,
    enum cli_svc svc, const tresor_response *resp)
{
	static const char *const names[] = {
		[SVC_SECRETS] = "secrets", [SVC_VAULT] = "vault",
		[SVC_KMS_VAULT] = "kms_vault",
		[SVC_KMS_MGMT] = "kms_management",
		[SVC_KMS_CRYPTO] = "kms_crypto", [SVC_IDENTITY] = "identity",
		[SVC_TRESOR] = "tresor", [SVC_LOCAL] = "tresor",
	};
	char opname[128], ts[TR_TIME_RFC3339_LEN], ver[64];
	const char *code = tresor_response_error_code(resp);
	const char *msg = tresor_response_error_message(resp);
	const char *rid = tresor_response_header(resp, "opc-request-id");
	json_t *o;

	(void)ctx;
	tr_cli_snake(opname, sizeof(opname), op);
	tr_time_rfc3339(ts, tr_now_ms());
	(void)snprintf(ver, sizeof(ver), "tresor/%s", tresor_version());
	o = json_object();
	if (o == NULL)
		return;
	json_object_set_new(o, "client_version", json_string(ver));
	json_object_set_new(o, "code", json_string(code != NULL ? code :
	    "None"));
	json_object_set_new(o, "message", json_string(msg != NULL ? msg :
	    "The service returned an error without a message."));
	json_object_set_new(o, "opc-request-id", rid != NULL ?
	    json_string(rid) : json_null());
	json_object_set_new(o, "operation_name", json_string(opname));
	json_object_set_new(o, "request_endpoint",
	    json_string(tresor_response_endpoint(resp) != NULL ?
	    tresor_response_endpoint(resp) : ""));
	json_object_set_new(o, "status",
	    json_integer(tresor_response_status(resp)));
	json_object_set_new(o, "target_service", json_string(names[svc]));
	json_object_set_new(o, "timestamp", json_string(ts));
	fputs("ServiceError:\n", stderr);
	print_json(stderr, o, 4);
	json_decref(o);
}
