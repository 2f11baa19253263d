/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TTL cache of secret bundles, so that a program reading a secret on
 * every request costs one retrieval per TTL (default 15 minutes), with a
 * per-secret TTL, optional refresh-ahead, and serve-stale-on-error for a
 * bounded grace period when the service cannot be reached.
 *
 * The rule of the house: a cache TTL must be shorter than the secret's
 * rotation window.  When a secret carries an expiry (its bundle's
 * timeOfExpiry, an expiry rule) or a rotation interval and the TTL is not
 * shorter, the cache reports it once through the log callback, and never
 * serves a bundle past its timeOfExpiry.
 *
 * A cache is safe to share between threads; it serialises its use of the
 * client, which must not be used elsewhere at the same time.
 */
#ifndef TRESOR_CACHE_H
#define TRESOR_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tresor/client.h"
#include "tresor/common.h"
#include "tresor/secrets.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A bundle cache (opaque). */
typedef struct tresor_cache tresor_cache;

/** Options of tresor_cache_new(); initialise with the macro below. */
typedef struct {
	unsigned int version;	   /**< TRESOR_CACHE_OPTIONS_VERSION */
	uint64_t ttl_ms;	   /**< 0: 15 minutes */
	uint64_t refresh_ahead_ms; /**< 0: off; else a read within this
					much of expiry refreshes, and a
					failed refresh still serves */
	uint64_t stale_grace_ms;   /**< 0: off; else serve an expired entry
					this long when the service fails
					(network, 429, 5xx) */
	size_t max_entries;	   /**< 0: 1024 */
	bool check_rotation_window; /**< report a TTL not shorter than the
					 secret's rotation window */
} tresor_cache_options;

#define TRESOR_CACHE_OPTIONS_VERSION 1
#define TRESOR_CACHE_TTL_DEFAULT_MS ((uint64_t)15 * 60 * 1000)
#define TRESOR_CACHE_OPTIONS_INIT \
	{ TRESOR_CACHE_OPTIONS_VERSION, 0, 0, 0, 0, true }

/**
 * Create a cache over `client` (borrowed; must outlive the cache).
 * @return 0, TRESOR_EINVAL or TRESOR_ENOMEM
 */
TRESOR_EXTERN int tresor_cache_new(tresor_cache **out, tresor_client *client,
    const tresor_cache_options *opts);

/** Free a cache and zero every cached bundle; NULL is fine. */
TRESOR_EXTERN void tresor_cache_free(tresor_cache *c);

/**
 * Give one secret its own TTL (0 removes the override).
 * @return 0, TRESOR_EINVAL or TRESOR_ENOMEM
 */
TRESOR_EXTERN int tresor_cache_set_ttl(tresor_cache *c,
    const char *secret_id, uint64_t ttl_ms);

/**
 * A bundle from the cache, fetched when missing or expired.
 * @param out receives a copy the caller frees with
 *        tresor_secret_bundle_free()
 * @return 0 or an error of tresor_secret_bundle_get() (when no fresh or
 *         stale-but-allowed entry exists)
 */
TRESOR_EXTERN int tresor_cache_get(tresor_secret_bundle **out,
    tresor_cache *c, const tresor_bundle_selector *sel);

/**
 * Refresh every entry within its refresh-ahead window now (call it from
 * a timer to keep readers from ever waiting).
 * @return the number of entries refreshed
 */
TRESOR_EXTERN size_t tresor_cache_refresh_due(tresor_cache *c);

/** Drop the entries of one secret (NULL: all). */
TRESOR_EXTERN void tresor_cache_invalidate(tresor_cache *c,
    const char *secret_id);

/** Counters of a cache. */
typedef struct {
	uint64_t hits;		/**< served fresh from the cache */
	uint64_t misses;	/**< fetched because missing or expired */
	uint64_t refreshes;	/**< refresh-ahead fetches */
	uint64_t stale_served;	/**< served stale after a failure */
	uint64_t errors;	/**< fetches that failed */
	uint64_t ttl_warnings;	/**< TTL-versus-rotation reports */
} tresor_cache_stats;

/** Copy the counters into *out. */
TRESOR_EXTERN void tresor_cache_get_stats(tresor_cache *c,
    tresor_cache_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_CACHE_H */
