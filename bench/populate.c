/* SPDX-License-Identifier: Apache-2.0 */
/*
 * populate: write N secrets, one version each, straight into a data
 * directory's store, for the scale benchmark (bench/run.sh).  tresord must
 * be stopped.
 *
 *   populate --data DIR --template SECRET_OCID --count N
 *            [--prefix NAME] [--start K] [--batch B]
 *            [--sample M --sample-out FILE]
 *
 * Every secret is a clone of the template secret (made through the API,
 * so its rows are exactly what CreateSecret writes): same compartment,
 * vault, key and attributes, a new OCID, etag and name "<prefix><K+i>",
 * and a version 1 (CURRENT, LATEST) of fresh random content of the
 * template's length, sealed for real: a new data key per version under the
 * vault's master key version (crypto/envelope.h), the reuse-rule MAC as
 * api/secret_change.c computes it.  Rows go in through the store's apply()
 * in batches of B secrets (default 5000), one transaction each.
 *
 * The OCIDs are drawn at random as tresord draws them, then inserted in
 * sorted order (names follow the same order): random keys would spread
 * every batch over the whole clustered B-tree and write a 4 KiB page per
 * row, ten times slower.  The result is the file a VACUUM of a randomly
 * filled store gives (full pages instead of about 70 % full).  With
 * --sample, M of the new OCIDs, spread evenly, are written to FILE, one a
 * line (the read phase picks its targets there).
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "crypto/envelope.h"
#include "crypto/keystore.h"
#include "store/store.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/ocid.h"
#include "util/rand.h"
#include "util/secret.h"

struct clone {
	struct tr_obj obj;
	struct tr_secret_version sv;
};

static void
usage(void)
{
	fprintf(stderr, "usage: populate --data DIR --template SECRET_OCID "
	    "--count N [--prefix NAME] [--start K] [--batch B]\n"
	    "                [--sample M --sample-out FILE]\n");
	exit(2);
}

static uint64_t
num_arg(const char *s, const char *what)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		errx(2, "%s must be a number", what);
	return (uint64_t)v;
}

/* The region part of an OCID: ocid1.<type>.<realm>.<region>.<unique>. */
static void
ocid_region(const char *id, char *out, size_t cap)
{
	const char *p = id, *q;
	int dots = 0;

	out[0] = '\0';
	while (*p != '\0' && dots < 3) {
		if (*p == '.')
			dots++;
		p++;
	}
	q = strchr(p, '.');
	if (dots == 3 && q != NULL && (size_t)(q - p) < cap) {
		memcpy(out, p, (size_t)(q - p));
		out[q - p] = '\0';
	}
}

/*
 * Every SQLite connection of this process (the store's) gets a large page
 * cache and memory-mapped reads: random OCID keys spread each batch over
 * the whole B-tree, and the default 2 MB cache makes every insert read
 * its pages again.  Run by sqlite3_auto_extension() at each open; only
 * populate does this, tresord keeps its own settings.
 */
