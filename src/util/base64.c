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

/*
 * Value of each alphabet character, or -1.  The two alphabets differ
 * only in the characters for 62 and 63 ('+' '/' or '-' '_').
 */
#define B64_NONE \
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
#define B64_DECODE(plus, minus, slash, under) {				\
	B64_NONE B64_NONE						\
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, plus, -1, minus, -1,	\
	slash,								\
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,	\
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,		\
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, under,	\
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,	\
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,	\
	B64_NONE B64_NONE B64_NONE B64_NONE				\
	B64_NONE B64_NONE B64_NONE B64_NONE				\
}

static const signed char dec_std[256] = B64_DECODE(62, -1, 63, -1);
static const signed char dec_url[256] = B64_DECODE(-1, 62, -1, 63);

#undef B64_DECODE
#undef B64_NONE

/*
 * Shared decoder.  Standard base64 needs padding to a multiple of four;
 * base64url takes none (a trailing '=' is tolerated).
 */
static int
decode(unsigned char *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen, int url)
{
	const signed char *dec = url ? dec_url : dec_std;
	uint32_t acc = 0;
	size_t i, o = 0, nchars = 0, npad = 0;
	int v;

	*outlen = 0;
	for (i = 0; i < inlen; i++) {
		const unsigned char *u = (const unsigned char *)in;
		unsigned char c;

		/* four characters at a time while there is nothing special */
		while (nchars % 4 == 0 && npad == 0 && i + 4 <= inlen) {
			int a = dec[u[i]], b = dec[u[i + 1]], d = dec[u[i + 2]],
			    e = dec[u[i + 3]];

			if ((a | b | d | e) < 0)
				break;
			if (o + 3 > outcap)
				return tr_error_set(TRESOR_ETOOBIG,
				    "base64 data too long");
			acc = (uint32_t)a << 18 | (uint32_t)b << 12 |
			    (uint32_t)d << 6 | (uint32_t)e;
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
			nchars += 4;
			i += 4;
		}
		if (i == inlen)
			break;
		c = u[i];
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
		v = dec[c];
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
