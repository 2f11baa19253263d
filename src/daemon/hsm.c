/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresord's PKCS#11 token (see hsm.h): the --pkcs11-* options, the
 * record init leaves in DIR/pkcs11.conf, and opening the token for the
 * keystore.
 *
 * DIR/pkcs11.conf holds no secret, only where things are:
 *
 *   module /usr/lib/softhsm/libsofthsm2.so
 *   token label:tresor
 *   pin-file /etc/tresor/token.pin
 *
 * It names the shared library tresord loads, so it is refused unless it
 * is a regular file of ours that nobody else may write (the PIN file
 * gets the stricter checks of tr_p11_open(): mode 0600 or stricter).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keystore.h"
#include "crypto/pkcs11.h"
#include "daemon/daemon.h"
#include "daemon/hsm.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parse.h"

#define CONF_MAX 16384		/* bytes of DIR/pkcs11.conf */
#define TOKEN_LABEL_MAX 32	/* bytes of a PKCS#11 token label */

/* Copy option value `val` of `what` into `dst`, refusing "" and overflow. */
static int
set_field(char *dst, size_t cap, const char *what, const char *val)
{
	int n;

	n = snprintf(dst, cap, "%s", val);
	if (val[0] == '\0' || n < 0 || (size_t)n >= cap)
		return tr_error_set(TRESOR_EINVAL, "%s is empty or too long",
		    what);
	return 0;
}

int
tr_daemon_hsm_option(struct tr_hsm_opts *o, int opt, const char *arg)
{
	uint64_t slot;
	size_t len;

	switch (opt) {
	case TR_OPT_PKCS11_MODULE:
		return set_field(o->module, sizeof(o->module),
		    "--pkcs11-module", arg);
	case TR_OPT_PKCS11_PIN_FILE:
		return set_field(o->pin_file, sizeof(o->pin_file),
		    "--pkcs11-pin-file", arg);
	case TR_OPT_PKCS11_SLOT:
	case TR_OPT_PKCS11_TOKEN_LABEL:
		if (o->token[0] != '\0')
			return tr_error_set(TRESOR_EINVAL, "name the token "
			    "once: --pkcs11-token-label or --pkcs11-slot");
		len = strlen(arg);
		if (opt == TR_OPT_PKCS11_TOKEN_LABEL) {
			if (len == 0 || len > TOKEN_LABEL_MAX)
				return tr_error_set(TRESOR_EINVAL,
				    "--pkcs11-token-label must have 1 to %d "
				    "bytes", TOKEN_LABEL_MAX);
			(void)snprintf(o->token, sizeof(o->token), "label:%s",
			    arg);
			return 0;
		}
		if (tr_parse_u64(arg, len, 0, ULONG_MAX, &slot) < 0)
			return tr_error_set(TRESOR_EINVAL, "--pkcs11-slot must "
			    "be a slot ID (softhsm2-util --show-slots lists "
			    "them)");
		(void)snprintf(o->token, sizeof(o->token), "slot:%llu",
		    (unsigned long long)slot);
		return 0;
	case TR_OPT_ROOT_KEY_IN_TOKEN:
		o->root_in_token = true;
		return 0;
	default:
		return tr_error_set(TRESOR_EINVAL, "unknown PKCS#11 option");
	}
}

/* How many of the three options name something. */
static int
nset(const struct tr_hsm_opts *o)
{
	return (o->module[0] != '\0') + (o->token[0] != '\0') +
	    (o->pin_file[0] != '\0');
}

/* All three or none: a message naming the missing ones otherwise. */
static int
check_complete(const struct tr_hsm_opts *o, const char *where)
{
	if (nset(o) == 3)
		return 0;
	return tr_error_set(TRESOR_EINVAL, "the PKCS#11 token needs "
	    "--pkcs11-module, --pkcs11-token-label (or --pkcs11-slot) and "
	    "--pkcs11-pin-file together%s%s%s%s", where,
	    o->module[0] == '\0' ? "; missing --pkcs11-module" : "",
	    o->token[0] == '\0' ? "; missing --pkcs11-token-label or "
	    "--pkcs11-slot" : "",
	    o->pin_file[0] == '\0' ? "; missing --pkcs11-pin-file" : "");
}

