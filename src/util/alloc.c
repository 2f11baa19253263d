/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation wrappers with a fault-injection counter (see alloc.h).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static _Atomic long fail_after = -1;

/* True when the fault injector says this allocation must fail. */
static int
should_fail(void)
{
	long n = atomic_load_explicit(&fail_after, memory_order_relaxed);

	if (n < 0)
		return 0;
	if (n == 0)
		return 1;
	atomic_fetch_sub_explicit(&fail_after, 1, memory_order_relaxed);
	return 0;
}

void
tr_alloc_fail_after(long n)
{
	atomic_store(&fail_after, n);
}

void *
tr_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *
tr_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		return calloc(1, 1);
	return calloc(nmemb, size);
}

void *
tr_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if (should_fail())
		return NULL;
	return realloc(p, nmemb * size == 0 ? 1 : nmemb * size);
}

char *
tr_strndup(const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = tr_malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
tr_strdup(const char *s)
{
	return tr_strndup(s, strlen(s));
}

void
tr_free(void *p)
{
	free(p);
}
