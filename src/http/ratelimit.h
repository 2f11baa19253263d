/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-principal token-bucket rate limits (see ratelimit.c).
 */
#ifndef TR_HTTP_RATELIMIT_H
#define TR_HTTP_RATELIMIT_H

struct tr_ratelimit;

/* `rate` requests a second per principal, bursts of `burst`. */
int tr_ratelimit_new(struct tr_ratelimit **out, double rate, double burst);
void tr_ratelimit_free(struct tr_ratelimit *r);

/*
 * Take a token for `principal`: 0, or TRESOR_ELIMIT with the seconds to
 * wait in *retry_after_out.  Thread-safe.
 */
int tr_ratelimit_take(struct tr_ratelimit *r, const char *principal,
    unsigned int *retry_after_out);

#endif /* TR_HTTP_RATELIMIT_H */
