/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a parsed command through libtresor (see cli_int.h): the
 * configuration and client from the global options, one request per
 * table entry with its path, query, body and if-match built from the
 * options, pagination (--all, --limit, --page-size as oci-cli does it),
 * --wait-for-state polling, confirmations, and the output envelope.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/secret.h"

#define MAX_PAGES 10000
#define JSON_FILE_MAX ((size_t)4 * 1024 * 1024)

/* the version prefix of each service's paths */
static const char *const versions[] = {
	[SVC_SECRETS] = "/20190301",
	[SVC_VAULT] = "/20180608",
	[SVC_KMS_VAULT] = "/20180608",
	[SVC_KMS_MGMT] = "/20180608",
	[SVC_KMS_CRYPTO] = "/20180608",
	[SVC_IDENTITY] = "/20160918",
	[SVC_TRESOR] = "/tresor/v1",
	[SVC_LOCAL] = "",
};

/* ------------------------------------------------------------------ */
/* options                                                            */
/* ------------------------------------------------------------------ */

const char *
tr_cli_opt(const struct cli_ctx *ctx, const char *flag)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < ctx->nvals; i++)
		if (strcmp(ctx->vals[i].p->flag, flag) == 0)
			v = ctx->vals[i].value;
	return v;
}

bool
tr_cli_flag(const struct cli_ctx *ctx, const char *flag)
{
	const char *v = tr_cli_opt(ctx, flag);

	return v != NULL && strcmp(v, "true") == 0;
}

char *
tr_cli_json_text(const json_t *v)
{
	json_malloc_t jm;
	json_free_t jf;
	char *s, *d;

	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		return NULL;
	d = tr_strdup(s);
	json_get_alloc_funcs(&jm, &jf);
	jf(s);
	return d;
}

/* Read a file named in a file:// option value (bounded). */
static int
read_file_value(char **out, const char *path, const char *flag)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = TRESOR_EINTERNAL;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tr_error_set(TRESOR_EINVAL, "%s: cannot open %s: %s",
		    flag, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > JSON_FILE_MAX) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "%s: %s is not a regular file of at most %zu bytes", flag,
		    path, JSON_FILE_MAX);
		goto out;
	}
	buf = tr_malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	tr_free(buf);
	close(fd);
	return rc;
}

int
tr_cli_json_value(json_t **out, const char *text, const char *flag)
{
	json_error_t jerr;
	char *file = NULL;
	const char *src = text;
	int rc = 0;

	*out = NULL;
	if (strncmp(text, "file://", 7) == 0) {
		if ((rc = read_file_value(&file, text + 7, flag)) < 0)
			return rc;
		src = file;
	}
	*out = json_loads(src, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    &jerr);
	if (*out == NULL)
		rc = tr_error_set(TRESOR_EINVAL, "%s: invalid JSON: %s",
		    flag, jerr.text);
	tr_free(file);
	return rc;
}

bool
tr_cli_confirm(const char *question)
{
	char line[64];

	fprintf(stderr, "%s [y/N]: ", question);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return strcasecmp(line, "y\n") == 0 || strcasecmp(line, "yes\n") == 0;
}

/* ------------------------------------------------------------------ */
/* the client                                                         */
/* ------------------------------------------------------------------ */

static void
debug_log(tresor_log_level level, const char *msg, void *payload)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARN",
		"ERROR" };

	(void)payload;
	fprintf(stderr, "%s: %s\n", names[level <= 3 ? level : 3], msg);
}

