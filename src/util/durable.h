/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit: one thread makes files durable for many requests.
 *
 * A request that wrote something (a database commit, an audit record)
 * takes a ticket after its writes; the answer goes out only once the
 * syncer has run every sync source (fdatasync of the audit log, of the
 * SQLite WAL) in a round that started after the ticket was taken.  So
 * no answer is sent before what it acknowledges is on disk, and a round
 * of syncs covers every request that arrived while the previous round
 * ran: under load, thousands of requests share one fdatasync.
 *
 * Waiting: a thread that may block calls tr_durable_wait().  An event
 * loop instead parks the answer, subscribes a wake function (called on
 * the syncer thread after every round; it must only signal the loop),
 * and asks tr_durable_status() for each parked ticket when woken.
 *
 * A round whose sync fails fails every ticket it covered (TRESOR_EIO):
 * after a failed fdatasync the kernel may have dropped the data, so
 * those requests are refused (fail closed), never acknowledged.
 */
#ifndef TR_UTIL_DURABLE_H
#define TR_UTIL_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

struct tr_durable;

/*
 * fsync directory `dir`, so that the names just created or renamed in it
 * survive a crash.  Returns 0 or TRESOR_EIO.
 */
int tr_fsync_dir(const char *dir);
/* The same for the directory holding `path` (before its last '/'). */
int tr_fsync_parent(const char *path);

/* Start the syncer thread. */
int tr_durable_new(struct tr_durable **out);
/* Stop it after a last round covering every ticket taken. */
void tr_durable_free(struct tr_durable *d);

/*
 * A sync source: called once per round; 0, or negative when the data
 * could not be made durable.  `idle` (may be NULL) is asked first, on the
 * syncer thread: true means nothing was written since the source's last
 * sync, and the round skips it.  Add sources before taking tickets.
 */
int tr_durable_add_source(struct tr_durable *d, int (*sync)(void *payload),
    bool (*idle)(void *payload), void *payload);

/*
 * `wake` is called on the syncer thread after each round, under the
 * syncer's lock: it must only signal (never take a ticket or wait).
 * Returns an id (>= 0) for tr_durable_unsubscribe, which guarantees that
 * `wake` is not running and will not run again.
 */
int tr_durable_subscribe(struct tr_durable *d, void (*wake)(void *payload),
    void *payload);
void tr_durable_unsubscribe(struct tr_durable *d, int id);

/* A ticket covering every write this thread finished before the call. */
uint64_t tr_durable_ticket(struct tr_durable *d);

/*
 * Between begin and end, tickets this thread takes do not wake a
 * sleeping syncer; end wakes it once.  An event loop brackets each turn
 * (one epoll batch of requests) with them, so that a round starts after
 * the batch and covers all of it, instead of starting at its first
 * ticket and leaving the rest of the batch to the next round.  Nothing
 * may wait for a ticket between begin and end.
 */
void tr_durable_defer_begin(void);
void tr_durable_defer_end(void);

/*
 * Tickets lo..hi failed although their round may succeed: what they
 * cover was lost before its round (a sync source dropped it).  Call
 * before the round covering hi ends, i.e. from a sync source, or while
 * holding what the tickets' takers need.
 */
void tr_durable_fail(struct tr_durable *d, uint64_t lo, uint64_t hi);

/* 1: durable; 0: not yet; TRESOR_EIO: its round failed.  Lock-free. */
int tr_durable_status(struct tr_durable *d, uint64_t ticket);

/* Block until the ticket's round ends: 0 or TRESOR_EIO. */
int tr_durable_wait(struct tr_durable *d, uint64_t ticket);

#endif /* TR_UTIL_DURABLE_H */
