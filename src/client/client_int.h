/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libtresor's private interface, shared by the files of src/client/ and
 * by the unit tests in tests/unit/client/.  Nothing here is exported
 * from the shared library (only TRESOR_EXTERN symbols are).
 *
 * Files: config.c (OCI config files, environment), signer.c (signing,
 * key files, session tokens), retry.c (backoff, Retry-After), url.c
 * (endpoint parsing, percent-encoding), sbuf.c (zeroing buffer),
 * client.c (transport over libcurl, retries, responses), secrets.c
 * (bundles), cache.c (TTL cache), file.c (secure file writes),
 * workload.c (resource-principal token requests).
 */
#ifndef TR_CLIENT_CLIENT_INT_H
#define TR_CLIENT_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tresor/tresor.h"
#include "util/buf.h"
#include "util/secret.h"

/* ------------------------------------------------------------------ */
/* limits of every parser of untrusted input                          */
/* ------------------------------------------------------------------ */

#define TR_CONFIG_MAX_BYTES	((size_t)1024 * 1024)	/* config */
#define TR_CONFIG_MAX_LINE	4096
#define TR_CONFIG_MAX_ENTRIES	4096
#define TR_CONFIG_MAX_SECTIONS	1024
#define TR_KEY_FILE_MAX		((size_t)64 * 1024)	/* PEM key */
#define TR_TOKEN_MAX		((size_t)64 * 1024)	/* token */
#define TR_RESPONSE_MAX		((size_t)8 * 1024 * 1024) /* body */
#define TR_HEADER_LINE_MAX	8192
#define TR_HEADERS_MAX_BYTES	((size_t)64 * 1024)
#define TR_ERROR_FIELD_MAX	1024	/* code, message of an error */

/* ------------------------------------------------------------------ */
/* sbuf.c: a growable buffer that zeroes every block it lets go of     */
/* ------------------------------------------------------------------ */

/*
 * Like tr_buf but for bytes that may be secret (response bodies carry
 * base64 secret content): growth allocates a new block, copies and
 * zeroes the old one; reset and dispose zero.  Always NUL-terminated.
 */
struct tr_sbuf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
};

void tr_sbuf_init(struct tr_sbuf *b, size_t max);
/* Append; 0, TRESOR_ETOOBIG past `max` or TRESOR_ENOMEM. */
int tr_sbuf_add(struct tr_sbuf *b, const void *p, size_t n);
void tr_sbuf_reset(struct tr_sbuf *b);
void tr_sbuf_dispose(struct tr_sbuf *b);

/* ------------------------------------------------------------------ */
/* url.c                                                              */
/* ------------------------------------------------------------------ */

/* An endpoint split for building requests and the signed host. */
struct tr_url {
	bool https;
	char origin[300];	/* "http://host:port" as given */
	char host[280];		/* Host header: host[:port], default port
				   omitted */
	char prefix[1024];	/* path prefix, no trailing '/' ("" none) */
};

/*
 * Parse an endpoint: http:// or https://, no user info, query or
 * fragment.  0 or TRESOR_EINVAL naming the problem.
 */
int tr_url_parse(struct tr_url *u, const char *endpoint);

/* Append `s` percent-encoded (all but A-Z a-z 0-9 - . _ ~). */
int tr_url_encode(struct tr_buf *out, const char *s);

/* ------------------------------------------------------------------ */
/* config.c                                                           */
/* ------------------------------------------------------------------ */

/* One key = value of an INI file, in file order. */
struct tr_ini_entry {
	char *section;
	char *key;		/* lowercased, as configparser does */
	char *value;		/* zeroed on dispose (pass_phrase) */
	unsigned int line;
};

struct tr_ini {
	struct tr_ini_entry *e;
	size_t n;
	size_t cap;
	char **sections;
	size_t nsections;
};

/*
 * Parse an OCI config file (Python configparser semantics without
 * interpolation: [sections], key = value or key: value, # and ; comment
 * lines, keys case-insensitive, duplicate sections or keys refused).
 * `name` is used in messages.  0, TRESOR_EINVAL (with file and line) or
 * TRESOR_ETOOBIG, TRESOR_ENOMEM.
 */
int tr_ini_parse(struct tr_ini *out, const char *buf, size_t len,
    const char *name);
/* The value of `key` in `section`, else in DEFAULT; borrowed or NULL. */
const char *tr_ini_get(const struct tr_ini *ini, const char *section,
    const char *key);
bool tr_ini_has_section(const struct tr_ini *ini, const char *section);
void tr_ini_dispose(struct tr_ini *ini);

struct tresor_config {
	char *config_file;	/* the file read, or NULL */
	char *profile;
	char *user;
	char *tenancy;
	char *fingerprint;
	char *key_file;
	char *region;
	char *endpoint;
	char *security_token_file;
	struct tr_secret *pass_phrase;	/* NULL: none */
	tresor_auth_kind auth;
	/* resource principal 2.2: each value given either inline or as an
	   absolute path */
	struct tr_secret *rp_token;	/* inline token */
	char *rp_token_path;
	struct tr_secret *rp_pem;	/* inline PEM */
	char *rp_pem_path;
	struct tr_secret *rp_passphrase; /* inline pass phrase */
	char *rp_passphrase_path;
	char *rp_region;
};

/*
 * Expand a leading "~/" with $HOME (or the password database) into a new
 * string (tr_free).  0, TRESOR_EINVAL or TRESOR_ENOMEM.
 */
int tr_expand_home(char **out, const char *path);

/* ------------------------------------------------------------------ */
/* signer.c                                                           */
/* ------------------------------------------------------------------ */

