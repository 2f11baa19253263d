/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet_sim: how many server calls libtresor's cache saves a fleet.
 *
 *   fleet_sim [--procs 100] [--secrets 10] [--seconds 3600]
 *             [--ttl-ms 900000] [--rotate-at 2000]
 *
 * A fleet of P processes, each with its own cache (the real cache.c,
 * default options but the TTL), reads S secrets once a second each for
 * the given time; one secret (number 0) gets a new version at
 * --rotate-at seconds.  Time is simulated: the cache's clocks and its
 * fetch are injected through its hooks (client/client_int.h, as the
 * cache's unit tests do), so an hour runs in about a second and nothing
 * sleeps.  Process p reads at p * 10 ms past each second.
 *
 * Counted as server calls: each fetch (GetSecretBundle) and each
 * rotation-window look-up (GetSecret, made once per secret and process
 * by a cache that checks the rotation window, the default).  The same
 * reads without a cache each cost one call.  Also reported: how long
 * after the rotation the last process saw the new version (bounded by
 * the TTL) and how many reads returned the old version meanwhile.
 * Prints "FLEET_JSON {...}".
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "tresor/tresor.h"

#define MAX_SECRETS 64

struct sim {
	int64_t now_ms;			/* the simulated clock */
	uint64_t calls;			/* GetSecretBundle */
	uint64_t window_calls;		/* GetSecret */
	uint64_t version[MAX_SECRETS];
	char ids[MAX_SECRETS][64];
	unsigned int nsecrets;
};

static int
sim_fetch(tresor_secret_bundle **out, const tresor_bundle_selector *sel,
    void *payload)
{
	struct sim *s = payload;
	static const char content[] = "correct-horse-battery-staple";
	unsigned int i;

	s->calls++;
	for (i = 0; i < s->nsecrets; i++)
		if (strcmp(s->ids[i], sel->secret_id) == 0)
			break;
	if (i == s->nsecrets)
		return TRESOR_ENOTFOUND;
	return tr_bundle_new(out, s->ids[i], s->version[i], content,
	    sizeof(content) - 1, s->now_ms, 0);
}

static int
sim_windows(uint64_t *rotation_ms, uint64_t *expiry_ms,
    const char *secret_id, void *payload)
{
	struct sim *s = payload;

	s->window_calls++;
	/* the rotating secret has a 30-day rotation interval */
	*rotation_ms = strcmp(secret_id, s->ids[0]) == 0 ?
	    (uint64_t)30 * 24 * 3600 * 1000 : 0;
	*expiry_ms = 0;
	return 0;
}

static int64_t
sim_clock(void *payload)
{
	return ((struct sim *)payload)->now_ms;
}

static void
sim_log(tresor_log_level level, const char *msg, void *payload)
{
	(void)level;
	(void)msg;
	(void)payload;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "procs", required_argument, NULL, 'p' },
		{ "secrets", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "ttl-ms", required_argument, NULL, 'T' },
		{ "rotate-at", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long procs = 100, secrets = 10, seconds = 3600;
	unsigned long ttl_ms = 15 * 60 * 1000, rotate_at = 2000;
	tresor_cache_options opts = TRESOR_CACHE_OPTIONS_INIT;
	tresor_bundle_selector sel = TRESOR_BUNDLE_SELECTOR_INIT;
	struct tr_cache_hooks h;
	tresor_cache **caches;
	tresor_secret_bundle *b;
	struct sim s;
	int64_t *seen_new, last_seen = 0;
	uint64_t reads = 0, stale_reads = 0, cached_calls, nocache_calls;
	unsigned long p, t, k;
	bool rotated = false;
	int c;

	while ((c = getopt_long(argc, argv, "p:s:t:T:r:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			procs = strtoul(optarg, NULL, 10);
			break;
		case 's':
			secrets = strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtoul(optarg, NULL, 10);
			break;
		case 'T':
			ttl_ms = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rotate_at = strtoul(optarg, NULL, 10);
			break;
		default:
			errx(2, "usage: fleet_sim [--procs N] [--secrets N] "
			    "[--seconds N] [--ttl-ms MS] [--rotate-at S]");
		}
	}
	if (procs == 0 || procs > 100000 || secrets == 0 ||
	    secrets > MAX_SECRETS || seconds == 0 || ttl_ms == 0)
		errx(2, "out of range");
	memset(&s, 0, sizeof(s));
	s.nsecrets = (unsigned int)secrets;
	for (k = 0; k < secrets; k++) {
		(void)snprintf(s.ids[k], sizeof(s.ids[k]),
		    "ocid1.vaultsecret.oc1.sim.fleet%04lu", k);
		s.version[k] = 1;
	}
	memset(&h, 0, sizeof(h));
	h.fetch = sim_fetch;
	h.secret_windows = sim_windows;
	h.mono_ms = sim_clock;
	h.now_ms = sim_clock;
	h.log = sim_log;
	h.payload = &s;
	opts.ttl_ms = ttl_ms;
	caches = calloc(procs, sizeof(*caches));
	seen_new = calloc(procs, sizeof(*seen_new));
	if (caches == NULL || seen_new == NULL)
		err(1, "calloc");
	for (p = 0; p < procs; p++) {
		if (tr_cache_new_hooks(&caches[p], &h, &opts) < 0)
			errx(1, "cache: %s", tresor_error_last());
		seen_new[p] = -1;
	}

	/* with the cache */
	for (t = 0; t < seconds; t++) {
		for (p = 0; p < procs; p++) {
			s.now_ms = (int64_t)t * 1000 + (int64_t)(p * 10 % 1000);
			if (!rotated && t >= rotate_at && p == 0) {
				s.version[0]++;
				rotated = true;
			}
			for (k = 0; k < secrets; k++) {
				sel.secret_id = s.ids[k];
				if (tresor_cache_get(&b, caches[p], &sel) < 0)
					errx(1, "read: %s",
					    tresor_error_last());
				reads++;
				if (k == 0 && rotated) {
					if (tresor_secret_bundle_version(b) <
					    s.version[0])
						stale_reads++;
					else if (seen_new[p] < 0)
						seen_new[p] = s.now_ms;
				}
				tresor_secret_bundle_free(b);
			}
		}
	}
	cached_calls = s.calls + s.window_calls;
	for (p = 0; p < procs; p++) {
		if (seen_new[p] < 0)
			last_seen = -1;
		else if (last_seen >= 0 && seen_new[p] > last_seen)
			last_seen = seen_new[p];
	}

	/* the same reads without a cache: each one is a call */
	s.calls = 0;
	s.version[0] = 1;
	for (t = 0; t < seconds; t++) {
		for (p = 0; p < procs; p++) {
			s.now_ms = (int64_t)t * 1000 + (int64_t)(p * 10 % 1000);
			if (t >= rotate_at)
				s.version[0] = 2;
			for (k = 0; k < secrets; k++) {
				sel.secret_id = s.ids[k];
				if (sim_fetch(&b, &sel, &s) < 0)
					errx(1, "fetch");
				tresor_secret_bundle_free(b);
			}
		}
	}
	nocache_calls = s.calls;

	printf("FLEET_JSON {\"procs\":%lu,\"secrets\":%lu,\"seconds\":%lu,"
	    "\"ttl_ms\":%lu,\"rotate_at_s\":%lu,\"reads\":%llu,"
	    "\"calls_without_cache\":%llu,\"calls_with_cache\":%llu,"
	    "\"bundle_fetches\":%llu,\"window_lookups\":%llu,"
	    "\"saved_pct\":%.3f,\"stale_reads_after_rotation\":%llu,"
	    "\"last_process_saw_rotation_after_s\":%.1f}\n",
	    procs, secrets, seconds, ttl_ms, rotate_at,
	    (unsigned long long)reads, (unsigned long long)nocache_calls,
	    (unsigned long long)cached_calls,
	    (unsigned long long)(cached_calls - s.window_calls),
	    (unsigned long long)s.window_calls,
	    100.0 * (1.0 - (double)cached_calls / (double)nocache_calls),
	    (unsigned long long)stale_reads,
	    last_seen < 0 ? -1.0 :
	    (double)(last_seen - (int64_t)rotate_at * 1000) / 1000.0);
	for (p = 0; p < procs; p++)
		tresor_cache_free(caches[p]);
	free(caches);
	free(seen_new);
	return 0;
}
