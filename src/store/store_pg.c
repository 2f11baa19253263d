/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL backend of the store interface (store.h), through libpq.
 *
 * Several tresord nodes share one database and behave as one service:
 * PostgreSQL does the hard parts.  Writes run in READ COMMITTED
 * transactions; every object write compares the etag in its WHERE
 * clause, and a concurrent writer of the same row waits for the first
 * to commit and then finds the etag changed (TRESOR_EPRECOND), so no
 * update is lost and version numbers stay unique.  Unique indexes give
 * TRESOR_EEXISTS; serialization failures and deadlocks give
 * TRESOR_EPRECOND, which callers already retry.  apply() announces what
 * it changed with NOTIFY inside its transaction, so caches on the other
 * nodes hear of it exactly when it commits.  Advisory locks let one node
 * run a scheduled job.  The schema is migrated forward under an advisory
 * lock by the list in store_pg_migrations.c.
 *
 * One handle is one connection, used by one thread at a time.  Nothing
 * here may hang: the socket is non-blocking and every wait is bounded
 * (statement_timeout on the server, a deadline a little past it on the
 * client; connect_timeout, TCP keepalives and tcp_user_timeout below
 * that).  A connection the server closed while it sat idle (a restart, a
 * failover) is replaced before the next statement.  One lost during a
 * call makes that call return TRESOR_EUNAVAIL at once, and a later call
 * reconnects (at most one attempt a second, failing fast meanwhile),
 * prepares its statements again and listens again to its channels.
 *
 * Values travel as parameters, never in SQL text: text as text, blobs as
 * binary bytea; results come back in binary format.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/secret.h"

/* ---------------------------------------------------------------- */
/* statements                                                       */
/* ---------------------------------------------------------------- */

enum stmt_id {
	S_OBJ_GET,
	S_OBJ_GET_BY_NAME,
	S_OBJ_INSERT,
	S_OBJ_UPDATE,
	S_OBJ_UPDATE_ANY,
	S_OBJ_DELETE,
	S_OBJ_DELETE_IF,
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
	S_RT_CLAIM,
	S_RT_GET,
	S_RT_DELETE,
	S_RT_COMPLETE,
	S_RT_LOAD,
	S_META_GET,
	S_META_PUT,
	S_META_INSERT,
	S_GEN_BUMP,
	S_NOTIFY,
	S_TRY_LOCK,
	S_UNLOCK,
	S_COUNT
};

#define OBJ_COLS "id, type, tenancy_id, compartment_id, parent_id, name," \
	" state, etag, time_created, time_of_deletion, seq, attrs"
#define SV_COLS "secret_id, number, name, stages, state, time_created," \
	" time_of_deletion, time_of_expiry, key_version_id, wrapped_dek," \
	" content, content_mac, attrs"
#define SV_COLS_NOBLOB "secret_id, number, name, stages, state," \
	" time_created, time_of_deletion, time_of_expiry, key_version_id," \
	" NULL::bytea, NULL::bytea, content_mac, attrs"
#define KV_COLS "id, key_id, vault_id, compartment_id, state, time_created," \
	" time_of_deletion, seq, wrapped, public_pem, attrs"
#define RT_COLS "key, body_hash, status, response, etag, time_created"
#define OBJ_SET "tenancy_id = $3::text, compartment_id = $4::text," \
	" parent_id = $5::text, name = $6::text, state = $7::text," \
	" etag = $8::text, time_created = $9::bigint," \
	" time_of_deletion = $10::bigint, seq = $11::bigint, attrs = $12::text"

static const char *const stmt_sql[S_COUNT] = {
	[S_OBJ_GET] = "SELECT " OBJ_COLS " FROM objects WHERE id = $1::text"
	    " AND ($2::text IS NULL OR type = $2::text)",
	[S_OBJ_GET_BY_NAME] = "SELECT " OBJ_COLS " FROM objects"
	    " WHERE type = $1::text AND name = $4::text"
	    " AND ($2::text IS NULL OR tenancy_id = $2::text)"
	    " AND ($3::text IS NULL OR parent_id = $3::text)"
	    " AND state <> 'DELETED' ORDER BY time_created DESC, id DESC"
	    " LIMIT 1",
	[S_OBJ_INSERT] = "INSERT INTO objects (" OBJ_COLS ") VALUES"
	    " ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text,"
	    " $7::text, $8::text, $9::bigint, $10::bigint, $11::bigint,"
	    " $12::text)",
	[S_OBJ_UPDATE] = "UPDATE objects SET " OBJ_SET " WHERE id = $1::text"
	    " AND type = $2::text AND etag = $13::text",
	[S_OBJ_UPDATE_ANY] = "UPDATE objects SET " OBJ_SET
	    " WHERE id = $1::text AND type = $2::text",
	[S_OBJ_DELETE] = "DELETE FROM objects WHERE id = $1::text",
	[S_OBJ_DELETE_IF] = "DELETE FROM objects WHERE id = $1::text"
	    " AND etag = $2::text",
	[S_SV_GET] = "SELECT " SV_COLS " FROM secret_versions"
	    " WHERE secret_id = $1::text AND number = $2::bigint",
	[S_SV_LIST] = "SELECT " SV_COLS " FROM secret_versions"
	    " WHERE secret_id = $1::text ORDER BY number",
	[S_SV_LIST_NOBLOB] = "SELECT " SV_COLS_NOBLOB " FROM secret_versions"
	    " WHERE secret_id = $1::text ORDER BY number",
	[S_SV_INSERT] = "INSERT INTO secret_versions (" SV_COLS ") VALUES"
	    " ($1::text, $2::bigint, $3::text, $4::integer, $5::text,"
	    " $6::bigint, $7::bigint, $8::bigint, $9::text, $10::bytea,"
	    " $11::bytea, $12::bytea, $13::text)",
	[S_SV_UPDATE] = "UPDATE secret_versions SET stages = $3::integer,"
	    " state = $4::text, time_of_deletion = $5::bigint,"
	    " time_of_expiry = $6::bigint, attrs = $7::text,"
	    " key_version_id = $8::text,"
	    " wrapped_dek = COALESCE($9::bytea, wrapped_dek)"
	    " WHERE secret_id = $1::text AND number = $2::bigint",
	[S_SV_DELETE] = "DELETE FROM secret_versions WHERE secret_id = $1::text"
	    " AND number = $2::bigint",
	[S_KV_GET] = "SELECT " KV_COLS " FROM key_versions WHERE id = $1::text",
	[S_KV_LIST] = "SELECT " KV_COLS " FROM key_versions"
	    " WHERE key_id = $1::text ORDER BY seq",
	[S_KV_INSERT] = "INSERT INTO key_versions (" KV_COLS ") VALUES"
	    " ($1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint,"
	    " $7::bigint, $8::bigint, $9::bytea, $10::text, $11::text)",
	[S_KV_UPDATE] = "UPDATE key_versions SET state = $2::text,"
	    " time_of_deletion = $3::bigint, attrs = $4::text,"
	    " compartment_id = $5::text WHERE id = $1::text",
	[S_KV_DELETE] = "DELETE FROM key_versions WHERE id = $1::text",
	/*
	 * Claim a token in one statement, atomic against every node: insert
	 * it, or take over a record whose time is up ($4: pending claims
	 * started before it are abandoned; $5: completed ones are expired).
	 */
	[S_RT_CLAIM] = "INSERT INTO retry_tokens (" RT_COLS ") VALUES"
	    " ($1::bytea, $2::bytea, 0, NULL, '', $3::bigint)"
	    " ON CONFLICT (key) DO UPDATE SET body_hash = excluded.body_hash,"
	    " status = 0, response = NULL, etag = '',"
	    " time_created = excluded.time_created"
	    " WHERE retry_tokens.time_created <= CASE"
	    " WHEN retry_tokens.status = 0 THEN $4::bigint ELSE $5::bigint END"
	    " RETURNING 1",
	[S_RT_GET] = "SELECT " RT_COLS " FROM retry_tokens"
	    " WHERE key = $1::bytea",
	[S_RT_DELETE] = "DELETE FROM retry_tokens WHERE key = $1::bytea",
	[S_RT_COMPLETE] = "UPDATE retry_tokens SET status = $2::integer,"
	    " response = $3::text, etag = $4::text WHERE key = $1::bytea",
	[S_RT_LOAD] = "INSERT INTO retry_tokens (" RT_COLS ") VALUES"
	    " ($1::bytea, $2::bytea, $3::integer, $4::text, $5::text,"
	    " $6::bigint)",
	[S_META_GET] = "SELECT value FROM meta WHERE key = $1::text",
	[S_META_PUT] = "INSERT INTO meta (key, value) VALUES"
	    " ($1::text, $2::text) ON CONFLICT (key) DO UPDATE"
	    " SET value = excluded.value",
	[S_META_INSERT] = "INSERT INTO meta (key, value) VALUES"
	    " ($1::text, $2::text)",
	[S_GEN_BUMP] = "INSERT INTO meta (key, value) VALUES"
	    " ('iam_generation', '1') ON CONFLICT (key) DO UPDATE"
	    " SET value = (meta.value::bigint + 1)::text",
	[S_NOTIFY] = "SELECT pg_notify($1::text, $2::text)",
	[S_TRY_LOCK] = "SELECT pg_try_advisory_lock($1::bigint)",
	[S_UNLOCK] = "SELECT pg_advisory_unlock($1::bigint)",
};

