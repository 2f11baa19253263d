/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC-32 (IEEE 802.3), the plaintextChecksum of KMS responses.
 */
#ifndef TR_UTIL_CRC32_H
#define TR_UTIL_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t tr_crc32(const void *p, size_t n);

#endif /* TR_UTIL_CRC32_H */
