/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Export macro shared by the public headers of libtresor.
 */
#ifndef TRESOR_COMMON_H
#define TRESOR_COMMON_H

#if defined(__GNUC__)
#define TRESOR_EXTERN __attribute__((visibility("default")))
#else
#define TRESOR_EXTERN
#endif

#endif /* TRESOR_COMMON_H */
