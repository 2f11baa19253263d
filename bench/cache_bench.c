/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_bench: what one cached read of libtresor costs
 * (include/tresor/cache.h), against a running tresord.
 *
 *   cache_bench --config FILE --secret OCID [--reads N] [--uncached M]
 *
 * The first tresor_cache_get() fetches the bundle (GetSecretBundle, plus
 * the cache's one GetSecret for the rotation-window check); then N reads
 * are timed as the application would do them: tresor_cache_get() and
 * tresor_secret_bundle_free() of the copy it hands out.  For scale, M
 * uncached reads (tresor_secret_bundle_get(), one signed HTTP request
 * each over a kept-alive connection) are timed too.  Prints
 * "CACHE_JSON {...}" with ns per cached read and us per uncached read.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tresor/tresor.h"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "secret", required_argument, NULL, 's' },
		{ "reads", required_argument, NULL, 'n' },
		{ "uncached", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	tresor_config_options copts = TRESOR_CONFIG_OPTIONS_INIT;
	tresor_client_options clopts = TRESOR_CLIENT_OPTIONS_INIT;
	tresor_cache_options caopts = TRESOR_CACHE_OPTIONS_INIT;
	tresor_bundle_selector sel = TRESOR_BUNDLE_SELECTOR_INIT;
	tresor_config *cfg = NULL;
	tresor_client *cl = NULL;
	tresor_cache *cache = NULL;
	tresor_secret_bundle *b = NULL;
	tresor_cache_stats stats;
	const char *config = NULL, *secret = NULL;
	unsigned long reads = 2000000, uncached = 2000, i;
	double t0, cached_ns, uncached_us, first_us;
	int c;

	while ((c = getopt_long(argc, argv, "c:s:n:u:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			secret = optarg;
			break;
		case 'n':
			reads = strtoul(optarg, NULL, 10);
			break;
		case 'u':
			uncached = strtoul(optarg, NULL, 10);
			break;
		default:
			errx(2, "usage: cache_bench --config FILE --secret "
			    "OCID [--reads N] [--uncached M]");
		}
	}
	if (config == NULL || secret == NULL || reads == 0)
		errx(2, "usage: cache_bench --config FILE --secret OCID "
		    "[--reads N] [--uncached M]");
	if (tresor_global_init(0) < 0)
		errx(1, "tresor_global_init: %s", tresor_error_last());
	copts.config_file = config;
	copts.ignore_environment = true;
	if (tresor_config_load(&cfg, &copts) < 0)
		errx(1, "%s: %s", config, tresor_error_last());
	clopts.config = cfg;
	clopts.max_attempts = 1;
	if (tresor_client_new(&cl, &clopts) < 0)
		errx(1, "client: %s", tresor_error_last());
	if (tresor_cache_new(&cache, cl, &caopts) < 0)
		errx(1, "cache: %s", tresor_error_last());
	sel.secret_id = secret;

	t0 = now_ns();
	if (tresor_cache_get(&b, cache, &sel) < 0)
		errx(1, "first read: %s", tresor_error_last());
	first_us = (now_ns() - t0) / 1e3;
	tresor_secret_bundle_free(b);

	t0 = now_ns();
	for (i = 0; i < reads; i++) {
		if (tresor_cache_get(&b, cache, &sel) < 0)
			errx(1, "cached read: %s", tresor_error_last());
		tresor_secret_bundle_free(b);
	}
	cached_ns = (now_ns() - t0) / (double)reads;
	tresor_cache_get_stats(cache, &stats);

	uncached_us = 0;
	if (uncached > 0) {
		t0 = now_ns();
		for (i = 0; i < uncached; i++) {
			if (tresor_secret_bundle_get(&b, cl, &sel) < 0)
				errx(1, "uncached read: %s",
				    tresor_error_last());
			tresor_secret_bundle_free(b);
		}
		uncached_us = (now_ns() - t0) / 1e3 / (double)uncached;
	}
	printf("CACHE_JSON {\"reads\":%lu,\"cached_ns\":%.1f,"
	    "\"first_read_us\":%.1f,\"uncached\":%lu,\"uncached_us\":%.1f,"
	    "\"hits\":%llu,\"misses\":%llu}\n", reads, cached_ns, first_us,
	    uncached, uncached_us, (unsigned long long)stats.hits,
	    (unsigned long long)stats.misses);
	tresor_cache_free(cache);
	tresor_client_free(cl);
	tresor_config_free(cfg);
	tresor_global_cleanup();
	return 0;
}
