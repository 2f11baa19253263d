/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TTL cache of secret bundles (include/tresor/cache.h).
 *
 * An entry is keyed by its selector (secret OCID or vault + name, and
 * stage, version number or version name).  It is fresh for its TTL
 * (default 15 minutes, or the secret's own), counted on the monotonic
 * clock, and never past the version's timeOfExpiry, counted on the wall
 * clock.  A read within refresh_ahead of expiry refreshes, and when that
 * fails the still-fresh entry is served.  A read after expiry fetches;
 * when the fetch fails for a transient reason (network, 429, 5xx) and
 * the entry expired less than stale_grace ago, the stale entry is served
 * and the failure logged.
 *
 * The first successful fetch of each secret compares the TTL with the
 * secret's rotation window (its version lifetime from timeCreated to
 * timeOfExpiry, its expiry rule, its rotation interval) and reports a
 * TTL that is not shorter, once per secret.
 *
 * One mutex guards the table and the client.  Entries live in an array
 * with least-recently-used eviction past max_entries.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"

#define CHECKED_MAX 4096	/* secrets whose window was checked */
#define OVERRIDES_MAX 4096	/* per-secret TTLs */

/* A copy of the selector an entry was fetched with. */
struct sel_copy {
	char *secret_id;
	char *vault_id;
	char *secret_name;
	char *stage;
	char *version_name;
	uint64_t version_number;
};

struct entry {
	char *key;
	struct sel_copy sel;
	char *secret_id;		/* of the bundle */
	tresor_secret_bundle *b;
	int64_t fetched;		/* monotonic ms */
	int64_t expires;		/* monotonic ms */
	int64_t last_used;		/* monotonic ms */
};

struct ttl_override {
	char *secret_id;
	uint64_t ttl_ms;
};

struct tresor_cache {
	pthread_mutex_t lock;
	struct tr_cache_hooks h;
	tresor_client *client;		/* for the default hooks */
	uint64_t ttl_ms;
	uint64_t refresh_ahead_ms;
	uint64_t stale_grace_ms;
	size_t max_entries;
	bool check_window;
	struct entry *e;
	size_t n;
	struct ttl_override *ov;
	size_t nov;
	char **checked;
	size_t nchecked;
	tresor_cache_stats st;
};

/* ------------------------------------------------------------------ */
/* the default hooks: the client and the real clocks                  */
/* ------------------------------------------------------------------ */

static int
client_fetch(tresor_secret_bundle **out, const tresor_bundle_selector *sel,
    void *payload)
{
	struct tresor_cache *c = payload;

	return tresor_secret_bundle_get(out, c->client, sel);
}

/*
 * GetSecret, for its rotation interval and expiry rule.  A caller that
 * may read bundles but not secrets gets 404 here; that is fine.
 */
static int
client_windows(uint64_t *rotation_ms, uint64_t *expiry_ms,
    const char *secret_id, void *payload)
{
	static const struct tr_json_limits lim = { 1024 * 1024, 16, 100, 200 };
	struct tresor_cache *c = payload;
	tresor_request req = TRESOR_REQUEST_INIT;
	tresor_response *resp = NULL;
	const char *params[1] = { secret_id }, *body, *iv;
	json_t *o = NULL, *rule;
	size_t len, i;
	int rc;

	*rotation_ms = 0;
	*expiry_ms = 0;
	req.path = "/20180608/secrets/{}";
	req.path_params = params;
	req.npath_params = 1;
	req.retry = TRESOR_RETRY_NEVER;
	if ((rc = tresor_client_call(c->client, &req, &resp)) < 0)
		goto out;
	body = tresor_response_body(resp, &len);
	if ((rc = tr_json_parse_object(&o, body, len, &lim)) < 0)
		goto out;
	iv = json_string_value(json_object_get(json_object_get(o,
	    "rotationConfig"), "rotationInterval"));
	if (iv != NULL && tr_iso8601_duration_ms(iv, rotation_ms) < 0)
		*rotation_ms = 0;
	json_array_foreach(json_object_get(o, "secretRules"), i, rule) {
		const char *t = json_string_value(json_object_get(rule,
		    "ruleType"));

		iv = json_string_value(json_object_get(rule,
		    "secretVersionExpiryInterval"));
		if (t != NULL && strcmp(t, "SECRET_EXPIRY_RULE") == 0 &&
		    iv != NULL && tr_iso8601_duration_ms(iv, expiry_ms) < 0)
			*expiry_ms = 0;
	}
	rc = 0;
out:
	json_decref(o);
	tresor_response_free(resp);
	return rc;
}

