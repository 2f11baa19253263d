/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation wrappers.  Every allocation in tresor goes through these so
 * that tests can make any allocation fail (tr_alloc_fail_after()).
 */
#ifndef TR_UTIL_ALLOC_H
#define TR_UTIL_ALLOC_H

#include <stddef.h>

void *tr_malloc(size_t n);
void *tr_calloc(size_t nmemb, size_t size);
void *tr_reallocarray(void *p, size_t nmemb, size_t size);
char *tr_strdup(const char *s);
char *tr_strndup(const char *s, size_t n);
void tr_free(void *p);

/*
 * Fault injection for tests: after `n` more successful allocations, every
 * allocation fails until the counter is reset with a negative `n`.
 */
void tr_alloc_fail_after(long n);

#define TR_FREE_AND_NULL(p) do { tr_free(p); (p) = NULL; } while (0)

#endif /* TR_UTIL_ALLOC_H */
