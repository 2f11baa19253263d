/* SPDX-License-Identifier: Apache-2.0 */
/*
 * presign: sign requests ahead of a load run with libtresor's signer
 * (include/tresor/signer.h), for bench/wrk/replay.lua.
 *
 *   presign --key-file PEM --key-id ID --host HOST:PORT [--at UNIX]
 *           [--threads N] < requests > signed.tsv
 *
 * Each input line is "METHOD TARGET [BODY]" (BODY is the rest of the line,
 * compact JSON).  Each output line holds, separated by tabs: method,
 * target, x-date, authorization, x-content-sha256, content-length, body.
 * A signed GET stays valid for the server's date skew (5 minutes); a
 * signed PUT or POST binds its body through x-content-sha256.  Signing is
 * RSA-2048 and costs about a millisecond, so large tables are signed on
 * several threads (a signer is safe to share between threads).
 */
#include <err.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tresor/tresor.h"

struct line {
	char *method;
	char *target;
	char *body;			/* NULL when none */
	char *out;			/* the signed line, malloc'd */
};

struct job {
	tresor_signer *signer;
	const char *host;
	int64_t at;
	struct line *lines;
	size_t from, to;
	int rc;
};

static void
usage(void)
{
	fprintf(stderr, "usage: presign --key-file PEM --key-id ID "
	    "--host HOST:PORT [--at UNIX] [--threads N] < in > out\n");
	exit(2);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		err(1, "%s", path);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		err(1, "%s", path);
	p = malloc((size_t)n + 1);
	if (p == NULL)
		err(1, "malloc");
	if (fread(p, 1, (size_t)n, f) != (size_t)n)
		err(1, "%s", path);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void *
sign_range(void *arg)
{
	struct job *j = arg;
	tresor_signed_headers h;
	size_t i, blen, need;
	int rc;

	for (i = j->from; i < j->to; i++) {
		struct line *l = &j->lines[i];

		blen = l->body == NULL ? 0 : strlen(l->body);
		memset(&h, 0, sizeof(h));
		rc = tresor_sign_at(&h, j->signer, l->method, j->host,
		    l->target, l->body, blen, j->at);
		if (rc < 0) {
			fprintf(stderr, "presign: %s %s: %s\n", l->method,
			    l->target, tresor_error_last());
			j->rc = rc;
			return NULL;
		}
		need = strlen(l->method) + strlen(l->target) +
		    strlen(h.x_date) + strlen(h.authorization) +
		    strlen(h.x_content_sha256) + strlen(h.content_length) +
		    blen + 8;
		l->out = malloc(need);
		if (l->out == NULL) {
			tresor_signed_headers_dispose(&h);
			j->rc = -1;
			return NULL;
		}
		(void)snprintf(l->out, need, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    l->method, l->target, h.x_date, h.authorization,
		    h.x_content_sha256, h.content_length,
		    l->body == NULL ? "" : l->body);
		tresor_signed_headers_dispose(&h);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-file", required_argument, NULL, 'k' },
		{ "key-id", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "at", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *key_file = NULL, *key_id = NULL, *host = NULL;
	tresor_signer *signer = NULL;
	struct line *lines = NULL;
	struct job jobs[16];
	pthread_t tids[16];
	size_t nlines = 0, cap = 0, pem_len, i, nthreads = 2;
	char *pem, *buf = NULL, *sp;
	size_t bufcap = 0;
	ssize_t got;
	int64_t at = (int64_t)time(NULL);
	int c;

	while ((c = getopt_long(argc, argv, "k:i:H:a:t:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'k':
			key_file = optarg;
			break;
		case 'i':
			key_id = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'a':
			at = strtoll(optarg, NULL, 10);
			break;
		case 't':
			nthreads = (size_t)strtoul(optarg, NULL, 10);
			if (nthreads < 1 || nthreads > 16)
				usage();
			break;
		default:
			usage();
		}
	}
	if (key_file == NULL || key_id == NULL || host == NULL ||
	    optind != argc)
		usage();
	if (tresor_global_init(0) < 0)
		errx(1, "tresor_global_init: %s", tresor_error_last());
	pem = read_file(key_file, &pem_len);
	if (tresor_signer_new_from_pem(&signer, key_id, pem, pem_len,
	    NULL) < 0)
		errx(1, "%s: %s", key_file, tresor_error_last());
	memset(pem, 0, pem_len);
	free(pem);

	while ((got = getline(&buf, &bufcap, stdin)) > 0) {
		struct line *l;

		while (got > 0 && (buf[got - 1] == '\n' ||
		    buf[got - 1] == '\r'))
			buf[--got] = '\0';
		if (got == 0)
			continue;
		if (nlines == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			lines = realloc(lines, cap * sizeof(*lines));
			if (lines == NULL)
				err(1, "realloc");
		}
		l = &lines[nlines];
		memset(l, 0, sizeof(*l));
		l->method = strdup(buf);
		if (l->method == NULL)
			err(1, "strdup");
		sp = strchr(l->method, ' ');
		if (sp == NULL)
			errx(1, "line %zu: expected METHOD TARGET [BODY]",
			    nlines + 1);
		*sp = '\0';
		l->target = sp + 1;
		sp = strchr(l->target, ' ');
		if (sp != NULL) {
			*sp = '\0';
			l->body = sp + 1;
		}
		nlines++;
	}
	free(buf);
	if (nthreads > nlines)
		nthreads = nlines == 0 ? 1 : nlines;
	for (i = 0; i < nthreads; i++) {
		jobs[i].signer = signer;
		jobs[i].host = host;
		jobs[i].at = at;
		jobs[i].lines = lines;
		jobs[i].from = nlines * i / nthreads;
		jobs[i].to = nlines * (i + 1) / nthreads;
		jobs[i].rc = 0;
		if (pthread_create(&tids[i], NULL, sign_range, &jobs[i]) != 0)
			errx(1, "pthread_create");
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		if (jobs[i].rc != 0)
			return 1;
	}
	for (i = 0; i < nlines; i++) {
		fputs(lines[i].out, stdout);
		free(lines[i].out);
		free(lines[i].method);
	}
	free(lines);
	tresor_signer_free(signer);
	tresor_global_cleanup();
	return fflush(stdout) == 0 ? 0 : 1;
}
