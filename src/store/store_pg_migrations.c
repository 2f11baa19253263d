/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL schema, as a list of forward migrations applied by
 * store_pg.c under an advisory lock; the version reached is kept in the
 * one-row table tresor_schema (SQLite keeps it in PRAGMA user_version).
 * Never edit an entry that has shipped: append a new one.
 *
 * The tables mirror store_migrations.c.  Text columns use the "C"
 * collation so that names and ids sort and compare as bytes, as they do
 * in SQLite, whatever the locale of the database; blobs are bytea.
 */
#include "store/store_int.h"

const char *const tr_store_pg_migrations[] = {
	/* 1: objects, versions, retry tokens, settings */
	"CREATE TABLE objects ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  type text COLLATE \"C\" NOT NULL,"
	"  tenancy_id text COLLATE \"C\" NOT NULL,"
	"  compartment_id text COLLATE \"C\" NOT NULL,"
	"  parent_id text COLLATE \"C\" NOT NULL DEFAULT '',"
	"  name text COLLATE \"C\" NOT NULL,"
	"  state text COLLATE \"C\" NOT NULL,"
	"  etag text COLLATE \"C\" NOT NULL,"
	"  time_created bigint NOT NULL,"
	"  time_of_deletion bigint NOT NULL DEFAULT 0,"
	"  seq bigint NOT NULL DEFAULT 0,"
	"  attrs text COLLATE \"C\" NOT NULL DEFAULT '{}'"
	");"
	"CREATE INDEX objects_by_compartment ON objects"
	"  (type, compartment_id, time_created, id);"
	"CREATE INDEX objects_by_parent ON objects (type, parent_id, name);"
	"CREATE UNIQUE INDEX objects_secret_name ON objects (parent_id, name)"
	"  WHERE type = 'vaultsecret' AND state <> 'DELETED';"
	"CREATE UNIQUE INDEX objects_compartment_name ON objects"
	"  (parent_id, name) WHERE type = 'compartment' AND state <> 'DELETED';"
	"CREATE UNIQUE INDEX objects_iam_name ON objects"
	"  (tenancy_id, type, name)"
	"  WHERE type IN ('user', 'policy', 'workload');"
	"CREATE UNIQUE INDEX objects_principal_name ON objects"
	"  (tenancy_id, name) WHERE type IN ('group', 'dynamicgroup');"
	"CREATE UNIQUE INDEX objects_child_name ON objects"
	"  (parent_id, type, name) WHERE type IN ('apikey', 'groupmembership');"
	"CREATE TABLE secret_versions ("
	"  secret_id text COLLATE \"C\" NOT NULL,"
	"  number bigint NOT NULL,"
	"  name text COLLATE \"C\" NOT NULL DEFAULT '',"
	"  stages integer NOT NULL,"
	"  state text COLLATE \"C\" NOT NULL DEFAULT '',"
	"  time_created bigint NOT NULL,"
	"  time_of_deletion bigint NOT NULL DEFAULT 0,"
	"  time_of_expiry bigint NOT NULL DEFAULT 0,"
	"  key_version_id text COLLATE \"C\" NOT NULL,"
	"  wrapped_dek bytea,"
	"  content bytea,"
	"  content_mac bytea,"
	"  attrs text COLLATE \"C\" NOT NULL DEFAULT '{}',"
	"  PRIMARY KEY (secret_id, number)"
	");"
	"CREATE UNIQUE INDEX secret_versions_name ON secret_versions"
	"  (secret_id, name) WHERE name <> '';"
	"CREATE TABLE key_versions ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  key_id text COLLATE \"C\" NOT NULL,"
	"  vault_id text COLLATE \"C\" NOT NULL,"
	"  compartment_id text COLLATE \"C\" NOT NULL,"
	"  state text COLLATE \"C\" NOT NULL,"
	"  time_created bigint NOT NULL,"
	"  time_of_deletion bigint NOT NULL DEFAULT 0,"
	"  seq bigint NOT NULL,"
	"  wrapped bytea NOT NULL,"
	"  public_pem text COLLATE \"C\","
	"  attrs text COLLATE \"C\" NOT NULL DEFAULT '{}'"
	");"
	"CREATE UNIQUE INDEX key_versions_seq ON key_versions (key_id, seq);"
	"CREATE TABLE retry_tokens ("
	"  key bytea PRIMARY KEY,"
	"  body_hash bytea NOT NULL,"
	"  status integer NOT NULL,"
	"  response text COLLATE \"C\","
	"  etag text COLLATE \"C\" NOT NULL DEFAULT '',"
	"  time_created bigint NOT NULL"
	");"
	"CREATE TABLE meta ("
	"  key text COLLATE \"C\" PRIMARY KEY,"
	"  value text COLLATE \"C\" NOT NULL"
	");",
};

const size_t tr_store_pg_migrations_count =
    sizeof(tr_store_pg_migrations) / sizeof(tr_store_pg_migrations[0]);
