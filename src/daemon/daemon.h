/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresord's commands.  Each returns the process exit status.
 */
#ifndef TR_DAEMON_DAEMON_H
#define TR_DAEMON_DAEMON_H

/* Paths inside a data directory. */
#define TR_ROOT_KEY_FILE "root.key"
#define TR_DB_FILE "tresor.db"
/* the store URL given to init --store; serve uses it unless --store */
#define TR_STORE_FILE "store.url"
/* present while tresord serves: found at start, the last run crashed */
#define TR_RUNNING_FILE "tresord.running"
#define TR_ADMIN_DIR "admin"
#define TR_ADMIN_KEY_FILE "admin/key.pem"
#define TR_ADMIN_CONFIG_FILE "admin/config"
#define TR_DEFAULT_ENDPOINT "http://127.0.0.1:8200"
#define TR_DEFAULT_REGION "xx-local-1"

int tr_daemon_init(int argc, char **argv);
int tr_daemon_serve(int argc, char **argv);
int tr_daemon_migrate(int argc, char **argv);

/* Print to stderr "tresord: <msg>" and return 1 (start-up failures). */
int tr_daemon_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TR_DAEMON_DAEMON_H */