int
tr_cli_client(struct cli_ctx *ctx)
{
	tresor_config_options co = TRESOR_CONFIG_OPTIONS_INIT;
	tresor_client_options cl = TRESOR_CLIENT_OPTIONS_INIT;
	int rc;

	if (ctx->client != NULL)
		return 0;
	co.config_file = ctx->config_file;
	co.profile = ctx->profile;
	if (ctx->auth != NULL)
		(void)tresor_auth_parse(&co.auth, ctx->auth);
	/* kms management key/crypto --endpoint is the vault's, not ours */
	if (ctx->endpoint != NULL && ctx->cmd != NULL &&
	    ctx->cmd->svc != SVC_KMS_MGMT && ctx->cmd->svc != SVC_KMS_CRYPTO)
		co.endpoint = ctx->endpoint;
	if (tresor_config_load(&ctx->cfg, &co) < 0) {
		fprintf(stderr, "ConfigError: %s\n", tresor_error_last());
		return CLI_ESERVICE;
	}
	cl.config = ctx->cfg;
	if (ctx->endpoint != NULL &&
	    tresor_config_get(ctx->cfg, "endpoint") == NULL)
		cl.endpoint = ctx->endpoint;
	if (ctx->no_retry)
		cl.max_attempts = 1;
	else if (ctx->max_retries >= 0)
		cl.max_attempts = (unsigned int)ctx->max_retries + 1;
	if (ctx->connect_timeout > 0)
		cl.connect_timeout_ms = (unsigned int)ctx->connect_timeout *
		    1000;
	if (ctx->read_timeout > 0)
		cl.timeout_ms = (unsigned int)ctx->read_timeout * 1000;
	cl.ca_file = ctx->cert_bundle;
	if (ctx->debug)
		cl.log_fn = debug_log;
	if ((rc = tresor_client_new(&ctx->client, &cl)) < 0) {
		fprintf(stderr, "%s: %s\n", rc == TRESOR_EPERM ?
		    "KeyFileError" : rc == TRESOR_EINVAL ? "ConfigError" :
		    "ClientError", tresor_error_last());
		return CLI_ESERVICE;
	}
	return 0;
}

int
tr_cli_service_base(struct cli_ctx *ctx, enum cli_svc svc,
    const char **base_out, const char **prefix_out)
{
	const char *base, *ver = versions[svc];
	size_t bl, vl = strlen(ver);

	*base_out = NULL;
	*prefix_out = ver;
	if (svc == SVC_KMS_MGMT || svc == SVC_KMS_CRYPTO) {
		if (ctx->endpoint == NULL)
			return tr_cli_usage_error(ctx, "Missing option(s) "
			    "--endpoint. Give the vault's %s endpoint: tresor "
			    "kms management vault get --vault-id <vault OCID> "
			    "--query 'data.\"%s-endpoint\"' --raw-output",
			    svc == SVC_KMS_MGMT ? "management" : "crypto",
			    svc == SVC_KMS_MGMT ? "management" : "crypto");
		*base_out = ctx->endpoint;
	}
	base = *base_out != NULL ? *base_out :
	    tresor_client_endpoint(ctx->client);
	/* an endpoint given with the version path already: keep it once */
	bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (vl > 0 && bl >= vl && strncmp(base + bl - vl, ver, vl) == 0)
		*prefix_out = "";
	return 0;
}

/* ------------------------------------------------------------------ */
/* one request                                                        */
/* ------------------------------------------------------------------ */

/* Parse an answer body; arrays and objects, bounded by the client. */
static int
parse_answer(json_t **out, const tresor_response *resp)
{
	json_error_t jerr;
	const char *body;
	size_t len;

	*out = NULL;
	body = tresor_response_body(resp, &len);
	if (len == 0)
		return 0;
	*out = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
	if (*out == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "the service answered invalid JSON: %s", jerr.text);
	return 0;
}

