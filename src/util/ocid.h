/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCIDs: ocid1.<type>.oc1.<region>.<unique>, region empty for global
 * objects (tenancy, users, groups, compartments, policies).
 */
#ifndef TR_UTIL_OCID_H
#define TR_UTIL_OCID_H

#include <stdbool.h>
#include <stddef.h>

#define TR_OCID_MAX 128		/* buffer size for OCIDs tresor makes */
#define TR_OCID_INPUT_MAX 255	/* longest OCID accepted as input */

/*
 * Make a new OCID of `type` ("vault", "key", "vaultsecret"...) in
 * `region` (NULL or "" for a global object) into `out` (TR_OCID_MAX).
 */
int tr_ocid_new(char *out, size_t outcap, const char *type,
    const char *region);

/*
 * True when `s` is shaped like an OCID of `type` (any type when NULL):
 * ocid1.<type>.<realm>.[region].<unique> over [a-z0-9._-].
 */
bool tr_ocid_valid(const char *s, const char *type);

#endif /* TR_UTIL_OCID_H */