/* The dump, table by table, in the order store.h promises. */
static const char *const dump_sql[] = {
	("SELECT " OBJ_COLS " FROM objects ORDER BY id"),
	("SELECT " SV_COLS " FROM secret_versions ORDER BY secret_id, number"),
	("SELECT " KV_COLS " FROM key_versions ORDER BY id"),
	("SELECT " RT_COLS " FROM retry_tokens ORDER BY key"),
	"SELECT key, value FROM meta ORDER BY key",
};

#define TR_STR_(x) #x
#define TR_STR(x) TR_STR_(x)	/* a number macro as SQL text */

#define RETRY_PENDING_MS (60 * 1000)
#define RECONNECT_MS 1000		/* at most one attempt a second */
#define STATEMENT_TIMEOUT_MS 5000	/* unless the DBA set one */
#define IDLE_TXN_TIMEOUT_MS 60000
#define CLIENT_GRACE_MS 1000		/* past statement_timeout */
#define DEFAULT_WAIT_MS 30000		/* with no statement_timeout */
#define DUMP_BATCH 256
#define MAX_PARAMS 24
#define MAX_CHANNELS 16
#define CLAIM_TRIES 4
/* pg_advisory_xact_lock(int, int): a key space apart from try_lock's */
#define MIGRATE_LOCK_A 1953654131	/* "tres" */
#define MIGRATE_LOCK_B 1

/*
 * libpq connection parameters put before the caller's (which override
 * them): a dead server is noticed within seconds, never minutes.
 */
static const char *const conn_kw[] = {
	"connect_timeout", "keepalives", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "tcp_user_timeout",
	"application_name", "dbname", "client_encoding", NULL
};
#define CONN_DBNAME 7		/* the caller's conninfo goes here */
static const char *const conn_val[] = {
	"2", "1", "5", "2", "3", "10000", "tresord", NULL, "UTF8", NULL
};
#define CONN_NKW (sizeof(conn_kw) / sizeof(conn_kw[0]))

struct pg_store {
	struct tr_store base;
	PGconn *conn;			/* NULL while disconnected */
	char *conninfo;
	const char *val[CONN_NKW];	/* conn_val with conninfo in it */
	bool prepared[S_COUNT];		/* on this connection */
	int64_t wait_ms;		/* client bound on one round trip */
	int64_t retry_at;		/* mono ms of the next connect try */
	char *chan[MAX_CHANNELS];	/* LISTENed, again after reconnect */
	size_t n_chan;
	size_t lost_next;		/* next channel to report "*" on */
	bool lost;			/* notifications may have been lost */
	bool in_load;			/* between TR_LOAD_BEGIN and the end */
	struct tr_buf scratch;		/* SQL and payloads */
};

/* Parameters of one statement, in $ order. */
struct params {
	int n;
	bool bad;			/* a blob too large for the protocol */
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
};

static const struct tr_store_ops pg_ops;

static void
p_text(struct params *p, const char *v)
{
	if (p->n >= MAX_PARAMS) {
		p->bad = true;
		return;
	}
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_i64(struct params *p, int64_t v)
{
	if (p->n >= MAX_PARAMS) {
		p->bad = true;
		return;
	}
	(void)snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld",
	    (long long)v);
	p_text(p, p->num[p->n]);
}

/* A blob as binary bytea; NULL stays NULL. */
static void
p_blob(struct params *p, const void *b, size_t n)
{
	if (p->n >= MAX_PARAMS || n > INT_MAX) {
		p->bad = true;
		return;
	}
	p->v[p->n] = b;
	p->len[p->n] = (int)n;
	p->fmt[p->n] = b == NULL ? 0 : 1;
	p->n++;
}

/* ---------------------------------------------------------------- */
/* the connection                                                   */
/* ---------------------------------------------------------------- */

/* Server notices (a WARNING from unlock, say) go to the debug log. */
static void
notice_cb(void *arg, const char *msg)
{
	(void)arg;
	tr_log_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* Forget the connection; the next call reconnects. */
static void
drop(struct pg_store *s)
{
	size_t i;

	if (s->conn != NULL)
		PQfinish(s->conn);
	s->conn = NULL;
	for (i = 0; i < S_COUNT; i++)
		s->prepared[i] = false;
	s->in_load = false;
}

/* The first line of libpq's message about the connection. */
static const char *
conn_msg(const PGconn *c, char *buf, size_t cap)
{
	const char *m = c == NULL ? "not connected" : PQerrorMessage(c);

	(void)snprintf(buf, cap, "%.*s", (int)strcspn(m, "\n"), m);
	return buf;
}

/* Drop a connection found broken and say so. */
static int
lost(struct pg_store *s, const char *what)
{
	char m[256];
	int rc;

	rc = tr_error_set(TRESOR_EUNAVAIL,
	    "database connection lost during %s: %s", what,
	    conn_msg(s->conn, m, sizeof(m)));
	drop(s);
	return rc;
}

/*
 * Wait until the socket is ready for `events` or `deadline` (mono ms)
 * passes.  1 ready, 0 timed out, -1 failed.
 */
static int
wait_sock(PGconn *c, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int n;

	pfd.fd = PQsocket(c);
	if (pfd.fd < 0)
		return -1;
	for (;;) {
		left = deadline - tr_mono_ms();
		if (left < 0)
			left = 0;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		return n == 0 ? 0 : 1;
	}
}

/* Map a failed result to a tresor code, dropping a broken connection. */
static int
pg_error(struct pg_store *s, const PGresult *res, const char *what)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	int rc;

	if (s->conn == NULL || PQstatus(s->conn) == CONNECTION_BAD)
		return lost(s, what);
	if (state == NULL)
		state = "";
	if (msg == NULL)
		msg = PQresultErrorMessage(res);
	if (strcmp(state, "23505") == 0)
		return tr_error_set(TRESOR_EEXISTS,
		    "%s: an object with that name or id already exists", what);
	if (strncmp(state, "23", 2) == 0)
		return tr_error_set(TRESOR_EINVAL, "%s: %s", what, msg);
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return tr_error_set(TRESOR_EPRECOND,
		    "%s: a concurrent change got in the way; try again", what);
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
		return tr_error_set(TRESOR_EUNAVAIL,
		    "%s: the database took too long", what);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strcmp(state, "25006") == 0) {
		/*
		 * Gone, shutting down, out of resources, or a standby after a
		 * failover: start afresh (target_session_attrs finds the
		 * primary).
		 */
		rc = tr_error_set(TRESOR_EUNAVAIL,
		    "%s: database unavailable: %s", what, msg);
		drop(s);
		return rc;
	}
	if (strncmp(state, "22", 2) == 0)
		return tr_error_set(TRESOR_EINVAL, "%s: %s", what, msg);
	if (strcmp(state, "54000") == 0)
		return tr_error_set(TRESOR_ETOOBIG, "%s: %s", what, msg);
	return tr_error_set(TRESOR_EIO, "database error in %s: %s (%s)", what,
	    msg, state);
}

/*
 * Wait for the answer to what was just sent and return its result in
 * *res_out (caller clears it).  The wait is bounded by s->wait_ms; a
 * server that does not answer by then is dropped, so a partition or a
 * frozen server costs one call a few seconds, never a hang.
 */
static int
collect(struct pg_store *s, PGresult **res_out, const char *what)
{
	PGresult *res = NULL, *r;
	int64_t deadline = tr_mono_ms() + s->wait_ms;
	int rc = TRESOR_EINTERNAL, f, w;

	*res_out = NULL;
	while ((f = PQflush(s->conn)) == 1) {
		w = wait_sock(s->conn, POLLIN | POLLOUT, deadline);
		if (w <= 0)
			goto timeout;
		if (PQconsumeInput(s->conn) == 0) {
			rc = lost(s, what);
			goto out;
		}
	}
	if (f < 0) {
		rc = lost(s, what);
		goto out;
	}
	for (;;) {
		while (PQisBusy(s->conn)) {
			w = wait_sock(s->conn, POLLIN, deadline);
			if (w <= 0)
				goto timeout;
			if (PQconsumeInput(s->conn) == 0) {
				rc = lost(s, what);
				goto out;
			}
		}
		r = PQgetResult(s->conn);
		if (r == NULL)
			break;
		/* keep the first result, or the first error after it */
		if (res == NULL) {
			res = r;
		} else if (PQresultStatus(res) != PGRES_FATAL_ERROR &&
		    PQresultStatus(r) == PGRES_FATAL_ERROR) {
			PQclear(res);
			res = r;
		} else {
			PQclear(r);
		}
	}
	if (res == NULL) {
		rc = PQstatus(s->conn) == CONNECTION_BAD ? lost(s, what) :
		    tr_error_set(TRESOR_EINTERNAL, "%s: no result", what);
		goto out;
	}
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		*res_out = res;
		res = NULL;
		rc = 0;
		break;
	default:
		rc = pg_error(s, res, what);
		break;
	}
	goto out;
