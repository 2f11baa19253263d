/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the configuration parser of `tresor agent`
 * (tr_agent_config_parse() in src/agent/agent_config.c).  Owner names
 * are not looked up (no NSS calls while fuzzing).
 *
 * For any input the parser either refuses it naming the file, or yields
 * a configuration that the agent can run: at least one secret, each with
 * a unique label and a unique absolute path, exactly one selector
 * (secret_id, or vault_id and name), not both a stage and a version, a
 * safe mode, and durations in their ranges.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined, linked with
 * agent_lib, libtresor's objects (client_lib) and util_lib.  Seeds:
 * tests/fuzz/corpus/agent_config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "tresor/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY ((uint64_t)86400 * 1000)

static void
check(const struct tr_agent_config *c)
{
	size_t i, k;

	if (c->n == 0 || c->n > TR_AGENT_SECRETS_MAX)
		abort();
	if (c->ttl_ms < 1000 || c->ttl_ms > 30 * DAY ||
	    c->max_backoff_ms < 1000 || c->command_timeout_ms < 1000)
		abort();
	for (i = 0; i < c->n; i++) {
		const struct tr_agent_secret *s = &c->s[i];

		if (s->label == NULL || s->path == NULL || s->path[0] != '/')
			abort();
		if ((s->secret_id != NULL) == (s->vault_id != NULL &&
		    s->name != NULL))
			abort();
		if (s->secret_id != NULL && (s->vault_id != NULL ||
		    s->name != NULL))
			abort();
		if (s->stage != NULL && s->version != 0)
			abort();
		if ((s->mode & ~0777u) != 0 || (s->mode & 0002) != 0 ||
		    (s->mode & 0600) == 0)
			abort();
		if (s->ttl_ms != 0 && (s->ttl_ms < 1000 ||
		    s->ttl_ms > 30 * DAY))
			abort();
		for (k = 0; k < i; k++)
			if (strcmp(c->s[k].label, s->label) == 0 ||
			    strcmp(c->s[k].path, s->path) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_agent_config c;
	int rc;

	rc = tr_agent_config_parse(&c, (const char *)data, size, "fuzz",
	    false);
	if (rc == 0) {
		check(&c);
		tr_agent_config_dispose(&c);
	} else if (rc != TRESOR_EINVAL && rc != TRESOR_ETOOBIG &&
	    rc != TRESOR_ENOMEM) {
		abort();
	} else if (strstr(tresor_error_last(), "fuzz") == NULL) {
		abort();
	}
	return 0;
}
