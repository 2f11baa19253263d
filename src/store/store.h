/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage interface.  A backend (SQLite for one node, PostgreSQL for
 * several nodes on one database) fills in struct tr_store_ops; nothing
 * above src/store/ knows which one runs.
 *
 * The store never sees plaintext.  It keeps:
 *   - objects: every OCI resource (vault, key, secret, compartment, user,
 *     group, membership, API key, dynamic group, policy, tenancy) as a row
 *     of indexed columns plus `attrs`, a JSON document owned by src/api/;
 *   - secret versions: ciphertext, the wrapped data key, stages;
 *   - key versions: master key material wrapped by the root key;
 *   - retry tokens, and a few counters and settings.
 *
 * Every change goes through apply(): a batch of writes applied atomically
 * (all or nothing) and durably (on disk before apply() returns 0).  Each
 * object write states the etag it expects, so concurrent writers are
 * detected (TRESOR_EPRECOND) and the caller re-reads and retries.  The
 * domain rules (stages, states, version numbers) live in src/api/.
 *
 * A struct tr_store is one connection: use it from one thread at a time.
 * Open one per thread.
 */
#ifndef TR_STORE_STORE_H
#define TR_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TR_ID_MAX 256		/* OCIDs and other identifiers, with NUL */
#define TR_NAME_MAX 256		/* names, with NUL */
#define TR_STATE_MAX 32
#define TR_ETAG_MAX 40

/* One OCI resource. */
struct tr_obj {
	char id[TR_ID_MAX];
	char type[TR_STATE_MAX];	/* "vault", "key", "vaultsecret"... */
	char tenancy_id[TR_ID_MAX];
	char compartment_id[TR_ID_MAX];
	char parent_id[TR_ID_MAX];	/* vault of a key/secret, user of an
					 * API key or membership, parent of a
					 * compartment; "" when none */
	char name[TR_NAME_MAX];		/* unique where the type says so */
	char state[TR_STATE_MAX];	/* lifecycleState */
	char etag[TR_ETAG_MAX];
	int64_t time_created;		/* ms since the epoch */
	int64_t time_of_deletion;	/* ms, 0 when none */
	uint64_t seq;			/* versions: last number; else 0 */
	char *attrs;			/* JSON object text; owned */
};

/* Stage bits of a secret version. */
#define TR_STAGE_CURRENT 0x01u
#define TR_STAGE_PENDING 0x02u
#define TR_STAGE_LATEST 0x04u
#define TR_STAGE_PREVIOUS 0x08u
#define TR_STAGE_DEPRECATED 0x10u

/* One secret version; the blobs are ciphertext. */
struct tr_secret_version {
	char secret_id[TR_ID_MAX];
	uint64_t number;
	char name[TR_NAME_MAX];		/* version name, "" when none */
	unsigned int stages;		/* TR_STAGE_* */
	char state[TR_STATE_MAX];	/* "" (active), PENDING_DELETION... */
	int64_t time_created;
	int64_t time_of_deletion;
	int64_t time_of_expiry;
	char key_version_id[TR_ID_MAX];
	unsigned char *wrapped_dek;	/* owned */
	size_t wrapped_dek_len;
	unsigned char *content;		/* owned; nonce || ciphertext || tag */
	size_t content_len;
	unsigned char content_mac[32];	/* keyed hash for the reuse rule */
	bool has_mac;
	char *attrs;			/* JSON text; owned */
};

/* One master key version; `wrapped` is material under the root key. */
struct tr_key_version {
	char id[TR_ID_MAX];
	char key_id[TR_ID_MAX];
	char vault_id[TR_ID_MAX];
	char compartment_id[TR_ID_MAX];
	char state[TR_STATE_MAX];
	int64_t time_created;
	int64_t time_of_deletion;
	uint64_t seq;			/* 1, 2, ... within the key */
	unsigned char *wrapped;		/* owned */
	size_t wrapped_len;
	char *public_pem;		/* owned; NULL for symmetric keys */
	char *attrs;			/* JSON text; owned */
};

/* A stored answer to a create carrying opc-retry-token. */
struct tr_retry_rec {
	unsigned char key[32];		/* SHA-256(principal, op, token) */
	unsigned char body_hash[32];	/* SHA-256 of the request body */
	int status;			/* 0 while the first attempt runs */
	char *response;			/* JSON text; owned */
	char etag[TR_ETAG_MAX];
	int64_t time_created;
};

