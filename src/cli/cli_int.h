/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `tresor` command's private interface.
 *
 * The command tree is a table (cli_commands.c): every leaf names its
 * operation, HTTP method, service and URL template, and its options say
 * where each value goes (path, query, body member, header).  cli.c
 * parses the command line with oci-cli's grammar (global options
 * anywhere, --opt value or --opt=value, --help at every level, exit 2 and
 * a suggestion on a usage error); cli_run.c turns a parsed command into
 * requests through libtresor (pagination, --wait-for-state) and prints
 * oci-cli's {"data": ...} envelope with kebab-case names (cli_output.c,
 * --query through the JMESPath evaluator of jmespath.h); cli_custom.c
 * holds the commands that are more than one request, and cli_doctor.c
 * the `tresor doctor` decision tree.
 *
 * The CLI uses only libtresor's public API and src/util (ARCHITECTURE.md).
 */
#ifndef TR_CLI_CLI_INT_H
#define TR_CLI_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "tresor/tresor.h"

/* exit codes */
#define CLI_OK		0
#define CLI_ESERVICE	1	/* service error or local failure */
#define CLI_EUSAGE	2	/* usage error */

/* option value types */
enum cli_ptype {
	PT_STRING = 0,
	PT_INT,
	PT_BOOL,	/* takes true/false */
	PT_FLAG,	/* takes no value */
	PT_JSON,	/* JSON text or file://path */
	PT_CHOICE,	/* one of `choices`, case-insensitive */
	PT_DATETIME	/* RFC 3339 or YYYY-MM-DD */
};

/* where an option's value goes */
enum cli_where {
	W_LOCAL = 0,	/* used by the CLI itself */
	W_PATH,		/* the next {} of the URL template */
	W_QUERY,	/* query parameter `name` */
	W_BODY,		/* body member `name` (a.b for nested) */
	W_IF_MATCH	/* the if-match header */
};

/* option flags */
#define P_REQUIRED	0x01u
#define P_MULTI		0x02u	/* may be given several times */
#define P_TENANCY	0x04u	/* defaults to the profile's tenancy */
#define P_HIDDEN	0x08u	/* not shown in --help */

struct cli_param {
	const char *flag;	/* "--vault-id" */
	enum cli_ptype type;
	enum cli_where where;
	const char *name;	/* path/query/body name, or local key */
	unsigned int flags;
	const char *choices;	/* "A|B|C" for PT_CHOICE */
	const char *help;
};

/* services: the version prefix of their paths and their endpoint */
enum cli_svc {
	SVC_SECRETS = 0,	/* /20190301 on the base endpoint */
	SVC_VAULT,		/* /20180608 on the base endpoint */
	SVC_KMS_VAULT,		/* /20180608 on the base endpoint */
	SVC_KMS_MGMT,		/* /20180608 on --endpoint (management) */
	SVC_KMS_CRYPTO,		/* /20180608 on --endpoint (crypto) */
	SVC_IDENTITY,		/* /20160918 on the base endpoint */
	SVC_TRESOR,		/* /tresor/v1 on the base endpoint */
	SVC_LOCAL		/* no service */
};

/* command flags */
#define C_LIST		0x001u	/* paginated list */
#define C_CREATE	0x002u	/* send an opc-retry-token */
#define C_DELETE	0x004u	/* confirm unless --force */
#define C_UPDATE	0x008u	/* confirm JSON options unless --force */
#define C_READ		0x010u	/* a POST that only reads */
#define C_ARGS		0x020u	/* takes FILE... arguments */

struct cli_ctx;

struct cli_cmd {
	const char *path;	/* "vault secret get" */
	const char *help;
	const char *op;		/* "GetSecret" */
	const char *method;
	enum cli_svc svc;
	const char *url;	/* "/secrets/{}", after the version prefix */
	unsigned int flags;
	const char *wait_url;	/* polled with data.id: "/secrets/{}" */
	int (*run)(struct cli_ctx *ctx);	/* NULL: one request */
	int (*check)(struct cli_ctx *ctx);	/* extra validation */
	const char *fixed;	/* "secretContent.contentType=BASE64" */
	const struct cli_param *params;	/* ends with a NULL flag */
};

struct cli_group {
	const char *path;	/* "" is the root */
	const char *help;
};

#define CLI_MAX_VALUES 64

/* One occurrence of an option on the command line. */
struct cli_value {
	const struct cli_param *p;
	const char *value;	/* NULL for a flag */
	bool from_json;		/* came from --from-json */
	char *owned;		/* value storage when from_json */
};

