/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the store interface (store.h).
 *
 * WAL journal with synchronous=FULL: a transaction is on disk when
 * COMMIT returns, so apply() returning 0 means durable.  In group-commit
 * mode (tr_store_sqlite_group_commit) connections use synchronous=NORMAL
 * instead and the server makes the WAL durable before it answers: one
 * fdatasync of the WAL (tr_store_sqlite_wal_sync, run by util/durable.h)
 * then covers every commit since the last one.  Writers in this process
 * queue on a mutex (no busy-wait sleeps), then take SQLite's lock up
 * front (BEGIN IMMEDIATE); other processes wait through the busy
 * timeout.  The schema is versioned with PRAGMA user_version and
 * migrated forward by the list in store_migrations.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/secret.h"

enum stmt_id {
	S_OBJ_GET,
	S_OBJ_GET_BY_NAME,
	S_OBJ_INSERT,
	S_OBJ_UPDATE,
	S_OBJ_UPDATE_ANY,
	S_OBJ_DELETE,
	S_OBJ_DELETE_IF,
	S_OBJ_EXISTS,
	S_SV_GET,
	S_SV_LIST,
	S_SV_LIST_NOBLOB,
	S_SV_INSERT,
	S_SV_UPDATE,
	S_SV_DELETE,
	S_KV_GET,
	S_KV_LIST,
	S_KV_INSERT,
	S_KV_UPDATE,
	S_KV_DELETE,
	S_RT_GET,
	S_RT_INSERT,
	S_RT_REPLACE,
	S_RT_DELETE,
	S_RT_COMPLETE,
	S_META_GET,
	S_META_PUT,
	S_GEN_BUMP,
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_COUNT
};

static const char *stmt_sql[S_COUNT] = {
	[S_OBJ_GET] = "SELECT id, type, tenancy_id, compartment_id, parent_id,"
	    " name, state, etag, time_created, time_of_deletion, seq, attrs"
	    " FROM objects WHERE id = ?1 AND (?2 IS NULL OR type = ?2)",
	[S_OBJ_GET_BY_NAME] = "SELECT id, type, tenancy_id, compartment_id,"
	    " parent_id, name, state, etag, time_created, time_of_deletion,"
	    " seq, attrs FROM objects WHERE type = ?1 AND name = ?4"
	    " AND (?2 IS NULL OR tenancy_id = ?2)"
	    " AND (?3 IS NULL OR parent_id = ?3) AND state <> 'DELETED'"
	    " ORDER BY time_created DESC LIMIT 1",
	[S_OBJ_INSERT] = "INSERT INTO objects (id, type, tenancy_id,"
	    " compartment_id, parent_id, name, state, etag, time_created,"
	    " time_of_deletion, seq, attrs) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_OBJ_UPDATE] = "UPDATE objects SET tenancy_id = ?3,"
	    " compartment_id = ?4, parent_id = ?5, name = ?6, state = ?7,"
	    " etag = ?8, time_created = ?9, time_of_deletion = ?10, seq = ?11,"
	    " attrs = ?12 WHERE id = ?1 AND type = ?2 AND etag = ?13",
	[S_OBJ_UPDATE_ANY] = "UPDATE objects SET tenancy_id = ?3,"
	    " compartment_id = ?4, parent_id = ?5, name = ?6, state = ?7,"
	    " etag = ?8, time_created = ?9, time_of_deletion = ?10, seq = ?11,"
	    " attrs = ?12 WHERE id = ?1 AND type = ?2",
	[S_OBJ_DELETE] = "DELETE FROM objects WHERE id = ?1",
	[S_OBJ_DELETE_IF] = "DELETE FROM objects WHERE id = ?1 AND etag = ?2",
	[S_OBJ_EXISTS] = "SELECT 1 FROM objects WHERE id = ?1",
	[S_SV_GET] = "SELECT secret_id, number, name, stages, state,"
	    " time_created, time_of_deletion, time_of_expiry, key_version_id,"
	    " wrapped_dek, content, content_mac, attrs FROM secret_versions"
	    " WHERE secret_id = ?1 AND number = ?2",
	[S_SV_LIST] = "SELECT secret_id, number, name, stages, state,"
	    " time_created, time_of_deletion, time_of_expiry, key_version_id,"
	    " wrapped_dek, content, content_mac, attrs FROM secret_versions"
	    " WHERE secret_id = ?1 ORDER BY number",
	[S_SV_LIST_NOBLOB] = "SELECT secret_id, number, name, stages, state,"
	    " time_created, time_of_deletion, time_of_expiry, key_version_id,"
	    " NULL, NULL, content_mac, attrs FROM secret_versions"
	    " WHERE secret_id = ?1 ORDER BY number",
	[S_SV_INSERT] = "INSERT INTO secret_versions (secret_id, number, name,"
	    " stages, state, time_created, time_of_deletion, time_of_expiry,"
	    " key_version_id, wrapped_dek, content, content_mac, attrs)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_SV_UPDATE] = "UPDATE secret_versions SET stages = ?3, state = ?4,"
	    " time_of_deletion = ?5, time_of_expiry = ?6, attrs = ?7,"
	    " key_version_id = ?8, wrapped_dek = COALESCE(?9, wrapped_dek)"
	    " WHERE secret_id = ?1 AND number = ?2",
	[S_SV_DELETE] = "DELETE FROM secret_versions WHERE secret_id = ?1"
	    " AND number = ?2",
	[S_KV_GET] = "SELECT id, key_id, vault_id, compartment_id, state,"
	    " time_created, time_of_deletion, seq, wrapped, public_pem, attrs"
	    " FROM key_versions WHERE id = ?1",
	[S_KV_LIST] = "SELECT id, key_id, vault_id, compartment_id, state,"
	    " time_created, time_of_deletion, seq, wrapped, public_pem, attrs"
	    " FROM key_versions WHERE key_id = ?1 ORDER BY seq",
	[S_KV_INSERT] = "INSERT INTO key_versions (id, key_id, vault_id,"
	    " compartment_id, state, time_created, time_of_deletion, seq,"
	    " wrapped, public_pem, attrs) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_KV_UPDATE] = "UPDATE key_versions SET state = ?2,"
	    " time_of_deletion = ?3, attrs = ?4, compartment_id = ?5"
	    " WHERE id = ?1",
	[S_KV_DELETE] = "DELETE FROM key_versions WHERE id = ?1",
	[S_RT_GET] = "SELECT body_hash, status, response, etag, time_created"
	    " FROM retry_tokens WHERE key = ?1",
	[S_RT_INSERT] = "INSERT INTO retry_tokens (key, body_hash, status,"
	    " response, etag, time_created) VALUES (?1, ?2, 0, NULL, '', ?3)",
	[S_RT_REPLACE] = "UPDATE retry_tokens SET body_hash = ?2, status = 0,"
	    " response = NULL, etag = '', time_created = ?3 WHERE key = ?1",
	[S_RT_DELETE] = "DELETE FROM retry_tokens WHERE key = ?1",
	[S_RT_COMPLETE] = "UPDATE retry_tokens SET status = ?2, response = ?3,"
	    " etag = ?4 WHERE key = ?1",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_PUT] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[S_GEN_BUMP] = "INSERT INTO meta (key, value) VALUES"
	    " ('iam_generation', '1') ON CONFLICT (key) DO UPDATE SET"
	    " value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
};