/* What a list returns and in which order. */
enum tr_sort_by { TR_SORT_TIME = 0, TR_SORT_NAME = 1 };

#define TR_FILTER_ATTRS 4

struct tr_obj_filter {
	const char *type;		/* required */
	const char *tenancy_id;		/* optional, likewise below */
	const char *compartment_id;
	const char *parent_id;
	const char *name;		/* exact */
	const char *state;		/* exact lifecycleState */
	bool hide_deleted;		/* leave out state DELETED */
	/* exact matches on top-level string/number members of attrs */
	const char *attr_key[TR_FILTER_ATTRS];
	const char *attr_value[TR_FILTER_ATTRS];
};

/*
 * Keyset pagination: the page starts after (after_time|after_name,
 * after_id) in the chosen order.
 */
struct tr_page {
	size_t limit;			/* 1..1000 */
	enum tr_sort_by sort_by;
	bool desc;
	bool has_after;
	int64_t after_time;
	const char *after_name;
	const char *after_id;
};

/* One write of a batch. */
enum tr_write_kind {
	TR_W_OBJ_PUT = 1,	/* insert (expect_etag NULL) or replace */
	TR_W_OBJ_DELETE,	/* remove (expect_etag checked when set) */
	TR_W_SV_INSERT,		/* new secret version, blobs included */
	TR_W_SV_UPDATE,		/* stages, state, times, attrs only */
	TR_W_SV_DELETE,		/* destroy a secret version for real */
	TR_W_KV_INSERT,		/* new key version */
	TR_W_KV_UPDATE,		/* state, times, attrs only */
	TR_W_RETRY_PUT,		/* complete a claimed retry token */
	TR_W_KV_DELETE		/* destroy a key version's material */
};

struct tr_store_write {
	enum tr_write_kind kind;
	const struct tr_obj *obj;
	/*
	 * For OBJ_PUT/OBJ_DELETE: NULL means "must not exist" for a put and
	 * "no check" for a delete; otherwise the etag the row must have.
	 * The new etag of a put is obj->etag.
	 */
	const char *expect_etag;
	const struct tr_secret_version *sv;
	const struct tr_key_version *kv;
	const struct tr_retry_rec *retry;
};

struct tr_store;

/* What dump() hands over and load() takes: one stored row of any table. */
enum tr_record_kind {
	TR_REC_OBJ = 1,
	TR_REC_SV,		/* a secret version, blobs included */
	TR_REC_KV,		/* a key version */
	TR_REC_RETRY,		/* a retry token, pending or complete */
	TR_REC_SETTING		/* a setting, iam_generation included */
};

/*
 * One record; only the member of its kind is set.  Borrowed: valid for
 * the duration of the callback or call that sees it.
 */
struct tr_store_record {
	enum tr_record_kind kind;
	const struct tr_obj *obj;
	const struct tr_secret_version *sv;
	const struct tr_key_version *kv;
	const struct tr_retry_rec *retry;
	const char *setting_key;
	const char *setting_value;
};

/* The steps of a verbatim bulk load (load()). */
enum tr_load_step {
	TR_LOAD_BEGIN = 1,	/* open the one transaction of the load */
	TR_LOAD_RECORD,		/* insert one record as it is */
	TR_LOAD_COMMIT,		/* make every record durable at once */
	TR_LOAD_ABORT		/* forget every record since BEGIN */
};

/* The channel on which apply() announces its changes (see notify). */
#define TR_STORE_CHANGES "tresor_changes"

/* Longest notification payload (PostgreSQL's limit, less one). */
#define TR_NOTIFY_MAX 7999

/*
 * The backend operations.  Every function returns 0 or a negative
 * TRESOR_E* code with detail in tresor_error_last().  Out-parameters
 * hand ownership to the caller (free with the tr_store_*_dispose
 * helpers).  New operations go only at the end.
 */
struct tr_store_ops {
	unsigned int version;
	const char *name;

	void (*close)(struct tr_store *st);

	/* objects */
	int (*obj_get)(struct tr_store *st, struct tr_obj *out, const char *id,
	    const char *type);
	int (*obj_get_by_name)(struct tr_store *st, struct tr_obj *out,
	    const char *type, const char *tenancy_id, const char *parent_id,
	    const char *name);
	int (*obj_list)(struct tr_store *st, struct tr_obj **items_out,
	    size_t *n_out, bool *more_out, const struct tr_obj_filter *f,
	    const struct tr_page *page);