struct cli_ctx {
	/* global options */
	const char *profile;
	const char *config_file;
	const char *endpoint;
	const char *auth;
	const char *output;	/* "json" or "table" */
	const char *query;
	const char *region;
	const char *cert_bundle;
	const char *request_id;
	bool raw_output;
	bool no_retry;
	bool debug;
	long max_retries;	/* -1: default */
	long connect_timeout;	/* seconds; -1: default */
	long read_timeout;	/* seconds; -1: default */

	/* the command and its options */
	const struct cli_cmd *cmd;
	struct cli_value vals[CLI_MAX_VALUES];
	size_t nvals;
	const char *args[CLI_MAX_VALUES];	/* C_ARGS commands */
	size_t nargs;

	/* created on first use */
	tresor_config *cfg;
	tresor_client *client;
};

/* cli_commands.c */
extern const struct cli_cmd tr_cli_commands[];
extern const size_t tr_cli_ncommands;
extern const struct cli_group tr_cli_groups[];
extern const size_t tr_cli_ngroups;

/* cli.c */
int tr_cli_main(int argc, char **argv);
/* A usage error for the current command: message, exit code 2. */
int tr_cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The nearest command or group path to the words typed ("" if none). */
const char *tr_cli_suggest(const char *const *words, size_t nwords);
/* Token-aligned distance of two command paths (tests). */
double tr_cli_path_distance(const char *typed, const char *candidate);

/* cli_run.c */
/* The value of an option (last occurrence), or NULL. */
const char *tr_cli_opt(const struct cli_ctx *ctx, const char *flag);
bool tr_cli_flag(const struct cli_ctx *ctx, const char *flag);
/* Make the configuration and client (once).  0 or exit code. */
int tr_cli_client(struct cli_ctx *ctx);
/* The endpoint for a service (NULL for the client's own). */
int tr_cli_service_base(struct cli_ctx *ctx, enum cli_svc svc,
    const char **base_out, const char **prefix_out);
/* Run the current command as a generic request.  Exit code. */
int tr_cli_run_generic(struct cli_ctx *ctx);
/*
 * One request of `svc`: path template (after the version), parameters,
 * optional JSON body.  *data_out (when not NULL) receives the parsed
 * JSON answer (kebab-case NOT applied) or NULL for an empty body; on a
 * service error the error is printed and CLI_ESERVICE returned.
 */
int tr_cli_call(struct cli_ctx *ctx, enum cli_svc svc, const char *method,
    const char *url, const char *const *pp, size_t npp,
    const tresor_param *q, size_t nq, const json_t *body,
    json_t **data_out, tresor_response **resp_out);
/* Read a --from-json / JSON option value (text or file://).  0/EINVAL. */
int tr_cli_json_value(json_t **out, const char *text, const char *flag);
/* Compact JSON text of `v` in a tr_malloc'd string (NULL: no memory). */
char *tr_cli_json_text(const json_t *v);
/* Ask y/N on the terminal (stderr prompt, stdin answer). */
bool tr_cli_confirm(const char *question);

/* cli_output.c */
/* A deep copy of `v` with object keys in kebab-case (maps kept). */
json_t *tr_cli_kebab(const json_t *v);
/* camelCase -> kebab-case into `out` (cap bytes). */
void tr_cli_kebab_name(char *out, size_t cap, const char *camel);
/* Print `envelope` per --query/--output/--raw-output.  Exit code. */
int tr_cli_print(struct cli_ctx *ctx, json_t *envelope);
/* Print a service error in oci-cli's ServiceError shape to stderr. */
void tr_cli_print_service_error(struct cli_ctx *ctx, const char *op,
    enum cli_svc svc, const tresor_response *resp);
/* oci-cli's operation_name: GetSecretBundle -> get_secret_bundle. */
void tr_cli_snake(char *out, size_t cap, const char *op);
/* Render data as an ASCII table (oci-cli --output table). */
void tr_cli_print_table(FILE *f, const json_t *data);

/* cli_custom.c */
int tr_cli_run_group_remove_user(struct cli_ctx *ctx);
int tr_cli_run_group_list_users(struct cli_ctx *ctx);
int tr_cli_run_user_list_groups(struct cli_ctx *ctx);
int tr_cli_run_api_key_upload(struct cli_ctx *ctx);
int tr_cli_run_rp_token(struct cli_ctx *ctx);
int tr_cli_run_agent(struct cli_ctx *ctx);
int tr_cli_run_audit_verify(struct cli_ctx *ctx);
int tr_cli_check_create_base64(struct cli_ctx *ctx);
int tr_cli_check_lint(struct cli_ctx *ctx);

/* cli_doctor.c */
int tr_cli_run_doctor_secret(struct cli_ctx *ctx);

#endif /* TR_CLI_CLI_INT_H */
