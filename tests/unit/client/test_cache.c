/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TTL cache with injected clocks and a scripted fetch: hits within
 * the TTL, expiry, a per-secret TTL, refresh-ahead (and serving the
 * cached entry when it fails), serve-stale-on-error only for transient
 * failures and only for the grace period, never past a version's
 * timeOfExpiry, the once-per-secret report of a TTL not shorter than the
 * rotation window, eviction, and invalidation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_int.h"
#include "util/error.h"

static struct {
	int64_t mono;
	int64_t now;
	int fail;		/* fetch answers this code when not 0 */
	unsigned int fetches;
	uint64_t version;	/* version the next fetch returns */
	int64_t created;
	int64_t expiry;
	uint64_t rotation_ms;
	uint64_t expiry_rule_ms;
	unsigned int window_calls;
	unsigned int warnings;
	char last_log[512];
} w;

static int
fake_fetch(tresor_secret_bundle **out, const tresor_bundle_selector *sel,
    void *payload)
{
	char content[32];

	(void)payload;
	w.fetches++;
	if (w.fail != 0)
		return tr_error_set(w.fail, "scripted failure");
	(void)snprintf(content, sizeof(content), "value-%llu",
	    (unsigned long long)w.version);
	return tr_bundle_new(out, sel->secret_id != NULL ? sel->secret_id :
	    "ocid1.vaultsecret.oc1..byname", w.version, content,
	    strlen(content), w.created, w.expiry);
}

static int
fake_windows(uint64_t *rot, uint64_t *exp, const char *id, void *payload)
{
	(void)id;
	(void)payload;
	w.window_calls++;
	*rot = w.rotation_ms;
	*exp = w.expiry_rule_ms;
	return 0;
}

static int64_t
fake_mono(void *payload)
{
	(void)payload;
	return w.mono;
}

static int64_t
fake_now(void *payload)
{
	(void)payload;
	return w.now;
}

static void
fake_log(tresor_log_level level, const char *msg, void *payload)
{
	(void)payload;
	if (level == TRESOR_LOG_WARN && strstr(msg, "cache TTL") != NULL)
		w.warnings++;
	(void)snprintf(w.last_log, sizeof(w.last_log), "%s", msg);
}

static tresor_cache *
cache(uint64_t ttl, uint64_t ahead, uint64_t grace, size_t max)
{
	struct tr_cache_hooks h = { fake_fetch, fake_windows, fake_mono,
		fake_now, fake_log, NULL };
	tresor_cache_options o = TRESOR_CACHE_OPTIONS_INIT;
	tresor_cache *c = NULL;

	memset(&w, 0, sizeof(w));
	w.mono = 1000000;
	w.now = 1700000000000LL;
	w.version = 1;
	o.ttl_ms = ttl;
	o.refresh_ahead_ms = ahead;
	o.stale_grace_ms = grace;
	o.max_entries = max;
	assert_int_equal(tr_cache_new_hooks(&c, &h, &o), 0);
	return c;
}

/* Get secret `id` and return its version (0 on error, rc in *rc). */
static uint64_t
get(tresor_cache *c, const char *id, int *rc)
{
	tresor_bundle_selector sel = TRESOR_BUNDLE_SELECTOR_INIT;
	tresor_secret_bundle *b = NULL;
	uint64_t v = 0;

	sel.secret_id = id;
	*rc = tresor_cache_get(&b, c, &sel);
	if (*rc == 0) {
		v = tresor_secret_bundle_version(b);
		tresor_secret_bundle_free(b);
	}
	return v;
}

static void
test_hit_within_ttl_then_expiry(void **state)
{
	tresor_cache *c = cache(60000, 0, 0, 0);
	tresor_cache_stats st;
	int rc;

	(void)state;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.version = 2;
	w.mono += 59999;
	assert_int_equal(get(c, "s1", &rc), 1);	/* cached */
	assert_int_equal(w.fetches, 1);
	w.mono += 1;
	assert_int_equal(get(c, "s1", &rc), 2);	/* expired: fetched */
	assert_int_equal(w.fetches, 2);
	tresor_cache_get_stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
	tresor_cache_free(c);
}

