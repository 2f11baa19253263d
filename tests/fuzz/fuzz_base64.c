/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the base64 and base64url codecs
 * (src/util/base64.c).  For both variants:
 *
 *   - decoding arbitrary text either fails or yields at most
 *     tr_base64_decoded_max() bytes, and those bytes encode and decode
 *     back to themselves;
 *   - a decode into a buffer one byte too small fails with ETOOBIG
 *     (the buffers are heap blocks of the exact size, so ASan sees any
 *     write past them);
 *   - encoding arbitrary bytes gives exactly tr_base64_encoded_len()
 *     characters (unpadded for base64url), only from the alphabet, and
 *     decodes back to the input; an output buffer without room for the
 *     NUL is refused;
 *   - the text of one variant that uses '+', '/', '-' or '_' is refused
 *     by the other.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (scripts/fuzz.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tresor/errors.h"
#include "util/base64.h"
#include "util/log.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*enc_fn)(char *, size_t, const void *, size_t);
typedef int (*dec_fn)(void *, size_t, size_t *, const char *, size_t);

static size_t
enc_len(size_t n, bool url)
{
	return url ? (n * 4 + 2) / 3 : tr_base64_encoded_len(n);
}

static bool
in_alphabet(char c, bool url)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	if (url)
		return c == '-' || c == '_';
	return c == '+' || c == '/' || c == '=';
}

/* Encode `in`, check the text, decode it back. */
static void
round_trip(const unsigned char *in, size_t n, bool url)
{
	enc_fn enc = url ? tr_base64url_encode : tr_base64_encode;
	dec_fn dec = url ? tr_base64url_decode : tr_base64_decode;
	size_t need = enc_len(n, url), i, got;
	unsigned char *back;
	char *text;
	int rc;

	text = malloc(need + 1);
	if (text == NULL)
		return;
	/* no room for the NUL: refused, nothing written past the block */
	if (need > 0) {
		rc = enc(text, need, in, n);
		FZ_CHECK(rc == TRESOR_ETOOBIG, "encode without room for NUL "
		    "gave %d", rc);
	}
	rc = enc(text, need + 1, in, n);
	FZ_CHECK(rc == 0, "encode of %zu bytes failed: %d", n, rc);
	FZ_CHECK(strlen(text) == need, "encoded length %zu, expected %zu",
	    strlen(text), need);
	for (i = 0; i < need; i++)
		FZ_CHECK(in_alphabet(text[i], url), "character %02x at %zu",
		    (unsigned char)text[i], i);
	back = malloc(n + 1);
	if (back == NULL) {
		free(text);
		return;
	}
	rc = dec(back, n, &got, text, need);
	FZ_CHECK(rc == 0, "decode of own encoding failed: %d", rc);
	FZ_CHECK(got == n && memcmp(back, in, n) == 0,
	    "round trip changed the data (%zu -> %zu bytes)", n, got);
	if (n > 0) {
		rc = dec(back, n - 1, &got, text, need);
		FZ_CHECK(rc == TRESOR_ETOOBIG, "decode into %zu bytes of %zu "
		    "gave %d", n - 1, n, rc);
	}
	free(back);
	free(text);
}

/* Decode `text`; whatever decodes must survive a round trip. */
static void
decode_any(const char *text, size_t len, bool url)
{
	dec_fn dec = url ? tr_base64url_decode : tr_base64_decode;
	dec_fn other = url ? tr_base64_decode : tr_base64url_decode;
	size_t max = tr_base64_decoded_max(len), got = 0, got2, i;
	unsigned char *out;
	int rc;

	out = malloc(max == 0 ? 1 : max);
	if (out == NULL)
		return;
	rc = dec(out, max, &got, text, len);
	FZ_CHECK(rc == 0 || rc == TRESOR_EINVAL, "decode gave %d with a "
	    "buffer of decoded_max (%zu)", rc, max);
	if (rc == 0) {
		FZ_CHECK(got <= max, "decoded %zu > max %zu", got, max);
		round_trip(out, got, url);
		/* exactly sized output works; one less is ETOOBIG */
		free(out);
		out = malloc(got == 0 ? 1 : got);
		if (out == NULL)
			return;
		rc = dec(out, got, &got2, text, len);
		FZ_CHECK(rc == 0 && got2 == got, "exact-size decode gave %d",
		    rc);
		if (got > 0) {
			rc = dec(out, got - 1, &got2, text, len);
			FZ_CHECK(rc == TRESOR_ETOOBIG, "short decode gave %d",
			    rc);
		}
		/* the other alphabet's special characters are refused */
		for (i = 0; i < len; i++) {
			if (text[i] == (url ? '-' : '+') ||
			    text[i] == (url ? '_' : '/')) {
				free(out);
				out = malloc(max == 0 ? 1 : max);
				if (out == NULL)
					return;
				rc = other(out, max, &got2, text, len);
				FZ_CHECK(rc == TRESOR_EINVAL, "the other "
				    "variant accepted '%c'", text[i]);
				break;
			}
		}
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tr_log_set_level(TR_LOG_NONE);
	if (size > 64 * 1024)
		return 0;
	decode_any((const char *)data, size, false);
	decode_any((const char *)data, size, true);
	round_trip(data, size, false);
	round_trip(data, size, true);
	return 0;
}