/*
 * Read a private key file into a secret, refusing a file that group or
 * others may access or that another user owns (STYLE S6).  `what` names
 * it in messages ("key file").  0, TRESOR_ENOTFOUND, TRESOR_EPERM,
 * TRESOR_EINVAL, TRESOR_ETOOBIG, TRESOR_EIO, TRESOR_ENOMEM.
 */
int tr_key_file_read(struct tr_secret **out, const char *path,
    const char *what);

/*
 * Read a small credential file (session token, pass phrase) into a
 * secret, trailing whitespace removed.  Same errors.
 */
int tr_cred_file_read(struct tr_secret **out, const char *path,
    const char *what, bool check_mode);

/*
 * The signing string of a request, byte for byte as the OCI SDKs build
 * it (oci-wire.md 1.4).  `sha256` and `content_length` are used when
 * `with_body`.
 */
int tr_sign_string(struct tr_buf *out, const char *method_lower,
    const char *target, const char *host, const char *x_date,
    bool with_body, const char *content_length, const char *sha256);

/* The "headers" parameter matching tr_sign_string(). */
const char *tr_sign_header_list(bool with_body);

/*
 * The "exp" claim of a JWT (seconds since the epoch), 0 when absent.
 * 0 or TRESOR_EINVAL for a token that is not a JWT.
 */
int tr_jwt_exp(int64_t *out, const char *token, size_t len);

/* ------------------------------------------------------------------ */
/* retry.c                                                            */
/* ------------------------------------------------------------------ */

struct tr_retry_policy {
	unsigned int max_attempts;	/* >= 1 */
	uint64_t base_ms;		/* bound of the first backoff */
	uint64_t cap_ms;		/* bound of every backoff */
	uint64_t max_retry_after_ms;	/* longer Retry-After: stop */
};

/* Returned by tr_backoff_delay_ms() when retrying must stop. */
#define TR_BACKOFF_STOP UINT64_MAX

/*
 * The bound of the backoff after `failures` (>= 1) failed attempts:
 * min(cap, base * 2^(failures - 1)).
 */
uint64_t tr_backoff_bound_ms(const struct tr_retry_policy *p,
    unsigned int failures);

/*
 * The delay before the next attempt: full jitter, uniform in
 * [0, bound] drawn from `rnd`; at least `retry_after_ms` when that is
 * not negative, and TR_BACKOFF_STOP when it exceeds the policy's
 * max_retry_after_ms.
 */
uint64_t tr_backoff_delay_ms(const struct tr_retry_policy *p,
    unsigned int failures, int64_t retry_after_ms, uint64_t rnd);

/*
 * Parse a Retry-After value: delta-seconds or an HTTP date (relative to
 * `now_ms`; a past date is 0).  0 or TRESOR_EINVAL.
 */
int tr_retry_after_parse(const char *v, int64_t now_ms, int64_t *ms_out);

/* True for the statuses worth retrying: 429, 500, 502, 503, 504. */
bool tr_retry_status(int status);

/* ------------------------------------------------------------------ */
/* client.c                                                           */
/* ------------------------------------------------------------------ */

/*
 * Send a message to the client's log callback (no-op without one).
 * Callers never pass secret content.
 */
void tr_client_log(tresor_client *c, tresor_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The retry policy of a client (tests). */
const struct tr_retry_policy *tr_client_policy(const tresor_client *c);

/* ------------------------------------------------------------------ */
/* secrets.c                                                          */
/* ------------------------------------------------------------------ */

/* Parse a SecretBundle body.  0 or TRESOR_EINVAL/ETOOBIG/ENOMEM. */
int tr_bundle_parse(tresor_secret_bundle **out, const char *body,
    size_t len);

/* The version's timeCreated (ms since the epoch), 0 when absent. */
int64_t tr_bundle_time_created(const tresor_secret_bundle *b);

/*
 * Build a bundle directly (tests and the cache's unit tests).
 * `expiry_ms`/`created_ms` 0 when absent.
 */
int tr_bundle_new(tresor_secret_bundle **out, const char *secret_id,
    uint64_t version, const void *content, size_t len, int64_t created_ms,
    int64_t expiry_ms);

/*
 * Parse an ISO 8601 duration (P[nY][nM][nW][nD][T[nH][nM][nS]], a year
 * counted as 365 days and a month as 30) into milliseconds.
 * 0 or TRESOR_EINVAL.
 */
int tr_iso8601_duration_ms(const char *s, uint64_t *out);

/* ------------------------------------------------------------------ */
/* cache.c                                                            */
/* ------------------------------------------------------------------ */

/* What the cache needs from the world: injectable for unit tests. */
struct tr_cache_hooks {
	int (*fetch)(tresor_secret_bundle **out,
	    const tresor_bundle_selector *sel, void *payload);
	/* the secret's rotation interval and expiry-rule interval (0 when
	   none); optional, failures are ignored */
	int (*secret_windows)(uint64_t *rotation_ms, uint64_t *expiry_ms,
	    const char *secret_id, void *payload);
	int64_t (*mono_ms)(void *payload);	/* TTL clock */
	int64_t (*now_ms)(void *payload);	/* wall clock (expiry) */
	void (*log)(tresor_log_level level, const char *msg, void *payload);
	void *payload;
};

int tr_cache_new_hooks(tresor_cache **out, const struct tr_cache_hooks *h,
    const tresor_cache_options *opts);

/* ------------------------------------------------------------------ */
/* file.c                                                             */
/* ------------------------------------------------------------------ */

/*
 * tresor_secret_write_file() with a fixed temporary name (tests plant
 * a symlink there); NULL draws random names as the public call does.
 */
int tr_write_file(const char *path, const void *data, size_t len,
    const tresor_write_file_options *opts, const char *tmp_name);

#endif /* TR_CLIENT_CLIENT_INT_H */
