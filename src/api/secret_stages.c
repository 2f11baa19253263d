/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret version stages as OCI defines them (oci-wire.md 4.3):
 *
 *   CURRENT     the version in use; exactly one
 *   PENDING     a new version not yet promoted; at most one
 *   LATEST      the most recently created version; exactly one
 *   PREVIOUS    the version that was CURRENT before; at most one
 *   DEPRECATED  every version holding none of the above
 *
 * Adding a CURRENT version demotes the old CURRENT to PREVIOUS; adding a
 * PENDING version replaces the old PENDING; promoting a version (or
 * rolling back to an older one) makes the old CURRENT the PREVIOUS.
 * These functions only compute stage bits; callers store them.
 */
#include <string.h>

#include "api/api_int.h"
#include "api/secret_stages.h"
#include "tresor/errors.h"
#include "util/buf.h"

static const struct {
	unsigned int bit;
	const char *name;
} stage_names[] = {
	{ TR_STAGE_CURRENT, "CURRENT" },
	{ TR_STAGE_PENDING, "PENDING" },
	{ TR_STAGE_LATEST, "LATEST" },
	{ TR_STAGE_PREVIOUS, "PREVIOUS" },
	{ TR_STAGE_DEPRECATED, "DEPRECATED" },
};

json_t *
tr_api_stages_json(unsigned int stages)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < sizeof(stage_names) /
	    sizeof(stage_names[0]); i++)
		if (stages & stage_names[i].bit)
			json_array_append_new(a, json_string(stage_names[i].name));
	return a;
}

void
tr_api_stages_text(struct tr_buf *b, unsigned int stages)
{
	size_t i, n = 0;

	(void)tr_buf_addc(b, '[');
	for (i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++) {
		if ((stages & stage_names[i].bit) == 0)
			continue;
		(void)tr_buf_addstr(b, n++ > 0 ? ",\"" : "\"");
		(void)tr_buf_addstr(b, stage_names[i].name);
		(void)tr_buf_addc(b, '"');
	}
	(void)tr_buf_addc(b, ']');
}

int
tr_api_stage_parse(const char *s, unsigned int *out)
{
	size_t i;

	for (i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++) {
		if (strcmp(s, stage_names[i].name) == 0) {
			*out = stage_names[i].bit;
			return 0;
		}
	}
	return TRESOR_EINVAL;
}

#define LIVE_STAGES (TR_STAGE_CURRENT | TR_STAGE_PENDING | TR_STAGE_LATEST | \
	TR_STAGE_PREVIOUS)

/* Give DEPRECATED to versions without a live stage, take it from others. */
static void
fix_deprecated(unsigned int *stages, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((stages[i] & LIVE_STAGES) == 0)
			stages[i] |= TR_STAGE_DEPRECATED;
		else
			stages[i] &= ~TR_STAGE_DEPRECATED;
	}
}

unsigned int
tr_stages_add(unsigned int *stages, size_t n, bool pending)
{
	size_t i;

	for (i = 0; i < n; i++) {
		stages[i] &= ~TR_STAGE_LATEST;
		if (pending) {
			stages[i] &= ~TR_STAGE_PENDING;
		} else if (stages[i] & TR_STAGE_CURRENT) {
			stages[i] &= ~TR_STAGE_CURRENT;
			stages[i] |= TR_STAGE_PREVIOUS;
		} else {
			stages[i] &= ~TR_STAGE_PREVIOUS;
		}
	}
	fix_deprecated(stages, n);
	return TR_STAGE_LATEST | (pending ? TR_STAGE_PENDING :
	    TR_STAGE_CURRENT);
}

void
tr_stages_promote(unsigned int *stages, size_t n, size_t target)
{
	size_t i;

	if (stages[target] & TR_STAGE_CURRENT)
		return;
	for (i = 0; i < n; i++) {
		if (i == target)
			continue;
		if (stages[i] & TR_STAGE_CURRENT) {
			stages[i] &= ~TR_STAGE_CURRENT;
			stages[i] |= TR_STAGE_PREVIOUS;
		} else {
			stages[i] &= ~TR_STAGE_PREVIOUS;
		}
	}
	stages[target] &= ~(TR_STAGE_PENDING | TR_STAGE_PREVIOUS);
	stages[target] |= TR_STAGE_CURRENT;
	fix_deprecated(stages, n);
}
