/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tresor doctor secret --secret-id OCID`: why can (or can't) the current
 * profile read this secret?  The decision tree, each step with a verdict
 * and, when it fails, the exact fix:
 *
 *   1. configuration: the profile loads (file, profile, values);
 *   2. key file: readable by its owner only, an RSA key, the profile's
 *      fingerprint is the key's;
 *   3. reach and clock: tresord answers, and its clock is within the
 *      5 minutes of skew signatures are allowed;
 *   4. authenticate: tresord accepts the signature (else why: unknown
 *      key, clock skew, expired token, inactive user);
 *   5. see the secret: GetSecret (SECRET_READ), its vault and key;
 *   6. read secret-family: the policy simulator's verdict on
 *      SECRET_BUNDLE_READ for GetSecretBundle;
 *   7. use keys: the simulator's verdict on KEY_DECRYPT on the key;
 *   8. key enabled: GetKey through the vault's management endpoint;
 *   9. not pending deletion: the secret's lifecycle state;
 *  10. read it: GetSecretBundle itself (the content is never printed).
 *
 * The simulator (POST /tresor/v1/actions/simulatePolicy) is asked about
 * the caller itself, which needs no permission.  When a step cannot be
 * decided it says so (SKIP) rather than guess.  Exit 0 when the secret
 * can be read, 1 otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


#include "cli/cli_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/secret.h"

#define MAX_SKEW_SEC 300

struct doctor {
	struct cli_ctx *ctx;
	const char *secret_id;
	unsigned int failed;
	bool authenticated;
	json_t *secret;		/* GetSecret answer, or NULL */
	json_t *sim;		/* simulator answer, or NULL */
	bool sim_unavailable;
};

static void
verdict(struct doctor *d, const char *mark, const char *step,
    const char *fix, const char *fmt, ...) __attribute__((format(printf,
    5, 6)));

/* One line per step; `fix` (may be NULL) on the next, indented. */
static void
verdict(struct doctor *d, const char *mark, const char *step,
    const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(mark, "FAIL") == 0)
		d->failed++;
	printf("[%-4s] %-20s ", mark, step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fix != NULL)
		printf("       fix: %s\n", fix);
}

/* A signed request; *resp is kept on success and on service errors. */
static int
call(struct doctor *d, const char *base, const char *path,
    const char *const *pp, size_t npp, const char *method,
    const char *body, tresor_response **resp)
{
	tresor_request req = TRESOR_REQUEST_INIT;

	req.method = method;
	req.base_url = base;
	req.path = path;
	req.path_params = pp;
	req.npath_params = npp;
	req.body = body;
	req.body_len = body == NULL ? 0 : strlen(body);
	req.retry = TRESOR_RETRY_SAFE;
	return tresor_client_call(d->ctx->client, &req, resp);
}

static json_t *
body_json(const tresor_response *r)
{
	const char *b;
	size_t len;

	b = tresor_response_body(r, &len);
	return len == 0 ? NULL : json_loadb(b, len, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* steps 1 and 2: configuration and key                               */
/* ------------------------------------------------------------------ */

static int
step_config(struct doctor *d)
{
	struct cli_ctx *ctx = d->ctx;
	tresor_config_options co = TRESOR_CONFIG_OPTIONS_INIT;
	char fix[512];

	co.config_file = ctx->config_file;
	co.profile = ctx->profile;
	co.endpoint = ctx->endpoint;
	if (ctx->auth != NULL)
		(void)tresor_auth_parse(&co.auth, ctx->auth);
	if (tresor_config_load(&ctx->cfg, &co) < 0) {
		(void)snprintf(fix, sizeof(fix), "write the profile as "
		    "docs/cli.md shows (user, fingerprint, key_file, tenancy, "
		    "region, endpoint), or choose one with --profile / "
		    "--config-file");
		verdict(d, "FAIL", "configuration", fix, "%s",
		    tresor_error_last());
		return -1;
	}
	if (tresor_config_get(ctx->cfg, "endpoint") == NULL) {
		verdict(d, "FAIL", "configuration", "add endpoint=<tresord "
		    "URL, e.g. http://127.0.0.1:8200> to the profile, or pass "
		    "--endpoint", "profile %s has no endpoint",
		    tresor_config_get(ctx->cfg, "profile"));
		return -1;
	}
	verdict(d, "OK", "configuration", NULL, "profile %s%s%s, user %s, "
	    "tenancy %s, endpoint %s", tresor_config_get(ctx->cfg, "profile"),
	    tresor_config_get(ctx->cfg, "config_file") != NULL ? " of " : "",
	    tresor_config_get(ctx->cfg, "config_file") != NULL ?
	    tresor_config_get(ctx->cfg, "config_file") : "",
	    tresor_config_get(ctx->cfg, "user") != NULL ?
	    tresor_config_get(ctx->cfg, "user") : "(session token)",
	    tresor_config_get(ctx->cfg, "tenancy") != NULL ?
	    tresor_config_get(ctx->cfg, "tenancy") : "-",
	    tresor_config_get(ctx->cfg, "endpoint"));
	return 0;
}

static int
step_key(struct doctor *d)
{
	struct cli_ctx *ctx = d->ctx;
	tresor_client_options cl = TRESOR_CLIENT_OPTIONS_INIT;
	const char *kf = tresor_config_get(ctx->cfg, "key_file");
	const char *fp = tresor_config_get(ctx->cfg, "fingerprint");
	char fix[1024], real[48];
	int rc;

	cl.config = ctx->cfg;
	cl.max_attempts = 2;
	cl.ca_file = ctx->cert_bundle;
	rc = tresor_client_new(&ctx->client, &cl);
	if (rc == TRESOR_EPERM && kf != NULL) {
		(void)snprintf(fix, sizeof(fix), "chmod 600 %s (and chown it "
		    "to the user running tresor)", kf);
		verdict(d, "FAIL", "key file", fix, "%s", tresor_error_last());
		return -1;
	}
	if (rc < 0) {
		verdict(d, "FAIL", "key file", "point key_file= at the RSA "
		    "private key whose public half was uploaded (and set "
		    "pass_phrase= if it is encrypted)", "%s",
		    tresor_error_last());
		return -1;
	}
	if (tresor_config_auth(ctx->cfg) != TRESOR_AUTH_API_KEY) {
		verdict(d, "OK", "key file", NULL, "session key loaded");
		return 0;
	}
	if (tresor_signer_fingerprint(tresor_client_signer(ctx->client),
	    real) < 0)
		real[0] = '\0';
	if (real[0] != '\0' && fp != NULL && strcasecmp(real, fp) != 0) {
		(void)snprintf(fix, sizeof(fix), "set fingerprint=%s in the "
		    "profile (the MD5 of the public key: openssl rsa -pubout "
		    "-outform DER -in %s | openssl md5 -c)", real, kf);
		verdict(d, "FAIL", "key file", fix, "the profile's fingerprint "
		    "%s is not the fingerprint of %s (%s)", fp, kf, real);
		return -1;
	}
	verdict(d, "OK", "key file", NULL, "%s: owner-only, RSA%s%s", kf,
	    real[0] != '\0' ? ", fingerprint " : "", real);
	return 0;
}

/* ------------------------------------------------------------------ */
/* steps 3 and 4: reach, clock, authentication                        */
/* ------------------------------------------------------------------ */

static int
step_clock(struct doctor *d)
{
	tresor_response *r = NULL;
	const char *date;
	int64_t server, skew, now;
	char fix[512];
	int rc;

	rc = call(d, NULL, "/health", NULL, 0, "GET", NULL, &r);
	if (r == NULL) {
		(void)snprintf(fix, sizeof(fix), "start tresord, or correct "
		    "endpoint= in the profile (%s)",
		    tresor_client_endpoint(d->ctx->client));
		verdict(d, "FAIL", "reach tresord", fix, "%s",
		    tresor_error_last());
		return -1;
	}
	(void)rc;
	date = tresor_response_header(r, "date");
	now = tr_now_ms() / 1000;
	if (date == NULL || tr_time_parse_http(date, strlen(date),
	    &server) < 0) {
		verdict(d, "OK", "reach tresord", NULL, "%s answers (it sent "
		    "no Date header: clock not compared)",
		    tresor_client_endpoint(d->ctx->client));
		tresor_response_free(r);
		return 0;
	}
	tresor_response_free(r);
	skew = now - server;
	if (skew > MAX_SKEW_SEC || -skew > MAX_SKEW_SEC) {
		verdict(d, "FAIL", "clock", "synchronise this machine's clock "
		    "(timedatectl set-ntp true, or chronyc makestep) and check "
		    "its time zone setting",
		    "this clock is %lld s %s tresord's; signatures more than "
		    "%d s off are refused", (long long)(skew < 0 ? -skew :
		    skew), skew > 0 ? "ahead of" : "behind", MAX_SKEW_SEC);
		return -1;
	}
	verdict(d, "OK", "clock", NULL, "within %lld s of tresord's (limit "
	    "%d s)", (long long)(skew < 0 ? -skew : skew), MAX_SKEW_SEC);
	return 0;
}

static void
auth_failure(struct doctor *d, const char *msg)
{
	struct cli_ctx *ctx = d->ctx;
	const char *user = tresor_config_get(ctx->cfg, "user");
	const char *kf = tresor_config_get(ctx->cfg, "key_file");
	char fix[1024];

	if (strstr(msg, "unknown API key") != NULL) {
		(void)snprintf(fix, sizeof(fix), "upload the key's public half "
		    "for this user: openssl rsa -pubout -in %s -out "
		    "public.pem; tresor iam user api-key upload --user-id %s "
		    "--key-file public.pem (an administrator can do it for "
		    "you)", kf != NULL ? kf : "<key_file>",
		    user != NULL ? user : "<user OCID>");
		verdict(d, "FAIL", "authenticate", fix,
		    "tresord does not know this API key: %s", msg);
	} else if (strstr(msg, "seconds ahead of") != NULL ||
	    strstr(msg, "seconds behind") != NULL) {
		verdict(d, "FAIL", "authenticate", "synchronise this machine's "
		    "clock (timedatectl set-ntp true, or chronyc makestep)",
		    "clock skew: %s", msg);
	} else if (strstr(msg, "expired") != NULL) {
		verdict(d, "FAIL", "authenticate", "get a fresh session token "
		    "(tresor iam workload request-token --token-file F "
		    "--private-key-file K, with the workload's enrollment "
		    "profile) and point OCI_RESOURCE_PRINCIPAL_RPST at it",
		    "the session token has expired: %s", msg);
	} else if (strstr(msg, "not an active user") != NULL) {
		verdict(d, "FAIL", "authenticate", "an administrator must "
		    "reactivate the user, or use another profile",
		    "the user is not active: %s", msg);
	} else if (strstr(msg, "verification failed") != NULL) {
		verdict(d, "FAIL", "authenticate", "key_file= does not hold "
		    "the private key of the uploaded public key with this "
		    "fingerprint: use the matching pair", "%s", msg);
	} else {
		verdict(d, "FAIL", "authenticate", "see the message; "
		    "docs/cli.md lists the causes of NotAuthenticated", "%s",
		    msg);
	}
}

/* ------------------------------------------------------------------ */
/* steps 4 to 10                                                      */
/* ------------------------------------------------------------------ */

/* Step 4 and 5: GetSecret answers both "who am I" and "can I see it". */
static int
step_auth_and_see(struct doctor *d)
{
	const char *pp[1] = { d->secret_id }, *msg, *code;
	tresor_response *r = NULL;
	int rc, status;
	char fix[1024];

	rc = call(d, NULL, "/20180608/secrets/{}", pp, 1, "GET", NULL, &r);
	if (r == NULL) {
		verdict(d, "FAIL", "authenticate", "check that tresord runs "
		    "and the endpoint is right", "no answer: %s",
		    tresor_error_last());
		return -1;
	}
	status = tresor_response_status(r);
	msg = tresor_response_error_message(r);
	code = tresor_response_error_code(r);
	if (status == 401) {
		auth_failure(d, msg != NULL ? msg : "NotAuthenticated");
		tresor_response_free(r);
		return -1;
	}
	d->authenticated = true;
	verdict(d, "OK", "authenticate", NULL, "tresord accepts the profile's "
	    "signature");
	if (rc == 0) {
		d->secret = body_json(r);
		verdict(d, "OK", "see the secret", NULL, "%s '%s' in vault %s, "
		    "state %s", d->secret_id,
		    json_string_value(json_object_get(d->secret,
		    "secretName")) != NULL ? json_string_value(
		    json_object_get(d->secret, "secretName")) : "?",
		    json_string_value(json_object_get(d->secret, "vaultId")) !=
		    NULL ? json_string_value(json_object_get(d->secret,
		    "vaultId")) : "?", json_string_value(json_object_get(
		    d->secret, "lifecycleState")) != NULL ? json_string_value(
		    json_object_get(d->secret, "lifecycleState")) : "?");
	} else if (status == 404) {
		(void)snprintf(fix, sizeof(fix), "check the OCID; if it is "
		    "right, ask an administrator for: Allow group <your "
		    "group> to read secret-family in compartment <the "
		    "secret's compartment> (read includes SECRET_READ)");
		verdict(d, "WARN", "see the secret", fix, "GetSecret answers "
		    "404 %s: the secret does not exist, or this profile may "
		    "not see it (OCI does not tell which)",
		    code != NULL ? code : "");
	} else {
		verdict(d, "WARN", "see the secret", NULL, "GetSecret answers "
		    "%d %s: %s", status, code != NULL ? code : "",
		    msg != NULL ? msg : "");
	}
	tresor_response_free(r);
	return 0;
}

/* Ask the policy simulator about this profile reading the bundle. */
static void
simulate(struct doctor *d)
{
	tresor_response *r = NULL;
	json_t *req;
	char *body;
	int rc;

	req = json_pack("{s:s, s:{s:s}}", "operation", "GetSecretBundle",
	    "target", "secretId", d->secret_id);
	body = req == NULL ? NULL : tr_cli_json_text(req);
	json_decref(req);
	if (body == NULL) {
		d->sim_unavailable = true;
		return;
	}
	rc = call(d, NULL, "/tresor/v1/actions/simulatePolicy", NULL, 0,
	    "POST", body, &r);
	tr_free(body);
	if (rc == 0)
		d->sim = body_json(r);
	else
		d->sim_unavailable = true;
	tresor_response_free(r);
}

/* The simulator's check that carries `perm`, or NULL. */
static const json_t *
sim_check(const struct doctor *d, const char *perm)
{
	const json_t *c, *p;
	size_t i, k;

	json_array_foreach(json_object_get(d->sim, "checks"), i, c) {
		json_array_foreach(json_object_get(c, "permissions"), k, p) {
			if (json_is_string(p) &&
			    strcmp(json_string_value(p), perm) == 0)
				return c;
		}
	}
	return NULL;
}

static void
step_permission(struct doctor *d, const char *step, const char *perm,
    const char *verb)
{
	const json_t *c;
	const char *granted, *sugg, *on;
	char fix[1024];

	if (d->sim == NULL) {
		verdict(d, "SKIP", step, NULL, "the policy simulator is not "
		    "available on this tresord; step 10 tells whether the read "
		    "works");
		return;
	}
	c = sim_check(d, perm);
	if (c == NULL) {
		verdict(d, "OK", step, NULL, "%s is not required here", perm);
		return;
	}
	on = json_string_value(json_object_get(c, "targetId"));
	if (json_is_true(json_object_get(c, "allowed"))) {
		granted = json_string_value(json_object_get(c, "grantedBy"));
		verdict(d, "OK", step, NULL, "%s on %s granted by %s", perm,
		    on != NULL ? on : "the target", granted != NULL ? granted :
		    "a policy");
		return;
	}
	sugg = json_string_value(json_object_get(d->sim,
	    "suggestedStatement"));
	if (sugg == NULL || json_string_value(json_object_get(d->sim,
	    "missingPermission")) == NULL || strcmp(json_string_value(
	    json_object_get(d->sim, "missingPermission")), perm) != 0)
		sugg = NULL;
	(void)snprintf(fix, sizeof(fix), "ask an administrator to add a "
	    "policy statement: %s", sugg != NULL ? sugg : verb);
	verdict(d, "FAIL", step, fix, "no statement grants %s on %s", perm,
	    on != NULL ? on : "the target");
}

static void
step_key_state(struct doctor *d)
{
	const char *key = json_string_value(json_object_get(d->secret,
	    "keyId"));
	const char *vault = json_string_value(json_object_get(d->secret,
	    "vaultId"));
	const char *pp[1], *mgmt, *state;
	tresor_response *r = NULL;
	json_t *v = NULL, *k = NULL;
	char fix[1024];
	int rc;

	if (key == NULL || vault == NULL) {
		verdict(d, "SKIP", "key enabled", NULL, "the secret's key is "
		    "unknown (GetSecret was not allowed)");
		return;
	}
	pp[0] = vault;
	rc = call(d, NULL, "/20180608/vaults/{}", pp, 1, "GET", NULL, &r);
	if (rc == 0)
		v = body_json(r);
	tresor_response_free(r);
	r = NULL;
	mgmt = json_string_value(json_object_get(v, "managementEndpoint"));
	if (mgmt == NULL) {
		verdict(d, "SKIP", "key enabled", NULL, "cannot read vault %s "
		    "(needs read vaults) to reach key %s", vault, key);
		json_decref(v);
		return;
	}
	pp[0] = key;
	rc = call(d, mgmt, "/20180608/keys/{}", pp, 1, "GET", NULL, &r);
	if (rc == 0)
		k = body_json(r);
	tresor_response_free(r);
	state = json_string_value(json_object_get(k, "lifecycleState"));
	if (state == NULL) {
		verdict(d, "SKIP", "key enabled", NULL, "cannot read key %s "
		    "(needs read keys)", key);
	} else if (strcmp(state, "ENABLED") == 0) {
		verdict(d, "OK", "key enabled", NULL, "key %s is ENABLED", key);
	} else {
		(void)snprintf(fix, sizeof(fix), "%s", strcmp(state,
		    "DISABLED") == 0 ? "tresor kms management key enable "
		    "--key-id KEY --endpoint MGMT" : strcmp(state,
		    "PENDING_DELETION") == 0 ? "tresor kms management key "
		    "cancel-deletion --key-id KEY --endpoint MGMT" :
		    "wait for the key to become ENABLED");
		{
			char full[1400];
			char *p;

			(void)snprintf(full, sizeof(full), "%s", fix);
			p = strstr(full, "KEY --endpoint MGMT");
			if (p != NULL)
				(void)snprintf(p, sizeof(full) - (size_t)(p -
				    full), "%s --endpoint %s", key, mgmt);
			verdict(d, "FAIL", "key enabled", full, "key %s is %s: "
			    "secrets it encrypts cannot be read", key, state);
		}
	}
	json_decref(v);
	json_decref(k);
}

static void
step_deletion(struct doctor *d)
{
	const char *state = json_string_value(json_object_get(d->secret,
	    "lifecycleState"));
	const char *when = json_string_value(json_object_get(d->secret,
	    "timeOfDeletion"));
	char fix[512];

	if (state == NULL) {
		verdict(d, "SKIP", "not being deleted", NULL, "the secret's "
		    "state is unknown (GetSecret was not allowed)");
		return;
	}
	if (strcmp(state, "PENDING_DELETION") == 0 ||
	    strcmp(state, "SCHEDULING_DELETION") == 0) {
		(void)snprintf(fix, sizeof(fix), "tresor vault secret "
		    "cancel-secret-deletion --secret-id %s", d->secret_id);
		verdict(d, "FAIL", "not being deleted", fix, "the secret is "
		    "%s%s%s: its content cannot be read", state,
		    when != NULL ? ", deletion at " : "", when != NULL ? when :
		    "");
		return;
	}
	if (strcmp(state, "ACTIVE") != 0) {
		verdict(d, "FAIL", "not being deleted", NULL, "the secret is "
		    "%s", state);
		return;
	}
	verdict(d, "OK", "not being deleted", NULL, "the secret is ACTIVE");
}

static void
step_read(struct doctor *d)
{
	const char *pp[1] = { d->secret_id }, *msg;
	tresor_response *r = NULL;
	json_t *b = NULL;
	int rc;

	rc = call(d, NULL, "/20190301/secretbundles/{}", pp, 1, "GET", NULL,
	    &r);
	if (rc == 0) {
		b = body_json(r);
		verdict(d, "OK", "read the secret", NULL, "GetSecretBundle "
		    "returns version %lld (content not shown)",
		    (long long)json_integer_value(json_object_get(b,
		    "versionNumber")));
		/* the answer holds the content: wipe jansson's copy */
		{
			json_t *c = json_object_get(json_object_get(b,
			    "secretBundleContent"), "content");

			if (json_is_string(c))
				tr_secure_zero((char *)(uintptr_t)
				    json_string_value(c),
				    json_string_length(c));
		}
		json_decref(b);
	} else if (r != NULL) {
		msg = tresor_response_error_message(r);
		verdict(d, "FAIL", "read the secret", NULL, "GetSecretBundle "
		    "answers %d %s: %s", tresor_response_status(r),
		    tresor_response_error_code(r) != NULL ?
		    tresor_response_error_code(r) : "",
		    msg != NULL ? msg : "");
	} else {
		verdict(d, "FAIL", "read the secret", NULL, "%s",
		    tresor_error_last());
	}
	tresor_response_free(r);
}

int
tr_cli_run_doctor_secret(struct cli_ctx *ctx)
{
	struct doctor d;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.secret_id = tr_cli_opt(ctx, "--secret-id");
	printf("tresor doctor: can this profile read secret %s?\n\n",
	    d.secret_id);
	if (step_config(&d) < 0 || step_key(&d) < 0 || step_clock(&d) < 0 ||
	    step_auth_and_see(&d) < 0)
		goto done;
	simulate(&d);
	step_permission(&d, "read secret-family", "SECRET_BUNDLE_READ",
	    "Allow group <your group> to read secret-family in compartment "
	    "<the secret's compartment>");
	step_permission(&d, "use keys", "KEY_DECRYPT", "Allow group <your "
	    "group> to use keys in compartment <the key's compartment> where "
	    "target.key.id = '<the secret's key>'");
	step_key_state(&d);
	step_deletion(&d);
	step_read(&d);
done:
	printf("\n%s\n", d.failed == 0 ? "Verdict: this profile can read "
	    "the secret." : "Verdict: this profile cannot read the secret; "
	    "apply the fixes above in order.");
	json_decref(d.secret);
	json_decref(d.sim);
	return d.failed == 0 ? CLI_OK : CLI_ESERVICE;
}
