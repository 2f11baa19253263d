/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration parser: a complete file, defaults, every
 * refusal with its line (unknown keys, repeated keys and sections, a
 * secret without a selector or path, stage with version, relative
 * paths, unsafe modes, two secrets on one path), limits, and durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "tresor/errors.h"

static int
parse(struct tr_agent_config *c, const char *text)
{
	return tr_agent_config_parse(c, text, strlen(text), "agent.conf",
	    false);
}

static void
test_full_config(void **state)
{
	struct tr_agent_config c;

	(void)state;
	assert_int_equal(parse(&c,
	    "# settings\n"
	    "profile = DEFAULT\n"
	    "config_file = /etc/tresor/config\n"
	    "endpoint = http://127.0.0.1:8200\n"
	    "ttl = 2m\n"
	    "log_level = debug\n"
	    "\n"
	    "[secret db-password]\n"
	    "secret_id = ocid1.vaultsecret.oc1..aaaa\n"
	    "path = /run/app/db-password\n"
	    "mode = 0640\n"
	    "owner = 0:0\n"
	    "command = \"  systemctl reload app\"\n"
	    "ttl = 30s\n"
	    "\n"
	    "[secret api]\n"
	    "vault_id = ocid1.vault.oc1..vvvv\n"
	    "name = api-token\n"
	    "version = 3\n"
	    "path = /run/app/api\n"
	    "[agent]\n"
	    "max_backoff = 10s\n"), 0);
	assert_string_equal(c.profile, "DEFAULT");
	assert_string_equal(c.config_file, "/etc/tresor/config");
	assert_string_equal(c.endpoint, "http://127.0.0.1:8200");
	assert_int_equal(c.ttl_ms, 120000);
	assert_int_equal(c.max_backoff_ms, 10000);
	assert_int_equal(c.command_timeout_ms, 60000);
	assert_int_equal(c.log_level, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.s[0].label, "db-password");
	assert_string_equal(c.s[0].secret_id, "ocid1.vaultsecret.oc1..aaaa");
	assert_int_equal(c.s[0].mode, 0640);
	assert_true(c.s[0].set_owner);
	assert_int_equal(c.s[0].uid, 0);
	assert_int_equal(c.s[0].gid, 0);
	assert_string_equal(c.s[0].command, "  systemctl reload app");
	assert_int_equal(c.s[0].ttl_ms, 30000);
	assert_null(c.s[1].secret_id);
	assert_string_equal(c.s[1].vault_id, "ocid1.vault.oc1..vvvv");
	assert_string_equal(c.s[1].name, "api-token");
	assert_int_equal(c.s[1].version, 3);
	assert_int_equal(c.s[1].mode, 0600);
	assert_false(c.s[1].set_owner);
	tr_agent_config_dispose(&c);
}

