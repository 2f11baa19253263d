/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's pure parts: oci-cli's kebab-case output names (map-valued
 * fields untouched), operation names, the nearest-command suggestion of
 * a mistyped command, the command table's consistency (every group
 * exists, every URL has as many {} as path options), and the table
 * renderer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_int.h"

static void
test_kebab_names(void **state)
{
	char b[64];

	(void)state;
	tr_cli_kebab_name(b, sizeof(b), "managementEndpoint");
	assert_string_equal(b, "management-endpoint");
	tr_cli_kebab_name(b, sizeof(b), "lifecycleState");
	assert_string_equal(b, "lifecycle-state");
	tr_cli_kebab_name(b, sizeof(b), "wrappingkeyId");
	assert_string_equal(b, "wrappingkey-id");
	tr_cli_kebab_name(b, sizeof(b), "id");
	assert_string_equal(b, "id");
	tr_cli_kebab_name(b, sizeof(b), "secretContentContent");
	assert_string_equal(b, "secret-content-content");
}

static void
test_kebab_keeps_maps(void **state)
{
	json_t *in, *out;
	char *s;

	(void)state;
	in = json_loads("{\"lifecycleState\":\"ACTIVE\",\"freeformTags\":"
	    "{\"myKey\":\"v\"},\"definedTags\":{\"ns\":{\"costCenter\":1}},"
	    "\"metadata\":{\"appName\":{\"innerKey\":1}},\"secretRules\":"
	    "[{\"ruleType\":\"SECRET_EXPIRY_RULE\"}],\"keyShape\":{\"curveId\":"
	    "null}}", 0, NULL);
	out = tr_cli_kebab(in);
	s = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"defined-tags\":{\"ns\":{\"costCenter\":1}},"
	    "\"freeform-tags\":{\"myKey\":\"v\"},\"key-shape\":{\"curve-id\":"
	    "null},\"lifecycle-state\":\"ACTIVE\",\"metadata\":{\"appName\":"
	    "{\"innerKey\":1}},\"secret-rules\":[{\"rule-type\":"
	    "\"SECRET_EXPIRY_RULE\"}]}");
	free(s);
	json_decref(in);
	json_decref(out);
}

static void
test_operation_names(void **state)
{
	char b[64];

	(void)state;
	tr_cli_snake(b, sizeof(b), "GetSecretBundle");
	assert_string_equal(b, "get_secret_bundle");
	tr_cli_snake(b, sizeof(b), "ListVaults");
	assert_string_equal(b, "list_vaults");
}

static void
suggests(const char *typed, const char *want)
{
	const char *w[8];
	char buf[256], *p = buf, *sp;
	size_t n = 0;

	(void)snprintf(buf, sizeof(buf), "%s", typed);
	while (p != NULL && n < 8) {
		sp = strchr(p, ' ');
		if (sp != NULL)
			*sp = '\0';
		w[n++] = p;
		p = sp == NULL ? NULL : sp + 1;
	}
	assert_string_equal(tr_cli_suggest(w, n), want);
}

static void
test_suggestions(void **state)
{
	(void)state;
	suggests("vault-secret create", "vault secret create-base64");
	suggests("vault secret creat", "vault secret create-base64");
	suggests("vault secret update", "vault secret update");
	suggests("kms managment vault list", "kms management vault list");
	suggests("secret bundle get", "secrets secret-bundle get");
	suggests("iam polcy simulate", "iam policy simulate");
	suggests("vault secrt", "vault secret");
	suggests("xyzzy", "");
}

static void
test_distance(void **state)
{
	(void)state;
	assert_true(tr_cli_path_distance("vault secret create",
	    "vault secret create-base64") < tr_cli_path_distance(
	    "vault secret create", "vault secret update"));
	assert_true(tr_cli_path_distance("a b", "a b") == 0.0);
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static void
test_command_table(void **state)
{
	size_t i, k, npath;
	const struct cli_param *p;
	char parent[256], *sp;

	(void)state;
	for (i = 0; i < tr_cli_ncommands; i++) {
		const struct cli_cmd *c = &tr_cli_commands[i];

		/* every parent group exists */
		(void)snprintf(parent, sizeof(parent), "%s", c->path);
		while ((sp = strrchr(parent, ' ')) != NULL) {
			*sp = '\0';
			for (k = 0; k < tr_cli_ngroups; k++)
				if (strcmp(tr_cli_groups[k].path, parent) == 0)
					break;
			if (k == tr_cli_ngroups)
				fail_msg("no group '%s' for '%s'", parent,
				    c->path);
		}
		/* one path option per {} */
		npath = 0;
		for (p = c->params; p->flag != NULL; p++) {
			assert_true(strncmp(p->flag, "--", 2) == 0);
			if (p->where == W_PATH)
				npath++;
			if (p->type == PT_CHOICE)
				assert_non_null(p->choices);
		}
		if (c->run == NULL && c->url != NULL &&
		    count(c->url, "{}") != npath)
			fail_msg("%s: %zu {} in %s, %zu path options", c->path,
			    count(c->url, "{}"), c->url, npath);
		/* no two commands share a path */
		for (k = 0; k < i; k++)
			assert_true(strcmp(tr_cli_commands[k].path,
			    c->path) != 0);
	}
}

static void
test_table_render(void **state)
{
	json_t *d = json_loads("[{\"name\":\"a\",\"n\":1,\"ok\":true},"
	    "{\"name\":\"bb\",\"x\":null}]", 0, NULL);
	char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	tr_cli_print_table(f, d);
	fclose(f);
	assert_string_equal(buf,
	    "+---+------+------+------+\n"
	    "| n | name | ok   | x    |\n"
	    "+---+------+------+------+\n"
	    "| 1 | a    | True |      |\n"
	    "|   | bb   |      | None |\n"
	    "+---+------+------+------+\n");
	json_decref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kebab_names),
		cmocka_unit_test(test_kebab_keeps_maps),
		cmocka_unit_test(test_operation_names),
		cmocka_unit_test(test_suggestions),
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_command_table),
		cmocka_unit_test(test_table_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
