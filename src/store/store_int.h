/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store/: the schema migrations of each backend and what
 * the backends share.
 */
#ifndef TR_STORE_STORE_INT_H
#define TR_STORE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

struct tr_buf;
struct tr_store_write;

/* SQL texts; entry i takes the schema from version i to i + 1. */
extern const char *const tr_store_sqlite_migrations[];
extern const size_t tr_store_sqlite_migrations_count;
extern const char *const tr_store_pg_migrations[];
extern const size_t tr_store_pg_migrations_count;

/*
 * The TR_STORE_CHANGES payload announcing batch `w` (see store.h) into
 * `b`, or "*" when it would not fit.  0 or TRESOR_ENOMEM.
 */
int tr_store_changes_format(struct tr_buf *b, const struct tr_store_write *w,
    size_t n, bool iam);

#endif /* TR_STORE_STORE_INT_H */
