/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libtresor, the client library of tresor: include this one header.
 *
 *   tresor_global_init(TRESOR_GLOBAL_SECURE_JSON);
 *   tresor_config_load(&cfg, NULL);            (~/.oci/config, DEFAULT)
 *   tresor_client_new(&client, &copts);        (copts.config = cfg)
 *   tresor_cache_new(&cache, client, NULL);    (15-minute TTL)
 *   tresor_cache_get(&bundle, cache, &sel);
 *   tresor_secret_write_file(path, content, len, NULL);
 *
 * Every function that can fail returns 0 or a negative TRESOR_E* code
 * (tresor/errors.h) and leaves one line of detail in tresor_error_last().
 * docs/cli.md and docs/agent.md describe the command-line tool and the
 * agent built on it.
 */
#ifndef TRESOR_TRESOR_H
#define TRESOR_TRESOR_H

#include "tresor/common.h"
#include "tresor/errors.h"
#include "tresor/log.h"
#include "tresor/config.h"
#include "tresor/signer.h"
#include "tresor/client.h"
#include "tresor/secrets.h"
#include "tresor/cache.h"
#include "tresor/file.h"
#include "tresor/workload.h"

#endif /* TRESOR_TRESOR_H */