	/* secret versions, ordered by number ascending */
	int (*sv_get)(struct tr_store *st, struct tr_secret_version *out,
	    const char *secret_id, uint64_t number);
	int (*sv_list)(struct tr_store *st, struct tr_secret_version **items_out,
	    size_t *n_out, const char *secret_id, bool with_blobs);

	/* key versions, ordered by seq ascending */
	int (*kv_get)(struct tr_store *st, struct tr_key_version *out,
	    const char *id);
	int (*kv_list)(struct tr_store *st, struct tr_key_version **items_out,
	    size_t *n_out, const char *key_id);

	/* an atomic, durable batch of writes */
	int (*apply)(struct tr_store *st, const struct tr_store_write *w,
	    size_t n);

	/*
	 * Retry tokens.  claim() inserts a pending record for `key` and
	 * returns 0, or TRESOR_EEXISTS and fills `out` with the record
	 * already there (status 0 while its first attempt runs).  release()
	 * forgets a claim whose attempt failed.  Records older than
	 * `max_age_ms` are ignored and replaced.
	 */
	int (*retry_claim)(struct tr_store *st, struct tr_retry_rec *out,
	    const unsigned char key[32], const unsigned char body_hash[32],
	    int64_t max_age_ms);
	int (*retry_release)(struct tr_store *st, const unsigned char key[32]);

	/*
	 * A counter bumped by every write to identity objects (users,
	 * groups, memberships, API keys, policies, compartments, dynamic
	 * groups, tenancy), so caches of parsed policies know when to reload.
	 */
	int (*iam_generation)(struct tr_store *st, uint64_t *out);

	/* Small settings (tenancy-wide switches), text values. */
	int (*setting_get)(struct tr_store *st, char **value_out,
	    const char *key);
	int (*setting_put)(struct tr_store *st, const char *key,
	    const char *value);

	/*
	 * Several nodes on one database.  When apply() commits it announces
	 * on TR_STORE_CHANGES what it changed, as a payload of entries
	 * separated by one space (read them with tr_store_change_next()):
	 *   o:<id>   the object <id> was written or removed
	 *   v:<id>   versions of the secret <id> changed
	 *   k:<id>   versions of the key <id> changed
	 *   kv:<id>  the key version <id> changed
	 *   iam      the IAM generation moved
	 *   *        anything may have changed: drop every cache
	 * A single-node backend (SQLite) announces nothing: its caches see
	 * every write of their own process.
	 *
	 * notify() sends `payload` (at most TR_NOTIFY_MAX bytes) on
	 * `channel` ([a-z0-9_], at most 63 bytes) to every connection that
	 * listens there, itself included; it is delivered when the sender
	 * commits.  listen() subscribes this connection; the subscription
	 * outlives reconnects.
	 */
	int (*notify)(struct tr_store *st, const char *channel,
	    const char *payload);
	int (*listen)(struct tr_store *st, const char *channel);

	/*
	 * Wait up to `timeout_ms` for a notification on a channel this
	 * connection listens to.  Returns 0 with *channel_out and
	 * *payload_out set (the caller frees both with tr_free), or 0 with
	 * both NULL when the time ran out.  TRESOR_EUNAVAIL when the
	 * database cannot be reached: notifications may have been lost, so
	 * drop caches.  After the connection came back, every listened
	 * channel is reported once with payload "*" for the same reason.
	 * The SQLite backend only sleeps.
	 */
	int (*poll_notify)(struct tr_store *st, int timeout_ms,
	    char **channel_out, char **payload_out);

	/*
	 * A lock shared by every node on the database, for work that must
	 * run once per event (the reaper, rotation).  try_lock() never
	 * waits: *got tells whether this connection holds `key` now.  Locks
	 * are reentrant per connection (unlock as often as locked) and are
	 * dropped when the connection is lost or closed, so a holder checks
	 * its work with etags as usual.  unlock() returns TRESOR_ENOTFOUND
	 * when this connection did not hold `key`.  SQLite grants every
	 * lock: one process is the whole service.
	 */
	int (*try_lock)(struct tr_store *st, uint64_t key, bool *got);
	int (*unlock)(struct tr_store *st, uint64_t key);

