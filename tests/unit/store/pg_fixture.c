/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture for the store tests (pg_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pg_fixture.h"

bool
fx_want_pg(void)
{
	const char *v = getenv("TRESOR_TEST_STORE");

	return v != NULL && strcmp(v, "pg") == 0;
}

const char *
fx_pg_base(void)
{
	const char *v = getenv("TRESOR_TEST_PG");

	return v == NULL || v[0] == '\0' ? NULL : v;
}

int
fx_pg_exec(const char *sql)
{
	PGconn *c;
	PGresult *r;
	int rc = -1;

	if (fx_pg_base() == NULL)
		return -1;
	c = PQconnectdb(fx_pg_base());
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "fixture: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK)
		rc = 0;
	else
		fprintf(stderr, "fixture: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
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

void
fx_pg_drop(const char *dbname)
{
	char sql[128];

	if (dbname == NULL || dbname[0] == '\0')
		return;
	(void)snprintf(sql, sizeof(sql),
	    "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	(void)fx_pg_exec(sql);
}

/* Run tests/pg/pg.sh with `what` on the test cluster. */
static int
pg_sh(const char *what)
{
	const char *sh = getenv("TRESOR_TEST_PG_SH");
	const char *dir = getenv("TRESOR_TEST_PG_DIR");
	const char *port = getenv("TRESOR_TEST_PG_PORT");
	char cmd[1024];

	if (sh == NULL || dir == NULL || port == NULL)
		return -1;
	if (strcmp(what, "start") == 0)
		(void)snprintf(cmd, sizeof(cmd), "'%s' start '%s' '%s' "
		    ">/dev/null", sh, dir, port);
	else
		(void)snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", sh, dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
fx_pg_stop(void)
{
	return pg_sh("stop");
}

int
fx_pg_start(void)
{
	return pg_sh("start");
}
