/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict base64 and base64url codecs (see base64.h).
 */
#include <stdint.h>

#include "util/base64.h"
#include "util/error.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
tr_base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
tr_base64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

/* Shared encoder: `pad` selects '=' padding. */
static int
encode(char *out, size_t outcap, const unsigned char *in, size_t n,
    const char *alpha, int pad)
{
	size_t need, i, o = 0;
	uint32_t v;

	need = pad ? tr_base64_encoded_len(n) : (n * 4 + 2) / 3;
	if (n > (SIZE_MAX - 3) / 4 * 3 || need + 1 > outcap)
		return tr_error_set(TRESOR_ETOOBIG, "base64 output too long");
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

int
tr_base64_encode(char *out, size_t outcap, const void *in, size_t n)
{
	return encode(out, outcap, in, n, std_alpha, 1);
}

int
tr_base64url_encode(char *out, size_t outcap, const void *in, size_t n)
{
	return encode(out, outcap, in, n, url_alpha, 0);
}

/* Value of one alphabet character, or -1. */
static int
dec_char(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (!url && c == '+')
		return 62;
	if (!url && c == '/')
		return 63;
	if (url && c == '-')
		return 62;
	if (url && c == '_')
		return 63;
	return -1;
}

/*
 * Shared decoder.  Standard base64 needs padding to a multiple of four;
 * base64url takes none (a trailing '=' is tolerated).
 */
static int
decode(unsigned char *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen, int url)
{
	uint32_t acc = 0;
	size_t i, o = 0, nchars = 0, npad = 0;
	int v;

	*outlen = 0;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			npad++;
			continue;
		}
		if (npad > 0)
			return tr_error_set(TRESOR_EINVAL,
			    "invalid base64: data after padding at offset %zu",
			    i);
		v = dec_char(c, url);
		if (v < 0)
			return tr_error_set(TRESOR_EINVAL,
			    "invalid base64: unexpected character at offset %zu",
			    i);
		acc = acc << 6 | (uint32_t)v;
		nchars++;
		if (nchars % 4 == 0) {
			if (o + 3 > outcap)
				return tr_error_set(TRESOR_ETOOBIG,
				    "base64 data too long");
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	switch (nchars % 4) {
	case 0:
		if (npad != 0)
			return tr_error_set(TRESOR_EINVAL,
			    "invalid base64: misplaced padding");
		break;
	case 1:
		return tr_error_set(TRESOR_EINVAL,
		    "invalid base64: truncated input");
	case 2:
		if ((!url && npad != 2) || (url && npad != 0 && npad != 2))
			return tr_error_set(TRESOR_EINVAL,
			    "invalid base64: wrong padding");
		if (o + 1 > outcap)
			return tr_error_set(TRESOR_ETOOBIG,
			    "base64 data too long");
		out[o++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		if ((!url && npad != 1) || (url && npad > 1))
			return tr_error_set(TRESOR_EINVAL,
			    "invalid base64: wrong padding");
		if (o + 2 > outcap)
			return tr_error_set(TRESOR_ETOOBIG,
			    "base64 data too long");
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
		break;
	}
	*outlen = o;
	return 0;
}

int
tr_base64_decode(void *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen)
{
	return decode(out, outcap, outlen, in, inlen, 0);
}

int
tr_base64url_decode(void *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen)
{
	return decode(out, outcap, outlen, in, inlen, 1);
}
