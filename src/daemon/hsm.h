/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresord's PKCS#11 token (protection mode HSM, and a root key held in
 * the token): the --pkcs11-* options of init and serve, the record of
 * them that init leaves in DIR/pkcs11.conf, opening the token and
 * attaching it to the keystore (crypto/keystore.h).  Implemented in
 * hsm.c.
 */
#ifndef TR_DAEMON_HSM_H
#define TR_DAEMON_HSM_H

#include <limits.h>
#include <stdbool.h>

#include "crypto/keystore.h"

/* Written by init when it is given a token; read by serve. */
#define TR_PKCS11_CONF_FILE "pkcs11.conf"

/* getopt_long codes of the options (long options only). */
enum {
	TR_OPT_PKCS11_MODULE = 0x100,
	TR_OPT_PKCS11_SLOT,
	TR_OPT_PKCS11_TOKEN_LABEL,
	TR_OPT_PKCS11_PIN_FILE,
	TR_OPT_ROOT_KEY_IN_TOKEN
};

#define TR_HSM_TOKEN_MAX 48	/* "label:" and 32 bytes, or "slot:N" */

/* The options as given; "" for each one not given. */
struct tr_hsm_opts {
	char module[PATH_MAX];		/* --pkcs11-module */
	char token[TR_HSM_TOKEN_MAX];	/* "label:NAME" or "slot:N" */
	char pin_file[PATH_MAX];	/* --pkcs11-pin-file */
	bool root_in_token;		/* init --root-key-in-token */
};

/* The usage lines of the options, for init (with root) and serve. */
#define TR_HSM_USAGE \
	"  --pkcs11-module PATH        PKCS#11 module of the token of " \
	"protectionMode\n" \
	"                              HSM keys, e.g. " \
	"/usr/lib/softhsm/libsofthsm2.so\n" \
	"  --pkcs11-token-label LABEL  the token, by label (or:)\n" \
	"  --pkcs11-slot N             the token, by slot ID\n" \
	"  --pkcs11-pin-file FILE      the user PIN, alone in a file of " \
	"mode 0600\n"
#define TR_HSM_INIT_USAGE \
	TR_HSM_USAGE \
	"  --root-key-in-token         generate the root key in the " \
	"token (label\n" \
	"                              " TR_ROOT_TOKEN_LABEL "); " \
	"DIR/root.key is then a marker\n" \
	"  The token options are recorded in DIR/pkcs11.conf, which " \
	"serve reads.\n"
#define TR_HSM_SERVE_USAGE \
	TR_HSM_USAGE \
	"  (the token options default to DIR/pkcs11.conf, written by " \
	"init)\n"

/*
 * Record option `opt` (one of the TR_OPT_* codes) with argument `arg`.
 * TRESOR_EINVAL with a message for a bad value, or both --pkcs11-slot
 * and --pkcs11-token-label.
 */
int tr_daemon_hsm_option(struct tr_hsm_opts *o, int opt, const char *arg);

/*
 * init: create the root key of data directory `dir` (DIR/root.key): in
 * the token when o->root_in_token, else a root key file.  When a token
 * is named, open it (which checks module, token and PIN) and record the
 * options in DIR/pkcs11.conf (mode 0600).
 */
int tr_daemon_hsm_init(const char *dir, const struct tr_hsm_opts *o);

/*
 * serve: the options given (each one overriding DIR/pkcs11.conf), or
 * that file alone, name a token: open it and attach it to `ks`.  No
 * token at all is fine, unless the root key is held in one.  Returns 0
 * or an error with a message saying what to give.
 */
int tr_daemon_hsm_attach(struct tr_keystore *ks, const struct tr_hsm_opts *o,
    const char *dir);

#endif /* TR_DAEMON_HSM_H */
