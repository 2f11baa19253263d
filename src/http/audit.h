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

#include <jansson.h>

struct tr_audit;

/*
 * Open the audit log at `path` (created 0600 with O_EXCL when absent),
 * continuing the chain of its last record.  `max_bytes` 0: no rotation.
 */
int tr_audit_open(struct tr_audit **out, const char *path, size_t max_bytes);
void tr_audit_close(struct tr_audit *a);

/*
 * Append `record` (a JSON object; "seq" and "prev" are set here).  With
 * TR_AUDIT_CHECK, first make sure the file is still the one at the path
 * (two stat calls: a removed or replaced log refuses the record); with
 * TR_AUDIT_SYNC, make it and every record before it durable.  Without
 * either, the caller must not act on the record before tr_audit_sync()
 * (which checks and syncs) ran after it.  0 or TRESOR_EIO.  Thread-safe.
 */
#define TR_AUDIT_SYNC 0x1u
#define TR_AUDIT_CHECK 0x2u
int tr_audit_write(struct tr_audit *a, json_t *record, unsigned int flags);

/*
 * Make every record written so far durable: a sync source for
 * util/durable.h (payload: the struct tr_audit).  0 or TRESOR_EIO, also
 * when the file was removed or replaced.
 */
int tr_audit_sync(void *payload);

#endif /* TR_HTTP_AUDIT_H */