	/*
	 * Hand every stored record to `cb`, from one consistent snapshot, in
	 * a fixed order: objects by id, secret versions by (secret, number),
	 * key versions by id, retry tokens by key, settings by key; strings
	 * and blobs compare as bytes in every backend, so two stores holding
	 * the same records dump them in the same order.  A negative return
	 * of `cb` stops the dump and is returned.  `cb` must not call into
	 * `st`.
	 */
	int (*dump)(struct tr_store *st,
	    int (*cb)(const struct tr_store_record *r, void *payload),
	    void *payload);

	/*
	 * Insert records exactly as dump() gave them (times, etags, pending
	 * retry tokens, settings; no IAM bump), all in one transaction:
	 * BEGIN, RECORD for each, then COMMIT or ABORT.  A record already
	 * present gives TRESOR_EEXISTS.  No other operation may run on `st`
	 * between BEGIN and COMMIT/ABORT.  For tr_store_copy().
	 */
	int (*load)(struct tr_store *st, enum tr_load_step step,
	    const struct tr_store_record *r);

	/*
	 * Optional read snapshot (either may be NULL): the reads between
	 * read_begin() and read_end() see one snapshot and share one lock,
	 * and iam_generation() is read once.  A write inside ends the
	 * snapshot first.  For requests that only read.
	 */
	int (*read_begin)(struct tr_store *st);
	void (*read_end)(struct tr_store *st);
};

/* A handle: the ops plus backend state behind it. */
struct tr_store {
	const struct tr_store_ops *ops;
};

#define TR_STORE_OPS_VERSION 1

/*
 * Open the SQLite store at `path`, creating and migrating it when
 * `create` is set.  Returns TRESOR_EIO with a clear message for a file
 * that is not a tresor database, is corrupt, or fails its integrity
 * check.
 */
int tr_store_sqlite_open(struct tr_store **out, const char *path,
    bool create);

/*
 * Check a SQLite store's pages: PRAGMA quick_check, or integrity_check
 * when `full`.  TRESOR_EIO naming the first problem when the file is
 * corrupt; 0 for a sound file and for any other backend.
 */
int tr_store_sqlite_check(struct tr_store *st, bool full);

/*
 * Group commit for SQLite: connections opened after
 * tr_store_sqlite_group_commit(true) commit with synchronous=NORMAL, so
 * apply() returns before the commit is durable; the caller must not
 * acknowledge it before tr_store_sqlite_wal_sync() ran after it (a sync
 * source for util/durable.h).
 */
void tr_store_sqlite_group_commit(bool on);
struct tr_sqlite_wal;
int tr_store_sqlite_wal_new(struct tr_sqlite_wal **out, const char *db_path);
void tr_store_sqlite_wal_free(struct tr_sqlite_wal *w);
int tr_store_sqlite_wal_sync(void *wal);
/* True when no commit happened since the last tr_store_sqlite_wal_sync(). */
bool tr_store_sqlite_wal_idle(void *wal);
/*
 * Copy the WAL back into the database (a passive checkpoint; SQLite
 * syncs both files).  Group-commit connections leave this to one
 * thread, off the event loops.  0 for other backends.
 */
int tr_store_sqlite_checkpoint(struct tr_store *st);
/* The handle a wrapper (the read cache) wraps; NULL for a backend. */
struct tr_store *tr_store_inner(struct tr_store *st);

/*
 * Read cache.  A bus carries the changes committed in this process (and,
 * with several nodes, those heard through LISTEN) to every cache:
 * tr_store_bus_publish() takes a TR_STORE_CHANGES payload.  A cache
 * wraps one handle (it owns `inner` from then on): obj_get,
 * obj_get_by_name, sv_get, sv_list without blobs, kv_get and
 * iam_generation are answered from memory when they can; writes go
 * through and, with `announce_writes`, are published on the bus.  Before
 * every read the cache drops what the bus announced since its last look,
 * so a read that starts after a commit was announced never sees the old
 * value.  `ttl_ms` bounds how long an entry is trusted (0: until
 * announced; with several nodes, the bound on a lost notification).
 * `max_bytes` bounds what it holds, entries and blobs (0: the default
 * below); past it the least recently used entries go.
 */
