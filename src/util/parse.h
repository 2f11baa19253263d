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

#endif /* TR_UTIL_PARSE_H */
