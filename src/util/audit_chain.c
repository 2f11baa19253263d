/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit chain hashing and verification (see audit_chain.h).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "util/alloc.h"
#include "util/audit_chain.h"
#include "util/ct.h"
#include "util/error.h"

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md;

static void
md_fetch(void)
{
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
tr_audit_line_hash(const char *line, size_t len, char out[TR_AUDIT_HASH_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	int i;

	/* fetched once: an implicit fetch per line costs more than the hash */
	(void)pthread_once(&md_once, md_fetch);
	EVP_Digest(line, len, d, NULL, md != NULL ? md : EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

int
tr_audit_verify(const char *const *paths, size_t n, uint64_t *records,
    char *note, size_t notecap)
{
	char *line = NULL, prev_hash[TR_AUDIT_HASH_HEX] = "";
	uint64_t count = 0, seq = 0, expect = 0;
	json_t *rec = NULL;
	const char *prev;
	size_t i, lineno, len;
	FILE *f = NULL;
	int rc = 0, ch;
	bool first = true;

	*records = 0;
	if (note != NULL && notecap > 0)
		note[0] = '\0';
	line = tr_malloc(TR_AUDIT_LINE_MAX + 2);
	if (line == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		f = fopen(paths[i], "r");
		if (f == NULL) {
			rc = tr_error_set(TRESOR_EIO, "cannot read %s",
			    paths[i]);
			goto out;
		}
		lineno = 0;
		for (;;) {
			len = 0;
			while ((ch = fgetc(f)) != EOF && ch != '\n') {
				if (len == TR_AUDIT_LINE_MAX) {
					rc = tr_error_set(TRESOR_EINVAL,
					    "%s:%zu: line longer than %d "
					    "bytes", paths[i], lineno + 1,
					    TR_AUDIT_LINE_MAX);
					goto out;
				}
				line[len++] = (char)ch;
			}
			if (ch == EOF && len == 0)
				break;
			lineno++;
			if (ch == EOF) {
				rc = tr_error_set(TRESOR_EINVAL,
				    "%s:%zu: last line is cut short (no "
				    "newline)", paths[i], lineno);
				goto out;
			}
			line[len] = '\0';
			rec = json_loadb(line, len, JSON_REJECT_DUPLICATES,
			    NULL);
			if (!json_is_object(rec)) {
				rc = tr_error_set(TRESOR_EINVAL,
				    "%s:%zu: not a JSON record", paths[i],
				    lineno);
				goto out;
			}
			prev = json_string_value(json_object_get(rec, "prev"));
			seq = (uint64_t)json_integer_value(json_object_get(rec,
			    "seq"));
			if (prev == NULL || strlen(prev) != 64 || seq == 0) {
				rc = tr_error_set(TRESOR_EINVAL,
				    "%s:%zu: record without seq or prev",
				    paths[i], lineno);
				goto out;
			}
			if (first) {
				if (!tr_ct_eq(prev, zero_hash, 64) &&
				    note != NULL)
					(void)snprintf(note, notecap,
					    "the chain continues an earlier "
					    "file (first record seq %llu); "
					    "checked from there",
					    (unsigned long long)seq);
				first = false;
			} else {
				if (!tr_ct_eq(prev, prev_hash, 64)) {
					rc = tr_error_set(TRESOR_EINVAL,
					    "%s:%zu: record seq %llu does not "
					    "follow the record before it (an "
					    "edited, removed or reordered "
					    "record)", paths[i], lineno,
					    (unsigned long long)seq);
					goto out;
				}
				if (seq != expect) {
					rc = tr_error_set(TRESOR_EINVAL,
					    "%s:%zu: sequence %llu where %llu "
					    "was expected", paths[i], lineno,
					    (unsigned long long)seq,
					    (unsigned long long)expect);
					goto out;
				}
			}
			tr_audit_line_hash(line, len, prev_hash);
			expect = seq + 1;
			count++;
			json_decref(rec);
			rec = NULL;
		}
		fclose(f);
		f = NULL;
	}
	*records = count;
out:
	json_decref(rec);
	if (f != NULL)
		fclose(f);
	tr_free(line);
	return rc;
}
