/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit (util/durable.c): a ticket is durable only after a round
 * that ran every source started after it; a failed round fails exactly
 * its tickets; many waiters share rounds; subscribers hear every round;
 * the sources of a round run side by side.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/durable.h"
#include "util/error.h"

struct src {
	atomic_int calls;
	atomic_int fail;		/* fail the next N calls */
	int sleep_ms;
	_Atomic uint64_t written;	/* "data" written before tickets */
	_Atomic uint64_t synced;	/* what a call made durable */
	_Atomic int64_t t_start, t_end;	/* of the last call */
};

static int
src_sync(void *p)
{
	struct src *s = p;
	uint64_t w = atomic_load(&s->written);

	atomic_fetch_add(&s->calls, 1);
	atomic_store(&s->t_start, tr_mono_ms());
	if (s->sleep_ms > 0)
		usleep((useconds_t)s->sleep_ms * 1000);
	atomic_store(&s->t_end, tr_mono_ms());
	if (atomic_load(&s->fail) > 0) {
		atomic_fetch_sub(&s->fail, 1);
		return TRESOR_EIO;
	}
	atomic_store(&s->synced, w);
	return 0;
}

static atomic_int wakes;

static void
on_wake(void *p)
{
	(void)p;
	atomic_fetch_add(&wakes, 1);
}

static void
test_ticket_covers_writes_before_it(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 };
	uint64_t t;
	int i;

	(void)state;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	assert_true(tr_durable_subscribe(d, on_wake, NULL) >= 0);
	for (i = 1; i <= 50; i++) {
		atomic_store(&a.written, (uint64_t)i);
		t = tr_durable_ticket(d);
		assert_int_equal(tr_durable_wait(d, t), 0);
		assert_int_equal(tr_durable_status(d, t), 1);
		/* what the ticket acknowledged was synced by then */
		assert_true(atomic_load(&a.synced) >= (uint64_t)i);
	}
	assert_true(atomic_load(&wakes) > 0);
	tr_durable_free(d);
}

static void
test_failed_round_fails_its_tickets_only(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 };
	uint64_t t1, t2;

	(void)state;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	atomic_store(&a.fail, 1);
	t1 = tr_durable_ticket(d);
	assert_int_equal(tr_durable_wait(d, t1), TRESOR_EIO);
	assert_int_equal(tr_durable_status(d, t1), TRESOR_EIO);
	t2 = tr_durable_ticket(d);
	assert_int_equal(tr_durable_wait(d, t2), 0);
	/* the failure is remembered */
	assert_int_equal(tr_durable_status(d, t1), TRESOR_EIO);
	assert_int_equal(tr_durable_status(d, t2), 1);
	tr_durable_free(d);
}

/*
 * tr_durable_fail: tickets a source lost are failed although their round
 * succeeds; the tickets around them are not.
 */
static void
test_failed_tickets_in_a_good_round(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 };
	uint64_t t[5];
	size_t i;

	(void)state;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	tr_durable_defer_begin();
	for (i = 0; i < 5; i++)
		t[i] = tr_durable_ticket(d);
	tr_durable_fail(d, t[1], t[3]);
	tr_durable_fail(d, 0, 0);		/* nothing */
	tr_durable_defer_end();
	assert_int_equal(tr_durable_wait(d, t[4]), 0);
	assert_int_equal(tr_durable_status(d, t[0]), 1);
	for (i = 1; i <= 3; i++)
		assert_int_equal(tr_durable_status(d, t[i]), TRESOR_EIO);
	assert_int_equal(tr_durable_status(d, t[4]), 1);
	assert_int_equal(tr_durable_wait(d, t[2]), TRESOR_EIO);
	tr_durable_free(d);
}

struct waiter {
	struct tr_durable *d;
	int rc;
};