static void
test_default_ttl_is_15_minutes(void **state)
{
	tresor_cache *c = cache(0, 0, 0, 0);
	int rc;

	(void)state;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.version = 2;
	w.mono += 15 * 60 * 1000 - 1;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.mono += 1;
	assert_int_equal(get(c, "s1", &rc), 2);
	tresor_cache_free(c);
}

static void
test_per_secret_ttl(void **state)
{
	tresor_cache *c = cache(60000, 0, 0, 0);
	int rc;

	(void)state;
	assert_int_equal(tresor_cache_set_ttl(c, "fast", 1000), 0);
	assert_int_equal(get(c, "fast", &rc), 1);
	assert_int_equal(get(c, "slow", &rc), 1);
	w.version = 2;
	w.mono += 1000;
	assert_int_equal(get(c, "fast", &rc), 2);
	assert_int_equal(get(c, "slow", &rc), 1);
	/* an override also shortens an entry already cached */
	assert_int_equal(tresor_cache_set_ttl(c, "slow", 500), 0);
	assert_int_equal(get(c, "slow", &rc), 2);
	/* 0 removes the override: the next fetch lives the default TTL */
	assert_int_equal(tresor_cache_set_ttl(c, "slow", 0), 0);
	w.version = 3;
	w.mono += 500;
	assert_int_equal(get(c, "slow", &rc), 3);
	w.version = 4;
	w.mono += 30000;
	assert_int_equal(get(c, "slow", &rc), 3);
	tresor_cache_free(c);
}

static void
test_stale_served_within_grace_only(void **state)
{
	tresor_cache *c = cache(60000, 0, 30000, 0);
	tresor_cache_stats st;
	int rc;

	(void)state;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.mono += 60000;
	w.fail = TRESOR_ENET;
	assert_int_equal(get(c, "s1", &rc), 1);	/* stale, but served */
	assert_int_equal(rc, 0);
	assert_non_null(strstr(w.last_log, "serving version 1, stale"));
	w.fail = TRESOR_EUNAVAIL;
	w.mono += 29999;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.mono += 1;					/* grace over */
	assert_int_equal(get(c, "s1", &rc), 0);
	assert_int_equal(rc, TRESOR_EUNAVAIL);
	tresor_cache_get_stats(c, &st);
	assert_int_equal(st.stale_served, 2);
	/* once the service answers again, fresh data */
	w.fail = 0;
	w.version = 5;
	assert_int_equal(get(c, "s1", &rc), 5);
	tresor_cache_free(c);
}

static void
test_no_stale_for_definite_errors(void **state)
{
	tresor_cache *c = cache(1000, 0, 600000, 0);
	int rc;

	(void)state;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.mono += 1000;
	/* deleted or access revoked: the answer is not "try later" */
	w.fail = TRESOR_ENOTFOUND;
	assert_int_equal(get(c, "s1", &rc), 0);
	assert_int_equal(rc, TRESOR_ENOTFOUND);
	w.fail = TRESOR_EAUTH;
	assert_int_equal(get(c, "s1", &rc), 0);
	assert_int_equal(rc, TRESOR_EAUTH);
	tresor_cache_free(c);
}

static void
test_no_stale_without_grace(void **state)
{
	tresor_cache *c = cache(1000, 0, 0, 0);
	int rc;

	(void)state;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.mono += 1000;
	w.fail = TRESOR_ENET;
	assert_int_equal(get(c, "s1", &rc), 0);
	assert_int_equal(rc, TRESOR_ENET);
	tresor_cache_free(c);
}