int
tr_cli_call(struct cli_ctx *ctx, enum cli_svc svc, const char *method,
    const char *url, const char *const *pp, size_t npp,
    const tresor_param *q, size_t nq, const json_t *body,
    json_t **data_out, tresor_response **resp_out)
{
	tresor_request req = TRESOR_REQUEST_INIT;
	tresor_response *resp = NULL;
	const char *base, *prefix, *ifm;
	char *text = NULL, path[1024];
	int rc, crc;

	if (data_out != NULL)
		*data_out = NULL;
	if (resp_out != NULL)
		*resp_out = NULL;
	if ((rc = tr_cli_client(ctx)) != 0)
		return rc;
	if ((rc = tr_cli_service_base(ctx, svc, &base, &prefix)) != 0)
		return rc;
	(void)snprintf(path, sizeof(path), "%s%s", prefix, url);
	req.method = method;
	req.base_url = base;
	req.path = path;
	req.path_params = pp;
	req.npath_params = npp;
	req.query = q;
	req.nquery = nq;
	req.opc_request_id = ctx->request_id;
	ifm = ctx->cmd != NULL ? tr_cli_opt(ctx, "--if-match") : NULL;
	req.if_match = ifm;
	if (ctx->cmd != NULL && (ctx->cmd->flags & C_CREATE) != 0 &&
	    strcmp(method, "POST") == 0)
		req.retry_token_auto = true;
	if (ctx->cmd != NULL && (ctx->cmd->flags & C_READ) != 0)
		req.retry = TRESOR_RETRY_ALL;
	if (body != NULL) {
		text = tr_cli_json_text(body);
		if (text == NULL) {
			fprintf(stderr, "Error: out of memory\n");
			return CLI_ESERVICE;
		}
		/* an empty object is not sent, as the SDKs do */
		if (strcmp(text, "{}") != 0) {
			req.body = text;
			req.body_len = strlen(text);
		}
	}
	crc = tresor_client_call(ctx->client, &req, &resp);
	if (text != NULL)
		tr_freezero(text, strlen(text));
	if (crc < 0) {
		if (resp != NULL) {
			tr_cli_print_service_error(ctx, ctx->cmd != NULL ?
			    ctx->cmd->op : "", svc, resp);
			if (resp_out != NULL) {
				*resp_out = resp;
				resp = NULL;
			}
		} else {
			fprintf(stderr, "%s: %s\n", crc == TRESOR_ENET ?
			    "RequestException" : "Error", tresor_error_last());
		}
		tresor_response_free(resp);
		return CLI_ESERVICE;
	}
	if (data_out != NULL && parse_answer(data_out, resp) < 0) {
		fprintf(stderr, "Error: %s\n", tresor_error_last());
		tresor_response_free(resp);
		return CLI_ESERVICE;
	}
	if (resp_out != NULL)
		*resp_out = resp;
	else
		tresor_response_free(resp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* building a request from the options                                */
/* ------------------------------------------------------------------ */

/* Set `value` at the dotted path `name` of `body`. */
static int
body_set(json_t *body, const char *name, json_t *value)
{
	char part[128];
	const char *dot;
	json_t *o = body, *child;
	size_t l;

	while ((dot = strchr(name, '.')) != NULL) {
		l = (size_t)(dot - name);
		if (l >= sizeof(part)) {
			json_decref(value);
			return -1;
		}
		memcpy(part, name, l);
		part[l] = '\0';
		child = json_object_get(o, part);
		if (!json_is_object(child)) {
			child = json_object();
			if (child == NULL || json_object_set_new(o, part,
			    child) < 0) {
				json_decref(value);
				return -1;
			}
		}
		o = child;
		name = dot + 1;
	}
	return json_object_set_new(o, name, value);
}

/* The JSON value of an option for a body. */
static json_t *
body_value(const struct cli_param *p, const char *v)
{
	json_t *j = NULL;
	uint64_t n;

	switch (p->type) {
	case PT_INT:
		if (tr_parse_u64(v, strlen(v), 0, (uint64_t)1 << 53, &n) < 0)
			return NULL;
		return json_integer((json_int_t)n);
	case PT_BOOL:
	case PT_FLAG:
		return json_boolean(strcmp(v, "true") == 0);
	case PT_JSON:
		if (tr_cli_json_value(&j, v, p->flag) < 0)
			return NULL;
		return j;
	default:
		return json_string(v);
	}
}

struct built {
	const char *pp[8];
	size_t npp;
	tresor_param q[32];
	size_t nq;
	json_t *body;
	bool has_body;
};

static int
build(struct cli_ctx *ctx, struct built *b)
{
	const struct cli_cmd *cmd = ctx->cmd;
	const struct cli_param *p;
	const char *v, *ten;
	json_t *jv;

	memset(b, 0, sizeof(*b));
	b->body = json_object();
	if (b->body == NULL)
		return -1;
	for (p = cmd->params; p->flag != NULL; p++) {
		v = tr_cli_opt(ctx, p->flag);
		if (v == NULL && (p->flags & P_TENANCY) != 0) {
			if (tr_cli_client(ctx) != 0)
				return -1;
			ten = tresor_config_get(ctx->cfg, "tenancy");
			if (ten == NULL) {
				tr_cli_usage_error(ctx, "Missing option(s) "
				    "%s (the profile has no tenancy to "
				    "default to).", p->flag);
				return -2;
			}
			v = ten;
		}
		switch (p->where) {
		case W_PATH:
			if (b->npp < 8)
				b->pp[b->npp++] = v;
			break;
		case W_QUERY:
			if (v != NULL && b->nq < 32) {
				b->q[b->nq].name = p->name;
				b->q[b->nq++].value = v;
			}
			break;
		case W_BODY:
			if (v == NULL)
				break;
			jv = body_value(p, v);
			if (jv == NULL || body_set(b->body, p->name, jv) < 0)
				return -1;
			b->has_body = true;
			break;
		default:
			break;
		}
	}
	if (cmd->fixed != NULL) {
		/* "a.b=V": set when the object a exists */
		const char *eq = strchr(cmd->fixed, '='), *dot;
		char parent[64], path[128];

		dot = strchr(cmd->fixed, '.');
		if (eq != NULL && dot != NULL && dot < eq &&
		    (size_t)(dot - cmd->fixed) < sizeof(parent)) {
			memcpy(parent, cmd->fixed, (size_t)(dot - cmd->fixed));
			parent[dot - cmd->fixed] = '\0';
			(void)snprintf(path, sizeof(path), "%.*s",
			    (int)(eq - cmd->fixed), cmd->fixed);
			if (json_is_object(json_object_get(b->body, parent)))
				body_set(b->body, path, json_string(eq + 1));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the envelope, pagination and waiting                               */
/* ------------------------------------------------------------------ */

static void
envelope_header(json_t *env, const tresor_response *resp, const char *name)
{
	const char *v = tresor_response_header(resp, name);

	if (v != NULL)
		json_object_set_new(env, name, json_string(v));
}

static bool
state_wanted(const struct cli_ctx *ctx, const char *state)
{
	size_t i;

	if (state == NULL)
		return false;
	for (i = 0; i < ctx->nvals; i++)
		if (strcmp(ctx->vals[i].p->flag, "--wait-for-state") == 0 &&
		    strcasecmp(ctx->vals[i].value, state) == 0)
			return true;
	return false;
}

/*
 * --wait-for-state: poll the resource until its lifecycleState is one of
 * the states asked for.  *data is replaced by the latest state.  Returns
 * 0, CLI_ESERVICE, or CLI_EUSAGE (2) on timeout, as oci-cli does.
 */
static int
wait_for_state(struct cli_ctx *ctx, json_t **data, tresor_response **resp)
{
	const char *id, *mw = tr_cli_opt(ctx, "--max-wait-seconds");
	const char *wi = tr_cli_opt(ctx, "--wait-interval-seconds");
	uint64_t max_wait = 1200, interval = 30;
	int64_t deadline;
	struct timespec ts;
	json_t *nd;
	tresor_response *nr;
	const char *pp[1];
	int rc;

	if (tr_cli_opt(ctx, "--wait-for-state") == NULL ||
	    ctx->cmd->wait_url == NULL)
		return 0;
	if (mw != NULL)
		(void)tr_parse_u64(mw, strlen(mw), 0, 1u << 30, &max_wait);
	if (wi != NULL)
		(void)tr_parse_u64(wi, strlen(wi), 0, 1u << 30, &interval);
	if (interval == 0)
		interval = 1;
	id = json_string_value(json_object_get(*data, "id"));
	if (id == NULL) {
		/* a delete answers no body: poll the resource it named */
		const struct cli_param *p;

		for (p = ctx->cmd->params; p->flag != NULL && id == NULL; p++)
			if (p->where == W_PATH)
				id = tr_cli_opt(ctx, p->flag);
	}
	if (id == NULL) {
		fprintf(stderr, "Error: cannot wait: the answer has no id\n");
		return CLI_ESERVICE;
	}
	fprintf(stderr, "Action completed. Waiting until the resource has "
	    "entered state: %s\n", tr_cli_opt(ctx, "--wait-for-state"));
	deadline = tr_mono_ms() + (int64_t)max_wait * 1000;
	for (;;) {
		if (state_wanted(ctx, json_string_value(json_object_get(*data,
		    "lifecycleState"))))
			return 0;
		if (tr_mono_ms() >= deadline) {
			fprintf(stderr, "Failed to wait until the resource "
			    "entered the specified state. Outputting last "
			    "known resource state\n");
			return CLI_EUSAGE;
		}
		/* an answer without a state (a delete) is polled at once */
		if (json_object_get(*data, "lifecycleState") != NULL) {
			ts.tv_sec = (time_t)interval;
			ts.tv_nsec = 0;
			(void)nanosleep(&ts, NULL);
		}
		pp[0] = id;
		rc = tr_cli_call(ctx, ctx->cmd->svc, "GET", ctx->cmd->wait_url,
		    pp, 1, NULL, 0, NULL, &nd, &nr);
		if (rc != 0) {
			/* a deleted resource is gone: that is DELETED */
			if (nr != NULL && tresor_response_status(nr) == 404 &&
			    state_wanted(ctx, "DELETED")) {
				tresor_response_free(nr);
				json_object_set_new(*data, "lifecycleState",
				    json_string("DELETED"));
				return 0;
			}
			tresor_response_free(nr);
			return rc;
		}
		json_decref(*data);
		*data = nd;
		tresor_response_free(*resp);
		*resp = nr;
	}
}

/* Confirmations oci-cli asks for, unless --force. */
static int
confirm(struct cli_ctx *ctx)
{
	const struct cli_param *p;
	char list[512];

	if (tr_cli_flag(ctx, "--force"))
		return 0;
	if ((ctx->cmd->flags & C_DELETE) != 0) {
		if (!tr_cli_confirm("Are you sure you want to delete this "
		    "resource?")) {
			fprintf(stderr, "Aborted!\n");
			return CLI_ESERVICE;
		}
		return 0;
	}
	if ((ctx->cmd->flags & C_UPDATE) == 0)
		return 0;
	list[0] = '\0';
	for (p = ctx->cmd->params; p->flag != NULL; p++) {
		if (p->type != PT_JSON || tr_cli_opt(ctx, p->flag) == NULL)
			continue;
		(void)snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", list[0] != '\0' ? " and " : "", p->flag + 2);
	}
	if (list[0] == '\0')
		return 0;
	{
		char q[700];

		(void)snprintf(q, sizeof(q), "WARNING: Updates to %s will "
		    "replace any existing values. Are you sure you want to "
		    "continue?", list);
		if (!tr_cli_confirm(q)) {
			fprintf(stderr, "Aborted!\n");
			return CLI_ESERVICE;
		}
	}
	return 0;
}

/* A list: one page, up to --limit items, or --all pages. */
static int
run_list(struct cli_ctx *ctx, struct built *b)
{
	const char *limit_s = tr_cli_opt(ctx, "--limit");
	const char *ps = tr_cli_opt(ctx, "--page-size");
	bool all = tr_cli_flag(ctx, "--all");
	uint64_t limit = 0, page_size = 0;
	json_t *items = NULL, *data = NULL, *env = NULL, *it;
	tresor_response *resp = NULL;
	char limbuf[24], *next = NULL;
	size_t i, pages = 0, li = (size_t)-1, pi = (size_t)-1;
	int rc = CLI_ESERVICE;

	if (limit_s != NULL)
		(void)tr_parse_u64(limit_s, strlen(limit_s), 0, 1ULL << 53,
		    &limit);
	if (ps != NULL)
		(void)tr_parse_u64(ps, strlen(ps), 1, 1ULL << 53, &page_size);
	for (i = 0; i < b->nq; i++) {
		if (strcmp(b->q[i].name, "limit") == 0)
			li = i;
		if (strcmp(b->q[i].name, "page") == 0)
			pi = i;
	}
	if (li == (size_t)-1 && b->nq < 31) {
		li = b->nq++;
		b->q[li].name = "limit";
		b->q[li].value = NULL;
	}
	if (pi == (size_t)-1 && b->nq < 31) {
		pi = b->nq++;
		b->q[pi].name = "page";
		b->q[pi].value = NULL;
	}
	items = json_array();
	if (items == NULL)
		goto out;
	for (;;) {
		uint64_t want = 0;

		if (all)
			want = page_size;
		else if (limit != 0)
			want = page_size != 0 && page_size < limit -
			    json_array_size(items) ? page_size : limit -
			    json_array_size(items);
		if (want != 0) {
			(void)snprintf(limbuf, sizeof(limbuf), "%llu",
			    (unsigned long long)want);
			b->q[li].value = limbuf;
		} else if (all || limit != 0) {
			b->q[li].value = NULL;
		}
		tresor_response_free(resp);
		resp = NULL;
		json_decref(data);
		data = NULL;
		rc = tr_cli_call(ctx, ctx->cmd->svc, ctx->cmd->method,
		    ctx->cmd->url, b->pp, b->npp, b->q, b->nq, NULL, &data,
		    &resp);
		if (rc != 0)
			goto out;
		if (data != NULL && !json_is_array(data)) {
			fprintf(stderr, "Error: the service answered a list "
			    "that is not a JSON array\n");
			rc = CLI_ESERVICE;
			goto out;
		}
		json_array_foreach(data, i, it)
			json_array_append(items, it);
		tr_free(next);
		next = NULL;
		if (tresor_response_header(resp, "opc-next-page") != NULL)
			next = tr_strdup(tresor_response_header(resp,
			    "opc-next-page"));
		pages++;
		if (next == NULL || pages >= MAX_PAGES)
			break;
		if (!all && (limit == 0 || json_array_size(items) >= limit))
			break;
		b->q[pi].value = next;
	}
	env = json_object();
	/* oci-cli prints no "data" for an empty list (Python: falsy) */
	if (json_array_size(items) > 0)
		json_object_set_new(env, "data", tr_cli_kebab(items));
	if (!all && next != NULL)
		json_object_set_new(env, "opc-next-page", json_string(next));
	rc = tr_cli_print(ctx, env);
	if (!all && next != NULL && rc == 0)
		fprintf(stderr, "WARNING: This operation supports pagination "
		    "and not all resources were returned.  Re-run using the "
		    "--all option to auto paginate and list all resources.\n");
out:
	tr_free(next);
	json_decref(items);
	json_decref(data);
	json_decref(env);
	tresor_response_free(resp);
	return rc;
}

/*
 * secrets secret-bundle get --decode: write the content itself, raw, to
 * stdout.  The decoded bytes live in a tr_secret and are zeroed.
 */
static int
print_decoded(const json_t *data)
{
	const json_t *c = json_object_get(json_object_get(data,
	    "secretBundleContent"), "content");
	struct tr_secret *s = NULL;
	size_t len;
	int rc = CLI_ESERVICE;

	if (!json_is_string(c)) {
		fprintf(stderr, "Error: the bundle has no content\n");
		return CLI_ESERVICE;
	}
	if (tr_secret_new(&s, tr_base64_decoded_max(json_string_length(c))) <
	    0 || tr_base64_decode(s->ptr, s->cap, &len, json_string_value(c),
	    json_string_length(c)) < 0) {
		fprintf(stderr, "Error: the bundle content is not base64\n");
		goto out;
	}
	if (fwrite(s->ptr, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "Error: cannot write the content\n");
		goto out;
	}
	rc = CLI_OK;
out:
	tr_secret_free(s);
	return rc;
}

int
tr_cli_run_generic(struct cli_ctx *ctx)
{
	const struct cli_cmd *cmd = ctx->cmd;
	struct built b;
	json_t *data = NULL, *env = NULL;
	tresor_response *resp = NULL;
	bool body_method;
	int rc, wrc = 0;

	if ((rc = tr_cli_client(ctx)) != 0)
		return rc;
	rc = build(ctx, &b);
	if (rc != 0) {
		json_decref(b.body);
		if (rc == -2)
			return CLI_EUSAGE;
		fprintf(stderr, "Error: cannot build the request: %s\n",
		    tresor_error_last());
		return CLI_ESERVICE;
	}
	if ((rc = confirm(ctx)) != 0)
		goto out;
	if ((cmd->flags & C_LIST) != 0) {
		rc = run_list(ctx, &b);
		goto out;
	}
	body_method = strcmp(cmd->method, "POST") == 0 ||
	    strcmp(cmd->method, "PUT") == 0;
	rc = tr_cli_call(ctx, cmd->svc, cmd->method, cmd->url, b.pp, b.npp,
	    b.q, b.nq, body_method ? b.body : NULL, &data, &resp);
	if (rc != 0)
		goto out;
	if (tr_cli_flag(ctx, "--decode")) {
		rc = print_decoded(data);
		goto out;
	}
	if (data == NULL && tr_cli_opt(ctx, "--wait-for-state") != NULL)
		data = json_object();
	if (json_is_object(data))
		wrc = wait_for_state(ctx, &data, &resp);
	if (wrc == CLI_ESERVICE) {
		rc = wrc;
		goto out;
	}
	env = json_object();
	if (data != NULL && !(json_is_array(data) &&
	    json_array_size(data) == 0))
		json_object_set_new(env, "data", tr_cli_kebab(data));
	envelope_header(env, resp, "etag");
	envelope_header(env, resp, "opc-work-request-id");
	rc = tr_cli_print(ctx, env);
	if (rc == 0)
		rc = wrc;
out:
	json_decref(b.body);
	json_decref(data);
	json_decref(env);
	tresor_response_free(resp);
	return rc;
}
