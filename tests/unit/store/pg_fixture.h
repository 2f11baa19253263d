/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: which backend the store tests run against, and fresh
 * PostgreSQL databases on the throwaway cluster of tests/pg/pg.sh (its
 * connection string in TRESOR_TEST_PG).
 */
#ifndef TR_TEST_PG_FIXTURE_H
#define TR_TEST_PG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

/* True when TRESOR_TEST_STORE=pg asks for the PostgreSQL backend. */
bool fx_want_pg(void);

/* The cluster's connection string, or NULL when none was started. */
const char *fx_pg_base(void);

/*
 * Create an empty database with a fresh name; its name goes to `dbname`
 * and a connection string for it to `where`.  0 or -1.
 */
int fx_pg_create(char *dbname, size_t dcap, char *where, size_t wcap);

/* Drop a database made by fx_pg_create(), closing its connections. */
void fx_pg_drop(const char *dbname);

/* Run one SQL command on the cluster's maintenance database.  0 or -1. */
int fx_pg_exec(const char *sql);

/* Stop and start the cluster (tests/pg/pg.sh).  0 or -1. */
int fx_pg_stop(void);
int fx_pg_start(void);

#endif /* TR_TEST_PG_FIXTURE_H */
