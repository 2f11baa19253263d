/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Commands that are more than one table-driven request: oci-cli's
 * membership helpers (iam group remove-user|list-users, iam user
 * list-groups), iam user api-key upload (--key or --key-file), option
 * checks oci-cli makes, tresor's iam workload request-token, and the
 * entry into `tresor agent`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "cli/cli_int.h"
#include "util/alloc.h"
#include "util/audit_chain.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/parse.h"

#define MAX_MEMBERS 10000

int
tr_cli_check_create_base64(struct cli_ctx *ctx)
{
	bool autogen = tr_cli_flag(ctx, "--enable-auto-generation");
	const char *content = tr_cli_opt(ctx, "--secret-content-content");

	if (!autogen && content == NULL)
		return tr_cli_usage_error(ctx, "Must specify either "
		    "--secret-content-content or set --enable-auto-generation "
		    "to true.");
	if (autogen && content != NULL)
		return tr_cli_usage_error(ctx, "Cannot specify both "
		    "--secret-content-content and set --enable-auto-generation "
		    "to true at the same time");
	if (autogen && tr_cli_opt(ctx, "--secret-generation-context") == NULL)
		return tr_cli_usage_error(ctx, "Must specify "
		    "--secret-generation-context with --enable-auto-generation "
		    "set to true.");
	return 0;
}

int
tr_cli_check_lint(struct cli_ctx *ctx)
{
	if ((tr_cli_opt(ctx, "--statements") == NULL) ==
	    (tr_cli_opt(ctx, "--policy-id") == NULL))
		return tr_cli_usage_error(ctx, "Give either --statements or "
		    "--policy-id.");
	return 0;
}

/* The tenancy of the profile when the option was not given. */
static const char *
opt_or_tenancy(struct cli_ctx *ctx, const char *flag)
{
	const char *v = tr_cli_opt(ctx, flag);

	if (v != NULL)
		return v;
	if (tr_cli_client(ctx) != 0)
		return NULL;
	return tresor_config_get(ctx->cfg, "tenancy");
}

/* Every membership matching the user and/or group (all pages). */
static int
memberships(struct cli_ctx *ctx, const char *comp, const char *user,
    const char *group, json_t **out)
{
	tresor_param q[4];
	tresor_response *resp = NULL;
	json_t *all, *page = NULL, *it;
	char *next = NULL;
	size_t i, pages = 0;
	int rc = 0;

	*out = NULL;
	all = json_array();
	if (all == NULL)
		return CLI_ESERVICE;
	q[0].name = "compartmentId";
	q[0].value = comp;
	q[1].name = "userId";
	q[1].value = user;
	q[2].name = "groupId";
	q[2].value = group;
	q[3].name = "page";
	q[3].value = NULL;
	for (;;) {
		rc = tr_cli_call(ctx, SVC_IDENTITY, "GET",
		    "/userGroupMemberships", NULL, 0, q, 4, NULL, &page, &resp);
		if (rc != 0)
			break;
		json_array_foreach(page, i, it) {
			if (json_array_size(all) < MAX_MEMBERS)
				json_array_append(all, it);
		}
		json_decref(page);
		page = NULL;
		tr_free(next);
		next = NULL;
		if (tresor_response_header(resp, "opc-next-page") != NULL)
			next = tr_strdup(tresor_response_header(resp,
			    "opc-next-page"));
		tresor_response_free(resp);
		resp = NULL;
		if (next == NULL || ++pages >= 1000)
			break;
		q[3].value = next;
	}
	tr_free(next);
	if (rc != 0) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return 0;
}