timeout:
	rc = tr_error_set(TRESOR_EUNAVAIL,
	    "%s: no answer from the database within %lld ms", what,
	    (long long)s->wait_ms);
	drop(s);
out:
	PQclear(res);
	return rc;
}

/* Run `sql` with parameters (NULL for none); result in *res_out. */
static int
run_sql(struct pg_store *s, PGresult **res_out, const char *sql,
    const struct params *p, const char *what)
{
	*res_out = NULL;
	if (s->conn == NULL)
		return tr_error_set(TRESOR_EUNAVAIL,
		    "%s: not connected to the database", what);
	if (p != NULL && p->bad)
		return tr_error_set(TRESOR_ETOOBIG, "%s: value too large",
		    what);
	if (PQsendQueryParams(s->conn, sql, p == NULL ? 0 : p->n, NULL,
	    p == NULL ? NULL : p->v, p == NULL ? NULL : p->len,
	    p == NULL ? NULL : p->fmt, 1) == 0)
		return lost(s, what);
	return collect(s, res_out, what);
}

/* Run SQL without a result; several statements are allowed. */
static int
run_script(struct pg_store *s, const char *sql, const char *what)
{
	PGresult *res = NULL;
	int rc;

	if (s->conn == NULL)
		return tr_error_set(TRESOR_EUNAVAIL,
		    "%s: not connected to the database", what);
	if (PQsendQuery(s->conn, sql) == 0)
		return lost(s, what);
	rc = collect(s, &res, what);
	PQclear(res);
	return rc;
}

/* Run prepared statement `id`, preparing it on first use. */
static int
run(struct pg_store *s, PGresult **res_out, enum stmt_id id,
    const struct params *p, const char *what)
{
	PGresult *res = NULL;
	char name[16];
	int rc;

	*res_out = NULL;
	if (s->conn == NULL)
		return tr_error_set(TRESOR_EUNAVAIL,
		    "%s: not connected to the database", what);
	if (p->bad)
		return tr_error_set(TRESOR_ETOOBIG, "%s: value too large",
		    what);
	(void)snprintf(name, sizeof(name), "tr_%d", (int)id);
	if (!s->prepared[id]) {
		if (PQsendPrepare(s->conn, name, stmt_sql[id], 0, NULL) == 0)
			return lost(s, what);
		if ((rc = collect(s, &res, what)) < 0)
			return rc;
		PQclear(res);
		s->prepared[id] = true;
	}
	if (PQsendQueryPrepared(s->conn, name, p->n, p->v, p->len, p->fmt,
	    1) == 0)
		return lost(s, what);
	return collect(s, res_out, what);
}

/* Rows changed by the command of `res`. */
static uint64_t
changes(PGresult *res)
{
	const char *t = PQcmdTuples(res);
	uint64_t n = 0;

	for (; *t >= '0' && *t <= '9'; t++)
		n = n * 10 + (uint64_t)(*t - '0');
	return n;
}

/* Run one command and return the rows it changed in *n_out. */
static int
exec_count(struct pg_store *s, enum stmt_id id, const struct params *p,
    uint64_t *n_out, const char *what)
{
	PGresult *res = NULL;
	int rc;

	if ((rc = run(s, &res, id, p, what)) < 0)
		return rc;
	if (n_out != NULL)
		*n_out = changes(res);
	PQclear(res);
	return 0;
}

/* True when an idle connection has been closed by the server. */
static bool
closed_while_idle(struct pg_store *s)
{
	struct pollfd pfd;
	int i;

	for (i = 0; i < 3; i++) {
		pfd.fd = PQsocket(s->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0)
			return true;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		/* a shutdown message, EOF or notifications: read them */
		if (PQconsumeInput(s->conn) == 0)
			return true;
	}
	return PQstatus(s->conn) != CONNECTION_OK;
}

/*
 * Session settings: bounded statements unless the DBA chose a bound (in
 * the role, the database or the conninfo options), then the client
 * deadline from what is in force.
 */
static int
setup_session(struct pg_store *s)
{
	PGresult *res = NULL;
	int64_t st = 0;
	const char *v;
	int rc;

	if ((rc = run_sql(s, &res, "SELECT set_config(name, CASE name"
	    " WHEN 'statement_timeout' THEN '" TR_STR(STATEMENT_TIMEOUT_MS)
	    "' ELSE '" TR_STR(IDLE_TXN_TIMEOUT_MS) "' END, false)"
	    " FROM pg_settings WHERE source = 'default' AND name IN"
	    " ('statement_timeout', 'idle_in_transaction_session_timeout')",
	    NULL, "session setup")) < 0)
		return rc;
	PQclear(res);
	if ((rc = run_sql(s, &res, "SELECT setting FROM pg_settings"
	    " WHERE name = 'statement_timeout'", NULL, "session setup")) < 0)
		return rc;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		/* a text column in binary format is its bytes */
		for (v = PQgetvalue(res, 0, 0); *v >= '0' && *v <= '9' &&
		    st < INT64_MAX / 10 - 10; v++)
			st = st * 10 + (*v - '0');
	}
	PQclear(res);
	s->wait_ms = st > 0 ? st + CLIENT_GRACE_MS : DEFAULT_WAIT_MS;
	return 0;
}

/* LISTEN on channel `c` (checked by chan_ok()). */
static int
listen_one(struct pg_store *s, const char *c)
{
	char sql[96];

	(void)snprintf(sql, sizeof(sql), "LISTEN \"%s\"", c);
	return run_script(s, sql, "listen");
}

/*
 * Connect, set the session up and listen again to every channel.  At
 * open, a refused connection is reported as it is; later it is
 * TRESOR_EUNAVAIL.
 */
static int
connect_db(struct pg_store *s, bool at_open)
{
	char m[512];
	size_t i;
	int rc = TRESOR_EINTERNAL;

	drop(s);
	s->wait_ms = DEFAULT_WAIT_MS;
	s->conn = PQconnectdbParams(conn_kw, s->val, 1);
	if (s->conn == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		(void)conn_msg(s->conn, m, sizeof(m));
		if (at_open && strstr(m, "does not exist") != NULL &&
		    strstr(m, "database") != NULL)
			rc = tr_error_set(TRESOR_ENOTFOUND,
			    "cannot connect to PostgreSQL: %s (create it with "
			    "createdb first)", m);
		else
			rc = tr_error_set(TRESOR_EUNAVAIL,
			    "cannot connect to PostgreSQL: %s", m);
		goto out;
	}
	PQsetNoticeProcessor(s->conn, notice_cb, NULL);
	if (PQsetnonblocking(s->conn, 1) != 0) {
		rc = lost(s, "connect");
		goto out;
	}
	if ((rc = setup_session(s)) < 0)
		goto out;
	for (i = 0; i < s->n_chan; i++)
		if ((rc = listen_one(s, s->chan[i])) < 0)
			goto out;
	if (s->n_chan > 0 && !at_open) {
		/* what was sent while we were away is gone */
		s->lost = true;
		s->lost_next = 0;
	}
	rc = 0;
out:
	if (rc < 0)
		drop(s);
	return rc;
}

/*
 * Make sure there is a live, idle connection before an operation: find
 * a connection the server closed before sending on it, reconnect at
 * most once every RECONNECT_MS, and end a transaction left open.
 */
static int
ensure(struct pg_store *s)
{
	PGresult *res = NULL;
	int64_t now;
	int rc;

	if (s->in_load)
		return tr_error_set(TRESOR_EINTERNAL,
		    "the store is in the middle of a load");
	if (s->conn != NULL && closed_while_idle(s))
		drop(s);
	if (s->conn == NULL) {
		now = tr_mono_ms();
		if (now < s->retry_at)
			return tr_error_set(TRESOR_EUNAVAIL,
			    "the database is unreachable; try again");
		if ((rc = connect_db(s, false)) < 0) {
			s->retry_at = tr_mono_ms() + RECONNECT_MS;
			return rc;
		}
	}
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
		if ((rc = run_sql(s, &res, "ROLLBACK", NULL, "rollback")) < 0)
			return rc;
		PQclear(res);
	}
	return 0;
}