static void
test_defaults(void **state)
{
	struct tr_agent_config c;

	(void)state;
	assert_int_equal(parse(&c, "[secret a]\nsecret_id=ocid1.vaultsecret"
	    ".oc1..a\npath=/a\n"), 0);
	assert_int_equal(c.ttl_ms, 300000);
	assert_int_equal(c.max_backoff_ms, 60000);
	assert_int_equal(c.log_level, -1);
	assert_null(c.profile);
	assert_null(c.s[0].stage);
	tr_agent_config_dispose(&c);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "", "no [secret NAME] section" },
		{ "bogus = 1\n", "line 1: unknown setting 'bogus'" },
		{ "ttl = 1m\nttl = 2m\n", "line 2: 'ttl' is set twice" },
		{ "ttl = 0\n", "line 1: ttl" },
		{ "ttl = 31d\n", "line 1: ttl" },
		{ "auth = magic\n", "line 1: auth must be" },
		{ "[secret a]\npath=/a\n", "line 1: [secret a] needs secret_id"
		},
		{ "[secret a]\nsecret_id=ocid1.vaultsecret.oc1..a\n",
		    "[secret a] needs a path" },
		{ "[secret a]\nsecret_id=nope\n", "line 2: secret_id is not" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\nvault_id=ocid1.v.oc1.."
		    "v\nname=n\npath=/a\n", "needs secret_id, or vault_id" },
		{ "[secret a]\nvault_id=ocid1.v.oc1..v\npath=/a\n",
		    "needs secret_id, or vault_id and name" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\nstage=CURRENT\n"
		    "version=2\npath=/a\n", "gives both stage and version" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\nstage=NOW\n",
		    "line 3: stage must be" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=rel/a\n",
		    "line 3: path must be an absolute" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/d/\n",
		    "path must be an absolute file path" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\nmode=0666\n",
		    "line 4: mode must be" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\nmode=9\n",
		    "line 4: mode must be" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\nmode=0044\n",
		    "line 4: mode must be" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\nowner=:\n",
		    "line 4: owner" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\nfoo=1\n",
		    "line 4: unknown setting 'foo'" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\n[secret a]\n",
		    "line 4: [secret a] appears twice" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\n[secret b]\n"
		    "secret_id=ocid1.x.oc1..b\npath=/a\n", "writes /a, as "
		    "[secret a] does" },
		{ "[secret]\n", "line 1: a section header" },
		{ "[secret a b]\n", "line 1: a section header" },
		{ "[other]\n", "line 1: a section header" },
		{ "[secret a\n", "line 1: a section header" },
		{ "just words\n", "line 1: expected 'key = value'" },
		{ "[secret a]\nsecret_id=ocid1.x.oc1..a\npath=/a\ncommand=\n",
		    "line 4: empty command" },
		{ "ttl\x01=1\n", "line 1: control character" },
	};
	struct tr_agent_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&c, bad[i].text) == 0)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(tresor_error_last(), bad[i].msg) == NULL)
			fail_msg("'%s': got '%s', want '%s'", bad[i].text,
			    tresor_error_last(), bad[i].msg);
	}
}

static void
test_owner_names_resolved(void **state)
{
	static const char text[] = "[secret a]\nsecret_id=ocid1.x.oc1..a\n"
	    "path=/a\nowner=nobody-at-all:root\n";
	struct tr_agent_config c;

	(void)state;
	assert_int_equal(tr_agent_config_parse(&c, text, strlen(text), "f",
	    true), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "line 4: owner"));
	assert_int_equal(tr_agent_config_parse(&c, "[secret a]\nsecret_id="
	    "ocid1.x.oc1..a\npath=/a\nowner=root\n", 55, "f", true), 0);
	assert_int_equal(c.s[0].uid, 0);
	assert_int_equal(c.s[0].gid, 0);
	tr_agent_config_dispose(&c);
}

static void
test_limits(void **state)
{
	struct tr_agent_config c;
	char *big;
	size_t i;

	(void)state;
	assert_int_equal(tr_agent_config_parse(&c, "a\0b", 3, "f", false),
	    TRESOR_EINVAL);
	big = calloc(1, TR_AGENT_CONFIG_MAX + 2);
	memset(big, '#', TR_AGENT_CONFIG_MAX + 1);
	assert_int_equal(tr_agent_config_parse(&c, big, TR_AGENT_CONFIG_MAX + 1,
	    "f", false), TRESOR_ETOOBIG);
	memset(big, 0, TR_AGENT_CONFIG_MAX + 2);
	memset(big, 'x', TR_AGENT_LINE_MAX + 1);
	assert_int_equal(parse(&c, big), TRESOR_ETOOBIG);
	memset(big, 0, TR_AGENT_CONFIG_MAX + 2);
	for (i = 0; i <= TR_AGENT_SECRETS_MAX; i++)
		(void)snprintf(big + strlen(big), 200, "[secret s%zu]\n"
		    "secret_id=ocid1.x.oc1..a\npath=/p%zu\n", i, i);
	assert_int_equal(parse(&c, big), TRESOR_ETOOBIG);
	free(big);
}

static void
test_durations(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(tr_agent_parse_duration("90", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(tr_agent_parse_duration("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(tr_agent_parse_duration("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(tr_agent_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(tr_agent_parse_duration("1d", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(tr_agent_parse_duration("30d", &ms), 0);
	assert_int_equal(tr_agent_parse_duration("", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_agent_parse_duration("s", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_agent_parse_duration("-1", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_agent_parse_duration("1w", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_agent_parse_duration("9999999999", &ms),
	    TRESOR_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_owner_names_resolved),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