#define RETRY_PENDING_MS (60 * 1000)

struct sqlite_store {
	struct tr_store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	bool in_read;			/* between read_begin and read_end */
	bool gen_valid;			/* gen read in this snapshot */
	uint64_t gen;
};

static const struct tr_store_ops sqlite_ops;
static void sq_read_end(struct tr_store *base);

/* writers of this process take turns here rather than in busy sleeps */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
/* commits so far, for the WAL sync source */
static _Atomic uint64_t commits;
static atomic_bool group_commit;

/* Map a SQLite result code to a tresor code with a message. */
static int
db_error(struct sqlite_store *s, int src, const char *what)
{
	switch (src) {
	case SQLITE_NOMEM:
		return tr_error_set(TRESOR_ENOMEM, "out of memory in %s", what);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return tr_error_set(TRESOR_EUNAVAIL,
		    "database busy during %s; try again", what);
	case SQLITE_FULL:
		return tr_error_set(TRESOR_EIO, "disk full during %s", what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return tr_error_set(TRESOR_EIO,
		    "database file is corrupt (%s): %s", what,
		    sqlite3_errmsg(s->db));
	default:
		return tr_error_set(TRESOR_EIO, "database error in %s: %s",
		    what, sqlite3_errmsg(s->db));
	}
}

/* Fetch a prepared statement, reset and unbound. */
static sqlite3_stmt *
stmt(struct sqlite_store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmt[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	if (p == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
}

/* Copy a text column into a fixed buffer, refusing truncation. */
static int
col_fixed(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	if (t == NULL) {
		out[0] = '\0';
		return 0;
	}
	if (n >= cap)
		return tr_error_set(TRESOR_EIO, "stored value too long");
	memcpy(out, t, n);
	out[n] = '\0';
	return 0;
}

/* Duplicate a text column (NULL stays NULL). */
static int
col_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	*out = NULL;
	if (t == NULL)
		return 0;
	*out = tr_strndup((const char *)t, (size_t)sqlite3_column_bytes(st, i));
	return *out == NULL ? tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
}

/* Duplicate a blob column. */
static int
col_blob(sqlite3_stmt *st, int i, unsigned char **out, size_t *len)
{
	const void *b = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	*out = NULL;
	*len = 0;
	if (b == NULL)
		return 0;
	*out = tr_malloc(n);
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	memcpy(*out, b, n);
	*len = n;
	return 0;
}

static int
row_to_obj(sqlite3_stmt *st, struct tr_obj *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = col_fixed(st, 0, o->id, sizeof(o->id))) < 0 ||
	    (rc = col_fixed(st, 1, o->type, sizeof(o->type))) < 0 ||
	    (rc = col_fixed(st, 2, o->tenancy_id, sizeof(o->tenancy_id))) < 0 ||
	    (rc = col_fixed(st, 3, o->compartment_id,
	    sizeof(o->compartment_id))) < 0 ||
	    (rc = col_fixed(st, 4, o->parent_id, sizeof(o->parent_id))) < 0 ||
	    (rc = col_fixed(st, 5, o->name, sizeof(o->name))) < 0 ||
	    (rc = col_fixed(st, 6, o->state, sizeof(o->state))) < 0 ||
	    (rc = col_fixed(st, 7, o->etag, sizeof(o->etag))) < 0)
		return rc;
	o->time_created = sqlite3_column_int64(st, 8);
	o->time_of_deletion = sqlite3_column_int64(st, 9);
	o->seq = (uint64_t)sqlite3_column_int64(st, 10);
	return col_dup(st, 11, &o->attrs);
}

static int
row_to_sv(sqlite3_stmt *st, struct tr_secret_version *v)
{
	const void *mac;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = col_fixed(st, 0, v->secret_id, sizeof(v->secret_id))) < 0)
		return rc;
	v->number = (uint64_t)sqlite3_column_int64(st, 1);
	if ((rc = col_fixed(st, 2, v->name, sizeof(v->name))) < 0)
		return rc;
	v->stages = (unsigned int)sqlite3_column_int(st, 3);
	if ((rc = col_fixed(st, 4, v->state, sizeof(v->state))) < 0)
		return rc;
	v->time_created = sqlite3_column_int64(st, 5);
	v->time_of_deletion = sqlite3_column_int64(st, 6);
	v->time_of_expiry = sqlite3_column_int64(st, 7);
	if ((rc = col_fixed(st, 8, v->key_version_id,
	    sizeof(v->key_version_id))) < 0 ||
	    (rc = col_blob(st, 9, &v->wrapped_dek, &v->wrapped_dek_len)) < 0 ||
	    (rc = col_blob(st, 10, &v->content, &v->content_len)) < 0)
		goto fail;
	mac = sqlite3_column_blob(st, 11);
	if (mac != NULL && sqlite3_column_bytes(st, 11) == 32) {
		memcpy(v->content_mac, mac, 32);
		v->has_mac = true;
	}
	if ((rc = col_dup(st, 12, &v->attrs)) < 0)
		goto fail;
	return 0;
fail:
	tr_secret_version_dispose(v);
	return rc;
}

static int
row_to_kv(sqlite3_stmt *st, struct tr_key_version *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = col_fixed(st, 0, v->id, sizeof(v->id))) < 0 ||
	    (rc = col_fixed(st, 1, v->key_id, sizeof(v->key_id))) < 0 ||
	    (rc = col_fixed(st, 2, v->vault_id, sizeof(v->vault_id))) < 0 ||
	    (rc = col_fixed(st, 3, v->compartment_id,
	    sizeof(v->compartment_id))) < 0 ||
	    (rc = col_fixed(st, 4, v->state, sizeof(v->state))) < 0)
		return rc;
	v->time_created = sqlite3_column_int64(st, 5);
	v->time_of_deletion = sqlite3_column_int64(st, 6);
	v->seq = (uint64_t)sqlite3_column_int64(st, 7);
	if ((rc = col_blob(st, 8, &v->wrapped, &v->wrapped_len)) < 0 ||
	    (rc = col_dup(st, 9, &v->public_pem)) < 0 ||
	    (rc = col_dup(st, 10, &v->attrs)) < 0) {
		tr_key_version_dispose(v);
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* objects                                                          */
/* ---------------------------------------------------------------- */

static int
sq_obj_get(struct tr_store *base, struct tr_obj *out, const char *id,
    const char *type)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_OBJ_GET);
	int src, rc;

	bind_text(st, 1, id);
	bind_text(st, 2, type);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such object");
	} else if (src == SQLITE_ROW) {
		rc = row_to_obj(st, out);
	} else {
		rc = db_error(s, src, "object lookup");
	}
	sqlite3_reset(st);
	return rc;
}

