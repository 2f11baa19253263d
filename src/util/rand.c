/* SPDX-License-Identifier: Apache-2.0 */
/*
 * getrandom(2) wrapper (see rand.h).
 */
#include <errno.h>
#include <sys/random.h>

#include "util/error.h"
#include "util/rand.h"

int
tr_random_bytes(void *p, size_t n)
{
	unsigned char *c = p;
	ssize_t r;

	while (n > 0) {
		r = getrandom(c, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return tr_error_set(TRESOR_EIO, "getrandom failed");
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}
