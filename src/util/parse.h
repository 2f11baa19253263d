/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Number parsing from untrusted text (STYLE B4: no atoi/strtol).
 */
#ifndef TR_UTIL_PARSE_H
#define TR_UTIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse `len` bytes of `s` as a decimal integer in [min, max]: digits
 * only, no sign, no leading zeros beyond "0", no trailing bytes.
 * Returns 0 or TRESOR_EINVAL.
 */
int tr_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out);

/*
 * Parse a CPU list as taskset(1) and cpuset(7) write it: numbers and
 * ranges "a-b" (a <= b), separated by commas, e.g. "0", "0,2", "1-3,6".
 * The CPUs go to `cpus` in the order written (at most `cap`, each below
 * `limit`), `*n` their count.  A CPU named twice, an empty item, a
 * descending range or stray bytes are refused.  0 or TRESOR_EINVAL.
 */
int tr_parse_cpu_list(const char *s, unsigned int limit, unsigned int *cpus,
    size_t cap, size_t *n);

#endif /* TR_UTIL_PARSE_H */
