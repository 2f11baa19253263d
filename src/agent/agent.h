/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tresor agent`: renders secrets to files and keeps them fresh
 * (docs/agent.md).  agent_config.c parses its configuration file (an
 * untrusted, bounded parser; fuzzed by tests/fuzz/fuzz_agent_config.c);
 * agent.c runs the loop: fetch each secret every TTL, replace its file
 * atomically only when the version changed, run the secret's command,
 * keep the last good files with backoff while tresord is unreachable,
 * reload on SIGHUP, stop on SIGTERM.
 *
 * The agent uses libtresor's public API only (plus src/util).
 */
#ifndef TR_AGENT_AGENT_H
#define TR_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* limits of the configuration parser */
#define TR_AGENT_CONFIG_MAX	((size_t)256 * 1024)
#define TR_AGENT_LINE_MAX	4096
#define TR_AGENT_SECRETS_MAX	256

/* One [secret NAME] section. */
struct tr_agent_secret {
	char *label;		/* NAME */
	char *secret_id;	/* or vault_id + name */
	char *vault_id;
	char *name;
	char *stage;		/* NULL: the server's default (CURRENT) */
	uint64_t version;	/* 0: not pinned */
	char *path;		/* absolute */
	unsigned int mode;	/* default 0600 */
	char *owner;		/* as written, or NULL */
	bool set_owner;
	uid_t uid;
	gid_t gid;
	char *command;		/* run with /bin/sh -c after a change */
	uint64_t ttl_ms;	/* 0: the agent's */
	unsigned int line;
};

struct tr_agent_config {
	char *profile;
	char *config_file;
	char *endpoint;
	char *auth;
	char *ca_file;
	uint64_t ttl_ms;		/* default 5 minutes */
	uint64_t max_backoff_ms;	/* default 60 s */
	uint64_t command_timeout_ms;	/* default 60 s */
	int log_level;			/* -1: unset */
	struct tr_agent_secret *s;
	size_t n;
};

/*
 * Parse a configuration held in memory; `name` is used in messages.
 * With `resolve_owners`, owner names are looked up (getpwnam/getgrnam);
 * without, only numeric owners are accepted and names are kept as text.
 * 0, TRESOR_EINVAL (with file and line), TRESOR_ETOOBIG, TRESOR_ENOMEM.
 */
int tr_agent_config_parse(struct tr_agent_config *out, const char *buf,
    size_t len, const char *name, bool resolve_owners);

/* Read and parse a configuration file.  Same errors, and TRESOR_EIO. */
int tr_agent_config_load(struct tr_agent_config *out, const char *path);

void tr_agent_config_dispose(struct tr_agent_config *c);

/* A duration: "90", "90s", "5m", "2h", "1d".  0 or TRESOR_EINVAL. */
int tr_agent_parse_duration(const char *s, uint64_t *ms_out);

/* What `tresor agent` was started with. */
struct tr_agent_args {
	const char *config_path;
	bool once;		/* one pass, exit 1 if any secret failed */
	int log_level;		/* tresor_log_level */
	/* global options of the command line (override the file) */
	const char *profile;
	const char *config_file;
	const char *endpoint;
	const char *auth;
	const char *cert_bundle;
};

/* Run the agent until SIGTERM/SIGINT (or one pass).  Exit code. */
int tr_agent_run(const struct tr_agent_args *a);

#endif /* TR_AGENT_AGENT_H */