/* End a failed transaction; a connection that cannot is dropped. */
static void
rollback(struct pg_store *s)
{
	PGresult *res = NULL;

	if (s->conn == NULL)
		return;
	if (PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		return;
	if (run_sql(s, &res, "ROLLBACK", NULL, "rollback") < 0)
		drop(s);
	PQclear(res);
}

/* Run a statement that returns nothing. */
static int
exec_sql(struct pg_store *s, const char *sql, const char *what)
{
	PGresult *res = NULL;
	int rc;

	rc = run_sql(s, &res, sql, NULL, what);
	PQclear(res);
	return rc;
}

/* ---------------------------------------------------------------- */
/* results                                                          */
/* ---------------------------------------------------------------- */

/* Copy a text column into a fixed buffer, refusing truncation. */
static int
get_fixed(const PGresult *r, int row, int col, char *out, size_t cap)
{
	size_t n;

	out[0] = '\0';
	if (PQgetisnull(r, row, col))
		return 0;
	n = (size_t)PQgetlength(r, row, col);
	if (n >= cap)
		return tr_error_set(TRESOR_EIO, "stored value too long");
	memcpy(out, PQgetvalue(r, row, col), n);
	out[n] = '\0';
	return 0;
}

/* Duplicate a text column (NULL stays NULL). */
static int
get_dup(const PGresult *r, int row, int col, char **out)
{
	*out = NULL;
	if (PQgetisnull(r, row, col))
		return 0;
	*out = tr_strndup(PQgetvalue(r, row, col),
	    (size_t)PQgetlength(r, row, col));
	return *out == NULL ? tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
}

/* Duplicate a bytea column; NULL and empty both give NULL, as SQLite. */
static int
get_blob(const PGresult *r, int row, int col, unsigned char **out,
    size_t *len)
{
	size_t n;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col))
		return 0;
	n = (size_t)PQgetlength(r, row, col);
	if (n == 0)
		return 0;
	*out = tr_malloc(n);
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	memcpy(*out, PQgetvalue(r, row, col), n);
	*len = n;
	return 0;
}

/* A big-endian integer column of `width` bytes; NULL reads as 0. */
static int
get_int(const PGresult *r, int row, int col, int width, int64_t *out)
{
	const unsigned char *p;
	uint64_t v = 0;
	int i;

	*out = 0;
	if (PQgetisnull(r, row, col))
		return 0;
	if (PQgetlength(r, row, col) != width)
		return tr_error_set(TRESOR_EIO,
		    "unexpected column type in a stored row");
	p = (const unsigned char *)PQgetvalue(r, row, col);
	for (i = 0; i < width; i++)
		v = v << 8 | p[i];
	if (width == 4)
		*out = (int32_t)(uint32_t)v;	/* sign of an integer column */
	else
		*out = (int64_t)v;
	return 0;
}

static int
row_to_obj(const PGresult *r, int row, struct tr_obj *o)
{
	int64_t v;
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = get_fixed(r, row, 0, o->id, sizeof(o->id))) < 0 ||
	    (rc = get_fixed(r, row, 1, o->type, sizeof(o->type))) < 0 ||
	    (rc = get_fixed(r, row, 2, o->tenancy_id,
	    sizeof(o->tenancy_id))) < 0 ||
	    (rc = get_fixed(r, row, 3, o->compartment_id,
	    sizeof(o->compartment_id))) < 0 ||
	    (rc = get_fixed(r, row, 4, o->parent_id,
	    sizeof(o->parent_id))) < 0 ||
	    (rc = get_fixed(r, row, 5, o->name, sizeof(o->name))) < 0 ||
	    (rc = get_fixed(r, row, 6, o->state, sizeof(o->state))) < 0 ||
	    (rc = get_fixed(r, row, 7, o->etag, sizeof(o->etag))) < 0 ||
	    (rc = get_int(r, row, 8, 8, &o->time_created)) < 0 ||
	    (rc = get_int(r, row, 9, 8, &o->time_of_deletion)) < 0 ||
	    (rc = get_int(r, row, 10, 8, &v)) < 0)
		return rc;
	o->seq = (uint64_t)v;
	return get_dup(r, row, 11, &o->attrs);
}

static int
row_to_sv(const PGresult *r, int row, struct tr_secret_version *v)
{
	int64_t n, stages;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = get_fixed(r, row, 0, v->secret_id,
	    sizeof(v->secret_id))) < 0 ||
	    (rc = get_int(r, row, 1, 8, &n)) < 0 ||
	    (rc = get_fixed(r, row, 2, v->name, sizeof(v->name))) < 0 ||
	    (rc = get_int(r, row, 3, 4, &stages)) < 0 ||
	    (rc = get_fixed(r, row, 4, v->state, sizeof(v->state))) < 0 ||
	    (rc = get_int(r, row, 5, 8, &v->time_created)) < 0 ||
	    (rc = get_int(r, row, 6, 8, &v->time_of_deletion)) < 0 ||
	    (rc = get_int(r, row, 7, 8, &v->time_of_expiry)) < 0 ||
	    (rc = get_fixed(r, row, 8, v->key_version_id,
	    sizeof(v->key_version_id))) < 0)
		return rc;
	v->number = (uint64_t)n;
	v->stages = (unsigned int)stages;
	if ((rc = get_blob(r, row, 9, &v->wrapped_dek,
	    &v->wrapped_dek_len)) < 0 ||
	    (rc = get_blob(r, row, 10, &v->content, &v->content_len)) < 0)
		goto fail;
	if (!PQgetisnull(r, row, 11) && PQgetlength(r, row, 11) == 32) {
		memcpy(v->content_mac, PQgetvalue(r, row, 11), 32);
		v->has_mac = true;
	}
	if ((rc = get_dup(r, row, 12, &v->attrs)) < 0)
		goto fail;
	return 0;
fail:
	tr_secret_version_dispose(v);
	return rc;
}

static int
row_to_kv(const PGresult *r, int row, struct tr_key_version *v)
{
	int64_t seq;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = get_fixed(r, row, 0, v->id, sizeof(v->id))) < 0 ||
	    (rc = get_fixed(r, row, 1, v->key_id, sizeof(v->key_id))) < 0 ||
	    (rc = get_fixed(r, row, 2, v->vault_id,
	    sizeof(v->vault_id))) < 0 ||
	    (rc = get_fixed(r, row, 3, v->compartment_id,
	    sizeof(v->compartment_id))) < 0 ||
	    (rc = get_fixed(r, row, 4, v->state, sizeof(v->state))) < 0 ||
	    (rc = get_int(r, row, 5, 8, &v->time_created)) < 0 ||
	    (rc = get_int(r, row, 6, 8, &v->time_of_deletion)) < 0 ||
	    (rc = get_int(r, row, 7, 8, &seq)) < 0)
		return rc;
	v->seq = (uint64_t)seq;
	if ((rc = get_blob(r, row, 8, &v->wrapped, &v->wrapped_len)) < 0 ||
	    (rc = get_dup(r, row, 9, &v->public_pem)) < 0 ||
	    (rc = get_dup(r, row, 10, &v->attrs)) < 0) {
		tr_key_version_dispose(v);
		return rc;
	}
	return 0;
}

/* A retry token row (RT_COLS) into `out`, key included. */
static int
row_to_retry(const PGresult *r, int row, struct tr_retry_rec *out)
{
	int64_t status;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!PQgetisnull(r, row, 0) && PQgetlength(r, row, 0) == 32)
		memcpy(out->key, PQgetvalue(r, row, 0), 32);
	if (!PQgetisnull(r, row, 1) && PQgetlength(r, row, 1) == 32)
		memcpy(out->body_hash, PQgetvalue(r, row, 1), 32);
	if ((rc = get_int(r, row, 2, 4, &status)) < 0 ||
	    (rc = get_int(r, row, 5, 8, &out->time_created)) < 0 ||
	    (rc = get_fixed(r, row, 4, out->etag, sizeof(out->etag))) < 0 ||
	    (rc = get_dup(r, row, 3, &out->response)) < 0)
		return rc;
	out->status = (int)status;
	return 0;
}

/* ---------------------------------------------------------------- */
/* objects                                                          */
/* ---------------------------------------------------------------- */

static int
pg_obj_get(struct tr_store *base, struct tr_obj *out, const char *id,
    const char *type)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	PGresult *res = NULL;
	int rc = TRESOR_EINTERNAL;

	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, id);
	p_text(&p, type);
	if ((rc = run(s, &res, S_OBJ_GET, &p, "object lookup")) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such object");
		goto out;
	}
	rc = row_to_obj(res, 0, out);
out:
	PQclear(res);
	return rc;
}

static int
pg_obj_get_by_name(struct tr_store *base, struct tr_obj *out,
    const char *type, const char *tenancy_id, const char *parent_id,
    const char *name)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	PGresult *res = NULL;
	int rc = TRESOR_EINTERNAL;

	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, type);
	p_text(&p, tenancy_id);
	p_text(&p, parent_id);
	p_text(&p, name);
	if ((rc = run(s, &res, S_OBJ_GET_BY_NAME, &p,
	    "object lookup by name")) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such object");
		goto out;
	}
	rc = row_to_obj(res, 0, out);
out:
	PQclear(res);
	return rc;
}

