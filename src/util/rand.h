/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random bytes from the kernel (getrandom), the only source tresor uses
 * (STYLE S8).
 */
#ifndef TR_UTIL_RAND_H
#define TR_UTIL_RAND_H

#include <stddef.h>

/* Fill `p` with `n` random bytes.  0 or TRESOR_EIO. */
int tr_random_bytes(void *p, size_t n);

#endif /* TR_UTIL_RAND_H */