static int
sq_obj_get_by_name(struct tr_store *base, struct tr_obj *out, const char *type,
    const char *tenancy_id, const char *parent_id, const char *name)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_OBJ_GET_BY_NAME);
	int src, rc;

	bind_text(st, 1, type);
	bind_text(st, 2, tenancy_id);
	bind_text(st, 3, parent_id);
	bind_text(st, 4, name);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such object");
	else if (src == SQLITE_ROW)
		rc = row_to_obj(st, out);
	else
		rc = db_error(s, src, "object lookup by name");
	sqlite3_reset(st);
	return rc;
}

/* True when `k` is a plain member name, safe inside a JSON path. */
static bool
attr_key_ok(const char *k)
{
	size_t i;

	if (k[0] == '\0' || strlen(k) > 64)
		return false;
	for (i = 0; k[i] != '\0'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9')))
			return false;
	return true;
}

static int
sq_obj_list(struct tr_store *base, struct tr_obj **items_out, size_t *n_out,
    bool *more_out, const struct tr_obj_filter *f, const struct tr_page *pg)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct tr_obj *items = NULL;
	struct tr_buf sql;
	sqlite3_stmt *st = NULL;
	char path[80];
	const char *col, *cmp;
	size_t n = 0, i, limit;
	int rc = TRESOR_EINTERNAL, src, bi = 1;

	*items_out = NULL;
	*n_out = 0;
	*more_out = false;
	tr_buf_init(&sql, 8192);
	limit = pg->limit == 0 ? 100 : pg->limit;
	if (limit > 1000)
		limit = 1000;
	col = pg->sort_by == TR_SORT_NAME ? "name" : "time_created";
	cmp = pg->desc ? "<" : ">";

	tr_buf_addstr(&sql, "SELECT id, type, tenancy_id, compartment_id,"
	    " parent_id, name, state, etag, time_created, time_of_deletion,"
	    " seq, attrs FROM objects WHERE type = ?");
	if (f->tenancy_id != NULL)
		tr_buf_addstr(&sql, " AND tenancy_id = ?");
	if (f->compartment_id != NULL)
		tr_buf_addstr(&sql, " AND compartment_id = ?");
	if (f->parent_id != NULL)
		tr_buf_addstr(&sql, " AND parent_id = ?");
	if (f->name != NULL)
		tr_buf_addstr(&sql, " AND name = ?");
	if (f->state != NULL)
		tr_buf_addstr(&sql, " AND state = ?");
	if (f->hide_deleted)
		tr_buf_addstr(&sql, " AND state <> 'DELETED'");
	for (i = 0; i < TR_FILTER_ATTRS; i++) {
		if (f->attr_key[i] == NULL)
			continue;
		if (!attr_key_ok(f->attr_key[i])) {
			rc = tr_error_set(TRESOR_EINVAL, "bad filter");
			goto out;
		}
		tr_buf_addstr(&sql,
		    " AND CAST(json_extract(attrs, ?) AS TEXT) = ?");
	}
	if (pg->has_after)
		tr_buf_addf(&sql, " AND (%s, id) %s (?, ?)", col, cmp);
	tr_buf_addf(&sql, " ORDER BY %s %s, id %s LIMIT ?", col,
	    pg->desc ? "DESC" : "ASC", pg->desc ? "DESC" : "ASC");
	if ((rc = tr_buf_error(&sql)) < 0)
		goto out;

	src = sqlite3_prepare_v2(s->db, sql.ptr, (int)sql.len, &st, NULL);
	if (src != SQLITE_OK) {
		rc = db_error(s, src, "list");
		goto out;
	}
	sqlite3_bind_text(st, bi++, f->type, -1, SQLITE_STATIC);
	if (f->tenancy_id != NULL)
		sqlite3_bind_text(st, bi++, f->tenancy_id, -1, SQLITE_STATIC);
	if (f->compartment_id != NULL)
		sqlite3_bind_text(st, bi++, f->compartment_id, -1,
		    SQLITE_STATIC);
	if (f->parent_id != NULL)
		sqlite3_bind_text(st, bi++, f->parent_id, -1, SQLITE_STATIC);
	if (f->name != NULL)
		sqlite3_bind_text(st, bi++, f->name, -1, SQLITE_STATIC);
	if (f->state != NULL)
		sqlite3_bind_text(st, bi++, f->state, -1, SQLITE_STATIC);
	for (i = 0; i < TR_FILTER_ATTRS; i++) {
		if (f->attr_key[i] == NULL)
			continue;
		(void)snprintf(path, sizeof(path), "$.%s", f->attr_key[i]);
		sqlite3_bind_text(st, bi++, path, -1, SQLITE_TRANSIENT);
		bind_text(st, bi++, f->attr_value[i]);
	}
	if (pg->has_after) {
		if (pg->sort_by == TR_SORT_NAME)
			bind_text(st, bi++, pg->after_name == NULL ? "" :
			    pg->after_name);
		else
			sqlite3_bind_int64(st, bi++, pg->after_time);
		bind_text(st, bi++, pg->after_id == NULL ? "" : pg->after_id);
	}
	sqlite3_bind_int64(st, bi++, (sqlite3_int64)limit + 1);

	items = tr_calloc(limit + 1, sizeof(*items));
	if (items == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			*more_out = true;
			break;
		}
		if ((rc = row_to_obj(st, &items[n])) < 0)
			goto out;
		n++;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = db_error(s, src, "list");
		goto out;
	}
	*items_out = items;
	*n_out = n;
	items = NULL;
	rc = 0;
out:
	tr_obj_list_free(items, n);
	sqlite3_finalize(st);
	tr_buf_dispose(&sql);
	return rc;
}

/* ---------------------------------------------------------------- */
/* versions                                                         */
/* ---------------------------------------------------------------- */

static int
sq_sv_get(struct tr_store *base, struct tr_secret_version *out,
    const char *secret_id, uint64_t number)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_SV_GET);
	int src, rc;

	bind_text(st, 1, secret_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)number);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such secret version");
	else if (src == SQLITE_ROW)
		rc = row_to_sv(st, out);
	else
		rc = db_error(s, src, "secret version lookup");
	sqlite3_reset(st);
	return rc;
}

static int
sq_sv_list(struct tr_store *base, struct tr_secret_version **items_out,
    size_t *n_out, const char *secret_id, bool with_blobs)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, with_blobs ? S_SV_LIST : S_SV_LIST_NOBLOB);
	struct tr_secret_version *items = NULL, *grown;
	size_t n = 0, cap = 0;
	int src, rc = TRESOR_EINTERNAL;

	*items_out = NULL;
	*n_out = 0;
	bind_text(st, 1, secret_id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			grown = tr_reallocarray(items, cap, sizeof(*items));
			if (grown == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			items = grown;
		}
		if ((rc = row_to_sv(st, &items[n])) < 0)
			goto out;
		n++;
	}
	if (src != SQLITE_DONE) {
		rc = db_error(s, src, "secret version list");
		goto out;
	}
	*items_out = items;
	*n_out = n;
	items = NULL;
	rc = 0;