/* True when `k` is a plain member name: [A-Za-z0-9], 1 to 64 bytes. */
static bool
attr_key_ok(const char *k)
{
	size_t i;

	if (k[0] == '\0' || strlen(k) > 64)
		return false;
	for (i = 0; k[i] != '\0'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9')))
			return false;
	return true;
}

static int
pg_obj_list(struct tr_store *base, struct tr_obj **items_out, size_t *n_out,
    bool *more_out, const struct tr_obj_filter *f, const struct tr_page *pg)
{
	struct pg_store *s = (struct pg_store *)base;
	struct tr_obj *items = NULL;
	struct params p = { 0 };
	struct tr_buf *sql = &s->scratch;
	PGresult *res = NULL;
	const char *col, *cmp, *dir;
	size_t n = 0, i, limit, rows;
	int rc = TRESOR_EINTERNAL;

	*items_out = NULL;
	*n_out = 0;
	*more_out = false;
	tr_buf_reset(sql);
	limit = pg->limit == 0 ? 100 : pg->limit;
	if (limit > 1000)
		limit = 1000;
	col = pg->sort_by == TR_SORT_NAME ? "name" : "time_created";
	cmp = pg->desc ? "<" : ">";
	dir = pg->desc ? "DESC" : "ASC";

	for (i = 0; i < TR_FILTER_ATTRS; i++) {
		if (f->attr_key[i] != NULL && !attr_key_ok(f->attr_key[i])) {
			rc = tr_error_set(TRESOR_EINVAL, "bad filter");
			goto out;
		}
	}
	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, f->type);
	tr_buf_addstr(sql, "SELECT " OBJ_COLS " FROM objects"
	    " WHERE type = $1::text");
	if (f->tenancy_id != NULL) {
		p_text(&p, f->tenancy_id);
		tr_buf_addf(sql, " AND tenancy_id = $%d::text", p.n);
	}
	if (f->compartment_id != NULL) {
		p_text(&p, f->compartment_id);
		tr_buf_addf(sql, " AND compartment_id = $%d::text", p.n);
	}
	if (f->parent_id != NULL) {
		p_text(&p, f->parent_id);
		tr_buf_addf(sql, " AND parent_id = $%d::text", p.n);
	}
	if (f->name != NULL) {
		p_text(&p, f->name);
		tr_buf_addf(sql, " AND name = $%d::text", p.n);
	}
	if (f->state != NULL) {
		p_text(&p, f->state);
		tr_buf_addf(sql, " AND state = $%d::text", p.n);
	}
	if (f->hide_deleted)
		tr_buf_addstr(sql, " AND state <> 'DELETED'");
	for (i = 0; i < TR_FILTER_ATTRS; i++) {
		if (f->attr_key[i] == NULL)
			continue;
		p_text(&p, f->attr_key[i]);
		p_text(&p, f->attr_value[i]);
		tr_buf_addf(sql,
		    " AND (attrs::jsonb ->> $%d::text) = $%d::text", p.n - 1,
		    p.n);
	}
	if (pg->has_after) {
		if (pg->sort_by == TR_SORT_NAME) {
			p_text(&p, pg->after_name == NULL ? "" :
			    pg->after_name);
			p_text(&p, pg->after_id == NULL ? "" : pg->after_id);
			tr_buf_addf(sql, " AND (%s, id) %s ($%d::text,"
			    " $%d::text)", col, cmp, p.n - 1, p.n);
		} else {
			p_i64(&p, pg->after_time);
			p_text(&p, pg->after_id == NULL ? "" : pg->after_id);
			tr_buf_addf(sql, " AND (%s, id) %s ($%d::bigint,"
			    " $%d::text)", col, cmp, p.n - 1, p.n);
		}
	}
	p_i64(&p, (int64_t)limit + 1);
	tr_buf_addf(sql, " ORDER BY %s %s, id %s LIMIT $%d::bigint", col, dir,
	    dir, p.n);
	if ((rc = tr_buf_error(sql)) < 0)
		goto out;
	if (p.bad) {
		rc = tr_error_set(TRESOR_EINVAL, "too many filters");
		goto out;
	}
	if ((rc = run_sql(s, &res, tr_buf_cstr(sql), &p, "list")) < 0)
		goto out;

	rows = (size_t)PQntuples(res);
	items = tr_calloc(limit + 1, sizeof(*items));
	if (items == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rows; i++) {
		if (n == limit) {
			*more_out = true;
			break;
		}
		if ((rc = row_to_obj(res, (int)i, &items[n])) < 0) {
			tr_obj_dispose(&items[n]);
			goto out;
		}
		n++;
	}
	*items_out = items;
	*n_out = n;
	items = NULL;
	rc = 0;
out:
	tr_obj_list_free(items, n);
	PQclear(res);
	return rc;
}

/* ---------------------------------------------------------------- */
/* versions                                                         */
/* ---------------------------------------------------------------- */

static int
pg_sv_get(struct tr_store *base, struct tr_secret_version *out,
    const char *secret_id, uint64_t number)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	PGresult *res = NULL;
	int rc = TRESOR_EINTERNAL;

	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, secret_id);
	p_i64(&p, (int64_t)number);
	if ((rc = run(s, &res, S_SV_GET, &p, "secret version lookup")) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such secret version");
		goto out;
	}
	rc = row_to_sv(res, 0, out);
out:
	PQclear(res);
	return rc;
}

static int
pg_sv_list(struct tr_store *base, struct tr_secret_version **items_out,
    size_t *n_out, const char *secret_id, bool with_blobs)
{
	struct pg_store *s = (struct pg_store *)base;
	struct tr_secret_version *items = NULL;
	struct params p = { 0 };
	PGresult *res = NULL;
	size_t n = 0, rows;
	int rc = TRESOR_EINTERNAL;

	*items_out = NULL;
	*n_out = 0;
	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, secret_id);
	if ((rc = run(s, &res, with_blobs ? S_SV_LIST : S_SV_LIST_NOBLOB, &p,
	    "secret version list")) < 0)
		goto out;
	rows = (size_t)PQntuples(res);
	if (rows > 0) {
		items = tr_calloc(rows, sizeof(*items));
		if (items == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (n = 0; n < rows; n++)
		if ((rc = row_to_sv(res, (int)n, &items[n])) < 0)
			goto out;
	*items_out = items;
	*n_out = n;
	items = NULL;
	rc = 0;
out:
	tr_secret_version_list_free(items, n);
	PQclear(res);
	return rc;
}

static int
pg_kv_get(struct tr_store *base, struct tr_key_version *out, const char *id)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	PGresult *res = NULL;
	int rc = TRESOR_EINTERNAL;

	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, id);
	if ((rc = run(s, &res, S_KV_GET, &p, "key version lookup")) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no such key version");
		goto out;
	}
	rc = row_to_kv(res, 0, out);
out:
	PQclear(res);
	return rc;
}

