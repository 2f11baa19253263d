/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tr_secret on OpenSSL's secure heap (see secret.h).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/secret.h"

int
tr_secret_heap_init(size_t bytes)
{
	if (CRYPTO_secure_malloc_initialized())
		return 0;
	if (CRYPTO_secure_malloc_init(bytes, 16) == 0)
		return tr_error_set(TRESOR_EPERM,
		    "cannot lock %zu bytes of memory for key material "
		    "(raise RLIMIT_MEMLOCK, e.g. ulimit -l)", bytes);
	return 0;
}

bool
tr_secret_heap_locked(void)
{
	return CRYPTO_secure_malloc_initialized() != 0;
}

void
tr_secure_zero(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
tr_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	tr_secure_zero(p, n);
	tr_free(p);
}

int
tr_secret_new(struct tr_secret **out, size_t len)
{
	struct tr_secret *s;
	size_t alloc = len == 0 ? 1 : len;

	*out = NULL;
	s = tr_malloc(sizeof(*s));
	if (s == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	s->ptr = CRYPTO_secure_zalloc(alloc, OPENSSL_FILE, OPENSSL_LINE);
	if (s->ptr == NULL && CRYPTO_secure_malloc_initialized()) {
		/* secure heap exhausted: still zero on free */
		s->ptr = OPENSSL_zalloc(alloc);
	}
	if (s->ptr == NULL) {
		tr_free(s);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	s->len = len;
	s->cap = alloc;
	*out = s;
	return 0;
}

int
tr_secret_from(struct tr_secret **out, const void *p, size_t len)
{
	int rc;

	if ((rc = tr_secret_new(out, len)) < 0)
		return rc;
	if (len > 0)
		memcpy((*out)->ptr, p, len);
	return 0;
}

void
tr_secret_truncate(struct tr_secret *s, size_t len)
{
	if (len >= s->len)
		return;
	tr_secure_zero(s->ptr + len, s->len - len);
	s->len = len;
}

void
tr_secret_free(struct tr_secret *s)
{
	if (s == NULL)
		return;
	if (CRYPTO_secure_allocated(s->ptr))
		CRYPTO_secure_clear_free(s->ptr, s->cap, OPENSSL_FILE,
		    OPENSSL_LINE);
	else
		OPENSSL_clear_free(s->ptr, s->cap);
	tr_free(s);
}