int
tr_cli_run_group_remove_user(struct cli_ctx *ctx)
{
	const char *comp = opt_or_tenancy(ctx, "--compartment-id"), *id;
	const char *pp[1];
	json_t *ms = NULL;
	int rc;

	if (comp == NULL)
		return CLI_ESERVICE;
	if ((rc = memberships(ctx, comp, tr_cli_opt(ctx, "--user-id"),
	    tr_cli_opt(ctx, "--group-id"), &ms)) != 0)
		return rc;
	id = json_string_value(json_object_get(json_array_get(ms, 0), "id"));
	if (id == NULL) {
		fprintf(stderr, "ServiceError:\n{\n    \"code\": "
		    "\"NotAuthorizedOrNotFound\",\n    \"message\": \"The user "
		    "is not a member of the group.\",\n    \"operation_name\": "
		    "\"remove_user_from_group\",\n    \"status\": 404\n}\n");
		json_decref(ms);
		return CLI_ESERVICE;
	}
	pp[0] = id;
	rc = tr_cli_call(ctx, SVC_IDENTITY, "DELETE",
	    "/userGroupMemberships/{}", pp, 1, NULL, 0, NULL, NULL, NULL);
	json_decref(ms);
	return rc;
}

/* Resolve each membership's `idkey` through GET `url` into a list. */
static int
resolve_members(struct cli_ctx *ctx, const char *user, const char *group,
    const char *idkey, const char *url)
{
	const char *comp = opt_or_tenancy(ctx, "--compartment-id"), *pp[1];
	json_t *ms = NULL, *out = NULL, *it, *obj, *env = NULL;
	size_t i;
	int rc;

	if (comp == NULL)
		return CLI_ESERVICE;
	if ((rc = memberships(ctx, comp, user, group, &ms)) != 0)
		return rc;
	out = json_array();
	json_array_foreach(ms, i, it) {
		pp[0] = json_string_value(json_object_get(it, idkey));
		if (pp[0] == NULL)
			continue;
		obj = NULL;
		rc = tr_cli_call(ctx, SVC_IDENTITY, "GET", url, pp, 1, NULL, 0,
		    NULL, &obj, NULL);
		if (rc != 0)
			goto out;
		if (obj != NULL)
			json_array_append_new(out, obj);
	}
	env = json_object();
	if (json_array_size(out) > 0)
		json_object_set_new(env, "data", tr_cli_kebab(out));
	rc = tr_cli_print(ctx, env);
out:
	json_decref(ms);
	json_decref(out);
	json_decref(env);
	return rc;
}

int
tr_cli_run_group_list_users(struct cli_ctx *ctx)
{
	return resolve_members(ctx, NULL, tr_cli_opt(ctx, "--group-id"),
	    "userId", "/users/{}");
}

int
tr_cli_run_user_list_groups(struct cli_ctx *ctx)
{
	return resolve_members(ctx, tr_cli_opt(ctx, "--user-id"), NULL,
	    "groupId", "/groups/{}");
}

int
tr_cli_run_api_key_upload(struct cli_ctx *ctx)
{
	const char *key = tr_cli_opt(ctx, "--key");
	const char *file = tr_cli_opt(ctx, "--key-file");
	const char *pp[1] = { tr_cli_opt(ctx, "--user-id") };
	char buf[16384];
	json_t *body = NULL, *data = NULL, *env = NULL;
	tresor_response *resp = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if ((key == NULL) == (file == NULL))
		return tr_cli_usage_error(ctx, "Either --key or --key-file "
		    "must be specified");
	if (file != NULL) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "Error: cannot open %s: %s\n", file,
			    strerror(errno));
			return CLI_ESERVICE;
		}
		while (len < sizeof(buf) - 1) {
			n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(fd);
		buf[len] = '\0';
		if (strstr(buf, "PRIVATE KEY") != NULL) {
			fprintf(stderr, "Error: %s holds a private key: upload "
			    "the public key (openssl rsa -pubout -in KEY)\n",
			    file);
			return CLI_ESERVICE;
		}
		key = buf;
	}
	body = json_pack("{s:s}", "key", key);
	if (body == NULL) {
		fprintf(stderr, "Error: the key is not valid UTF-8 text\n");
		return CLI_ESERVICE;
	}
	rc = tr_cli_call(ctx, SVC_IDENTITY, "POST", "/users/{}/apiKeys", pp, 1,
	    NULL, 0, body, &data, &resp);
	if (rc == 0) {
		env = json_object();
		if (data != NULL)
			json_object_set_new(env, "data", tr_cli_kebab(data));
		if (tresor_response_header(resp, "etag") != NULL)
			json_object_set_new(env, "etag",
			    json_string(tresor_response_header(resp, "etag")));
		rc = tr_cli_print(ctx, env);
	}
	json_decref(body);
	json_decref(data);
	json_decref(env);
	tresor_response_free(resp);
	return rc;
}