static void
test_refresh_ahead(void **state)
{
	tresor_cache *c = cache(60000, 10000, 0, 0);
	tresor_cache_stats st;
	int rc;

	(void)state;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.version = 2;
	w.mono += 49999;				/* not yet */
	assert_int_equal(get(c, "s1", &rc), 1);
	assert_int_equal(w.fetches, 1);
	w.mono += 1;					/* in the window */
	assert_int_equal(get(c, "s1", &rc), 2);
	assert_int_equal(w.fetches, 2);
	/* a failing refresh still serves the fresh-enough entry */
	w.version = 3;
	w.mono += 50000;
	w.fail = TRESOR_ENET;
	assert_int_equal(get(c, "s1", &rc), 2);
	assert_int_equal(rc, 0);
	/* refresh_due() refreshes entries in the window, from a timer */
	w.fail = 0;
	assert_int_equal(tresor_cache_refresh_due(c), 1);
	assert_int_equal(get(c, "s1", &rc), 3);
	tresor_cache_get_stats(c, &st);
	assert_int_equal(st.refreshes, 2);
	tresor_cache_free(c);
}

static void
test_never_past_time_of_expiry(void **state)
{
	tresor_cache *c = cache(3600000, 0, 3600000, 0);
	int rc;

	(void)state;
	w.created = w.now - 86400000;
	w.expiry = w.now + 10000;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.version = 2;
	w.now += 9999;
	assert_int_equal(get(c, "s1", &rc), 1);
	w.now += 1;			/* the version expired: refetch */
	assert_int_equal(get(c, "s1", &rc), 2);
	/* and an expired version is not served stale either */
	w.now += 20000;
	w.fail = TRESOR_ENET;
	assert_int_equal(get(c, "s1", &rc), 0);
	assert_int_equal(rc, TRESOR_ENET);
	tresor_cache_free(c);
}

static void
test_ttl_versus_rotation_reported_once(void **state)
{
	tresor_cache *c = cache(15 * 60 * 1000, 0, 0, 0);
	int rc;

	(void)state;
	/* rotation interval of 10 minutes: a 15-minute TTL is too long */
	w.rotation_ms = 10 * 60 * 1000;
	assert_int_equal(get(c, "s1", &rc), 1);
	assert_int_equal(w.warnings, 1);
	assert_non_null(strstr(w.last_log, "s1"));
	assert_non_null(strstr(w.last_log, "rotation interval"));
	w.mono += 15 * 60 * 1000;
	assert_int_equal(get(c, "s1", &rc), 1);
	assert_int_equal(w.warnings, 1);		/* once */
	assert_int_equal(w.window_calls, 1);
	/* another secret with a long rotation: nothing to report */
	w.rotation_ms = 30ULL * 86400000;
	assert_int_equal(get(c, "s2", &rc), 1);
	assert_int_equal(w.warnings, 1);
	/* an expiry rule shorter than the TTL is reported too */
	w.rotation_ms = 0;
	w.expiry_rule_ms = 60000;
	assert_int_equal(get(c, "s3", &rc), 1);
	assert_int_equal(w.warnings, 2);
	assert_non_null(strstr(w.last_log, "expiry interval"));
	tresor_cache_free(c);
}

static void
test_ttl_versus_version_lifetime(void **state)
{
	tresor_cache *c = cache(3600000, 0, 0, 0);
	int rc;

	(void)state;
	/* the version lives 30 minutes; the TTL is an hour */
	w.created = w.now;
	w.expiry = w.now + 30 * 60 * 1000;
	assert_int_equal(get(c, "s1", &rc), 1);
	assert_int_equal(w.warnings, 1);
	assert_non_null(strstr(w.last_log, "version lifetime"));
	assert_int_equal(w.window_calls, 0);
	tresor_cache_free(c);
}