out:
	tr_secret_version_list_free(items, n);
	sqlite3_reset(st);
	return rc;
}

static int
sq_kv_get(struct tr_store *base, struct tr_key_version *out, const char *id)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_KV_GET);
	int src, rc;

	bind_text(st, 1, id);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such key version");
	else if (src == SQLITE_ROW)
		rc = row_to_kv(st, out);
	else
		rc = db_error(s, src, "key version lookup");
	sqlite3_reset(st);
	return rc;
}

static int
sq_kv_list(struct tr_store *base, struct tr_key_version **items_out,
    size_t *n_out, const char *key_id)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_KV_LIST);
	struct tr_key_version *items = NULL, *grown;
	size_t n = 0, cap = 0;
	int src, rc = TRESOR_EINTERNAL;

	*items_out = NULL;
	*n_out = 0;
	bind_text(st, 1, key_id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			grown = tr_reallocarray(items, cap, sizeof(*items));
			if (grown == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			items = grown;
		}
		if ((rc = row_to_kv(st, &items[n])) < 0)
			goto out;
		n++;
	}
	if (src != SQLITE_DONE) {
		rc = db_error(s, src, "key version list");
		goto out;
	}
	*items_out = items;
	*n_out = n;
	items = NULL;
	rc = 0;
out:
	tr_key_version_list_free(items, n);
	sqlite3_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- */
/* writes                                                           */
/* ---------------------------------------------------------------- */

/* Run a statement that returns no rows; map constraint failures. */
static int
exec_stmt(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);

	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return 0;
	if ((src & 0xff) == SQLITE_CONSTRAINT)
		return tr_error_set(TRESOR_EEXISTS,
		    "%s: an object with that name or id already exists", what);
	return db_error(s, src, what);
}

static void
bind_obj(sqlite3_stmt *st, const struct tr_obj *o)
{
	bind_text(st, 1, o->id);
	bind_text(st, 2, o->type);
	bind_text(st, 3, o->tenancy_id);
	bind_text(st, 4, o->compartment_id);
	bind_text(st, 5, o->parent_id);
	bind_text(st, 6, o->name);
	bind_text(st, 7, o->state);
	bind_text(st, 8, o->etag);
	sqlite3_bind_int64(st, 9, o->time_created);
	sqlite3_bind_int64(st, 10, o->time_of_deletion);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)o->seq);
	bind_text(st, 12, o->attrs == NULL ? "{}" : o->attrs);
}

static int
write_obj_put(struct sqlite_store *s, const struct tr_store_write *w)
{
	sqlite3_stmt *st;
	int rc;

	if (w->expect_etag == NULL) {
		st = stmt(s, S_OBJ_INSERT);
		bind_obj(st, w->obj);
		return exec_stmt(s, st, "create");
	}
	if (strcmp(w->expect_etag, "*") == 0) {
		st = stmt(s, S_OBJ_UPDATE_ANY);
		bind_obj(st, w->obj);
	} else {
		st = stmt(s, S_OBJ_UPDATE);
		bind_obj(st, w->obj);
		bind_text(st, 13, w->expect_etag);
	}
	if ((rc = exec_stmt(s, st, "update")) < 0)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return tr_error_set(TRESOR_EPRECOND,
		    "the object changed or was removed meanwhile");
	return 0;
}

static int
write_obj_delete(struct sqlite_store *s, const struct tr_store_write *w)
{
	sqlite3_stmt *st;
	int rc;

	if (w->expect_etag != NULL) {
		st = stmt(s, S_OBJ_DELETE_IF);
		bind_text(st, 1, w->obj->id);
		bind_text(st, 2, w->expect_etag);
	} else {
		st = stmt(s, S_OBJ_DELETE);
		bind_text(st, 1, w->obj->id);
	}
	if ((rc = exec_stmt(s, st, "delete")) < 0)
		return rc;
	if (w->expect_etag != NULL && sqlite3_changes(s->db) == 0)
		return tr_error_set(TRESOR_EPRECOND,
		    "the object changed or was removed meanwhile");
	return 0;
}

static int
write_sv(struct sqlite_store *s, const struct tr_store_write *w)
{
	const struct tr_secret_version *v = w->sv;
	sqlite3_stmt *st;
	int rc;

	switch (w->kind) {
	case TR_W_SV_INSERT:
		st = stmt(s, S_SV_INSERT);
		bind_text(st, 1, v->secret_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)v->number);
		bind_text(st, 3, v->name);
		sqlite3_bind_int(st, 4, (int)v->stages);
		bind_text(st, 5, v->state);
		sqlite3_bind_int64(st, 6, v->time_created);
		sqlite3_bind_int64(st, 7, v->time_of_deletion);
		sqlite3_bind_int64(st, 8, v->time_of_expiry);
		bind_text(st, 9, v->key_version_id);
		bind_blob(st, 10, v->wrapped_dek, v->wrapped_dek_len);
		bind_blob(st, 11, v->content, v->content_len);
		if (v->has_mac)
			bind_blob(st, 12, v->content_mac, 32);
		bind_text(st, 13, v->attrs == NULL ? "{}" : v->attrs);
		return exec_stmt(s, st, "create secret version");
	case TR_W_SV_UPDATE:
		st = stmt(s, S_SV_UPDATE);
		bind_text(st, 1, v->secret_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)v->number);
		sqlite3_bind_int(st, 3, (int)v->stages);
		bind_text(st, 4, v->state);
		sqlite3_bind_int64(st, 5, v->time_of_deletion);
		sqlite3_bind_int64(st, 6, v->time_of_expiry);
		bind_text(st, 7, v->attrs == NULL ? "{}" : v->attrs);
		bind_text(st, 8, v->key_version_id);
		bind_blob(st, 9, v->wrapped_dek, v->wrapped_dek_len);
		if ((rc = exec_stmt(s, st, "update secret version")) < 0)
			return rc;
		if (sqlite3_changes(s->db) == 0)
			return tr_error_set(TRESOR_EPRECOND,
			    "secret version %llu vanished meanwhile",
			    (unsigned long long)v->number);
		return 0;
	default:
		st = stmt(s, S_SV_DELETE);
		bind_text(st, 1, v->secret_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)v->number);
		return exec_stmt(s, st, "delete secret version");
	}
}

