/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log writer.  The line format and its verification are in
 * util/audit_chain.h; this module appends records, makes them durable
 * before the caller answers, and rotates files.
 *
 * Every write is durable when it returns: concurrent writers share one
 * fdatasync (group sync).  A record that cannot be written or synced
 * (disk full, file removed or replaced, I/O error) fails with
 * TRESOR_EIO and leaves no partial line behind; the caller refuses the
 * request (fail closed).
 *
 * Rotation: past `max_bytes` the file is renamed to <path>.<first seq>
 * and a new one starts; its first record links to the last record of
 * the old file, so `tresor audit verify old new` checks the whole chain.
 */
#ifndef TR_HTTP_AUDIT_H
#define TR_HTTP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tr_audit;

/*
 * Open the audit log at `path` (created 0600 with O_EXCL when absent),
 * continuing the chain of its last record.  `max_bytes` 0: no rotation.
 */
int tr_audit_open(struct tr_audit **out, const char *path, size_t max_bytes);
void tr_audit_close(struct tr_audit *a);

/*
 * Group commit: records handed over without a flag are queued, and the
 * sync round of `d` (tr_audit_sync, a source of d) writes and syncs them.
 * Call once, before the first write.
 */
struct tr_durable;
void tr_audit_attach(struct tr_audit *a, struct tr_durable *d);

/*
 * Append a record: `len` bytes of a JSON object's text ("seq" and "prev"
 * are put in front of its members here).
 *
 * With no flag, a group commit attached and `ticket` non-NULL, the
 * record is only queued (a copy; no system call): *ticket is the
 * group commit's ticket that covers it, and the caller must not act on
 * the record before that ticket is durable; a round that cannot write,
 * check or sync the record fails the ticket.  Otherwise it is written
 * now, after every record queued before it: with TR_AUDIT_CHECK, first
 * make sure the file is still the one at the path (a removed or
 * replaced log refuses the record); with TR_AUDIT_SYNC, make it and
 * every record before it durable.  0 or TRESOR_EIO.  Thread-safe.
 */
#define TR_AUDIT_SYNC 0x1u
#define TR_AUDIT_CHECK 0x2u
int tr_audit_write(struct tr_audit *a, const char *record, size_t len,
    unsigned int flags, uint64_t *ticket);

/*
 * Write the queued records and make every record so far durable: a sync
 * source for util/durable.h (payload: the struct tr_audit).  0 or
 * TRESOR_EIO, also when the file was removed or replaced.
 */
int tr_audit_sync(void *payload);

#endif /* TR_HTTP_AUDIT_H */
