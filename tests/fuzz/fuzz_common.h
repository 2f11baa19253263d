/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the libFuzzer targets that build an HTTP request
 * from their input (fuzz_httpsig.c, fuzz_api.c), and by those that need
 * a scratch directory at start-up (fuzz_api.c, fuzz_token.c).
 *
 * The request text format, chosen so that seeds are readable and a
 * mutation of one byte keeps most of the structure:
 *
 *     METHOD SP TARGET LF
 *     Name: value LF          (zero or more; the value is everything
 *     ...                      after the first ':' and one optional space,
 *     LF                       CR and all other bytes kept raw)
 *     body                    (the rest of the input, NUL bytes included)
 *
 * A missing blank line means no body.  Everything is sliced from one
 * buffer the caller owns; nothing here allocates.
 */
#ifndef TR_FUZZ_COMMON_H
#define TR_FUZZ_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/request.h"

#define FZ_MAX_HEADERS 64

struct fz_request {
	struct tr_request req;
	struct tr_header hdrs[FZ_MAX_HEADERS];
};

/* Find the next LF in [p, end), or end. */
static inline const char *
fz_eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl == NULL ? end : nl;
}

/*
 * Slice `data` into `out`.  Always succeeds: missing parts come out
 * empty, extra headers past FZ_MAX_HEADERS are dropped.
 */
static inline void
fz_parse_request(struct fz_request *out, const char *data, size_t size)
{
	const char *p, *end, *eol, *sp, *colon, *v;

	if (data == NULL) {
		data = "";
		size = 0;
	}
	p = data;
	end = data + size;
	memset(out, 0, sizeof(*out));
	out->req.headers = out->hdrs;
	out->req.peer = "127.0.0.1";
	out->req.body = "";
	out->req.method = "";
	out->req.target = "";
	/* request line */
	eol = fz_eol(p, end);
	sp = memchr(p, ' ', (size_t)(eol - p));
	if (sp == NULL) {
		out->req.method = p;
		out->req.method_len = (size_t)(eol - p);
	} else {
		out->req.method = p;
		out->req.method_len = (size_t)(sp - p);
		out->req.target = sp + 1;
		out->req.target_len = (size_t)(eol - sp - 1);
	}
	p = eol < end ? eol + 1 : end;
	/* headers up to the blank line */
	while (p < end) {
		eol = fz_eol(p, end);
		if (eol == p) {
			p++;
			out->req.body = p;
			out->req.body_len = (size_t)(end - p);
			return;
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon != NULL && out->req.nheaders < FZ_MAX_HEADERS) {
			v = colon + 1;
			if (v < eol && *v == ' ')
				v++;
			out->hdrs[out->req.nheaders].name = p;
			out->hdrs[out->req.nheaders].name_len =
			    (size_t)(colon - p);
			out->hdrs[out->req.nheaders].value = v;
			out->hdrs[out->req.nheaders].value_len =
			    (size_t)(eol - v);
			out->req.nheaders++;
		}
		p = eol < end ? eol + 1 : end;
	}
}

/*
 * Make a fresh private directory for the target's state, under
 * $FUZZ_TMPDIR, else /dev/shm (fast fsync), else $TMPDIR or /tmp.
 * Exits on failure: this runs once, at start-up.  The directory is left
 * behind only if the process is killed (it is removed at exit).
 */
static char fz_dir[512];

static inline void
fz_rmtree_at_exit(void)
{
	char cmd[600];

	if (fz_dir[0] == '\0' || getenv("FUZZ_KEEP_TMP") != NULL)
		return;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fz_dir);
}

static inline const char *
fz_tmpdir(const char *what)
{
	const char *base = getenv("FUZZ_TMPDIR");
	struct stat sb;

	if (base == NULL && stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	if (base == NULL)
		base = getenv("TMPDIR");
	if (base == NULL)
		base = "/tmp";
	(void)snprintf(fz_dir, sizeof(fz_dir), "%s/tresor-%s-XXXXXX", base,
	    what);
	if (mkdtemp(fz_dir) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fz_dir,
		    strerror(errno));
		exit(1);
	}
	atexit(fz_rmtree_at_exit);
	return fz_dir;
}

/* Die loudly: libFuzzer records the input as a crash. */
#define FZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		__builtin_trap();					\
	}								\
} while (0)

#endif /* TR_FUZZ_COMMON_H */
