/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tresord migrate`: copy a SQLite store into PostgreSQL.
 *
 * The target must be empty; the copy is one transaction, then every
 * record of the target is read back and compared with the source
 * (tr_store_copy).  tresord must not be serving the source meanwhile.
 * With --data, DIR/store.url then names the target, so that
 * `tresord serve --data DIR` serves it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "store/store.h"
#include "util/error.h"
#include "util/json.h"

static void
migrate_usage(FILE *f)
{
	fprintf(f, "usage: tresord migrate --data DIR --to URL [--from PATH]\n"
	    "  --to URL     the PostgreSQL store (postgres://HOST:PORT/DB), "
	    "empty;\n"
	    "               credentials from PGPASSFILE/~/.pgpass or PG* "
	    "variables\n"
	    "  --from PATH  the SQLite file (default DIR/%s)\n"
	    "Stop tresord before migrating.  Afterwards DIR/%s names the "
	    "new store.\n", TR_DB_FILE, TR_STORE_FILE);
}

/* Replace DIR/store.url atomically (0600 from creation). */
static int
write_store_file(const char *dir, const char *url)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t len = strlen(url);
	int fd, rc = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_STORE_FILE);
	(void)snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", dir, TR_STORE_FILE,
	    (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		return tr_error_set(TRESOR_EIO, "cannot create %s: %s", tmp,
		    strerror(errno));
	if (write(fd, url, len) != (ssize_t)len || fsync(fd) != 0)
		rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s", tmp,
		    strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = tr_error_set(TRESOR_EIO, "cannot rename %s: %s", tmp,
		    strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int
tr_daemon_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *data = NULL, *from = NULL, *to = NULL;
	char dir[PATH_MAX], path[PATH_MAX];
	struct tr_store *src = NULL, *dst = NULL;
	size_t count = 0;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f:t:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'h':
			migrate_usage(stdout);
			return 0;
		default:
			migrate_usage(stderr);
			return 2;
		}
	}
	if (to == NULL || (data == NULL && from == NULL) || optind != argc) {
		migrate_usage(stderr);
		return 2;
	}
	tr_json_init();
	if (data != NULL) {
		if (realpath(data, dir) == NULL)
			return tr_daemon_fail("cannot open data directory %s: "
			    "%s", data, strerror(errno));
		if (from == NULL) {
			(void)snprintf(path, sizeof(path), "%s/%s", dir,
			    TR_DB_FILE);
			from = path;
		}
	}
	if (tr_store_sqlite_open(&src, from, false) < 0 ||
	    tr_store_sqlite_check(src, true) < 0) {
		rc = tr_daemon_fail("source %s: %s", from,
		    tresor_error_last());
		goto out;
	}
	if (tr_store_open_url(&dst, to, true) < 0) {
		rc = tr_daemon_fail("target: %s", tresor_error_last());
		goto out;
	}
	if (tr_store_copy(dst, src, &count) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	printf("tresord: copied %zu records from %s, each verified\n", count,
	    from);
	if (data != NULL) {
		if (write_store_file(dir, to) < 0) {
			rc = tr_daemon_fail("%s", tresor_error_last());
			goto out;
		}
		printf("tresord: %s/%s now names the new store; 'tresord serve "
		    "--data %s' serves it\n", dir, TR_STORE_FILE, dir);
	}
	rc = 0;
out:
	tr_store_close(dst);
	tr_store_close(src);
	return rc;
}