static int
tune_connection(sqlite3 *db, char **errmsg, const void *api)
{
	(void)errmsg;
	(void)api;
	(void)sqlite3_exec(db, "PRAGMA cache_size = -524288; "
	    "PRAGMA mmap_size = 8589934592", NULL, NULL, NULL);
	return SQLITE_OK;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
clone_dispose(struct clone *c)
{
	tr_free(c->obj.attrs);
	tr_free(c->sv.wrapped_dek);
	tr_free(c->sv.content);
	memset(c, 0, sizeof(*c));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "template", required_argument, NULL, 'T' },
		{ "count", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "start", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "sample", required_argument, NULL, 'm' },
		{ "sample-out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *data = NULL, *template_id = NULL, *prefix = "scale-";
	const char *sample_out = NULL;
	uint64_t count = 0, start = 0, batch = 5000, sample = 0, stride = 0;
	uint64_t i, done = 0, k;
	struct tr_keystore *ks = NULL;
	struct tr_store *st = NULL;
	struct tr_obj tmpl;
	struct tr_secret_version tsv;
	struct tr_key_version kv;
	struct tr_keyref ref;
	struct tr_secret *pt = NULL, *fresh = NULL;
	struct clone *cl = NULL;
	struct tr_store_write *w = NULL;
	char path[PATH_MAX], region[64];
	char (*ids)[TR_OCID_MAX] = NULL;
	FILE *sf = NULL;
	struct timespec t0, t1;
	double secs;
	int64_t now;
	int c;

	while ((c = getopt_long(argc, argv, "d:T:n:p:s:b:m:o:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'T':
			template_id = optarg;
			break;
		case 'n':
			count = num_arg(optarg, "--count");
			break;
		case 'p':
			prefix = optarg;
			break;
		case 's':
			start = num_arg(optarg, "--start");
			break;
		case 'b':
			batch = num_arg(optarg, "--batch");
			break;
		case 'm':
			sample = num_arg(optarg, "--sample");
			break;
		case 'o':
			sample_out = optarg;
			break;
		default:
			usage();
		}
	}
	if (data == NULL || template_id == NULL || optind != argc ||
	    batch == 0 || (sample > 0) != (sample_out != NULL))
		usage();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	(void)tr_secret_heap_init(1024 * 1024);
	if (sqlite3_auto_extension((void (*)(void))tune_connection) !=
	    SQLITE_OK)
		errx(1, "sqlite3_auto_extension failed");

	(void)snprintf(path, sizeof(path), "%s/root.key", data);
	if (tr_keystore_open(&ks, path) < 0)
		errx(1, "%s", tresor_error_last());
	(void)snprintf(path, sizeof(path), "%s/tresor.db", data);
	if (tr_store_sqlite_open(&st, path, false) < 0)
		errx(1, "%s", tresor_error_last());

	/* the template: secret, version 1, its master key version */
	memset(&tmpl, 0, sizeof(tmpl));
	memset(&tsv, 0, sizeof(tsv));
	memset(&kv, 0, sizeof(kv));
	if (st->ops->obj_get(st, &tmpl, template_id, "vaultsecret") < 0 ||
	    st->ops->sv_get(st, &tsv, template_id, 1) < 0 ||
	    st->ops->kv_get(st, &kv, tsv.key_version_id) < 0)
		errx(1, "template %s: %s", template_id, tresor_error_last());
	ref.version_id = kv.id;
	ref.wrapped = kv.wrapped;
	ref.wrapped_len = kv.wrapped_len;
	if (tr_envelope_open(ks, &ref, tmpl.id, 1, tsv.wrapped_dek,
	    tsv.wrapped_dek_len, tsv.content, tsv.content_len, &pt) < 0)
		errx(1, "template %s does not decrypt: %s", template_id,
		    tresor_error_last());
	ocid_region(tmpl.id, region, sizeof(region));

	ids = calloc((size_t)count, sizeof(*ids));
	if (ids == NULL && count > 0)
		err(1, "calloc");
	for (i = 0; i < count; i++)
		if (tr_ocid_new(ids[i], sizeof(ids[i]), "vaultsecret",
		    region) < 0)
			errx(1, "%s", tresor_error_last());
	qsort(ids, (size_t)count, sizeof(*ids), cmp_id);
	cl = calloc((size_t)batch, sizeof(*cl));
	w = calloc((size_t)batch * 2, sizeof(*w));
	if (cl == NULL || w == NULL)
		err(1, "calloc");
	if (tr_secret_new(&fresh, pt->len) < 0)
		errx(1, "%s", tresor_error_last());
	if (sample > 0) {
		sf = fopen(sample_out, "w");
		if (sf == NULL)
			err(1, "%s", sample_out);
		stride = count / sample;
		if (stride == 0)
			stride = 1;
	}

	while (done < count) {
		uint64_t n = count - done < batch ? count - done : batch;

		now = tr_now_ms();
		for (k = 0; k < n; k++) {
			struct clone *x = &cl[k];

			i = start + done + k;
			x->obj = tmpl;
			x->obj.attrs = tr_strdup(tmpl.attrs);
			if (x->obj.attrs == NULL ||
			    tr_store_new_etag(x->obj.etag) < 0)
				errx(1, "%s", tresor_error_last());
			(void)snprintf(x->obj.id, sizeof(x->obj.id), "%s",
			    ids[done + k]);
			(void)snprintf(x->obj.name, sizeof(x->obj.name),
			    "%s%07llu", prefix, (unsigned long long)i);
			x->obj.time_created = now;
			x->obj.time_of_deletion = 0;
			x->obj.seq = 1;

			x->sv = tsv;
			x->sv.wrapped_dek = NULL;
			x->sv.content = NULL;
			x->sv.attrs = NULL;
			(void)snprintf(x->sv.secret_id, sizeof(x->sv.secret_id),
			    "%s", x->obj.id);
			x->sv.number = 1;
			x->sv.name[0] = '\0';
			x->sv.stages = TR_STAGE_CURRENT | TR_STAGE_LATEST;
			x->sv.state[0] = '\0';
			x->sv.time_created = now;
			x->sv.time_of_deletion = 0;
			x->sv.time_of_expiry = 0;
			if (tr_random_bytes(fresh->ptr, fresh->len) < 0 ||
			    tr_envelope_seal(ks, &ref, x->obj.id, 1, fresh,
			    &x->sv.wrapped_dek, &x->sv.wrapped_dek_len,
			    &x->sv.content, &x->sv.content_len) < 0 ||
			    tr_keystore_content_mac(ks, x->obj.id, fresh,
			    x->sv.content_mac) < 0)
				errx(1, "sealing: %s", tresor_error_last());
			x->sv.has_mac = true;

			w[2 * k].kind = TR_W_OBJ_PUT;
			w[2 * k].obj = &x->obj;
			w[2 * k].expect_etag = NULL;
			w[2 * k + 1].kind = TR_W_SV_INSERT;
			w[2 * k + 1].sv = &x->sv;
			if (sf != NULL && (done + k) % stride == 0 &&
			    (done + k) / stride < sample)
				fprintf(sf, "%s\n", x->obj.id);
		}
		if (st->ops->apply(st, w, (size_t)n * 2) < 0)
			errx(1, "writing secrets %llu..%llu: %s",
			    (unsigned long long)(start + done),
			    (unsigned long long)(start + done + n - 1),
			    tresor_error_last());
		for (k = 0; k < n; k++)
			clone_dispose(&cl[k]);
		done += n;
	}
	if (sf != NULL && fclose(sf) != 0)
		err(1, "%s", sample_out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("populate: %llu secrets in %.1f s (%.0f/s)\n",
	    (unsigned long long)count, secs, (double)count / secs);

	free(ids);
	free(cl);
	free(w);
	tr_secret_free(fresh);
	tr_secret_free(pt);
	tr_obj_dispose(&tmpl);
	tr_secret_version_dispose(&tsv);
	tr_key_version_dispose(&kv);
	tr_store_close(st);
	tr_keystore_free(ks);
	return 0;
}