static int
write_kv(struct sqlite_store *s, const struct tr_store_write *w)
{
	const struct tr_key_version *v = w->kv;
	sqlite3_stmt *st;

	if (w->kind == TR_W_KV_INSERT) {
		st = stmt(s, S_KV_INSERT);
		bind_text(st, 1, v->id);
		bind_text(st, 2, v->key_id);
		bind_text(st, 3, v->vault_id);
		bind_text(st, 4, v->compartment_id);
		bind_text(st, 5, v->state);
		sqlite3_bind_int64(st, 6, v->time_created);
		sqlite3_bind_int64(st, 7, v->time_of_deletion);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)v->seq);
		bind_blob(st, 9, v->wrapped, v->wrapped_len);
		bind_text(st, 10, v->public_pem);
		bind_text(st, 11, v->attrs == NULL ? "{}" : v->attrs);
		return exec_stmt(s, st, "create key version");
	}
	if (w->kind == TR_W_KV_DELETE) {
		st = stmt(s, S_KV_DELETE);
		bind_text(st, 1, v->id);
		return exec_stmt(s, st, "delete key version");
	}
	st = stmt(s, S_KV_UPDATE);
	bind_text(st, 1, v->id);
	bind_text(st, 2, v->state);
	sqlite3_bind_int64(st, 3, v->time_of_deletion);
	bind_text(st, 4, v->attrs == NULL ? "{}" : v->attrs);
	bind_text(st, 5, v->compartment_id);
	return exec_stmt(s, st, "update key version");
}

static int
write_retry(struct sqlite_store *s, const struct tr_store_write *w)
{
	sqlite3_stmt *st = stmt(s, S_RT_COMPLETE);

	bind_blob(st, 1, w->retry->key, 32);
	sqlite3_bind_int(st, 2, w->retry->status);
	bind_text(st, 3, w->retry->response);
	bind_text(st, 4, w->retry->etag);
	return exec_stmt(s, st, "retry token");
}

static void
rollback(struct sqlite_store *s)
{
	sqlite3_stmt *st = stmt(s, S_ROLLBACK);

	(void)sqlite3_step(st);
	sqlite3_reset(st);
}

static int
apply_locked(struct sqlite_store *s, const struct tr_store_write *w, size_t n)
{
	bool iam = false;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	if ((rc = exec_stmt(s, stmt(s, S_BEGIN), "begin")) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		switch (w[i].kind) {
		case TR_W_OBJ_PUT:
			rc = write_obj_put(s, &w[i]);
			break;
		case TR_W_OBJ_DELETE:
			rc = write_obj_delete(s, &w[i]);
			break;
		case TR_W_SV_INSERT:
		case TR_W_SV_UPDATE:
		case TR_W_SV_DELETE:
			rc = write_sv(s, &w[i]);
			break;
		case TR_W_KV_INSERT:
		case TR_W_KV_UPDATE:
		case TR_W_KV_DELETE:
			rc = write_kv(s, &w[i]);
			break;
		case TR_W_RETRY_PUT:
			rc = write_retry(s, &w[i]);
			break;
		default:
			rc = tr_error_set(TRESOR_EINTERNAL, "bad write kind");
			break;
		}
		if (rc < 0)
			goto fail;
		if (w[i].obj != NULL && tr_store_type_is_iam(w[i].obj->type))
			iam = true;
	}
	if (iam && (rc = exec_stmt(s, stmt(s, S_GEN_BUMP), "generation")) < 0)
		goto fail;
	if ((rc = exec_stmt(s, stmt(s, S_COMMIT), "commit")) < 0)
		goto fail;
	atomic_fetch_add(&commits, 1);
	return 0;
fail:
	rollback(s);
	return rc;
}

static int
sq_apply(struct tr_store *base, const struct tr_store_write *w, size_t n)
{
	int rc;

	sq_read_end(base);
	pthread_mutex_lock(&write_lock);
	rc = apply_locked((struct sqlite_store *)base, w, n);
	pthread_mutex_unlock(&write_lock);
	return rc;
}

/* ---------------------------------------------------------------- */
/* retry tokens, counters, settings                                 */
/* ---------------------------------------------------------------- */

static int
retry_claim_locked(struct sqlite_store *s, struct tr_retry_rec *out,
    const unsigned char key[32], const unsigned char body_hash[32],
    int64_t max_age_ms)
{
	int64_t now = tr_now_ms();
	sqlite3_stmt *st;
	const void *bh;
	int src, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = exec_stmt(s, stmt(s, S_BEGIN), "begin")) < 0)
		return rc;
	st = stmt(s, S_RT_GET);
	bind_blob(st, 1, key, 32);
	src = sqlite3_step(st);
	/*
	 * A completed record lives `max_age_ms`; a claim whose first attempt
	 * never finished (the server died) is abandoned after a minute.
	 */
	if (src == SQLITE_ROW &&
	    sqlite3_column_int64(st, 4) + (sqlite3_column_int(st, 1) == 0 ?
	    RETRY_PENDING_MS : max_age_ms) > now) {
		memcpy(out->key, key, 32);
		bh = sqlite3_column_blob(st, 0);
		if (bh != NULL && sqlite3_column_bytes(st, 0) == 32)
			memcpy(out->body_hash, bh, 32);
		out->status = sqlite3_column_int(st, 1);
		rc = col_dup(st, 2, &out->response);
		if (rc == 0)
			rc = col_fixed(st, 3, out->etag, sizeof(out->etag));
		out->time_created = sqlite3_column_int64(st, 4);
		sqlite3_reset(st);
		rollback(s);
		if (rc < 0) {
			tr_retry_rec_dispose(out);
			return rc;
		}
		return TRESOR_EEXISTS;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = db_error(s, src, "retry token lookup");
		sqlite3_reset(st);
		rollback(s);
		return rc;
	}
	st = stmt(s, src == SQLITE_ROW ? S_RT_REPLACE : S_RT_INSERT);
	bind_blob(st, 1, key, 32);
	if (src == SQLITE_ROW) {
		bind_blob(st, 2, body_hash, 32);
		sqlite3_bind_int64(st, 3, now);
	} else {
		bind_blob(st, 2, body_hash, 32);
		sqlite3_bind_int64(st, 3, now);
	}
	if ((rc = exec_stmt(s, st, "retry token")) < 0 ||
	    (rc = exec_stmt(s, stmt(s, S_COMMIT), "commit")) < 0) {
		rollback(s);
		return rc;
	}
	atomic_fetch_add(&commits, 1);
	return 0;
}

static int
sq_retry_claim(struct tr_store *base, struct tr_retry_rec *out,
    const unsigned char key[32], const unsigned char body_hash[32],
    int64_t max_age_ms)
{
	int rc;

	sq_read_end(base);
	pthread_mutex_lock(&write_lock);
	rc = retry_claim_locked((struct sqlite_store *)base, out, key,
	    body_hash, max_age_ms);
	pthread_mutex_unlock(&write_lock);
	return rc;
}

static int
sq_retry_release(struct tr_store *base, const unsigned char key[32])
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_RT_DELETE);
	int rc;

	sq_read_end(base);
	bind_blob(st, 1, key, 32);
	pthread_mutex_lock(&write_lock);
	rc = exec_stmt(s, st, "retry token release");
	pthread_mutex_unlock(&write_lock);
	if (rc == 0)
		atomic_fetch_add(&commits, 1);
	return rc;
}

