/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the OCI config file parser of libtresor
 * (tr_ini_parse() in src/client/config.c), the first thing the CLI, the
 * agent and any program using libtresor read.
 *
 * For any input the parser either refuses it (with a message naming the
 * file) or yields entries that satisfy its invariants: every entry has a
 * section that was declared, a lowercase key without surrounding space,
 * values without NUL or newline, no key twice in a section, and lookups
 * through the DEFAULT fallback find what the file holds.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined, linked with
 * libtresor's objects (client_lib) and util_lib.  Seeds:
 * tests/fuzz/corpus/oci_config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct tr_ini *ini)
{
	const char *v;
	size_t i, k, j;

	for (i = 0; i < ini->n; i++) {
		const struct tr_ini_entry *e = &ini->e[i];

		if (!tr_ini_has_section(ini, e->section))
			abort();
		if (e->key[0] == '\0' || e->key[0] == ' ' ||
		    e->key[strlen(e->key) - 1] == ' ')
			abort();
		for (j = 0; e->key[j] != '\0'; j++)
			if (e->key[j] >= 'A' && e->key[j] <= 'Z')
				abort();
		if (strchr(e->value, '\n') != NULL)
			abort();
		for (k = 0; k < i; k++)
			if (strcmp(ini->e[k].section, e->section) == 0 &&
			    strcmp(ini->e[k].key, e->key) == 0)
				abort();
		v = tr_ini_get(ini, e->section, e->key);
		if (v == NULL || strcmp(v, e->value) != 0)
			abort();
	}
	/* lookups of what the SDKs read never crash */
	(void)tr_ini_get(ini, "DEFAULT", "key_file");
	(void)tr_ini_get(ini, "PROFILE", "user");
	(void)tr_ini_get(ini, NULL, "fingerprint");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_ini ini;
	int rc;

	rc = tr_ini_parse(&ini, (const char *)data, size, "fuzz");
	if (rc == 0) {
		check(&ini);
		tr_ini_dispose(&ini);
	} else if (rc != TRESOR_EINVAL && rc != TRESOR_ETOOBIG &&
	    rc != TRESOR_ENOMEM) {
		abort();
	} else if (strstr(tresor_error_last(), "fuzz") == NULL) {
		abort();	/* every refusal names the file */
	}
	return 0;
}