static int
pg_kv_list(struct tr_store *base, struct tr_key_version **items_out,
    size_t *n_out, const char *key_id)
{
	struct pg_store *s = (struct pg_store *)base;
	struct tr_key_version *items = NULL;
	struct params p = { 0 };
	PGresult *res = NULL;
	size_t n = 0, rows;
	int rc = TRESOR_EINTERNAL;

	*items_out = NULL;
	*n_out = 0;
	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, key_id);
	if ((rc = run(s, &res, S_KV_LIST, &p, "key version list")) < 0)
		goto out;
	rows = (size_t)PQntuples(res);
	if (rows > 0) {
		items = tr_calloc(rows, sizeof(*items));
		if (items == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (n = 0; n < rows; n++)
		if ((rc = row_to_kv(res, (int)n, &items[n])) < 0)
			goto out;
	*items_out = items;
	*n_out = n;
	items = NULL;
	rc = 0;
out:
	tr_key_version_list_free(items, n);
	PQclear(res);
	return rc;
}

/* ---------------------------------------------------------------- */
/* writes                                                           */
/* ---------------------------------------------------------------- */

static void
p_obj(struct params *p, const struct tr_obj *o)
{
	p_text(p, o->id);
	p_text(p, o->type);
	p_text(p, o->tenancy_id);
	p_text(p, o->compartment_id);
	p_text(p, o->parent_id);
	p_text(p, o->name);
	p_text(p, o->state);
	p_text(p, o->etag);
	p_i64(p, o->time_created);
	p_i64(p, o->time_of_deletion);
	p_i64(p, (int64_t)o->seq);
	p_text(p, o->attrs == NULL ? "{}" : o->attrs);
}

static int
write_obj_put(struct pg_store *s, const struct tr_store_write *w)
{
	struct params p = { 0 };
	uint64_t n = 0;
	int rc;

	p_obj(&p, w->obj);
	if (w->expect_etag == NULL)
		return exec_count(s, S_OBJ_INSERT, &p, NULL, "create");
	if (strcmp(w->expect_etag, "*") == 0) {
		rc = exec_count(s, S_OBJ_UPDATE_ANY, &p, &n, "update");
	} else {
		p_text(&p, w->expect_etag);
		rc = exec_count(s, S_OBJ_UPDATE, &p, &n, "update");
	}
	if (rc < 0)
		return rc;
	if (n == 0)
		return tr_error_set(TRESOR_EPRECOND,
		    "the object changed or was removed meanwhile");
	return 0;
}

static int
write_obj_delete(struct pg_store *s, const struct tr_store_write *w)
{
	struct params p = { 0 };
	uint64_t n = 0;
	int rc;

	p_text(&p, w->obj->id);
	if (w->expect_etag == NULL)
		return exec_count(s, S_OBJ_DELETE, &p, NULL, "delete");
	p_text(&p, w->expect_etag);
	if ((rc = exec_count(s, S_OBJ_DELETE_IF, &p, &n, "delete")) < 0)
		return rc;
	if (n == 0)
		return tr_error_set(TRESOR_EPRECOND,
		    "the object changed or was removed meanwhile");
	return 0;
}

static void
p_sv_insert(struct params *p, const struct tr_secret_version *v)
{
	p_text(p, v->secret_id);
	p_i64(p, (int64_t)v->number);
	p_text(p, v->name);
	p_i64(p, (int64_t)v->stages);
	p_text(p, v->state);
	p_i64(p, v->time_created);
	p_i64(p, v->time_of_deletion);
	p_i64(p, v->time_of_expiry);
	p_text(p, v->key_version_id);
	p_blob(p, v->wrapped_dek, v->wrapped_dek_len);
	p_blob(p, v->content, v->content_len);
	if (v->has_mac)
		p_blob(p, v->content_mac, 32);
	else
		p_blob(p, NULL, 0);
	p_text(p, v->attrs == NULL ? "{}" : v->attrs);
}

static int
write_sv(struct pg_store *s, const struct tr_store_write *w)
{
	const struct tr_secret_version *v = w->sv;
	struct params p = { 0 };
	uint64_t n = 0;
	int rc;

	switch (w->kind) {
	case TR_W_SV_INSERT:
		p_sv_insert(&p, v);
		return exec_count(s, S_SV_INSERT, &p, NULL,
		    "create secret version");
	case TR_W_SV_UPDATE:
		p_text(&p, v->secret_id);
		p_i64(&p, (int64_t)v->number);
		p_i64(&p, (int64_t)v->stages);
		p_text(&p, v->state);
		p_i64(&p, v->time_of_deletion);
		p_i64(&p, v->time_of_expiry);
		p_text(&p, v->attrs == NULL ? "{}" : v->attrs);
		p_text(&p, v->key_version_id);
		p_blob(&p, v->wrapped_dek, v->wrapped_dek_len);
		if ((rc = exec_count(s, S_SV_UPDATE, &p, &n,
		    "update secret version")) < 0)
			return rc;
		if (n == 0)
			return tr_error_set(TRESOR_EPRECOND,
			    "secret version %llu vanished meanwhile",
			    (unsigned long long)v->number);
		return 0;
	default:
		p_text(&p, v->secret_id);
		p_i64(&p, (int64_t)v->number);
		return exec_count(s, S_SV_DELETE, &p, NULL,
		    "delete secret version");
	}
}

static void
p_kv_insert(struct params *p, const struct tr_key_version *v)
{
	p_text(p, v->id);
	p_text(p, v->key_id);
	p_text(p, v->vault_id);
	p_text(p, v->compartment_id);
	p_text(p, v->state);
	p_i64(p, v->time_created);
	p_i64(p, v->time_of_deletion);
	p_i64(p, (int64_t)v->seq);
	p_blob(p, v->wrapped, v->wrapped_len);
	p_text(p, v->public_pem);
	p_text(p, v->attrs == NULL ? "{}" : v->attrs);
}

static int
write_kv(struct pg_store *s, const struct tr_store_write *w)
{
	const struct tr_key_version *v = w->kv;
	struct params p = { 0 };

	if (w->kind == TR_W_KV_INSERT) {
		p_kv_insert(&p, v);
		return exec_count(s, S_KV_INSERT, &p, NULL,
		    "create key version");
	}
	if (w->kind == TR_W_KV_DELETE) {
		p_text(&p, v->id);
		return exec_count(s, S_KV_DELETE, &p, NULL,
		    "delete key version");
	}
	p_text(&p, v->id);
	p_text(&p, v->state);
	p_i64(&p, v->time_of_deletion);
	p_text(&p, v->attrs == NULL ? "{}" : v->attrs);
	p_text(&p, v->compartment_id);
	return exec_count(s, S_KV_UPDATE, &p, NULL, "update key version");
}

static int
write_retry(struct pg_store *s, const struct tr_store_write *w)
{
	struct params p = { 0 };

	p_blob(&p, w->retry->key, 32);
	p_i64(&p, w->retry->status);
	p_text(&p, w->retry->response);
	p_text(&p, w->retry->etag);
	return exec_count(s, S_RT_COMPLETE, &p, NULL, "retry token");
}

/* Queue `payload` on `channel`; sent when the transaction commits. */
static int
send_notify(struct pg_store *s, const char *channel, const char *payload)
{
	struct params p = { 0 };

	p_text(&p, channel);
	p_text(&p, payload);
	return exec_count(s, S_NOTIFY, &p, NULL, "notify");
}

/* COMMIT, and make sure it did (an aborted transaction says ROLLBACK). */
static int
commit(struct pg_store *s)
{
	PGresult *res = NULL;
	int rc;

	if ((rc = run_sql(s, &res, "COMMIT", NULL, "commit")) < 0)
		return rc;
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
		rc = tr_error_set(TRESOR_EIO,
		    "the transaction was rolled back");
	PQclear(res);
	return rc;
}

static int
pg_apply(struct tr_store *base, const struct tr_store_write *w, size_t n)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params none = { 0 };
	bool iam = false;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	if ((rc = ensure(s)) < 0)
		return rc;
	if ((rc = exec_sql(s, "BEGIN", "begin")) < 0)
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
	if (iam && (rc = exec_count(s, S_GEN_BUMP, &none, NULL,
	    "generation")) < 0)
		goto fail;
	if ((rc = tr_store_changes_format(&s->scratch, w, n, iam)) < 0)
		goto fail;
	if (s->scratch.len > 0 && (rc = send_notify(s, TR_STORE_CHANGES,
	    tr_buf_cstr(&s->scratch))) < 0)
		goto fail;
	if ((rc = commit(s)) < 0)
		goto fail;
	return 0;
fail:
	rollback(s);
	return rc;
}

/* ---------------------------------------------------------------- */
/* retry tokens, counters, settings                                 */
/* ---------------------------------------------------------------- */

/* now - ms, saturating. */
static int64_t
cutoff(int64_t now, int64_t ms)
{
	int64_t r;

	if (ms < 0)
		ms = 0;
	if (__builtin_sub_overflow(now, ms, &r))
		return INT64_MIN;
	return r;
}

static int
pg_retry_claim(struct tr_store *base, struct tr_retry_rec *out,
    const unsigned char key[32], const unsigned char body_hash[32],
    int64_t max_age_ms)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p;
	PGresult *res = NULL;
	int64_t now;
	int rc = TRESOR_EINTERNAL, tries;

	memset(out, 0, sizeof(*out));
	if ((rc = ensure(s)) < 0)
		return rc;
	for (tries = 0; tries < CLAIM_TRIES; tries++) {
		now = tr_now_ms();
		memset(&p, 0, sizeof(p));
		p_blob(&p, key, 32);
		p_blob(&p, body_hash, 32);
		p_i64(&p, now);
		p_i64(&p, cutoff(now, RETRY_PENDING_MS));
		p_i64(&p, cutoff(now, max_age_ms));
		if ((rc = run(s, &res, S_RT_CLAIM, &p, "retry token")) < 0)
			goto out;
		if (PQntuples(res) == 1) {
			rc = 0;
			goto out;
		}
		PQclear(res);
		res = NULL;
		/* somebody holds it: show what they hold */
		memset(&p, 0, sizeof(p));
		p_blob(&p, key, 32);
		if ((rc = run(s, &res, S_RT_GET, &p,
		    "retry token lookup")) < 0)
			goto out;
		if (PQntuples(res) == 1) {
			if ((rc = row_to_retry(res, 0, out)) < 0) {
				tr_retry_rec_dispose(out);
				goto out;
			}
			rc = TRESOR_EEXISTS;
			goto out;
		}
		/* released meanwhile: claim again */
		PQclear(res);
		res = NULL;
	}
	rc = tr_error_set(TRESOR_EUNAVAIL,
	    "the retry token is contended; try again");
out:
	PQclear(res);
	return rc;
}

static int
pg_retry_release(struct tr_store *base, const unsigned char key[32])
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	int rc;

	if ((rc = ensure(s)) < 0)
		return rc;
	p_blob(&p, key, 32);
	return exec_count(s, S_RT_DELETE, &p, NULL, "retry token release");
}

