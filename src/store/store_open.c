/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_store_open_url() (store.h): one name for a store picks its backend.
 * postgres:// and postgresql:// URLs and libpq key=value words starting
 * with "host=" or "dbname=" open PostgreSQL; anything else is the path of
 * a SQLite file.
 *
 * Credentials never travel on a command line: a password inside the
 * connection string is refused, and the passfile libpq would read
 * (passfile=, PGPASSFILE, ~/.pgpass) must belong to the user and be
 * closed to group and others, as ssh demands of a key file.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store/store.h"
#include "util/error.h"

/* True when `w` names a PostgreSQL database rather than a file. */
static bool
is_pg(const char *w)
{
	return strncmp(w, "postgres://", 11) == 0 ||
	    strncmp(w, "postgresql://", 13) == 0 ||
	    strncmp(w, "host=", 5) == 0 || strncmp(w, "dbname=", 7) == 0;
}

/*
 * Refuse a passfile that is not a regular file of this user with mode
 * 0600 or stricter.  A missing file is fine: libpq skips it too.
 */
static int
check_passfile(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return tr_error_set(TRESOR_EIO, "cannot check %s: %s", path,
		    strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return tr_error_set(TRESOR_EPERM,
		    "the PostgreSQL passfile %s is not a regular file", path);
	if (sb.st_uid != geteuid())
		return tr_error_set(TRESOR_EPERM,
		    "the PostgreSQL passfile %s belongs to another user", path);
	if ((sb.st_mode & 077) != 0)
		return tr_error_set(TRESOR_EPERM,
		    "the PostgreSQL passfile %s is open to group or others "
		    "(mode %03o); run chmod 600 %s", path,
		    (unsigned int)(sb.st_mode & 0777), path);
	return 0;
}

/* The passfile libpq would read when no passfile= is given. */
static int
default_passfile(char *out, size_t cap)
{
	const char *env = getenv("PGPASSFILE");
	const char *home = getenv("HOME");
	struct passwd *pw;
	int n;

	out[0] = '\0';
	if (env != NULL && env[0] != '\0') {
		n = snprintf(out, cap, "%s", env);
	} else {
		if (home == NULL || home[0] == '\0') {
			pw = getpwuid(geteuid());
			if (pw == NULL)
				return 0;	/* no home: no ~/.pgpass */
			home = pw->pw_dir;
		}
		n = snprintf(out, cap, "%s/.pgpass", home);
	}
	if (n < 0 || (size_t)n >= cap)
		return tr_error_set(TRESOR_EINVAL, "passfile path too long");
	return 0;
}

/*
 * Check a PostgreSQL connection string: it parses, carries no password,
 * and the passfile it would use is private.
 */
static int
check_conninfo(const char *where)
{
	PQconninfoOption *opts = NULL, *o;
	const char *passfile = NULL;
	char *err = NULL;
	char path[4096];
	int rc = TRESOR_EINTERNAL;

	opts = PQconninfoParse(where, &err);
	if (opts == NULL) {
		/* libpq's message may quote the string: keep it out */
		rc = tr_error_set(err == NULL ? TRESOR_ENOMEM : TRESOR_EINVAL,
		    "cannot read the PostgreSQL connection string; see "
		    "https://www.postgresql.org/docs/current/"
		    "libpq-connect.html#LIBPQ-CONNSTRING");
		goto out;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0 ||
		    strcmp(o->keyword, "sslpassword") == 0) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "a password on the command line is refused: put "
			    "it in a passfile of mode 0600 (PGPASSFILE or "
			    "~/.pgpass) or in the PGPASSWORD environment "
			    "variable, and leave it out of the store URL");
			goto out;
		}
		if (strcmp(o->keyword, "passfile") == 0)
			passfile = o->val;
	}
	/* PGPASSWORD wins over any passfile, which libpq then ignores */
	if (getenv("PGPASSWORD") == NULL) {
		if (passfile == NULL) {
			if ((rc = default_passfile(path, sizeof(path))) < 0)
				goto out;
			passfile = path;
		}
		if (passfile[0] != '\0' &&
		    (rc = check_passfile(passfile)) < 0)
			goto out;
	}
	rc = 0;
out:
	PQconninfoFree(opts);
	PQfreemem(err);
	return rc;
}

int
tr_store_open_url(struct tr_store **out, const char *where, bool create)
{
	int rc;

	*out = NULL;
	if (where == NULL || where[0] == '\0')
		return tr_error_set(TRESOR_EINVAL, "no store given");
	if (!is_pg(where))
		return tr_store_sqlite_open(out, where, create);
	if ((rc = check_conninfo(where)) < 0)
		return rc;
	return tr_store_pg_open(out, where, create);
}
