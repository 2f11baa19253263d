/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for dynamic-group matching rules: parses the input
 * and, when it parses, matches it against an instance and a resource
 * principal with tags.  Build: clang -fsanitize=fuzzer,address,undefined.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iam/iam.h"
#include "iam/iam_int.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_iam_rule *r = NULL;
	struct tr_principal p;
	json_t *tags = NULL;
	char *s;

	if (size > TR_IAM_RULE_MAX + 16)
		return 0;
	s = tr_strndup((const char *)data, size);
	if (s == NULL)
		return 0;
	(void)tr_iam_rule_validate(s);
	if (tr_iam_rule_parse(&r, s) == 0) {
		memset(&p, 0, sizeof(p));
		p.kind = TR_PRINCIPAL_INSTANCE;
		memcpy(p.id, "ocid1.instance.oc1.phx.i1",
		    sizeof("ocid1.instance.oc1.phx.i1"));
		memcpy(p.compartment_id, "ocid1.compartment.oc1..a",
		    sizeof("ocid1.compartment.oc1..a"));
		(void)tr_iam_tags_parse(&tags,
		    "{\"ops\": {\"env\": \"prod\"}, \"o\": {\"k\": \"v\"}}");
		(void)tr_iam_rule_match(r, &p, tags);
		p.kind = TR_PRINCIPAL_RESOURCE;
		memcpy(p.resource_type, "fnfunc", 7);
		(void)tr_iam_rule_match(r, &p, tags);
		(void)tr_iam_rule_match(r, &p, NULL);
		json_decref(tags);
		tr_iam_rule_free(r);
	}
	tr_free(s);
	return 0;
}
