/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_store_open_url(): the backend follows the name, a password in a
 * PostgreSQL connection string is refused, a passfile others can read is
 * refused, anything else is a SQLite path.  No server is needed: every
 * refusal happens before a connection is tried.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "util/error.h"

struct fixture {
	char dir[64];
	char pass[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tresor-open-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->pass, sizeof(f->pass), "%s/pgpass", f->dir);
	(void)unsetenv("PGPASSWORD");
	(void)setenv("PGPASSFILE", f->pass, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	(void)unsetenv("PGPASSFILE");
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

static void
test_password_in_url_is_refused(void **state)
{
	static const char *const bad[] = {
		"postgres://tresor:hunter2@127.0.0.1:1/db",
		"postgresql://tresor@127.0.0.1:1/db?password=hunter2",
		"host=127.0.0.1 port=1 dbname=db password=hunter2",
		"dbname=db sslpassword=hunter2",
	};
	struct tr_store *st = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tr_store_open_url(&st, bad[i], false),
		    TRESOR_EINVAL);
		assert_null(st);
		assert_non_null(strstr(tresor_error_last(), "0600"));
		/* and the password is not repeated back */
		assert_null(strstr(tresor_error_last(), "hunter2"));
	}
}

static void
test_open_passfile_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tr_store *st = NULL;
	int fd;

	fd = open(f->pass, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "*:*:*:*:x\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(f->pass, 0644), 0);
	assert_int_equal(tr_store_open_url(&st,
	    "postgres://tresor@127.0.0.1:1/db", false), TRESOR_EPERM);
	assert_non_null(strstr(tresor_error_last(), "chmod 600"));
	/* key=value form and an explicit passfile= are checked alike */
	assert_int_equal(unsetenv("PGPASSFILE"), 0);
	{
		char ci[256];

		(void)snprintf(ci, sizeof(ci), "host=127.0.0.1 port=1 "
		    "dbname=db passfile=%s", f->pass);
		assert_int_equal(tr_store_open_url(&st, ci, false),
		    TRESOR_EPERM);
	}
	/* PGPASSWORD set: libpq reads no passfile, nothing to check */
	assert_int_equal(setenv("PGPASSWORD", "x", 1), 0);
	assert_int_equal(setenv("PGPASSFILE", f->pass, 1), 0);
	assert_int_equal(tr_store_open_url(&st,
	    "postgres://tresor@127.0.0.1:1/db?connect_timeout=2", false),
	    TRESOR_EUNAVAIL);
	assert_int_equal(unsetenv("PGPASSWORD"), 0);
	/* 0600 passes the check and reaches the (absent) server */
	assert_int_equal(chmod(f->pass, 0600), 0);
	assert_int_equal(tr_store_open_url(&st,
	    "postgres://tresor@127.0.0.1:1/db", false), TRESOR_EUNAVAIL);
	assert_null(st);
}

static void
test_other_names_are_sqlite_paths(void **state)
{
	struct fixture *f = *state;
	struct tr_store *st = NULL;
	char path[128];

	(void)snprintf(path, sizeof(path), "%s/t.db", f->dir);
	assert_int_equal(tr_store_open_url(&st, path, true), 0);
	assert_string_equal(st->ops->name, "sqlite");
	tr_store_close(st);
	/* "user=..." is not one of the PostgreSQL forms: a file name */
	assert_int_equal(tr_store_open_url(&st, "user=x", false),
	    TRESOR_ENOTFOUND);
	assert_int_equal(tr_store_open_url(&st, "", false), TRESOR_EINVAL);
}

static void
test_bad_conninfo_is_refused_without_echo(void **state)
{
	struct tr_store *st = NULL;

	(void)state;
	assert_int_equal(tr_store_open_url(&st,
	    "postgres://u@h/db?secretish=%zz", false), TRESOR_EINVAL);
	assert_null(strstr(tresor_error_last(), "secretish"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_password_in_url_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_passfile_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_names_are_sqlite_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_conninfo_is_refused_without_echo, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