static int
sq_setting_get(struct tr_store *base, char **value_out, const char *key)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_META_GET);
	int src, rc;

	*value_out = NULL;
	bind_text(st, 1, key);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = col_dup(st, 0, value_out);
	else if (src == SQLITE_DONE)
		rc = tr_error_set(TRESOR_ENOTFOUND, "no setting %s", key);
	else
		rc = db_error(s, src, "setting lookup");
	sqlite3_reset(st);
	return rc;
}

static int
sq_setting_put(struct tr_store *base, const char *key, const char *value)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = stmt(s, S_META_PUT);
	int rc;

	sq_read_end(base);
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	pthread_mutex_lock(&write_lock);
	rc = exec_stmt(s, st, "setting update");
	pthread_mutex_unlock(&write_lock);
	if (rc == 0)
		atomic_fetch_add(&commits, 1);
	return rc;
}

static int
sq_iam_generation(struct tr_store *base, uint64_t *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	char *v = NULL;
	uint64_t g = 0;
	size_t i;
	int rc;

	*out = 0;
	if (s->in_read && s->gen_valid) {
		*out = s->gen;
		return 0;
	}
	rc = sq_setting_get(base, &v, "iam_generation");
	if (rc == TRESOR_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	for (i = 0; v[i] >= '0' && v[i] <= '9'; i++)
		g = g * 10 + (uint64_t)(v[i] - '0');
	tr_free(v);
	*out = g;
	if (s->in_read) {
		s->gen = g;
		s->gen_valid = true;
	}
	return 0;
}

static int exec_sql(struct sqlite_store *s, const char *sql,
    const char *what);

static int
sq_read_begin(struct tr_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	int rc;

	if (s->in_read)
		return 0;
	if ((rc = exec_sql(s, "BEGIN", "read")) < 0)
		return rc;
	s->in_read = true;
	s->gen_valid = false;
	return 0;
}

static void
sq_read_end(struct tr_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;

	if (!s->in_read)
		return;
	s->in_read = false;
	s->gen_valid = false;
	(void)exec_sql(s, "COMMIT", "read");
}

/* ---------------------------------------------------------------- */
/* open and close                                                   */
/* ---------------------------------------------------------------- */

static void
sq_close(struct tr_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	tr_free(s);
}

/* Run one SQL text; used for pragmas and migrations. */
static int
exec_sql(struct sqlite_store *s, const char *sql, const char *what)
{
	char *msg = NULL;
	int src = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (src != SQLITE_OK) {
		int rc;

		if (src == SQLITE_NOTADB || src == SQLITE_CORRUPT)
			rc = tr_error_set(TRESOR_EIO,
			    "database is corrupt or not a tresor database "
			    "(%s): %s", what, msg == NULL ? "?" : msg);
		else
			rc = tr_error_set(TRESOR_EIO, "%s failed: %s", what,
			    msg == NULL ? "?" : msg);
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* Read PRAGMA user_version. */
static int
schema_version(struct sqlite_store *s, int *out)
{
	sqlite3_stmt *st = NULL;
	int src, rc;

	src = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (src != SQLITE_OK)
		return db_error(s, src, "schema version");
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = db_error(s, src, "schema version");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Apply every migration past the file's version, each in a transaction. */
static int
migrate(struct sqlite_store *s)
{
	char sql[64];
	int v, rc;
	size_t i;

	if ((rc = schema_version(s, &v)) < 0)
		return rc;
	if (v > (int)tr_store_sqlite_migrations_count)
		return tr_error_set(TRESOR_EIO,
		    "database schema version %d is newer than this tresord "
		    "understands (%zu); upgrade tresord", v,
		    tr_store_sqlite_migrations_count);
	for (i = (size_t)v; i < tr_store_sqlite_migrations_count; i++) {
		if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "migration")) < 0)
			return rc;
		if ((rc = exec_sql(s, tr_store_sqlite_migrations[i],
		    "migration")) < 0) {
			(void)exec_sql(s, "ROLLBACK", "rollback");
			return rc;
		}
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu",
		    i + 1);
		if ((rc = exec_sql(s, sql, "migration")) < 0 ||
		    (rc = exec_sql(s, "COMMIT", "migration")) < 0) {
			(void)exec_sql(s, "ROLLBACK", "rollback");
			return rc;
		}
	}
	return 0;
}

int
tr_store_sqlite_open(struct tr_store **out, const char *path, bool create)
{
	struct sqlite_store *s = NULL;
	struct stat sb;
	int src, rc = TRESOR_EINTERNAL, fd = -1, v;
	size_t i;

	*out = NULL;
	if (create) {
		/* the file exists with mode 0600 before SQLite writes it */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST) {
			rc = tr_error_set(TRESOR_EIO, "cannot create %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (fd >= 0)
			close(fd);
	} else if (stat(path, &sb) != 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND,
		    "no database at %s (run 'tresord init' first)", path);
		goto out;
	}
	s = tr_calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	s->base.ops = &sqlite_ops;
	src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (src != SQLITE_OK) {
		rc = tr_error_set(TRESOR_EIO, "cannot open database %s: %s",
		    path, s->db == NULL ? "out of memory" :
		    sqlite3_errmsg(s->db));
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 10000);
	if ((rc = exec_sql(s, "PRAGMA journal_mode = WAL",
	    "opening the database")) < 0 ||
	    /*
	     * Group commit: no fsync at COMMIT, and no checkpoint in the
	     * committing thread (an event loop) either: the maintenance
	     * thread checkpoints (tr_store_sqlite_checkpoint).
	     */
	    (rc = exec_sql(s, atomic_load(&group_commit) ?
	    "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; "
	    "PRAGMA foreign_keys = ON;" :
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
	    "opening the database")) < 0 ||
	    (rc = exec_sql(s, "PRAGMA secure_delete = ON; "
	    "PRAGMA cell_size_check = ON; "
	    /* 16 MiB of pages per connection: the index of a large vault */
	    "PRAGMA cache_size = -16384", "opening the database")) < 0)
		goto out;
	if (!create) {
		if ((rc = schema_version(s, &v)) < 0)
			goto out;
		if (v == 0) {
			rc = tr_error_set(TRESOR_EIO,
			    "%s is not a tresor database (no schema); "
			    "run 'tresord init'", path);
			goto out;
		}
	}
	if ((rc = migrate(s)) < 0)
		goto out;
	for (i = 0; i < S_COUNT; i++) {
		src = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (src != SQLITE_OK) {
			rc = db_error(s, src, "preparing statements");
			goto out;
		}
	}
	*out = &s->base;
	s = NULL;
	rc = 0;
out:
	if (s != NULL)
		sq_close(&s->base);
	return rc;
}

