/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store/: the schema migrations of each backend.
 */
#ifndef TR_STORE_STORE_INT_H
#define TR_STORE_STORE_INT_H

#include <stddef.h>

/* SQL texts; entry i takes the schema from version i to i + 1. */
extern const char *const tr_store_sqlite_migrations[];
extern const size_t tr_store_sqlite_migrations_count;

#endif /* TR_STORE_STORE_INT_H */
