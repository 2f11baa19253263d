/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bitwise CRC-32; KMS payloads are small (see crc32.h).
 */
#include "util/crc32.h"

uint32_t
tr_crc32(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= c[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}