#define TR_STORE_CACHE_MAX_BYTES ((size_t)32 * 1024 * 1024)

struct tr_store_bus;
int tr_store_bus_new(struct tr_store_bus **out);
void tr_store_bus_free(struct tr_store_bus *b);
void tr_store_bus_publish(struct tr_store_bus *b, const char *payload);
int tr_store_cache_wrap(struct tr_store **out, struct tr_store *inner,
    struct tr_store_bus *bus, bool announce_writes, int64_t ttl_ms,
    size_t max_bytes);

/*
 * While `on`, the cache's reads go to the database and fill nothing: for
 * requests that write, which must decide on what is committed (a row
 * and its versions read from one place).  No-op on other handles.
 */
void tr_store_cache_bypass(struct tr_store *st, bool on);

struct tr_store_cache_stats {
	uint64_t hits, misses, evictions, flushes;
	size_t entries;
	size_t bytes;		/* held, blobs included (the budget:
				 * TR_STORE_CACHE_MAX_BYTES) */
};
/* Zeroes for a handle that is not a cache. */
void tr_store_cache_stats(struct tr_store *st,
    struct tr_store_cache_stats *out);

/*
 * Open the PostgreSQL store described by `conninfo` (a postgres:// URL or
 * key=value words, as libpq reads them), creating and migrating the
 * schema when `create` is set; the database itself must exist.  Each
 * handle is one connection, reconnected lazily after a loss: while the
 * server cannot be reached every operation returns TRESOR_EUNAVAIL
 * within a few seconds.  Returns TRESOR_ENOTFOUND for a missing database,
 * TRESOR_EIO for one without a tresor schema (run 'tresord init'),
 * TRESOR_EUNAVAIL when the server does not answer.
 */
int tr_store_pg_open(struct tr_store **out, const char *conninfo,
    bool create);

/*
 * Open the store named by `where`: a postgres:// or postgresql:// URL, or
 * libpq key=value words starting with "host=" or "dbname=", open the
 * PostgreSQL backend; anything else is the path of a SQLite file.  A
 * password in a PostgreSQL URL or conninfo is refused (TRESOR_EINVAL):
 * credentials come from a 0600 passfile (PGPASSFILE, ~/.pgpass) or the
 * PG* environment variables.  A passfile that is group/world accessible
 * or not owned by the user is refused with TRESOR_EPERM.
 */
int tr_store_open_url(struct tr_store **out, const char *where,
    bool create);

/*
 * Copy every record of `src` into `dst`, which must hold none (else
 * TRESOR_EEXISTS), in one transaction of `dst`; then read `dst` back and
 * compare it with `src` record by record, every column and blob
 * (TRESOR_EIO naming the first record that differs).  *count_out is the
 * number of records copied.  For 'tresord migrate'.
 */
int tr_store_copy(struct tr_store *dst, struct tr_store *src,
    size_t *count_out);

/* Thin wrappers so callers read naturally. */
static inline void
tr_store_close(struct tr_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

/* Helpers shared by every backend and caller. */
void tr_obj_dispose(struct tr_obj *o);
void tr_obj_list_free(struct tr_obj *items, size_t n);
void tr_secret_version_dispose(struct tr_secret_version *v);
void tr_secret_version_list_free(struct tr_secret_version *items, size_t n);
void tr_key_version_dispose(struct tr_key_version *v);
void tr_key_version_list_free(struct tr_key_version *items, size_t n);
void tr_retry_rec_dispose(struct tr_retry_rec *r);

/* A fresh random etag into `out` (TR_ETAG_MAX). */
int tr_store_new_etag(char *out);

/* True for object types whose writes bump the IAM generation. */
bool tr_store_type_is_iam(const char *type);

/* One entry of a TR_STORE_CHANGES payload (see notify). */
struct tr_store_change {
	char kind[4];			/* "o", "v", "k", "kv", "iam", "*" */
	char id[TR_ID_MAX];		/* "" for "iam" and "*" */
};

/*
 * Read the entry of a change payload at *cursor into `out` and move the
 * cursor past it.  Returns false at the end.  An entry it does not know
 * comes back as "*", so a newer sender makes an older reader drop
 * everything rather than keep something stale.
 */
bool tr_store_change_next(const char **cursor, struct tr_store_change *out);

#endif /* TR_STORE_STORE_H */