static void
test_eviction_and_invalidate(void **state)
{
	tresor_cache *c = cache(60000, 0, 0, 2);
	int rc;

	(void)state;
	assert_int_equal(get(c, "a", &rc), 1);
	w.mono++;
	assert_int_equal(get(c, "b", &rc), 1);
	w.mono++;
	assert_int_equal(get(c, "a", &rc), 1);	/* a used more recently */
	w.mono++;
	assert_int_equal(get(c, "c", &rc), 1);	/* evicts b */
	assert_int_equal(w.fetches, 3);
	assert_int_equal(get(c, "a", &rc), 1);
	assert_int_equal(w.fetches, 3);
	assert_int_equal(get(c, "b", &rc), 1);
	assert_int_equal(w.fetches, 4);
	tresor_cache_invalidate(c, "b");
	assert_int_equal(get(c, "b", &rc), 1);
	assert_int_equal(w.fetches, 5);
	tresor_cache_invalidate(c, NULL);
	(void)get(c, "a", &rc);
	assert_int_equal(w.fetches, 6);
	tresor_cache_free(c);
}

static void
test_selectors_are_distinct(void **state)
{
	tresor_bundle_selector sel = TRESOR_BUNDLE_SELECTOR_INIT;
	tresor_secret_bundle *b = NULL;
	tresor_cache *c = cache(60000, 0, 0, 0);

	(void)state;
	sel.secret_id = "s1";
	assert_int_equal(tresor_cache_get(&b, c, &sel), 0);
	tresor_secret_bundle_free(b);
	sel.stage = "PENDING";
	assert_int_equal(tresor_cache_get(&b, c, &sel), 0);
	tresor_secret_bundle_free(b);
	sel.stage = NULL;
	sel.version_number = 1;
	assert_int_equal(tresor_cache_get(&b, c, &sel), 0);
	tresor_secret_bundle_free(b);
	assert_int_equal(w.fetches, 3);
	/* by name */
	sel.secret_id = NULL;
	sel.version_number = 0;
	assert_int_equal(tresor_cache_get(&b, c, &sel), TRESOR_EINVAL);
	sel.vault_id = "v";
	sel.secret_name = "n";
	assert_int_equal(tresor_cache_get(&b, c, &sel), 0);
	tresor_secret_bundle_free(b);
	tresor_cache_free(c);
}

static void
test_iso8601_durations(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(tr_iso8601_duration_ms("P30D", &ms), 0);
	assert_int_equal(ms, 30ULL * 86400000);
	assert_int_equal(tr_iso8601_duration_ms("PT12H", &ms), 0);
	assert_int_equal(ms, 12ULL * 3600000);
	assert_int_equal(tr_iso8601_duration_ms("P1DT1M", &ms), 0);
	assert_int_equal(ms, 86400000ULL + 60000);
	assert_int_equal(tr_iso8601_duration_ms("P1W", &ms), 0);
	assert_int_equal(ms, 7ULL * 86400000);
	assert_int_equal(tr_iso8601_duration_ms("P1M", &ms), 0);
	assert_int_equal(ms, 30ULL * 86400000);
	assert_int_equal(tr_iso8601_duration_ms("PT1M", &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(tr_iso8601_duration_ms("P", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_iso8601_duration_ms("30D", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_iso8601_duration_ms("P1H", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_iso8601_duration_ms("PD", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_iso8601_duration_ms("P1D1D", &ms), TRESOR_EINVAL);
	assert_int_equal(tr_iso8601_duration_ms("P1DTT1H", &ms),
	    TRESOR_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_within_ttl_then_expiry),
		cmocka_unit_test(test_default_ttl_is_15_minutes),
		cmocka_unit_test(test_per_secret_ttl),
		cmocka_unit_test(test_stale_served_within_grace_only),
		cmocka_unit_test(test_no_stale_for_definite_errors),
		cmocka_unit_test(test_no_stale_without_grace),
		cmocka_unit_test(test_refresh_ahead),
		cmocka_unit_test(test_never_past_time_of_expiry),
		cmocka_unit_test(test_ttl_versus_rotation_reported_once),
		cmocka_unit_test(test_ttl_versus_version_lifetime),
		cmocka_unit_test(test_eviction_and_invalidate),
		cmocka_unit_test(test_selectors_are_distinct),
		cmocka_unit_test(test_iso8601_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
