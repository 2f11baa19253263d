/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The format of tresor's audit log, shared by the server that writes it
 * and the CLI that verifies it (`tresor audit verify FILE...`).
 *
 * One JSON object per line, compact.  Every line has "seq"
 * (1, 2, 3... across rotated files) and "prev": the lowercase hex
 * SHA-256 of the previous line's bytes (without its newline); the very
 * first line of a log has 64 zeros.  Changing, removing, inserting or
 * reordering a line breaks a link, and verification names the line.
 */
#ifndef TR_UTIL_AUDIT_CHAIN_H
#define TR_UTIL_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define TR_AUDIT_HASH_HEX 65		/* 64 hex digits and a NUL */
#define TR_AUDIT_LINE_MAX (64 * 1024)

/* SHA-256 of `len` bytes of `line`, as lowercase hex. */
void tr_audit_line_hash(const char *line, size_t len,
    char out[TR_AUDIT_HASH_HEX]);

/*
 * Verify the log files `paths` (oldest first: a rotated log's files in
 * order) as one chain.  Returns 0 with the number of records, or
 * TRESOR_EINVAL with "file:line: what is wrong" in tresor_error_last(),
 * or TRESOR_EIO when a file cannot be read.  A chain whose first line
 * does not start a log (prev not zero) is checked from that line on and
 * said so in `note` (at least 256 bytes, may be NULL).
 */
int tr_audit_verify(const char *const *paths, size_t n, uint64_t *records,
    char *note, size_t notecap);

#endif /* TR_UTIL_AUDIT_CHAIN_H */
