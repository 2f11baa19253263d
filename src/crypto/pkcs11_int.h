/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside view of a struct tr_p11 (pkcs11.h) for files of src/crypto and
 * for the unit tests, which check token attributes directly: the module
 * and the slot.  Nothing outside src/crypto includes this header.
 */
#ifndef TR_CRYPTO_PKCS11_INT_H
#define TR_CRYPTO_PKCS11_INT_H

#include "crypto/pkcs11.h"

/* p11-kit's header defines macros with common names; include it last. */
#include <p11-kit/pkcs11.h>

/* The p11-kit managed module of `p`; borrowed, lives as long as `p`. */
CK_FUNCTION_LIST *tr_p11_module(struct tr_p11 *p);

/* The slot of the token `p` is logged in to. */
CK_SLOT_ID tr_p11_slot(const struct tr_p11 *p);

#endif /* TR_CRYPTO_PKCS11_INT_H */
