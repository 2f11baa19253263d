/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-principal rate limits: a token bucket per principal OCID, refilled
 * at `rate` tokens a second up to `burst`.  A request that finds the
 * bucket empty is answered 429 TooManyRequests with Retry-After (the
 * seconds until a token is back), which both tresor's client and the OCI
 * SDK retry.  Buckets live in a fixed-size table under one mutex; idle
 * buckets are reused, so memory stays bounded whatever the callers.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http/ratelimit.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"

#define SLOTS 4096
#define PROBE 8

struct bucket {
	char key[96];		/* principal OCID, truncated */
	double tokens;
	int64_t last_ms;
};

struct tr_ratelimit {
	pthread_mutex_t lock;
	double rate;
	double burst;
	struct bucket b[SLOTS];
};

int
tr_ratelimit_new(struct tr_ratelimit **out, double rate, double burst)
{
	*out = NULL;
	if (rate <= 0 || burst < 1)
		return tr_error_set(TRESOR_EINVAL,
		    "rate limits need a positive rate and a burst of 1 or "
		    "more");
	*out = tr_calloc(1, sizeof(**out));
	if (*out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	pthread_mutex_init(&(*out)->lock, NULL);
	(*out)->rate = rate;
	(*out)->burst = burst;
	return 0;
}

void
tr_ratelimit_free(struct tr_ratelimit *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	tr_free(r);
}

int
tr_ratelimit_take(struct tr_ratelimit *r, const char *principal,
    unsigned int *retry_after_out)
{
	struct bucket *b = NULL, *victim = NULL;
	int64_t now = tr_mono_ms();
	uint64_t h = tr_hash_str(principal);
	double wait;
	size_t i;
	int rc = 0;

	*retry_after_out = 0;
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < PROBE; i++) {
		struct bucket *c = &r->b[(h + i) % SLOTS];

		if (strncmp(c->key, principal, sizeof(c->key) - 1) == 0 &&
		    c->key[0] != '\0') {
			b = c;
			break;
		}
		/* a full bucket is idle: its slot can be reused */
		if (victim == NULL || c->key[0] == '\0' ||
		    c->last_ms < victim->last_ms)
			victim = c;
	}
	if (b == NULL) {
		b = victim;
		(void)snprintf(b->key, sizeof(b->key), "%s", principal);
		b->tokens = r->burst;
		b->last_ms = now;
	}
	b->tokens += (double)(now - b->last_ms) / 1000.0 * r->rate;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->last_ms = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
	} else {
		wait = (1.0 - b->tokens) / r->rate;
		*retry_after_out = (unsigned int)wait + 1;
		rc = TRESOR_ELIMIT;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