/* ---------------------------------------------------------------- */
/* DIR/pkcs11.conf                                                  */
/* ---------------------------------------------------------------- */

/* An absolute form of `path` when it resolves; else `path` itself. */
static void
absolute(char *dst, size_t cap, const char *path)
{
	char buf[PATH_MAX];

	if (realpath(path, buf) != NULL && strlen(buf) < cap)
		(void)snprintf(dst, cap, "%s", buf);
	else
		(void)snprintf(dst, cap, "%s", path);
}

/* Write the record of `o` to `path`, mode 0600 from creation. */
static int
write_conf(const char *path, const struct tr_hsm_opts *o)
{
	char module[PATH_MAX], pin[PATH_MAX];
	FILE *f = NULL;
	int fd, rc = 0;

	absolute(module, sizeof(module), o->module);
	absolute(pin, sizeof(pin), o->pin_file);
	if (strchr(module, '\n') != NULL || strchr(pin, '\n') != NULL)
		return tr_error_set(TRESOR_EINVAL, "a PKCS#11 path holds a "
		    "newline");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		return tr_error_set(errno == EEXIST ? TRESOR_EEXISTS :
		    TRESOR_EIO, "cannot create %s: %s", path, strerror(errno));
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	fprintf(f, "# The PKCS#11 token of this tresor data directory, "
	    "written by tresord init.\n"
	    "# tresord serve uses it unless --pkcs11-* options say "
	    "otherwise.\n"
	    "module %s\ntoken %s\npin-file %s\n", module, o->token, pin);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s", path,
		    strerror(errno));
	if (fclose(f) != 0 && rc == 0)
		rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s", path,
		    strerror(errno));
out:
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Store `val` (len bytes) of key `key` of line `lineno` into `o`. */
static int
conf_field(struct tr_hsm_opts *o, const char *path, size_t lineno,
    const char *key, size_t klen, const char *val, size_t vlen)
{
	char *dst;
	size_t cap;

	if (klen == 6 && memcmp(key, "module", 6) == 0) {
		dst = o->module;
		cap = sizeof(o->module);
	} else if (klen == 5 && memcmp(key, "token", 5) == 0) {
		dst = o->token;
		cap = sizeof(o->token);
	} else if (klen == 8 && memcmp(key, "pin-file", 8) == 0) {
		dst = o->pin_file;
		cap = sizeof(o->pin_file);
	} else {
		return tr_error_set(TRESOR_EINVAL, "%s line %zu: unknown "
		    "setting %.*s (module, token or pin-file)", path, lineno,
		    (int)(klen > 32 ? 32 : klen), key);
	}
	if (vlen == 0 || vlen >= cap || memchr(val, '\0', vlen) != NULL)
		return tr_error_set(TRESOR_EINVAL, "%s line %zu: bad value",
		    path, lineno);
	memcpy(dst, val, vlen);
	dst[vlen] = '\0';
	return 0;
}

/*
 * Read `path` into `o` (fields it does not set stay "").  0 with
 * *found false when the file does not exist.
 */
