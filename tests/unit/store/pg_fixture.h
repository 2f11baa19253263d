/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: which backend the store tests run against, and fresh
 * PostgreSQL databases on the throwaway cluster of tests/pg/pg.sh (its
 * connection string in TRESOR_TEST_PG, its binaries in TRESOR_TEST_PG_BIN).
 *
 * Header only, and through psql rather than libpq, so that a test using
 * it needs no extra source file or dependency to build.
 */
#ifndef TR_TEST_PG_FIXTURE_H
#define TR_TEST_PG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* True when TRESOR_TEST_STORE=pg asks for the PostgreSQL backend. */
static inline bool
fx_want_pg(void)
{
	const char *v = getenv("TRESOR_TEST_STORE");

	return v != NULL && strcmp(v, "pg") == 0;
}

/* The cluster's connection string, or NULL when none was started. */
static inline const char *
fx_pg_base(void)
{
	const char *v = getenv("TRESOR_TEST_PG");

	return v == NULL || v[0] == '\0' ? NULL : v;
}

/*
 * Run one SQL command (no quotes in it) on the cluster's maintenance
 * database.  0 or -1.
 */
static inline int
fx_pg_exec(const char *sql)
{
	char cmd[512];

	if (fx_pg_base() == NULL || strchr(sql, '"') != NULL ||
	    strchr(sql, '\'') != NULL)
		return -1;
	(void)snprintf(cmd, sizeof(cmd), "\"${TRESOR_TEST_PG_BIN:-"
	    "/usr/lib/postgresql/15/bin}/psql\" -X -q -v ON_ERROR_STOP=1"
	    " -d \"$TRESOR_TEST_PG\" -c \"%s\" >/dev/null", sql);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Create an empty database with a fresh name; its name goes to `dbname`
 * and a connection string for it to `where`.  0 or -1.
 */
static inline int
fx_pg_create(char *dbname, size_t dcap, char *where, size_t wcap)
{
	static unsigned int counter;
	char sql[128];

	if (fx_pg_base() == NULL) {
		fprintf(stderr, "fixture: TRESOR_TEST_PG is not set; run "
		    "through tests/pg/pg.sh run\n");
		return -1;
	}
	(void)snprintf(dbname, dcap, "tresor_t%ld_%u", (long)getpid(),
	    ++counter);
	(void)snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	if (fx_pg_exec(sql) < 0)
		return -1;
	/* a later dbname= overrides the base's */
	(void)snprintf(where, wcap, "%s dbname=%s", fx_pg_base(), dbname);
	return 0;
}

/* Drop a database made by fx_pg_create(), closing its connections. */
static inline void
fx_pg_drop(const char *dbname)
{
	char sql[128];

	if (dbname == NULL || dbname[0] == '\0')
		return;
	(void)snprintf(sql, sizeof(sql),
	    "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	(void)fx_pg_exec(sql);
}

/* Stop or start the cluster with tests/pg/pg.sh.  0 or -1. */
static inline int
fx_pg_ctl(bool start)
{
	if (getenv("TRESOR_TEST_PG_SH") == NULL ||
	    getenv("TRESOR_TEST_PG_DIR") == NULL ||
	    getenv("TRESOR_TEST_PG_PORT") == NULL)
		return -1;
	return system(start ? "\"$TRESOR_TEST_PG_SH\" start"
	    " \"$TRESOR_TEST_PG_DIR\" \"$TRESOR_TEST_PG_PORT\" >/dev/null" :
	    "\"$TRESOR_TEST_PG_SH\" stop \"$TRESOR_TEST_PG_DIR\"") == 0 ?
	    0 : -1;
}

static inline int
fx_pg_stop(void)
{
	return fx_pg_ctl(false);
}

static inline int
fx_pg_start(void)
{
	return fx_pg_ctl(true);
}

#endif /* TR_TEST_PG_FIXTURE_H */