int
tr_cli_run_rp_token(struct cli_ctx *ctx)
{
	const char *tf = tr_cli_opt(ctx, "--token-file");
	const char *kf = tr_cli_opt(ctx, "--private-key-file");
	const char *ttl_s = tr_cli_opt(ctx, "--ttl-seconds");
	char when[TR_TIME_RFC3339_LEN];
	uint64_t ttl = 0;
	int64_t exp = 0;
	json_t *env;
	int rc;

	if (ttl_s != NULL)
		(void)tr_parse_u64(ttl_s, strlen(ttl_s), 0, 86400 * 365, &ttl);
	if ((rc = tr_cli_client(ctx)) != 0)
		return rc;
	if (tresor_rp_token_request(ctx->client, (unsigned int)ttl, tf, kf,
	    &exp) < 0) {
		fprintf(stderr, "Error: %s\n", tresor_error_last());
		return CLI_ESERVICE;
	}
	env = json_object();
	json_object_set_new(env, "data", json_pack("{s:s, s:s, s:s}",
	    "token-file", tf, "private-key-file", kf, "version", "2.2"));
	if (exp != 0) {
		tr_time_rfc3339(when, exp);
		json_object_set_new(json_object_get(env, "data"), "expires-at",
		    json_string(when));
	}
	rc = tr_cli_print(ctx, env);
	json_decref(env);
	return rc;
}

int
tr_cli_run_agent(struct cli_ctx *ctx)
{
	struct tr_agent_args a;
	const char *lvl = tr_cli_opt(ctx, "--log-level");

	memset(&a, 0, sizeof(a));
	a.config_path = tr_cli_opt(ctx, "--config");
	a.once = tr_cli_flag(ctx, "--once");
	a.log_level = TRESOR_LOG_INFO;
	if (lvl != NULL)
		a.log_level = strcmp(lvl, "DEBUG") == 0 ? TRESOR_LOG_DEBUG :
		    strcmp(lvl, "WARN") == 0 ? TRESOR_LOG_WARN :
		    strcmp(lvl, "ERROR") == 0 ? TRESOR_LOG_ERROR :
		    TRESOR_LOG_INFO;
	if (ctx->debug)
		a.log_level = TRESOR_LOG_DEBUG;
	a.profile = ctx->profile;
	a.config_file = ctx->config_file;
	a.endpoint = ctx->endpoint;
	a.auth = ctx->auth;
	a.cert_bundle = ctx->cert_bundle;
	return tr_agent_run(&a);
}

int
tr_cli_run_audit_verify(struct cli_ctx *ctx)
{
	char note[512];
	uint64_t records = 0;
	json_t *env, *files;
	size_t i;
	int rc;

	if (ctx->nargs == 0)
		return tr_cli_usage_error(ctx, "Missing argument 'FILE...'.");
	note[0] = '\0';
	if (tr_audit_verify(ctx->args, ctx->nargs, &records, note,
	    sizeof(note)) < 0) {
		fprintf(stderr, "AuditError: %s\n", tresor_error_last());
		return CLI_ESERVICE;
	}
	files = json_array();
	for (i = 0; i < ctx->nargs; i++)
		json_array_append_new(files, json_string(ctx->args[i]));
	env = json_object();
	json_object_set_new(env, "data", json_pack("{s:b, s:I, s:o}",
	    "verified", 1, "records", (json_int_t)records, "files", files));
	if (note[0] != '\0')
		json_object_set_new(json_object_get(env, "data"), "note",
		    json_string(note));
	rc = tr_cli_print(ctx, env);
	json_decref(env);
	return rc;
}
