/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage arithmetic of secret versions (see secret_stages.c).  Pure
 * functions over arrays of stage bits, one per existing version.
 */
#ifndef TR_API_SECRET_STAGES_H
#define TR_API_SECRET_STAGES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A new version is added: update the `n` existing versions' stages and
 * return the new version's (CURRENT or PENDING, and LATEST).
 */
unsigned int tr_stages_add(unsigned int *stages, size_t n, bool pending);

/*
 * Make version `target` (an index) CURRENT: the old CURRENT becomes
 * PREVIOUS; a PENDING target stops being PENDING.  Used for promotion
 * and rollback.
 */
void tr_stages_promote(unsigned int *stages, size_t n, size_t target);

#endif /* TR_API_SECRET_STAGES_H */