static int64_t
real_mono(void *payload)
{
	(void)payload;
	return tr_mono_ms();
}

static int64_t
real_now(void *payload)
{
	(void)payload;
	return tr_now_ms();
}

static void
client_log(tresor_log_level level, const char *msg, void *payload)
{
	struct tresor_cache *c = payload;

	tr_client_log(c->client, level, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

static void
cache_log(tresor_cache *c, tresor_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cache_log(tresor_cache *c, tresor_log_level level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (c->h.log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->h.log(level, msg, c->h.payload);
}

static void
sel_dispose(struct sel_copy *s)
{
	tr_free(s->secret_id);
	tr_free(s->vault_id);
	tr_free(s->secret_name);
	tr_free(s->stage);
	tr_free(s->version_name);
	memset(s, 0, sizeof(*s));
}

static int
sel_copy(struct sel_copy *d, const tresor_bundle_selector *s)
{
	const char *src[5] = { s->secret_id, s->vault_id, s->secret_name,
		s->stage, s->version_name };
	char **dst[5] = { &d->secret_id, &d->vault_id, &d->secret_name,
		&d->stage, &d->version_name };
	size_t i;

	memset(d, 0, sizeof(*d));
	d->version_number = s->version_number;
	for (i = 0; i < 5; i++) {
		if (src[i] == NULL)
			continue;
		*dst[i] = tr_strdup(src[i]);
		if (*dst[i] == NULL) {
			sel_dispose(d);
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		}
	}
	return 0;
}

static void
sel_view(tresor_bundle_selector *out, const struct sel_copy *s)
{
	tresor_bundle_selector init = TRESOR_BUNDLE_SELECTOR_INIT;

	*out = init;
	out->secret_id = s->secret_id;
	out->vault_id = s->vault_id;
	out->secret_name = s->secret_name;
	out->stage = s->stage;
	out->version_name = s->version_name;
	out->version_number = s->version_number;
}

static void
entry_dispose(struct entry *e)
{
	tr_free(e->key);
	sel_dispose(&e->sel);
	tr_free(e->secret_id);
	tresor_secret_bundle_free(e->b);
	memset(e, 0, sizeof(*e));
}

static void
entry_remove(tresor_cache *c, size_t i)
{
	entry_dispose(&c->e[i]);
	c->e[i] = c->e[c->n - 1];
	memset(&c->e[c->n - 1], 0, sizeof(c->e[0]));
	c->n--;
}

/* The cache key of a selector (selectors are validated by the caller). */
static int
make_key(char **out, const tresor_bundle_selector *s)
{
	struct tr_buf k;

	tr_buf_init(&k, 4096);
	if (s->secret_id != NULL)
		tr_buf_addf(&k, "id=%s", s->secret_id);
	else
		tr_buf_addf(&k, "vault=%s\nname=%s", s->vault_id,
		    s->secret_name);
	tr_buf_addf(&k, "\nstage=%s\nversion=%llu\nvname=%s",
	    s->stage == NULL ? "" : s->stage,
	    (unsigned long long)s->version_number,
	    s->version_name == NULL ? "" : s->version_name);
	if (tr_buf_error(&k) < 0) {
		int rc = tr_buf_error(&k);

		tr_buf_dispose(&k);
		return rc;
	}
	*out = tr_buf_detach(&k);
	return 0;
}

static uint64_t
ttl_of(const tresor_cache *c, const char *secret_id)
{
	size_t i;

	for (i = 0; secret_id != NULL && i < c->nov; i++)
		if (strcmp(c->ov[i].secret_id, secret_id) == 0)
			return c->ov[i].ttl_ms;
	return c->ttl_ms;
}

/* May the entry's bundle be served at wall time `now`? */
static bool
not_expired(const struct entry *e, int64_t now)
{
	int64_t exp = tresor_secret_bundle_time_of_expiry(e->b);

	return exp == 0 || now < exp;
}

static bool
transient(int rc)
{
	return rc == TRESOR_ENET || rc == TRESOR_EUNAVAIL;
}

static void
report(tresor_cache *c, const char *id, uint64_t ttl, const char *what,
    uint64_t window)
{
	c->st.ttl_warnings++;
	cache_log(c, TRESOR_LOG_WARN,
	    "secret %s: cache TTL of %llu s is not shorter than its %s of "
	    "%llu s; a cached copy can outlive a rotation: set a TTL below "
	    "the rotation window (tresor_cache_set_ttl, or ttl in the "
	    "agent's config)", id, (unsigned long long)(ttl / 1000), what,
	    (unsigned long long)(window / 1000));
}

/*
 * Once per secret: compare the TTL with the secret's rotation window.
 * Called with the lock held, after a successful fetch.
 */
static void
check_window(tresor_cache *c, const tresor_secret_bundle *b)
{
	const char *id = tresor_secret_bundle_secret_id(b);
	uint64_t ttl = ttl_of(c, id), rot = 0, expr = 0;
	int64_t created = tr_bundle_time_created(b);
	int64_t expiry = tresor_secret_bundle_time_of_expiry(b);
	char *dup, **nc;
	size_t i;

	if (!c->check_window)
		return;
	for (i = 0; i < c->nchecked; i++)
		if (strcmp(c->checked[i], id) == 0)
			return;
	if (c->nchecked == CHECKED_MAX)
		return;
	dup = tr_strdup(id);
	nc = dup == NULL ? NULL : tr_reallocarray(c->checked, c->nchecked + 1,
	    sizeof(*nc));
	if (nc == NULL) {
		tr_free(dup);
		return;
	}
	c->checked = nc;
	c->checked[c->nchecked++] = dup;

	if (expiry != 0 && created != 0 && expiry > created &&
	    ttl >= (uint64_t)(expiry - created)) {
		report(c, id, ttl, "version lifetime (timeCreated to "
		    "timeOfExpiry)", (uint64_t)(expiry - created));
		return;
	}
	if (c->h.secret_windows == NULL ||
	    c->h.secret_windows(&rot, &expr, id, c->h.payload) < 0) {
		tr_error_clear();
		return;
	}
	if (rot != 0 && ttl >= rot)
		report(c, id, ttl, "rotation interval", rot);
	else if (expr != 0 && ttl >= expr)
		report(c, id, ttl, "version expiry interval", expr);
}

/* Store a fetched bundle under `key`, replacing or evicting.  Takes b. */
static int
store(tresor_cache *c, const char *key, const tresor_bundle_selector *sel,
    tresor_secret_bundle *b, int64_t mono)
{
	struct entry *ne, e;
	size_t i, lru = 0;
	uint64_t ttl;

	memset(&e, 0, sizeof(e));
	e.b = b;
	e.key = tr_strdup(key);
	e.secret_id = tr_strdup(tresor_secret_bundle_secret_id(b));
	if (e.key == NULL || e.secret_id == NULL ||
	    sel_copy(&e.sel, sel) < 0) {
		entry_dispose(&e);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	ttl = ttl_of(c, e.secret_id);
	e.fetched = mono;
	e.expires = mono + (int64_t)(ttl > INT64_MAX / 2 ? INT64_MAX / 2 :
	    ttl);
	e.last_used = mono;
	for (i = 0; i < c->n; i++) {
		if (strcmp(c->e[i].key, key) == 0) {
			entry_dispose(&c->e[i]);
			c->e[i] = e;
			return 0;
		}
	}
	if (c->n == c->max_entries) {
		for (i = 1; i < c->n; i++)
			if (c->e[i].last_used < c->e[lru].last_used)
				lru = i;
		entry_dispose(&c->e[lru]);
		c->e[lru] = e;
		return 0;
	}
	ne = tr_reallocarray(c->e, c->n + 1, sizeof(*ne));
	if (ne == NULL) {
		entry_dispose(&e);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	c->e = ne;
	c->e[c->n++] = e;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the API                                                            */
/* ------------------------------------------------------------------ */

int
tr_cache_new_hooks(tresor_cache **out, const struct tr_cache_hooks *h,
    const tresor_cache_options *o)
{
	static const tresor_cache_options defaults = TRESOR_CACHE_OPTIONS_INIT;
	tresor_cache *c;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	if (o->version != TRESOR_CACHE_OPTIONS_VERSION || h == NULL ||
	    h->fetch == NULL || h->mono_ms == NULL || h->now_ms == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "tresor_cache_new: options of version %u are required",
		    TRESOR_CACHE_OPTIONS_VERSION);
	c = tr_calloc(1, sizeof(*c));
	if (c == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		tr_free(c);
		return tr_error_set(TRESOR_EINTERNAL, "mutex init failed");
	}
	c->h = *h;
	c->ttl_ms = o->ttl_ms == 0 ? TRESOR_CACHE_TTL_DEFAULT_MS : o->ttl_ms;
	c->refresh_ahead_ms = o->refresh_ahead_ms;
	c->stale_grace_ms = o->stale_grace_ms;
	c->max_entries = o->max_entries == 0 ? 1024 : o->max_entries;
	c->check_window = o->check_rotation_window;
	*out = c;
	return 0;
}

int
tresor_cache_new(tresor_cache **out, tresor_client *client,
    const tresor_cache_options *opts)
{
	struct tr_cache_hooks h;
	int rc;

	*out = NULL;
	if (client == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "tresor_cache_new: no client");
	memset(&h, 0, sizeof(h));
	h.fetch = client_fetch;
	h.secret_windows = client_windows;
	h.mono_ms = real_mono;
	h.now_ms = real_now;
	h.log = client_log;
	if ((rc = tr_cache_new_hooks(out, &h, opts)) < 0)
		return rc;
	(*out)->client = client;
	(*out)->h.payload = *out;
	return 0;
}

void
tresor_cache_free(tresor_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		entry_dispose(&c->e[i]);
	for (i = 0; i < c->nov; i++)
		tr_free(c->ov[i].secret_id);
	for (i = 0; i < c->nchecked; i++)
		tr_free(c->checked[i]);
	tr_free(c->e);
	tr_free(c->ov);
	tr_free(c->checked);
	pthread_mutex_destroy(&c->lock);
	tr_free(c);
}

int
tresor_cache_set_ttl(tresor_cache *c, const char *secret_id, uint64_t ttl)
{
	struct ttl_override *nov;
	size_t i;
	int rc = 0;

	if (c == NULL || secret_id == NULL || secret_id[0] == '\0')
		return tr_error_set(TRESOR_EINVAL, "a secret OCID is required");
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nov; i++) {
		if (strcmp(c->ov[i].secret_id, secret_id) != 0)
			continue;
		if (ttl != 0) {
			c->ov[i].ttl_ms = ttl;
		} else {
			tr_free(c->ov[i].secret_id);
			c->ov[i] = c->ov[--c->nov];
		}
		goto out;
	}
	if (ttl == 0)
		goto out;
	if (c->nov == OVERRIDES_MAX) {
		rc = tr_error_set(TRESOR_ELIMIT, "more than %d TTL overrides",
		    OVERRIDES_MAX);
		goto out;
	}
	nov = tr_reallocarray(c->ov, c->nov + 1, sizeof(*nov));
	if (nov == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	c->ov = nov;
	c->ov[c->nov].secret_id = tr_strdup(secret_id);
	if (c->ov[c->nov].secret_id == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	c->ov[c->nov++].ttl_ms = ttl;
	/* entries already cached follow the new TTL */
	for (i = 0; i < c->n; i++)
		if (strcmp(c->e[i].secret_id, secret_id) == 0)
			c->e[i].expires = c->e[i].fetched + (int64_t)ttl;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
tresor_cache_get(tresor_secret_bundle **out, tresor_cache *c,
    const tresor_bundle_selector *sel)
{
	tresor_secret_bundle *nb = NULL;
	struct entry *e = NULL;
	char *key = NULL;
	int64_t mono, now;
	size_t i;
	int rc = TRESOR_EINTERNAL, frc;

	*out = NULL;
	if (c == NULL || sel == NULL ||
	    sel->version != TRESOR_BUNDLE_SELECTOR_VERSION ||
	    (sel->secret_id == NULL && (sel->vault_id == NULL ||
	    sel->secret_name == NULL)))
		return tr_error_set(TRESOR_EINVAL,
		    "a bundle selector needs a secret OCID, or a vault OCID "
		    "and a secret name");
	if ((rc = make_key(&key, sel)) < 0)
		return tr_error_set(rc, "bundle selector too long");
	pthread_mutex_lock(&c->lock);
	mono = c->h.mono_ms(c->h.payload);
	now = c->h.now_ms(c->h.payload);
	for (i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			e = &c->e[i];
	if (e != NULL && mono < e->expires && not_expired(e, now)) {
		e->last_used = mono;
		if (c->refresh_ahead_ms != 0 &&
		    (uint64_t)(e->expires - mono) <= c->refresh_ahead_ms) {
			frc = c->h.fetch(&nb, sel, c->h.payload);
			if (frc == 0) {
				c->st.refreshes++;
				check_window(c, nb);
				if ((rc = store(c, key, sel, nb, mono)) < 0) {
					nb = NULL;
					goto out;
				}
				nb = NULL;
				for (i = 0; i < c->n; i++)
					if (strcmp(c->e[i].key, key) == 0)
						e = &c->e[i];
			} else {
				c->st.errors++;
				cache_log(c, TRESOR_LOG_WARN,
				    "secret %s: refresh ahead failed (%s); "
				    "serving cached version %llu", e->secret_id,
				    tresor_strerror(frc),
				    (unsigned long long)
				    tresor_secret_bundle_version(e->b));
			}
		} else {
			c->st.hits++;
		}
		rc = tresor_secret_bundle_dup(out, e->b);
		goto out;
	}
	c->st.misses++;
	frc = c->h.fetch(&nb, sel, c->h.payload);
	if (frc == 0) {
		check_window(c, nb);
		if ((rc = store(c, key, sel, nb, mono)) < 0) {
			nb = NULL;
			goto out;
		}
		e = NULL;
		for (i = 0; i < c->n; i++)
			if (strcmp(c->e[i].key, key) == 0)
				e = &c->e[i];
		rc = tresor_secret_bundle_dup(out, e->b);
		nb = NULL;
		goto out;
	}
	c->st.errors++;
	if (e != NULL && transient(frc) && c->stale_grace_ms != 0 &&
	    mono < e->expires + (int64_t)c->stale_grace_ms &&
	    not_expired(e, now)) {
		char detail[160];

		(void)snprintf(detail, sizeof(detail), "%s",
		    tresor_error_last());
		c->st.stale_served++;
		e->last_used = mono;
		cache_log(c, TRESOR_LOG_WARN,
		    "secret %s: fetch failed (%s); serving version %llu, "
		    "stale for %lld s (grace %llu s)", e->secret_id, detail,
		    (unsigned long long)tresor_secret_bundle_version(e->b),
		    (long long)((mono - e->expires) / 1000),
		    (unsigned long long)(c->stale_grace_ms / 1000));
		rc = tresor_secret_bundle_dup(out, e->b);
		goto out;
	}
	if (e != NULL && !not_expired(e, now)) {
		/* never keep a version past its expiry */
		entry_remove(c, (size_t)(e - c->e));
	}
	rc = frc;
out:
	pthread_mutex_unlock(&c->lock);
	tresor_secret_bundle_free(nb);
	tr_free(key);
	return rc;
}

size_t
tresor_cache_refresh_due(tresor_cache *c)
{
	tresor_bundle_selector sel;
	tresor_secret_bundle *nb;
	struct sel_copy sc;
	char *key;
	size_t i, done = 0;
	int64_t mono;

	if (c == NULL || c->refresh_ahead_ms == 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	mono = c->h.mono_ms(c->h.payload);
	for (i = 0; i < c->n; i++) {
		if (c->e[i].expires - mono > (int64_t)c->refresh_ahead_ms)
			continue;
		/* store() replaces the entry: work on copies */
		key = tr_strdup(c->e[i].key);
		if (key == NULL)
			break;
		sel_view(&sel, &c->e[i].sel);
		if (sel_copy(&sc, &sel) < 0) {
			tr_free(key);
			break;
		}
		sel_view(&sel, &sc);
		nb = NULL;
		if (c->h.fetch(&nb, &sel, c->h.payload) == 0) {
			c->st.refreshes++;
			if (store(c, key, &sel, nb, mono) == 0)
				done++;
		} else {
			c->st.errors++;
			tr_error_clear();
		}
		sel_dispose(&sc);
		tr_free(key);
	}
	pthread_mutex_unlock(&c->lock);
	return done;
}

void
tresor_cache_invalidate(tresor_cache *c, const char *secret_id)
{
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = c->n; i > 0; i--)
		if (secret_id == NULL ||
		    strcmp(c->e[i - 1].secret_id, secret_id) == 0)
			entry_remove(c, i - 1);
	pthread_mutex_unlock(&c->lock);
}

void
tresor_cache_get_stats(tresor_cache *c, tresor_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	pthread_mutex_unlock(&c->lock);
}
