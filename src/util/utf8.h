/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 checks for text that echoes untrusted bytes (error messages).
 */
#ifndef TR_UTIL_UTF8_H
#define TR_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
size_t tr_utf8_seq_len(const unsigned char *s, size_t n);

/* True when the NUL-terminated `s` is valid UTF-8. */
bool tr_utf8_valid(const char *s);

/*
 * Make `s` valid UTF-8 in place: every byte that does not start a valid
 * sequence (a stray continuation byte, an overlong form, a surrogate, a
 * sequence cut short, as by a truncating printf) becomes '?'.
 */
void tr_utf8_sanitize(char *s);

#endif /* TR_UTIL_UTF8_H */