int
tr_store_sqlite_check(struct tr_store *st, bool full)
{
	struct sqlite_store *s = (struct sqlite_store *)st;
	sqlite3_stmt *q = NULL;
	const unsigned char *row;
	char first[256] = "";
	int src, rc = 0, nbad = 0;

	if (st->ops != &sqlite_ops)
		return 0;
	src = sqlite3_prepare_v2(s->db, full ? "PRAGMA integrity_check(20)" :
	    "PRAGMA quick_check(20)", -1, &q, NULL);
	if (src != SQLITE_OK)
		return db_error(s, src, "checking the database");
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		row = sqlite3_column_text(q, 0);
		if (row == NULL || strcmp((const char *)row, "ok") == 0)
			continue;
		/* "*** in database main ***\nPage 6: ...": skip the banner */
		if (strncmp((const char *)row, "***", 3) == 0 &&
		    strchr((const char *)row, '\n') != NULL)
			row = (const unsigned char *)strchr(
			    (const char *)row, '\n') + 1;
		if (nbad++ == 0)
			(void)snprintf(first, sizeof(first), "%s",
			    (const char *)row);
	}
	if (src != SQLITE_DONE)
		rc = db_error(s, src, "checking the database");
	else if (nbad > 0)
		rc = tr_error_set(TRESOR_EIO, "the database is corrupt (%d "
		    "problem%s; first: %s); it will not be served. Restore "
		    "it from a backup", nbad, nbad == 1 ? "" : "s", first);
	sqlite3_finalize(q);
	return rc;
}

void
tr_store_sqlite_group_commit(bool on)
{
	atomic_store(&group_commit, on);
}

int
tr_store_sqlite_checkpoint(struct tr_store *st)
{
	struct sqlite_store *s;
	int src, log = 0, done = 0;

	while (st != NULL && st->ops != &sqlite_ops) {
		/* a cache in front: the handle behind it */
		st = tr_store_inner(st);
	}
	if (st == NULL)
		return 0;
	s = (struct sqlite_store *)st;
	if (s->in_read)
		sq_read_end(st);
	src = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &log, &done);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		return db_error(s, src, "checkpoint");
	return 0;
}

struct tr_sqlite_wal {
	char path[PATH_MAX];
	int fd;
	uint64_t synced;		/* commits covered by the last sync */
};

int
tr_store_sqlite_wal_new(struct tr_sqlite_wal **out, const char *db_path)
{
	struct tr_sqlite_wal *w;

	*out = NULL;
	w = tr_calloc(1, sizeof(*w));
	if (w == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if ((size_t)snprintf(w->path, sizeof(w->path), "%s-wal", db_path) >=
	    sizeof(w->path)) {
		tr_free(w);
		return tr_error_set(TRESOR_EINVAL, "database path too long");
	}
	w->fd = -1;
	*out = w;
	return 0;
}

void
tr_store_sqlite_wal_free(struct tr_sqlite_wal *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	tr_free(w);
}

bool
tr_store_sqlite_wal_idle(void *payload)
{
	struct tr_sqlite_wal *w = payload;

	return atomic_load(&commits) == w->synced;
}

int
tr_store_sqlite_wal_sync(void *payload)
{
	struct tr_sqlite_wal *w = payload;
	uint64_t c = atomic_load(&commits);
	struct stat sp, sf;

	if (c == w->synced)
		return 0;
	/* the WAL this path names now (SQLite may have made a new one) */
	if (stat(w->path, &sp) != 0) {
		if (errno != ENOENT)
			return tr_error_set(TRESOR_EIO, "cannot stat %s: %s",
			    w->path, strerror(errno));
		/* no WAL: every commit was checkpointed, and synced */
		w->synced = c;
		return 0;
	}
	if (w->fd >= 0 && (fstat(w->fd, &sf) != 0 ||
	    sf.st_ino != sp.st_ino || sf.st_dev != sp.st_dev)) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->fd < 0) {
		w->fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (w->fd < 0)
			return tr_error_set(TRESOR_EIO, "cannot open %s: %s",
			    w->path, strerror(errno));
	}
	if (fdatasync(w->fd) != 0)
		return tr_error_set(TRESOR_EIO, "cannot sync %s: %s",
		    w->path, strerror(errno));
	w->synced = c;
	return 0;
}

/* ---------------------------------------------------------------- */
/* one node: notifications, locks; dump and load                    */
/* ---------------------------------------------------------------- */

/*
 * One tresord is the whole service on SQLite, and its caches see every
 * write of their own process: there is nobody to notify.
 */
static int
sq_notify(struct tr_store *base, const char *channel, const char *payload)
{
	(void)base;
	(void)channel;
	(void)payload;
	return 0;
}

static int
sq_listen(struct tr_store *base, const char *channel)
{
	(void)base;
	(void)channel;
	return 0;
}

/* Nothing ever arrives: wait out the time so a listener does not spin. */
static int
sq_poll_notify(struct tr_store *base, int timeout_ms, char **channel_out,
    char **payload_out)
{
	(void)base;
	*channel_out = NULL;
	*payload_out = NULL;
	if (timeout_ms > 0)
		(void)sqlite3_sleep(timeout_ms);
	return 0;
}

/* One process is the whole service: every lock is granted to it. */
static int
sq_try_lock(struct tr_store *base, uint64_t key, bool *got)
{
	(void)base;
	(void)key;
	*got = true;
	return 0;
}

static int
sq_unlock(struct tr_store *base, uint64_t key)
{
	(void)base;
	(void)key;
	return 0;
}

/* The dump, table by table, in the order store.h promises. */
static const char *const sq_dump_sql[] = {
	("SELECT id, type, tenancy_id, compartment_id, parent_id, name,"
	" state, etag, time_created, time_of_deletion, seq, attrs"
	" FROM objects ORDER BY id"),
	("SELECT secret_id, number, name, stages, state, time_created,"
	" time_of_deletion, time_of_expiry, key_version_id, wrapped_dek,"
	" content, content_mac, attrs FROM secret_versions"
	" ORDER BY secret_id, number"),
	("SELECT id, key_id, vault_id, compartment_id, state, time_created,"
	" time_of_deletion, seq, wrapped, public_pem, attrs"
	" FROM key_versions ORDER BY id"),
	("SELECT key, body_hash, status, response, etag, time_created"
	" FROM retry_tokens ORDER BY key"),
	"SELECT key, value FROM meta ORDER BY key",
};