static void *
waiter_main(void *p)
{
	struct waiter *w = p;
	int i;

	for (i = 0; i < 20; i++)
		if (tr_durable_wait(w->d, tr_durable_ticket(w->d)) < 0)
			w->rc = -1;
	return NULL;
}

static void
test_waiters_share_rounds(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 };
	struct waiter w[16];
	pthread_t th[16];
	int i;

	(void)state;
	a.sleep_ms = 5;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	for (i = 0; i < 16; i++) {
		w[i].d = d;
		w[i].rc = 0;
		assert_int_equal(pthread_create(&th[i], NULL, waiter_main,
		    &w[i]), 0);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	/* 320 tickets; with 5 ms rounds, far fewer rounds than tickets */
	assert_true(atomic_load(&a.calls) < 160);
	tr_durable_free(d);
}

static void
test_sources_run_side_by_side(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 }, b = { 0 };

	(void)state;
	a.sleep_ms = 100;
	b.sleep_ms = 100;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &b), 0);
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)), 0);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(atomic_load(&b.calls), 1);
	/* the two syncs overlapped in time: not one after the other */
	assert_true(atomic_load(&b.t_start) < atomic_load(&a.t_end));
	assert_true(atomic_load(&a.t_start) < atomic_load(&b.t_end));
	/* a failure of the second source fails the round */
	atomic_store(&b.fail, 1);
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)),
	    TRESOR_EIO);
	tr_durable_free(d);
}

static bool
src_idle(void *p)
{
	struct src *s = p;

	return atomic_load(&s->written) == atomic_load(&s->synced);
}

/* A helper source with nothing new is skipped; with something, it runs. */
static void
test_idle_source_is_skipped(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, src_idle, &b), 0);
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)), 0);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(atomic_load(&b.calls), 0);
	/* b has a write: the next round syncs it, and it is durable */
	atomic_store(&b.written, 7);
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)), 0);
	assert_int_equal(atomic_load(&b.calls), 1);
	assert_int_equal(atomic_load(&b.synced), 7);
	/* a failure of b after a skipped round still fails its round */
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)), 0);
	assert_int_equal(atomic_load(&b.calls), 1);
	atomic_store(&b.written, 8);
	atomic_store(&b.fail, 1);
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)),
	    TRESOR_EIO);
	assert_int_equal(atomic_load(&a.calls), 4);
	tr_durable_free(d);
}

/* Deferred tickets start no round until the bracket ends; then one. */
static void
test_deferred_tickets_share_one_round(void **state)
{
	struct tr_durable *d;
	struct src a = { 0 };
	uint64_t t[8];
	int i;

	(void)state;
	assert_int_equal(tr_durable_new(&d), 0);
	assert_int_equal(tr_durable_add_source(d, src_sync, NULL, &a), 0);
	/* a first round, then time for the syncer to fall asleep */
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)), 0);
	usleep(50 * 1000);
	tr_durable_defer_begin();
	for (i = 0; i < 8; i++)
		t[i] = tr_durable_ticket(d);
	usleep(50 * 1000);
	/* the syncer slept through the turn */
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(tr_durable_status(d, t[0]), 0);
	tr_durable_defer_end();
	for (i = 0; i < 8; i++)
		assert_int_equal(tr_durable_wait(d, t[i]), 0);
	assert_int_equal(atomic_load(&a.calls), 2);
	/* outside a bracket a ticket wakes the syncer at once */
	assert_int_equal(tr_durable_wait(d, tr_durable_ticket(d)), 0);
	assert_int_equal(atomic_load(&a.calls), 3);
	tr_durable_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticket_covers_writes_before_it),
		cmocka_unit_test(test_failed_round_fails_its_tickets_only),
		cmocka_unit_test(test_failed_tickets_in_a_good_round),
		cmocka_unit_test(test_waiters_share_rounds),
		cmocka_unit_test(test_sources_run_side_by_side),
		cmocka_unit_test(test_idle_source_is_skipped),
		cmocka_unit_test(test_deferred_tickets_share_one_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
