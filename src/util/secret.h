/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_secret: a fixed-length buffer for key material and plaintext
 * (STYLE S1, S2).  The bytes live in OpenSSL's secure heap when the
 * process initialised it (mlock'd, guard pages, never swapped), otherwise
 * in ordinary memory; either way they are zeroed before they are freed.
 * There is no printf path for a tr_secret.
 */
#ifndef TR_UTIL_SECRET_H
#define TR_UTIL_SECRET_H

#include <stdbool.h>
#include <stddef.h>

struct tr_secret {
	unsigned char *ptr;
	size_t len;
	size_t cap;	/* allocated bytes; private */
};

/*
 * Initialise the locked heap for this process (daemon start-up only).
 * Returns 0, or TRESOR_EPERM when the memory-lock limit forbids it; the
 * caller warns and carries on with zero-on-free only.
 */
int tr_secret_heap_init(size_t bytes);

/* True when tr_secret allocations are locked in memory. */
bool tr_secret_heap_locked(void);

/* Allocate a zero-filled secret of `len` bytes; caller frees it. */
int tr_secret_new(struct tr_secret **out, size_t len);

/* Allocate a secret holding a copy of `p`. */
int tr_secret_from(struct tr_secret **out, const void *p, size_t len);

/* Shrink the visible length (the tail is zeroed). */
void tr_secret_truncate(struct tr_secret *s, size_t len);

/* Zero and free; NULL is fine. */
void tr_secret_free(struct tr_secret *s);

/* Zero memory in a way the compiler may not remove. */
void tr_secure_zero(void *p, size_t n);

/* Zero then free a plain allocation from tr_malloc. */
void tr_freezero(void *p, size_t n);

#endif /* TR_UTIL_SECRET_H */