static int
pg_setting_get(struct tr_store *base, char **value_out, const char *key)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	PGresult *res = NULL;
	int rc = TRESOR_EINTERNAL;

	*value_out = NULL;
	if ((rc = ensure(s)) < 0)
		goto out;
	p_text(&p, key);
	if ((rc = run(s, &res, S_META_GET, &p, "setting lookup")) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no setting %s", key);
		goto out;
	}
	rc = get_dup(res, 0, 0, value_out);
out:
	PQclear(res);
	return rc;
}

static int
pg_setting_put(struct tr_store *base, const char *key, const char *value)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	int rc;

	if ((rc = ensure(s)) < 0)
		return rc;
	p_text(&p, key);
	p_text(&p, value);
	return exec_count(s, S_META_PUT, &p, NULL, "setting update");
}

static int
pg_iam_generation(struct tr_store *base, uint64_t *out)
{
	char *v = NULL;
	uint64_t g = 0;
	size_t i;
	int rc;

	*out = 0;
	rc = pg_setting_get(base, &v, "iam_generation");
	if (rc == TRESOR_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	for (i = 0; v[i] >= '0' && v[i] <= '9'; i++)
		g = g * 10 + (uint64_t)(v[i] - '0');
	tr_free(v);
	*out = g;
	return 0;
}

/* ---------------------------------------------------------------- */
/* several nodes: notifications and advisory locks                  */
/* ---------------------------------------------------------------- */

/* True for a channel name safe to quote: [a-z0-9_], 1 to 63 bytes. */
static bool
chan_ok(const char *c)
{
	size_t i;

	if (c == NULL || c[0] == '\0' || strlen(c) > 63)
		return false;
	for (i = 0; c[i] != '\0'; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') ||
		    (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
			return false;
	return true;
}

static int
pg_notify(struct tr_store *base, const char *channel, const char *payload)
{
	struct pg_store *s = (struct pg_store *)base;
	int rc;

	if (!chan_ok(channel))
		return tr_error_set(TRESOR_EINVAL, "bad channel name");
	if (payload == NULL)
		payload = "";
	if (strlen(payload) > TR_NOTIFY_MAX)
		return tr_error_set(TRESOR_ETOOBIG,
		    "notification payload too long");
	if ((rc = ensure(s)) < 0)
		return rc;
	return send_notify(s, channel, payload);
}

static int
pg_listen(struct tr_store *base, const char *channel)
{
	struct pg_store *s = (struct pg_store *)base;
	char *copy = NULL;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	if (!chan_ok(channel))
		return tr_error_set(TRESOR_EINVAL, "bad channel name");
	for (i = 0; i < s->n_chan; i++)
		if (strcmp(s->chan[i], channel) == 0)
			return 0;
	if (s->n_chan == MAX_CHANNELS)
		return tr_error_set(TRESOR_ELIMIT, "too many channels");
	copy = tr_strdup(channel);
	if (copy == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if ((rc = ensure(s)) < 0 || (rc = listen_one(s, channel)) < 0) {
		tr_free(copy);
		return rc;
	}
	s->chan[s->n_chan++] = copy;
	return 0;
}

/* Hand a notification over as two tr_malloc'd strings. */
static int
take_notify(const char *chan, const char *payload, char **channel_out,
    char **payload_out)
{
	*channel_out = tr_strdup(chan);
	*payload_out = tr_strdup(payload == NULL ? "" : payload);
	if (*channel_out == NULL || *payload_out == NULL) {
		TR_FREE_AND_NULL(*channel_out);
		TR_FREE_AND_NULL(*payload_out);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	return 0;
}

static int
pg_poll_notify(struct tr_store *base, int timeout_ms, char **channel_out,
    char **payload_out)
{
	struct pg_store *s = (struct pg_store *)base;
	PGnotify *nf;
	int64_t deadline, left;
	int rc, w;

	*channel_out = NULL;
	*payload_out = NULL;
	deadline = tr_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	if ((rc = ensure(s)) < 0) {
		/*
		 * Still unreachable: wait out the time (or until the next
		 * reconnect is due) so that a listener loop does not spin.
		 */
		left = (deadline < s->retry_at ? deadline : s->retry_at) -
		    tr_mono_ms();
		if (rc == TRESOR_EUNAVAIL && left > 0)
			(void)poll(NULL, 0, left > INT_MAX ? INT_MAX :
			    (int)left);
		return rc;
	}
	for (;;) {
		if (s->lost) {
			/* one "*" per channel after a reconnect */
			if (s->lost_next < s->n_chan)
				return take_notify(s->chan[s->lost_next++],
				    "*", channel_out, payload_out);
			s->lost = false;
		}
		nf = PQnotifies(s->conn);
		if (nf != NULL) {
			rc = take_notify(nf->relname, nf->extra, channel_out,
			    payload_out);
			PQfreemem(nf);
			return rc;
		}
		w = wait_sock(s->conn, POLLIN, deadline);
		if (w == 0)
			return 0;
		if (w < 0 || PQconsumeInput(s->conn) == 0 ||
		    PQstatus(s->conn) != CONNECTION_OK)
			return lost(s, "waiting for notifications");
	}
}

/* Run a statement returning one boolean into *out. */
static int
exec_bool(struct pg_store *s, enum stmt_id id, const struct params *p,
    bool *out, const char *what)
{
	PGresult *res = NULL;
	int64_t v = 0;
	int rc;

	*out = false;
	if ((rc = run(s, &res, id, p, what)) < 0)
		return rc;
	if (PQntuples(res) != 1)
		rc = tr_error_set(TRESOR_EIO, "%s: no answer", what);
	else
		rc = get_int(res, 0, 0, 1, &v);
	PQclear(res);
	*out = v != 0;
	return rc;
}

static int
pg_try_lock(struct tr_store *base, uint64_t key, bool *got)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	int rc;

	*got = false;
	if ((rc = ensure(s)) < 0)
		return rc;
	p_i64(&p, (int64_t)key);
	return exec_bool(s, S_TRY_LOCK, &p, got, "lock");
}

static int
pg_unlock(struct tr_store *base, uint64_t key)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p = { 0 };
	bool held = false;
	int rc;

	if ((rc = ensure(s)) < 0)
		return rc;
	p_i64(&p, (int64_t)key);
	if ((rc = exec_bool(s, S_UNLOCK, &p, &held, "unlock")) < 0)
		return rc;
	if (!held)
		return tr_error_set(TRESOR_ENOTFOUND,
		    "this connection does not hold lock %llu",
		    (unsigned long long)key);
	return 0;
}

/* ---------------------------------------------------------------- */
/* dump and load (tr_store_copy)                                    */
/* ---------------------------------------------------------------- */

/* Decode row `row` of table `t` (dump_sql order) and hand it to `cb`. */
static int
dump_row(const PGresult *res, int row, size_t t,
    int (*cb)(const struct tr_store_record *r, void *payload), void *payload)
{
	struct tr_store_record rec;
	struct tr_obj o;
	struct tr_secret_version sv;
	struct tr_key_version kv;
	struct tr_retry_rec rt;
	char *k = NULL, *v = NULL;
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
		rc = row_to_obj(res, row, &o);
		break;
	case 1:
		rec.kind = TR_REC_SV;
		rec.sv = &sv;
		rc = row_to_sv(res, row, &sv);
		break;
	case 2:
		rec.kind = TR_REC_KV;
		rec.kv = &kv;
		rc = row_to_kv(res, row, &kv);
		break;
	case 3:
		rec.kind = TR_REC_RETRY;
		rec.retry = &rt;
		rc = row_to_retry(res, row, &rt);
		break;
	default:
		rec.kind = TR_REC_SETTING;
		if ((rc = get_dup(res, row, 0, &k)) == 0)
			rc = get_dup(res, row, 1, &v);
		rec.setting_key = k;
		rec.setting_value = v;
		break;
	}
	if (rc < 0)
		goto out;
	rc = cb(&rec, payload);
out:
	tr_obj_dispose(&o);
	tr_secret_version_dispose(&sv);
	tr_key_version_dispose(&kv);
	tr_retry_rec_dispose(&rt);
	tr_free(k);
	tr_free(v);
	return rc;
}

static int
pg_dump(struct tr_store *base,
    int (*cb)(const struct tr_store_record *r, void *payload), void *payload)
{
	struct pg_store *s = (struct pg_store *)base;
	struct tr_buf *sql = &s->scratch;
	PGresult *res = NULL;
	size_t t;
	int rc = TRESOR_EINTERNAL, i, rows;

	if ((rc = ensure(s)) < 0)
		return rc;
	/* one snapshot for every table */
	if ((rc = exec_sql(s, "BEGIN ISOLATION LEVEL REPEATABLE READ,"
	    " READ ONLY", "dump")) < 0)
		return rc;
	for (t = 0; t < sizeof(dump_sql) / sizeof(dump_sql[0]); t++) {
		tr_buf_reset(sql);
		tr_buf_addf(sql, "DECLARE tr_dump NO SCROLL CURSOR FOR %s",
		    dump_sql[t]);
		if ((rc = tr_buf_error(sql)) < 0 ||
		    (rc = exec_sql(s, tr_buf_cstr(sql), "dump")) < 0)
			goto fail;
		do {
			if ((rc = run_sql(s, &res, "FETCH FORWARD "
			    TR_STR(DUMP_BATCH) " FROM tr_dump", NULL,
			    "dump")) < 0)
				goto fail;
			rows = PQntuples(res);
			for (i = 0; i < rows; i++)
				if ((rc = dump_row(res, i, t, cb,
				    payload)) < 0)
					goto fail;
			PQclear(res);
			res = NULL;
		} while (rows == DUMP_BATCH);
		if ((rc = exec_sql(s, "CLOSE tr_dump", "dump")) < 0)
			goto fail;
	}
	if ((rc = commit(s)) < 0)
		goto fail;
	return 0;
fail:
	PQclear(res);
	rollback(s);
	return rc;
}

/* Insert one record exactly as it is. */
static int
load_record(struct pg_store *s, const struct tr_store_record *r)
{
	struct params p = { 0 };

	switch (r->kind) {
	case TR_REC_OBJ:
		p_obj(&p, r->obj);
		return exec_count(s, S_OBJ_INSERT, &p, NULL, "load object");
	case TR_REC_SV:
		p_sv_insert(&p, r->sv);
		return exec_count(s, S_SV_INSERT, &p, NULL,
		    "load secret version");
	case TR_REC_KV:
		p_kv_insert(&p, r->kv);
		return exec_count(s, S_KV_INSERT, &p, NULL,
		    "load key version");
	case TR_REC_RETRY:
		p_blob(&p, r->retry->key, 32);
		p_blob(&p, r->retry->body_hash, 32);
		p_i64(&p, r->retry->status);
		p_text(&p, r->retry->response);
		p_text(&p, r->retry->etag);
		p_i64(&p, r->retry->time_created);
		return exec_count(s, S_RT_LOAD, &p, NULL, "load retry token");
	case TR_REC_SETTING:
		p_text(&p, r->setting_key);
		p_text(&p, r->setting_value);
		return exec_count(s, S_META_INSERT, &p, NULL, "load setting");
	default:
		return tr_error_set(TRESOR_EINVAL, "bad record kind");
	}
}

static int
pg_load(struct tr_store *base, enum tr_load_step step,
    const struct tr_store_record *r)
{
	struct pg_store *s = (struct pg_store *)base;
	int rc = TRESOR_EINTERNAL;

	switch (step) {
	case TR_LOAD_BEGIN:
		if ((rc = ensure(s)) < 0 ||
		    (rc = exec_sql(s, "BEGIN", "load")) < 0)
			return rc;
		s->in_load = true;
		return 0;
	case TR_LOAD_RECORD:
		if (!s->in_load)
			return tr_error_set(TRESOR_EINVAL, "no load begun");
		if ((rc = load_record(s, r)) < 0) {
			/* the transaction is void: end it now */
			rollback(s);
			s->in_load = false;
		}
		return rc;
	case TR_LOAD_COMMIT:
		if (!s->in_load)
			return tr_error_set(TRESOR_EINVAL, "no load begun");
		/* other nodes hold nothing of this: drop every cache */
		if ((rc = send_notify(s, TR_STORE_CHANGES, "*")) < 0 ||
		    (rc = commit(s)) < 0)
			rollback(s);
		s->in_load = false;
		return rc;
	default:
		if (s->in_load)
			rollback(s);
		s->in_load = false;
		return 0;
	}
}

/* ---------------------------------------------------------------- */
/* open and close                                                   */
/* ---------------------------------------------------------------- */

static void
pg_close(struct tr_store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	size_t i;

	if (s == NULL)
		return;
	drop(s);
	for (i = 0; i < s->n_chan; i++)
		tr_free(s->chan[i]);
	tr_buf_dispose(&s->scratch);
	if (s->conninfo != NULL)
		tr_freezero(s->conninfo, strlen(s->conninfo));
	tr_free(s);
}

/* The schema version in tresor_schema, or 0 without that table. */
static int
schema_version(struct pg_store *s, int64_t *out, bool *exists)
{
	PGresult *res = NULL;
	int rc;

	*out = 0;
	*exists = false;
	if ((rc = run_sql(s, &res, "SELECT to_regclass('tresor_schema')"
	    " IS NOT NULL", NULL, "schema version")) < 0)
		return rc;
	rc = get_int(res, 0, 0, 1, out);
	*exists = *out != 0;
	*out = 0;
	PQclear(res);
	res = NULL;
	if (rc < 0 || !*exists)
		return rc;
	if ((rc = run_sql(s, &res, "SELECT version::bigint FROM tresor_schema",
	    NULL, "schema version")) < 0)
		return rc;
	if (PQntuples(res) == 1)
		rc = get_int(res, 0, 0, 8, out);
	PQclear(res);
	return rc;
}

/*
 * Bring the schema up to date in one transaction, under a lock so that
 * nodes starting together migrate once.  Without `create`, a database
 * with no tresor schema is refused.
 */
static int
migrate(struct pg_store *s, bool create)
{
	char sql[96];
	int64_t v = 0;
	bool exists = false;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	if ((rc = exec_sql(s, "BEGIN", "migration")) < 0)
		return rc;
	if ((rc = exec_sql(s, "SELECT pg_advisory_xact_lock("
	    TR_STR(MIGRATE_LOCK_A) ", " TR_STR(MIGRATE_LOCK_B) ")",
	    "migration")) < 0 ||
	    (rc = schema_version(s, &v, &exists)) < 0)
		goto fail;
	if (!exists || v == 0) {
		if (!create) {
			rc = tr_error_set(TRESOR_EIO,
			    "the database is not a tresor database (no "
			    "schema); run 'tresord init'");
			goto fail;
		}
		if (!exists && (rc = exec_sql(s, "CREATE TABLE tresor_schema ("
		    " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
		    " version integer NOT NULL)", "migration")) < 0)
			goto fail;
		if (!exists && (rc = exec_sql(s, "INSERT INTO tresor_schema"
		    " (version) VALUES (0)", "migration")) < 0)
			goto fail;
	}
	if (v > (int64_t)tr_store_pg_migrations_count) {
		rc = tr_error_set(TRESOR_EIO,
		    "database schema version %lld is newer than this tresord "
		    "understands (%zu); upgrade tresord", (long long)v,
		    tr_store_pg_migrations_count);
		goto fail;
	}
	for (i = (size_t)v; i < tr_store_pg_migrations_count; i++) {
		if ((rc = run_script(s, tr_store_pg_migrations[i],
		    "migration")) < 0)
			goto fail;
		(void)snprintf(sql, sizeof(sql),
		    "UPDATE tresor_schema SET version = %zu", i + 1);
		if ((rc = exec_sql(s, sql, "migration")) < 0)
			goto fail;
	}
	if ((rc = commit(s)) < 0)
		goto fail;
	return 0;
fail:
	rollback(s);
	return rc;
}

int
tr_store_pg_open(struct tr_store **out, const char *conninfo, bool create)
{
	struct pg_store *s = NULL;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (conninfo == NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "no connection string");
		goto out;
	}
	s = tr_calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	s->base.ops = &pg_ops;
	tr_buf_init(&s->scratch, 64 * 1024);
	s->conninfo = tr_strdup(conninfo);
	if (s->conninfo == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < CONN_NKW; i++)
		s->val[i] = conn_val[i];
	s->val[CONN_DBNAME] = s->conninfo;
	if ((rc = connect_db(s, true)) < 0 || (rc = migrate(s, create)) < 0)
		goto out;
	*out = &s->base;
	s = NULL;
	rc = 0;
out:
	if (s != NULL)
		pg_close(&s->base);
	return rc;
}

static const struct tr_store_ops pg_ops = {
	.version = TR_STORE_OPS_VERSION,
	.name = "postgres",
	.close = pg_close,
	.obj_get = pg_obj_get,
	.obj_get_by_name = pg_obj_get_by_name,
	.obj_list = pg_obj_list,
	.sv_get = pg_sv_get,
	.sv_list = pg_sv_list,
	.kv_get = pg_kv_get,
	.kv_list = pg_kv_list,
	.apply = pg_apply,
	.retry_claim = pg_retry_claim,
	.retry_release = pg_retry_release,
	.iam_generation = pg_iam_generation,
	.setting_get = pg_setting_get,
	.setting_put = pg_setting_put,
	.notify = pg_notify,
	.listen = pg_listen,
	.poll_notify = pg_poll_notify,
	.try_lock = pg_try_lock,
	.unlock = pg_unlock,
	.dump = pg_dump,
	.load = pg_load,
};