/* Decode the current row of table `t` and hand it to `cb`. */
static int
sq_dump_row(sqlite3_stmt *st, size_t t,
    int (*cb)(const struct tr_store_record *r, void *payload), void *payload)
{
	struct tr_store_record rec;
	struct tr_obj o;
	struct tr_secret_version sv;
	struct tr_key_version kv;
	struct tr_retry_rec rt;
	char *k = NULL, *v = NULL;
	const void *b;
	int rc = TRESOR_EINTERNAL;

	memset(&rec, 0, sizeof(rec));
	memset(&o, 0, sizeof(o));
	memset(&sv, 0, sizeof(sv));
	memset(&kv, 0, sizeof(kv));
	memset(&rt, 0, sizeof(rt));
	switch (t) {
	case 0:
		rec.kind = TR_REC_OBJ;
		rec.obj = &o;
		rc = row_to_obj(st, &o);
		break;
	case 1:
		rec.kind = TR_REC_SV;
		rec.sv = &sv;
		rc = row_to_sv(st, &sv);
		break;
	case 2:
		rec.kind = TR_REC_KV;
		rec.kv = &kv;
		rc = row_to_kv(st, &kv);
		break;
	case 3:
		rec.kind = TR_REC_RETRY;
		rec.retry = &rt;
		b = sqlite3_column_blob(st, 0);
		if (b != NULL && sqlite3_column_bytes(st, 0) == 32)
			memcpy(rt.key, b, 32);
		b = sqlite3_column_blob(st, 1);
		if (b != NULL && sqlite3_column_bytes(st, 1) == 32)
			memcpy(rt.body_hash, b, 32);
		rt.status = sqlite3_column_int(st, 2);
		rt.time_created = sqlite3_column_int64(st, 5);
		if ((rc = col_dup(st, 3, &rt.response)) == 0)
			rc = col_fixed(st, 4, rt.etag, sizeof(rt.etag));
		break;
	default:
		rec.kind = TR_REC_SETTING;
		if ((rc = col_dup(st, 0, &k)) == 0)
			rc = col_dup(st, 1, &v);
		rec.setting_key = k;
		rec.setting_value = v;
		break;
	}
	if (rc == 0)
		rc = cb(&rec, payload);
	tr_obj_dispose(&o);
	tr_secret_version_dispose(&sv);
	tr_key_version_dispose(&kv);
	tr_retry_rec_dispose(&rt);
	tr_free(k);
	tr_free(v);
	return rc;
}

/* Every record, from one read transaction (one snapshot under WAL). */
static int
sq_dump(struct tr_store *base,
    int (*cb)(const struct tr_store_record *r, void *payload), void *payload)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	size_t t;
	int src, rc = TRESOR_EINTERNAL;

	if ((rc = exec_sql(s, "BEGIN", "dump")) < 0)
		return rc;
	for (t = 0; t < sizeof(sq_dump_sql) / sizeof(sq_dump_sql[0]); t++) {
		src = sqlite3_prepare_v2(s->db, sq_dump_sql[t], -1, &st, NULL);
		if (src != SQLITE_OK) {
			rc = db_error(s, src, "dump");
			goto out;
		}
		while ((src = sqlite3_step(st)) == SQLITE_ROW)
			if ((rc = sq_dump_row(st, t, cb, payload)) < 0)
				goto out;
		if (src != SQLITE_DONE) {
			rc = db_error(s, src, "dump");
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	(void)exec_sql(s, "COMMIT", "dump");
	return rc;
}

/* Run one INSERT of a record that has no prepared statement. */
static int
sq_load_sql(struct sqlite_store *s, const struct tr_store_record *r)
{
	sqlite3_stmt *st = NULL;
	int src, rc;

	src = sqlite3_prepare_v2(s->db, r->kind == TR_REC_RETRY ?
	    "INSERT INTO retry_tokens (key, body_hash, status, response, etag,"
	    " time_created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)" :
	    "INSERT INTO meta (key, value) VALUES (?1, ?2)", -1, &st, NULL);
	if (src != SQLITE_OK)
		return db_error(s, src, "load");
	if (r->kind == TR_REC_RETRY) {
		bind_blob(st, 1, r->retry->key, 32);
		bind_blob(st, 2, r->retry->body_hash, 32);
		sqlite3_bind_int(st, 3, r->retry->status);
		bind_text(st, 4, r->retry->response);
		bind_text(st, 5, r->retry->etag);
		sqlite3_bind_int64(st, 6, r->retry->time_created);
	} else {
		bind_text(st, 1, r->setting_key);
		bind_text(st, 2, r->setting_value);
	}
	rc = exec_stmt(s, st, "load");
	sqlite3_finalize(st);
	return rc;
}

/* Insert one record exactly as dump() gave it. */
static int
sq_load_record(struct sqlite_store *s, const struct tr_store_record *r)
{
	struct tr_store_write w;

	memset(&w, 0, sizeof(w));
	switch (r->kind) {
	case TR_REC_OBJ:
		w.kind = TR_W_OBJ_PUT;
		w.obj = r->obj;
		return write_obj_put(s, &w);
	case TR_REC_SV:
		w.kind = TR_W_SV_INSERT;
		w.sv = r->sv;
		return write_sv(s, &w);
	case TR_REC_KV:
		w.kind = TR_W_KV_INSERT;
		w.kv = r->kv;
		return write_kv(s, &w);
	case TR_REC_RETRY:
	case TR_REC_SETTING:
		return sq_load_sql(s, r);
	default:
		return tr_error_set(TRESOR_EINVAL, "bad record kind");
	}
}

static int
sq_load(struct tr_store *base, enum tr_load_step step,
    const struct tr_store_record *r)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	bool open_txn = sqlite3_get_autocommit(s->db) == 0;
	int rc;

	switch (step) {
	case TR_LOAD_BEGIN:
		return exec_stmt(s, stmt(s, S_BEGIN), "load");
	case TR_LOAD_RECORD:
		if (!open_txn)
			return tr_error_set(TRESOR_EINVAL, "no load begun");
		/* as on PostgreSQL, a failed record voids the load */
		if ((rc = sq_load_record(s, r)) < 0)
			rollback(s);
		return rc;
	case TR_LOAD_COMMIT:
		if (!open_txn)
			return tr_error_set(TRESOR_EINVAL, "no load begun");
		if ((rc = exec_stmt(s, stmt(s, S_COMMIT), "commit")) < 0)
			rollback(s);
		return rc;
	default:
		if (open_txn)
			rollback(s);
		return 0;
	}
}

static const struct tr_store_ops sqlite_ops = {
	.version = TR_STORE_OPS_VERSION,
	.name = "sqlite",
	.close = sq_close,
	.obj_get = sq_obj_get,
	.obj_get_by_name = sq_obj_get_by_name,
	.obj_list = sq_obj_list,
	.sv_get = sq_sv_get,
	.sv_list = sq_sv_list,
	.kv_get = sq_kv_get,
	.kv_list = sq_kv_list,
	.apply = sq_apply,
	.retry_claim = sq_retry_claim,
	.retry_release = sq_retry_release,
	.iam_generation = sq_iam_generation,
	.setting_get = sq_setting_get,
	.setting_put = sq_setting_put,
	.notify = sq_notify,
	.listen = sq_listen,
	.poll_notify = sq_poll_notify,
	.try_lock = sq_try_lock,
	.unlock = sq_unlock,
	.dump = sq_dump,
	.load = sq_load,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
};