static int
read_conf(const char *path, struct tr_hsm_opts *o, bool *found)
{
	char buf[CONF_MAX + 1];
	const char *p, *end, *nl, *sp;
	struct stat sb;
	size_t len = 0, lineno = 0;
	ssize_t r;
	int fd = -1, rc = TRESOR_EINTERNAL;

	*found = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = tr_error_set(TRESOR_EPERM, "%s is not a regular file",
		    path);
		goto out;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
		rc = tr_error_set(TRESOR_EPERM, "%s names the PKCS#11 module "
		    "tresord loads, so it must belong to uid %u and be "
		    "writable by nobody else (it is uid %u, mode %04o)", path,
		    (unsigned)geteuid(), (unsigned)sb.st_uid,
		    (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot read %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CONF_MAX) {
		rc = tr_error_set(TRESOR_ETOOBIG, "%s is larger than %d bytes",
		    path, CONF_MAX);
		goto out;
	}
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl == p || *p == '#')
			continue;
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp == NULL) {
			rc = tr_error_set(TRESOR_EINVAL, "%s line %zu: "
			    "expected \"setting value\"", path, lineno);
			goto out;
		}
		if ((rc = conf_field(o, path, lineno, p, (size_t)(sp - p),
		    sp + 1, (size_t)(nl - sp - 1))) < 0)
			goto out;
	}
	*found = true;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---------------------------------------------------------------- */
/* init and serve                                                   */
/* ---------------------------------------------------------------- */

int
tr_daemon_hsm_init(const char *dir, const struct tr_hsm_opts *o)
{
	struct tr_p11 *p11 = NULL;
	char path[PATH_MAX];
	int rc;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_ROOT_KEY_FILE);
	if (nset(o) == 0 && !o->root_in_token)
		return tr_keystore_create_root(path);
	if ((rc = check_complete(o, o->root_in_token ?
	    " (--root-key-in-token needs them)" : "")) < 0)
		return rc;
	if ((rc = tr_p11_open(&p11, o->module, o->token, o->pin_file)) < 0)
		return rc;
	if (o->root_in_token)
		rc = tr_keystore_create_root_in_token(path, p11);
	else
		rc = tr_keystore_create_root(path);
	tr_p11_close(p11);
	if (rc < 0)
		return rc;
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_PKCS11_CONF_FILE);
	return write_conf(path, o);
}

int
tr_daemon_hsm_attach(struct tr_keystore *ks, const struct tr_hsm_opts *o,
    const char *dir)
{
	struct tr_hsm_opts use;
	struct tr_p11 *p11 = NULL;
	char path[PATH_MAX], where[PATH_MAX + 64];
	bool found = false;
	int rc;

	memset(&use, 0, sizeof(use));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_PKCS11_CONF_FILE);
	if ((rc = read_conf(path, &use, &found)) < 0)
		return rc;
	if (o->module[0] != '\0')
		(void)snprintf(use.module, sizeof(use.module), "%s", o->module);
	if (o->token[0] != '\0')
		(void)snprintf(use.token, sizeof(use.token), "%s", o->token);
	if (o->pin_file[0] != '\0')
		(void)snprintf(use.pin_file, sizeof(use.pin_file), "%s",
		    o->pin_file);
	if (nset(&use) == 0) {
		if (tr_keystore_root_in_token(ks))
			return tr_error_set(TRESOR_EINVAL, "%s/%s says the "
			    "root key is held in a PKCS#11 token, and no token "
			    "is configured: give --pkcs11-module, "
			    "--pkcs11-token-label (or --pkcs11-slot) and "
			    "--pkcs11-pin-file, or restore %s", dir,
			    TR_ROOT_KEY_FILE, path);
		return 0;
	}
	(void)snprintf(where, sizeof(where), "%s%s", found ? " (with " : "",
	    found ? path : "");
	if (found)
		(void)snprintf(where + strlen(where),
		    sizeof(where) - strlen(where), ")");
	if ((rc = check_complete(&use, where)) < 0)
		return rc;
	if ((rc = tr_p11_open(&p11, use.module, use.token,
	    use.pin_file)) < 0)
		return rc;
	if ((rc = tr_keystore_attach_hsm(ks, p11)) < 0) {
		tr_p11_close(p11);
		return rc;
	}
	tr_log_info("PKCS#11 token %s (%s): protectionMode HSM available%s",
	    use.token, use.module, tr_keystore_root_in_token(ks) ?
	    "; it holds the root key" : "");
	return 0;
}
