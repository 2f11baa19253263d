/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit (see durable.h).
 *
 * Tickets are a counter: taking one increments `taken`.  A round reads
 * `taken` (its target), runs every source, then publishes `done` =
 * target.  Failed rounds are remembered as ranges (lo, hi] in a small
 * ring so that a late status check still sees the failure; a ticket
 * older than the ring's memory that has not been looked at is reported
 * failed too, which errs on the safe side.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/durable.h"
#include "util/error.h"
#include "util/log.h"

#define MAX_SOURCES 8
#define MAX_SUBSCRIBERS 128
#define FAIL_RING 32

struct tr_durable;

struct source {
	struct tr_durable *owner;
	int (*sync)(void *payload);
	bool (*idle)(void *payload);	/* NULL, or true: nothing to sync */
	void *payload;
	/* sources after the first sync on a thread of their own, so that
	 * a round takes as long as the slowest source, not their sum */
	pthread_t thread;
	bool has_thread;
	bool go;			/* run once; under hlock */
	int result;
};

struct subscriber {
	void (*wake)(void *payload);
	void *payload;
};

struct fail_range {
	uint64_t lo, hi;		/* tickets lo+1..hi failed */
};

struct tr_durable {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* taken moved, or stop */
	pthread_cond_t round;		/* done moved */
	_Atomic uint64_t taken;
	_Atomic uint64_t done;
	_Atomic uint64_t fail_seq;	/* failed rounds so far */
	struct fail_range fails[FAIL_RING];
	uint64_t oldest_known;		/* fails before this are forgotten */
	bool stop;
	atomic_bool waiting;		/* the syncer sleeps on `work` */
	/* figures for the log at the end */
	uint64_t rounds;
	int64_t round_us_total, round_us_max;
	size_t nsources, nsubs;
	struct source sources[MAX_SOURCES];
	struct subscriber subs[MAX_SUBSCRIBERS];
	/* the helpers of a round */
	pthread_mutex_t hlock;
	pthread_cond_t hgo, hdone;
	size_t hfinished;		/* helpers done with this round */
	bool hstop;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
helper_main(void *arg)
{
	struct source *src = arg;
	struct tr_durable *d = src->owner;
	int r;

	(void)pthread_setname_np(pthread_self(), "tresord-sync2");
	pthread_mutex_lock(&d->hlock);
	for (;;) {
		while (!d->hstop && !src->go)
			pthread_cond_wait(&d->hgo, &d->hlock);
		if (!src->go)
			break;		/* stopping, no round pending */
		src->go = false;
		pthread_mutex_unlock(&d->hlock);
		r = src->sync(src->payload);
		pthread_mutex_lock(&d->hlock);
		src->result = r;
		d->hfinished++;
		pthread_cond_broadcast(&d->hdone);
	}
	pthread_mutex_unlock(&d->hlock);
	return NULL;
}

/*
 * One round: every source, the helpers' in parallel with the first.  A
 * helper whose source says it has nothing to sync is not woken: a round
 * of reads (an audit record each, no commit) costs no thread switch for
 * the database's WAL.
 */
static bool
run_sources(struct tr_durable *d)
{
	size_t i, nhelpers = 0;
	bool ok = true;

	pthread_mutex_lock(&d->hlock);
	d->hfinished = 0;
	for (i = 1; i < d->nsources; i++) {
		struct source *src = &d->sources[i];

		src->result = 0;
		if (!src->has_thread ||
		    (src->idle != NULL && src->idle(src->payload)))
			continue;
		src->go = true;
		nhelpers++;
	}
	if (nhelpers > 0)
		pthread_cond_broadcast(&d->hgo);
	pthread_mutex_unlock(&d->hlock);

	if (d->nsources > 0 && d->sources[0].sync(d->sources[0].payload) < 0)
		ok = false;
	for (i = 1; i < d->nsources; i++)
		if (!d->sources[i].has_thread &&
		    d->sources[i].sync(d->sources[i].payload) < 0)
			ok = false;

	pthread_mutex_lock(&d->hlock);
	while (d->hfinished < nhelpers)
		pthread_cond_wait(&d->hdone, &d->hlock);
	for (i = 1; i < d->nsources; i++)
		if (d->sources[i].has_thread && d->sources[i].result < 0)
			ok = false;
	pthread_mutex_unlock(&d->hlock);
	return ok;
}

/* Remember tickets lo+1..hi as failed; lock held. */
static void
fail_range_locked(struct tr_durable *d, uint64_t lo, uint64_t hi)
{
	uint64_t n = atomic_load(&d->fail_seq);

	/* a forgotten failure errs on the safe side */
	if (n >= FAIL_RING)
		d->oldest_known = d->fails[n % FAIL_RING].hi;
	d->fails[n % FAIL_RING].lo = lo;
	d->fails[n % FAIL_RING].hi = hi;
	atomic_store(&d->fail_seq, n + 1);
}

static void *
syncer_main(void *arg)
{
	struct tr_durable *d = arg;
	uint64_t target, prev;
	size_t i;
	int64_t t0;
	bool ok;

	(void)pthread_setname_np(pthread_self(), "tresord-sync");
	pthread_mutex_lock(&d->lock);
	for (;;) {
		/*
		 * Say we sleep, then look again: a ticket taker increments
		 * `taken` and then reads `waiting` (both sequentially
		 * consistent), so one of us sees the other.
		 */
		for (;;) {
			atomic_store(&d->waiting, true);
			if (d->stop || atomic_load(&d->taken) !=
			    atomic_load(&d->done))
				break;
			pthread_cond_wait(&d->work, &d->lock);
		}
		atomic_store(&d->waiting, false);
		if (d->stop && atomic_load(&d->taken) == atomic_load(&d->done))
			break;
		target = atomic_load(&d->taken);
		prev = atomic_load(&d->done);
		pthread_mutex_unlock(&d->lock);

		t0 = mono_us();
		ok = run_sources(d);
		t0 = mono_us() - t0;

		pthread_mutex_lock(&d->lock);
		if (!ok) {
			fail_range_locked(d, prev, target);
			tr_log_error("durability round failed: %llu request%s "
			    "refused", (unsigned long long)(target - prev),
			    target - prev == 1 ? "" : "s");
		}
		atomic_store(&d->done, target);
		d->rounds++;
		d->round_us_total += t0;
		if (t0 > d->round_us_max)
			d->round_us_max = t0;
		pthread_cond_broadcast(&d->round);
		/* under the lock, so that unsubscribe can be trusted */
		for (i = 0; i < d->nsubs; i++)
			if (d->subs[i].wake != NULL)
				d->subs[i].wake(d->subs[i].payload);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int
tr_durable_new(struct tr_durable **out)
{
	struct tr_durable *d;

	*out = NULL;
	d = tr_calloc(1, sizeof(*d));
	if (d == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->round, NULL);
	pthread_mutex_init(&d->hlock, NULL);
	pthread_cond_init(&d->hgo, NULL);
	pthread_cond_init(&d->hdone, NULL);
	if (pthread_create(&d->thread, NULL, syncer_main, d) != 0) {
		pthread_cond_destroy(&d->round);
		pthread_cond_destroy(&d->work);
		pthread_mutex_destroy(&d->lock);
		tr_free(d);
		return tr_error_set(TRESOR_EIO, "cannot start the syncer");
	}
	*out = d;
	return 0;
}

void
tr_durable_free(struct tr_durable *d)
{
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->work);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	if (d->rounds > 0)
		tr_log_info("group commit: %llu requests made durable in %llu "
		    "rounds (%.1f a round), %.2f ms a round on average, %.2f "
		    "ms at most", (unsigned long long)atomic_load(&d->taken),
		    (unsigned long long)d->rounds,
		    (double)atomic_load(&d->taken) / (double)d->rounds,
		    (double)d->round_us_total / 1000.0 / (double)d->rounds,
		    (double)d->round_us_max / 1000.0);
	pthread_mutex_lock(&d->hlock);
	d->hstop = true;
	pthread_cond_broadcast(&d->hgo);
	pthread_mutex_unlock(&d->hlock);
	for (i = 1; i < d->nsources; i++)
		if (d->sources[i].has_thread)
			pthread_join(d->sources[i].thread, NULL);
	pthread_cond_destroy(&d->hdone);
	pthread_cond_destroy(&d->hgo);
	pthread_mutex_destroy(&d->hlock);
	pthread_cond_destroy(&d->round);
	pthread_cond_destroy(&d->work);
	pthread_mutex_destroy(&d->lock);
	tr_free(d);
}

int
tr_durable_add_source(struct tr_durable *d, int (*sync)(void *payload),
    bool (*idle)(void *payload), void *payload)
{
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	if (d->nsources == MAX_SOURCES) {
		rc = tr_error_set(TRESOR_ELIMIT, "too many sync sources");
	} else {
		struct source *src = &d->sources[d->nsources];

		src->owner = d;
		src->sync = sync;
		src->idle = idle;
		src->payload = payload;
		/* the first runs on the syncer; the others beside it */
		if (d->nsources > 0 && pthread_create(&src->thread, NULL,
		    helper_main, src) == 0)
			src->has_thread = true;
		d->nsources++;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int
tr_durable_subscribe(struct tr_durable *d, void (*wake)(void *payload),
    void *payload)
{
	size_t i;
	int rc;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nsubs && d->subs[i].wake != NULL; i++)
		;
	if (i == MAX_SUBSCRIBERS) {
		rc = tr_error_set(TRESOR_ELIMIT, "too many subscribers");
	} else {
		d->subs[i].wake = wake;
		d->subs[i].payload = payload;
		if (i == d->nsubs)
			d->nsubs++;
		rc = (int)i;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void
tr_durable_unsubscribe(struct tr_durable *d, int id)
{
	if (d == NULL || id < 0)
		return;
	pthread_mutex_lock(&d->lock);
	if ((size_t)id < d->nsubs)
		d->subs[id].wake = NULL;
	pthread_mutex_unlock(&d->lock);
}

/*
 * Wake the syncer when it sleeps; a running round is followed by another
 * as long as taken != done.  The ticket's increment comes before the load
 * of `waiting` (both sequentially consistent): see syncer_main.
 */
static void
kick(struct tr_durable *d)
{
	if (atomic_load(&d->waiting)) {
		pthread_mutex_lock(&d->lock);
		pthread_cond_signal(&d->work);
		pthread_mutex_unlock(&d->lock);
	}
}

/* This thread's deferral (tr_durable_defer_begin/end). */
static _Thread_local bool defer_on;
static _Thread_local struct tr_durable *defer_pending;

void
tr_durable_defer_begin(void)
{
	defer_on = true;
}

void
tr_durable_defer_end(void)
{
	defer_on = false;
	if (defer_pending != NULL) {
		kick(defer_pending);
		defer_pending = NULL;
	}
}

uint64_t
tr_durable_ticket(struct tr_durable *d)
{
	uint64_t t = atomic_fetch_add(&d->taken, 1) + 1;

	if (defer_on) {
		if (defer_pending != NULL && defer_pending != d)
			kick(defer_pending);
		defer_pending = d;
		return t;
	}
	kick(d);
	return t;
}

void
tr_durable_fail(struct tr_durable *d, uint64_t lo, uint64_t hi)
{
	if (lo == 0 || hi < lo)
		return;
	pthread_mutex_lock(&d->lock);
	fail_range_locked(d, lo - 1, hi);
	pthread_mutex_unlock(&d->lock);
	tr_log_error("durability: %llu request%s refused (what %s could "
	    "not be written)", (unsigned long long)(hi - lo + 1),
	    hi == lo ? "" : "s", hi == lo ? "it covers" : "they cover");
}

int
tr_durable_status(struct tr_durable *d, uint64_t ticket)
{
	uint64_t n, i, first;
	int rc = 1;

	if (atomic_load(&d->done) < ticket)
		return 0;
	n = atomic_load(&d->fail_seq);
	if (n == 0)
		return 1;
	pthread_mutex_lock(&d->lock);
	if (ticket <= d->oldest_known) {
		rc = TRESOR_EIO;
	} else {
		first = n > FAIL_RING ? n - FAIL_RING : 0;
		for (i = first; i < n; i++)
			if (ticket > d->fails[i % FAIL_RING].lo &&
			    ticket <= d->fails[i % FAIL_RING].hi)
				rc = TRESOR_EIO;
	}
	pthread_mutex_unlock(&d->lock);
	if (rc < 0)
		return tr_error_set(TRESOR_EIO, "the data could not be made "
		    "durable (sync failed)");
	return rc;
}

int
tr_durable_wait(struct tr_durable *d, uint64_t ticket)
{
	pthread_mutex_lock(&d->lock);
	while (atomic_load(&d->done) < ticket)
		pthread_cond_wait(&d->round, &d->lock);
	pthread_mutex_unlock(&d->lock);
	return tr_durable_status(d, ticket) == 1 ? 0 : TRESOR_EIO;
}

int
tr_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : slash == path ? 1 :
	    (size_t)(slash - path);

	if (n >= sizeof(dir))
		return tr_error_set(TRESOR_EIO, "path too long: %s", path);
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	return tr_fsync_dir(dir);
}

int
tr_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = tr_error_set(TRESOR_EIO, "cannot sync directory %s: %s",
		    dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}
