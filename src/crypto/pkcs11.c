/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Protection mode HSM through PKCS#11 (see pkcs11.h): module loading
 * with p11-kit, token lookup, the PIN file, a pool of sessions shared by
 * threads, and the key operations.
 *
 * Sessions.  A PKCS#11 session runs one operation at a time, so each call
 * borrows a session from the pool (opening one when none is idle, up to
 * SESSIONS_MAX, then waiting) and gives it back.  One more session, kept
 * open for the handle's lifetime, holds the user login: the login belongs
 * to the application and ends when its last session closes.  Every call
 * runs as an "op" through run(): if the token says the session is gone or
 * not logged in (token reset, HSM restart), run() logs in again and
 * retries once.  An epoch counter makes sure that several threads
 * noticing the same loss log in only once, and that sessions opened
 * before the loss are closed instead of going back to the pool.
 *
 * Key material.  Keys are made with CKA_SENSITIVE true and
 * CKA_EXTRACTABLE false and never read; only public keys (modulus and
 * exponent, EC point) are read, to export them as PEM.  Digests are
 * computed on the host (sign.c) and the token signs them with the raw
 * mechanisms CKM_RSA_PKCS, CKM_RSA_PKCS_PSS and CKM_ECDSA, which every
 * token has, unlike the hash-and-sign mechanisms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/rand.h"
#include "crypto/aead.h"

/* last: p11-kit's pkcs11.h defines macros with common names */
#include <p11-kit/p11-kit.h>
#include "crypto/pkcs11_int.h"

#define SESSIONS_MAX 32		/* pooled sessions, login session aside */
#define PIN_MAX 256		/* bytes of a user PIN */
#define TOKEN_LABEL_LEN 32	/* CK_TOKEN_INFO.label, space-padded */
#define FIND_MAX 16		/* objects per C_FindObjects round */
#define ATTR_MAX 4096		/* bytes of a public attribute we read */
#define SIG_MAX 1024		/* RSA-4096 is 512 bytes, P-521 r||s 132 */
#define DIGESTINFO_MAX 19	/* DER prefix of a SHA-2 DigestInfo */

/* An EC curve: OpenSSL group name, field size, DER OID (CKA_EC_PARAMS). */
struct curve {
	enum tr_curve id;
	const char *group;
	size_t flen;
	const unsigned char *oid;
	size_t oidlen;
};

static const unsigned char oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const unsigned char oid_p384[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};
static const unsigned char oid_p521[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23
};

static const struct curve curves[] = {
	{ TR_CURVE_P256, "P-256", 32, oid_p256, sizeof(oid_p256) },
	{ TR_CURVE_P384, "P-384", 48, oid_p384, sizeof(oid_p384) },
	{ TR_CURVE_P521, "P-521", 66, oid_p521, sizeof(oid_p521) },
};

#define NCURVES (sizeof(curves) / sizeof(curves[0]))

/* A SHA-2 hash as PKCS#11 names it, and its DigestInfo prefix (RFC 8017). */
struct p11_hash {
	size_t len;
	CK_MECHANISM_TYPE mech;
	CK_RSA_PKCS_MGF_TYPE mgf;
	unsigned char prefix[DIGESTINFO_MAX];
};

static const struct p11_hash hashes[] = {
	{ 28, CKM_SHA224, CKG_MGF1_SHA224, { 0x30, 0x2d, 0x30, 0x0d, 0x06,
	    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05,
	    0x00, 0x04, 0x1c } },
	{ 32, CKM_SHA256, CKG_MGF1_SHA256, { 0x30, 0x31, 0x30, 0x0d, 0x06,
	    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
	    0x00, 0x04, 0x20 } },
	{ 48, CKM_SHA384, CKG_MGF1_SHA384, { 0x30, 0x41, 0x30, 0x0d, 0x06,
	    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
	    0x00, 0x04, 0x30 } },
	{ 64, CKM_SHA512, CKG_MGF1_SHA512, { 0x30, 0x51, 0x30, 0x0d, 0x06,
	    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
	    0x00, 0x04, 0x40 } },
};

#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))

/* A session of the pool and the epoch it was opened in. */
struct pooled {
	CK_SESSION_HANDLE h;
	unsigned long epoch;
};

struct tr_p11 {
	CK_FUNCTION_LIST *f;
	bool initialized;		/* p11_kit_module_initialize() done */
	CK_SLOT_ID slot;
	char token[TOKEN_LABEL_LEN + 1];	/* for messages */
	struct tr_secret *pin;		/* kept to log in again */

	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t cond;		/* a session came back */
	bool sync_init;
	CK_SESSION_HANDLE login;	/* holds the login */
	bool have_login;
	unsigned long epoch;		/* bumped by each new login */
	size_t nopen;			/* pooled sessions open (busy + idle) */
	size_t nidle;
	struct pooled idle[SESSIONS_MAX];
};

/*
 * An operation run with a borrowed session.  It returns 0 or a TRESOR_E*
 * code; when a token call failed it also stores that call's CK_RV in
 * *rv, which tells run() whether to drop the session and retry.
 */
typedef int (*op_fn)(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg,
    CK_RV *rv);

/* ---------------------------------------------------------------- */
/* errors                                                           */
/* ---------------------------------------------------------------- */

static int
rv_code(CK_RV rv)
{
	switch (rv) {
	case CKR_HOST_MEMORY:
		return TRESOR_ENOMEM;
	case CKR_DEVICE_MEMORY:
		return TRESOR_ELIMIT;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_EXPIRED:
	case CKR_PIN_LOCKED:
		return TRESOR_EAUTH;
	case CKR_DEVICE_ERROR:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_COUNT:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return TRESOR_EUNAVAIL;
	default:
		return TRESOR_EINTERNAL;
	}
}

/* Record a failed token call `what` with its CK_RV; returns the code. */
static int
p11_error(CK_RV rv, const char *what)
{
	return tr_error_set(rv_code(rv), "PKCS#11 %s failed: %s (0x%lx)",
	    what, p11_kit_strerror(rv), (unsigned long)rv);
}

/* The session or the login is gone: log in again, then retry. */
static bool
session_lost(CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_DEVICE_REMOVED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_PRESENT:
		return true;
	default:
		return false;
	}
}

/*
 * The session must not go back to the pool: it is lost, or an operation
 * may still be active on it (the only error after which PKCS#11 leaves
 * an operation active is CKR_BUFFER_TOO_SMALL).
 */
static bool
session_unusable(CK_RV rv)
{
	return session_lost(rv) || rv == CKR_OPERATION_ACTIVE ||
	    rv == CKR_BUFFER_TOO_SMALL;
}

/* ---------------------------------------------------------------- */
/* PIN file and token                                               */
/* ---------------------------------------------------------------- */

/*
 * Read the user PIN from `path` into a new secret.  The file must be a
 * regular file (not a symlink) owned by the effective uid and not
 * accessible by group or others (STYLE S6); one trailing newline (LF or
 * CRLF) is dropped.
 */
static int
read_pin(struct tr_secret **out, const char *path)
{
	struct tr_secret *pin = NULL;
	struct stat sb;
	size_t len = 0;
	ssize_t r;
	int fd = -1, rc = TRESOR_EINTERNAL;

	*out = NULL;
	/* O_NONBLOCK: a FIFO must not block us before the S_ISREG check */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			rc = tr_error_set(TRESOR_EPERM, "PIN file %s is a "
			    "symbolic link; name the file itself", path);
		else
			rc = tr_error_set(errno == ENOENT ? TRESOR_ENOTFOUND :
			    TRESOR_EIO, "cannot open PIN file %s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot stat PIN file %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = tr_error_set(TRESOR_EPERM,
		    "PIN file %s is not a regular file", path);
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		rc = tr_error_set(TRESOR_EPERM, "PIN file %s is owned by uid "
		    "%u, not by this process's uid %u", path,
		    (unsigned)sb.st_uid, (unsigned)geteuid());
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		rc = tr_error_set(TRESOR_EPERM, "PIN file %s is accessible "
		    "by group or others (mode %04o); it must be mode 0600 or "
		    "stricter: run chmod 600 %s", path,
		    (unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	/* one byte more than a PIN and its CRLF, to see an overlong file */
	if ((rc = tr_secret_new(&pin, PIN_MAX + 3)) < 0)
		goto out;
	while (len < pin->len) {
		r = read(fd, pin->ptr + len, pin->len - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot read PIN file "
			    "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > 0 && pin->ptr[len - 1] == '\n')
		len--;
	if (len > 0 && pin->ptr[len - 1] == '\r')
		len--;
	if (len > PIN_MAX) {
		rc = tr_error_set(TRESOR_EINVAL, "PIN file %s holds more than "
		    "%d bytes", path, PIN_MAX);
		goto out;
	}
	if (len == 0) {
		rc = tr_error_set(TRESOR_EINVAL, "PIN file %s is empty", path);
		goto out;
	}
	if (memchr(pin->ptr, '\n', len) != NULL ||
	    memchr(pin->ptr, '\0', len) != NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "PIN file %s must hold the "
		    "PIN on one line", path);
		goto out;
	}
	tr_secret_truncate(pin, len);
	*out = pin;
	pin = NULL;
	rc = 0;
out:
	tr_secret_free(pin);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Does the space-padded token label `tl` read `name`? */
static bool
label_is(const unsigned char tl[TOKEN_LABEL_LEN], const char *name,
    size_t namelen)
{
	size_t i;

	if (namelen > TOKEN_LABEL_LEN || memcmp(tl, name, namelen) != 0)
		return false;
	for (i = namelen; i < TOKEN_LABEL_LEN; i++) {
		if (tl[i] != ' ' && tl[i] != '\0')
			return false;
	}
	return true;
}

/*
 * Find the slot of the token `spec` ("label:NAME" or "slot:N") among the
 * slots with a token present, and check that the token is ready.
 */
static int
find_slot(struct tr_p11 *p, const char *spec)
{
	CK_SLOT_ID *slots = NULL, want = 0;
	CK_TOKEN_INFO ti;
	CK_FLAGS flags = 0;
	CK_ULONG n = 0, i, hits = 0;
	const char *name = NULL;
	size_t namelen = 0, l;
	uint64_t num = 0;
	CK_RV rv;
	int rc = TRESOR_EINTERNAL;

	if (strncmp(spec, "label:", 6) == 0) {
		name = spec + 6;
		namelen = strlen(name);
		if (namelen == 0 || namelen > TOKEN_LABEL_LEN) {
			rc = tr_error_set(TRESOR_EINVAL, "a token label has 1 "
			    "to %d bytes", TOKEN_LABEL_LEN);
			goto out;
		}
	} else if (strncmp(spec, "slot:", 5) == 0) {
		if (tr_parse_u64(spec + 5, strlen(spec + 5), 0, ULONG_MAX,
		    &num) < 0) {
			rc = tr_error_set(TRESOR_EINVAL, "bad slot number in "
			    "token \"%s\"", spec);
			goto out;
		}
		want = (CK_SLOT_ID)num;
	} else {
		rc = tr_error_set(TRESOR_EINVAL, "token \"%s\" must be "
		    "\"label:NAME\" or \"slot:N\"", spec);
		goto out;
	}
	rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK) {
		rc = p11_error(rv, "C_GetSlotList");
		goto out;
	}
	if (n > 0) {
		slots = tr_calloc(n, sizeof(*slots));
		if (slots == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv != CKR_OK) {
			rc = p11_error(rv, "C_GetSlotList");
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (name == NULL && slots[i] != want)
			continue;
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (name != NULL && !label_is(ti.label, name, namelen))
			continue;
		hits++;
		p->slot = slots[i];
		flags = ti.flags;
		memcpy(p->token, ti.label, TOKEN_LABEL_LEN);
	}
	if (hits == 0) {
		rc = tr_error_set(TRESOR_ENOTFOUND, "no PKCS#11 token %s "
		    "present", spec);
		goto out;
	}
	if (hits > 1) {
		rc = tr_error_set(TRESOR_EINVAL, "several PKCS#11 tokens are "
		    "labelled %s; name one by slot:N", name);
		goto out;
	}
	l = TOKEN_LABEL_LEN;
	while (l > 0 && (p->token[l - 1] == ' ' || p->token[l - 1] == '\0'))
		l--;
	p->token[l] = '\0';
	if ((flags & CKF_TOKEN_INITIALIZED) == 0 ||
	    (flags & CKF_USER_PIN_INITIALIZED) == 0) {
		rc = tr_error_set(TRESOR_EINVAL, "PKCS#11 token %s is not "
		    "initialised or has no user PIN", spec);
		goto out;
	}
	if ((flags & CKF_USER_PIN_LOCKED) != 0) {
		rc = tr_error_set(TRESOR_EAUTH, "the user PIN of PKCS#11 "
		    "token %s is locked", spec);
		goto out;
	}
	rc = 0;
out:
	tr_free(slots);
	return rc;
}

/* ---------------------------------------------------------------- */
/* sessions                                                         */
/* ---------------------------------------------------------------- */

static CK_RV
open_session(struct tr_p11 *p, CK_SESSION_HANDLE *h)
{
	return p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, h);
}

/*
 * Open the login session and log the user in.  Called with the lock held
 * (or before other threads can see `p`).  A token that says the user is
 * already logged in (another handle in this process) is fine.
 */
static int
login_locked(struct tr_p11 *p)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;
	int rc = TRESOR_EINTERNAL;

	rv = open_session(p, &h);
	if (rv != CKR_OK) {
		rc = p11_error(rv, "C_OpenSession");
		goto out;
	}
	rv = p->f->C_Login(h, CKU_USER, p->pin->ptr, p->pin->len);
	if (rv == CKR_PIN_INCORRECT) {
		rc = tr_error_set(TRESOR_EAUTH, "wrong user PIN for PKCS#11 "
		    "token %s", p->token);
		goto out;
	}
	if (rv == CKR_PIN_LOCKED) {
		rc = tr_error_set(TRESOR_EAUTH, "the user PIN of PKCS#11 "
		    "token %s is locked", p->token);
		goto out;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = p11_error(rv, "C_Login");
		goto out;
	}
	p->login = h;
	p->have_login = true;
	h = CK_INVALID_HANDLE;
	rc = 0;
out:
	if (h != CK_INVALID_HANDLE)
		(void)p->f->C_CloseSession(h);
	return rc;
}

/* Close the idle sessions and the login session; lock held. */
static void
drop_sessions_locked(struct tr_p11 *p)
{
	while (p->nidle > 0) {
		(void)p->f->C_CloseSession(p->idle[--p->nidle].h);
		p->nopen--;
	}
	if (p->have_login) {
		(void)p->f->C_CloseSession(p->login);
		p->have_login = false;
	}
}

/*
 * The token lost the sessions or the login of epoch `seen`: close what
 * is left of them and log in again, unless another thread already did.
 */
static int
relogin(struct tr_p11 *p, unsigned long seen)
{
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (p->epoch == seen) {
		tr_log_warn("PKCS#11 token %s lost its sessions; logging in "
		    "again", p->token);
		p->epoch++;
		drop_sessions_locked(p);
		rc = login_locked(p);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/*
 * Borrow a session: an idle one, a new one while fewer than SESSIONS_MAX
 * are open, or wait for one to come back.  Logs in first when a previous
 * login attempt failed.  On a failed C_OpenSession, *rv holds its result.
 */
static int
session_get(struct tr_p11 *p, struct pooled *s, CK_RV *rv)
{
	CK_RV r;
	int rc = TRESOR_EINTERNAL;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		s->epoch = p->epoch;
		s->h = CK_INVALID_HANDLE;
		if (!p->have_login && (rc = login_locked(p)) < 0)
			goto out;
		if (p->nidle > 0) {
			*s = p->idle[--p->nidle];
			rc = 0;
			goto out;
		}
		if (p->nopen < SESSIONS_MAX)
			break;
		pthread_cond_wait(&p->cond, &p->lock);
	}
	p->nopen++;
	pthread_mutex_unlock(&p->lock);

	r = open_session(p, &s->h);

	pthread_mutex_lock(&p->lock);
	if (r != CKR_OK) {
		p->nopen--;
		pthread_cond_signal(&p->cond);
		*rv = r;
		rc = p11_error(r, "C_OpenSession");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/*
 * Give a session back; it is closed instead when `unusable` or when it
 * belongs to an older epoch.
 */
static void
session_put(struct tr_p11 *p, const struct pooled *s, bool unusable)
{
	bool keep;

	pthread_mutex_lock(&p->lock);
	keep = !unusable && s->epoch == p->epoch && p->nidle < SESSIONS_MAX;
	if (keep)
		p->idle[p->nidle++] = *s;
	else
		p->nopen--;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (!keep)
		(void)p->f->C_CloseSession(s->h);
}

/*
 * Run `fn` with a borrowed session.  When it fails because the session
 * is unusable, the session is dropped; when the session or login was
 * lost, run() logs in again; with `retry` it then runs `fn` once more.
 * `fn` must not leave outputs behind when it fails.
 */
static int
run(struct tr_p11 *p, op_fn fn, void *arg, bool retry)
{
	struct pooled s;
	CK_RV rv;
	int attempt, rc = TRESOR_EINTERNAL, rc2;

	for (attempt = 0; attempt < 2; attempt++) {
		rv = CKR_OK;
		rc = session_get(p, &s, &rv);
		if (rc == 0) {
			rc = fn(p, s.h, arg, &rv);
			session_put(p, &s, rc < 0 && session_unusable(rv));
		}
		if (rc == 0 || !retry || attempt > 0 || !session_unusable(rv))
			break;
		if (session_lost(rv) && (rc2 = relogin(p, s.epoch)) < 0) {
			rc = rc2;
			break;
		}
	}
	return rc;
}

/* ---------------------------------------------------------------- */
/* objects                                                          */
/* ---------------------------------------------------------------- */

static int
check_label(const char *label)
{
	size_t n;

	if (label == NULL)
		return tr_error_set(TRESOR_EINVAL, "no key label");
	n = strlen(label);
	if (n == 0 || n > TR_P11_LABEL_MAX)
		return tr_error_set(TRESOR_EINVAL, "a key label has 1 to %d "
		    "bytes", TR_P11_LABEL_MAX);
	return 0;
}

/*
 * Find up to `max` objects labelled `label`, of class `cls` and key type
 * `kt` unless those are (CK_ULONG)-1.  Finding none in a session that is
 * not logged in (private objects are invisible then) is reported as
 * CKR_USER_NOT_LOGGED_IN, so that run() logs in and retries rather than
 * answer "not found".
 */
static int
find(struct tr_p11 *p, CK_SESSION_HANDLE s, const char *label,
    CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, CK_OBJECT_HANDLE *hs, CK_ULONG max,
    CK_ULONG *n, CK_RV *rv)
{
	CK_ATTRIBUTE t[3];
	CK_SESSION_INFO si;
	CK_ULONG nt = 0;
	CK_RV r, r2;

	*n = 0;
	t[nt].type = CKA_LABEL;
	t[nt].pValue = (void *)label;
	t[nt++].ulValueLen = strlen(label);
	if (cls != (CK_OBJECT_CLASS)-1) {
		t[nt].type = CKA_CLASS;
		t[nt].pValue = &cls;
		t[nt++].ulValueLen = sizeof(cls);
	}
	if (kt != (CK_KEY_TYPE)-1) {
		t[nt].type = CKA_KEY_TYPE;
		t[nt].pValue = &kt;
		t[nt++].ulValueLen = sizeof(kt);
	}
	r = p->f->C_FindObjectsInit(s, t, nt);
	if (r != CKR_OK) {
		*rv = r;
		return p11_error(r, "C_FindObjectsInit");
	}
	r = p->f->C_FindObjects(s, hs, max, n);
	r2 = p->f->C_FindObjectsFinal(s);
	if (r == CKR_OK)
		r = r2;
	if (r != CKR_OK) {
		*n = 0;
		*rv = r;
		return p11_error(r, "C_FindObjects");
	}
	if (*n == 0) {
		r = p->f->C_GetSessionInfo(s, &si);
		if (r == CKR_OK && si.state != CKS_RW_USER_FUNCTIONS &&
		    si.state != CKS_RO_USER_FUNCTIONS)
			r = CKR_USER_NOT_LOGGED_IN;
		if (r != CKR_OK) {
			*rv = r;
			return p11_error(r, "finding objects");
		}
	}
	return 0;
}

static const char *
class_name(CK_OBJECT_CLASS cls)
{
	switch (cls) {
	case CKO_SECRET_KEY:
		return "AES key";
	case CKO_PRIVATE_KEY:
		return "private key";
	case CKO_PUBLIC_KEY:
		return "public key";
	default:
		return "object";
	}
}

/* Find the one object of class `cls` (and type `kt`) labelled `label`. */
static int
find_one(struct tr_p11 *p, CK_SESSION_HANDLE s, const char *label,
    CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, CK_OBJECT_HANDLE *out, CK_RV *rv)
{
	CK_OBJECT_HANDLE hs[2];
	CK_ULONG n = 0;
	int rc;

	*out = CK_INVALID_HANDLE;
	if ((rc = find(p, s, label, cls, kt, hs, 2, &n, rv)) < 0)
		return rc;
	if (n == 0)
		return tr_error_set(TRESOR_ENOTFOUND, "PKCS#11 token %s holds "
		    "no %s labelled %s", p->token, class_name(cls), label);
	if (n > 1)
		return tr_error_set(TRESOR_EINTERNAL, "PKCS#11 token %s holds "
		    "several %ss labelled %s", p->token, class_name(cls),
		    label);
	*out = hs[0];
	return 0;
}

/* Read a CK_ULONG attribute. */
static int
get_ulong(struct tr_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, CK_ULONG *out, CK_RV *rv)
{
	CK_ATTRIBUTE a = { type, out, sizeof(*out) };
	CK_RV r;

	r = p->f->C_GetAttributeValue(s, o, &a, 1);
	if (r != CKR_OK) {
		*rv = r;
		return p11_error(r, "C_GetAttributeValue");
	}
	return 0;
}

/* Read a public byte-string attribute into a new allocation (tr_free). */
static int
get_bytes(struct tr_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, unsigned char **out, size_t *outlen, CK_RV *rv)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	unsigned char *buf = NULL;
	CK_RV r;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	*outlen = 0;
	r = p->f->C_GetAttributeValue(s, o, &a, 1);
	if (r != CKR_OK) {
		*rv = r;
		rc = p11_error(r, "C_GetAttributeValue");
		goto out;
	}
	if (a.ulValueLen == 0 || a.ulValueLen > ATTR_MAX) {
		rc = tr_error_set(TRESOR_EINTERNAL, "PKCS#11 attribute 0x%lx "
		    "has an unexpected size", (unsigned long)type);
		goto out;
	}
	buf = tr_malloc(a.ulValueLen);
	if (buf == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	a.pValue = buf;
	r = p->f->C_GetAttributeValue(s, o, &a, 1);
	if (r != CKR_OK) {
		*rv = r;
		rc = p11_error(r, "C_GetAttributeValue");
		goto out;
	}
	*out = buf;
	*outlen = a.ulValueLen;
	buf = NULL;
	rc = 0;
out:
	tr_free(buf);
	return rc;
}

/* The curve of an EC key, from its CKA_EC_PARAMS. */
static int
key_curve(struct tr_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    const struct curve **out, CK_RV *rv)
{
	unsigned char *params = NULL;
	size_t len = 0, i;
	int rc;

	*out = NULL;
	if ((rc = get_bytes(p, s, o, CKA_EC_PARAMS, &params, &len, rv)) < 0)
		return rc;
	for (i = 0; i < NCURVES; i++) {
		if (curves[i].oidlen == len &&
		    memcmp(curves[i].oid, params, len) == 0)
			*out = &curves[i];
	}
	tr_free(params);
	if (*out == NULL)
		return tr_error_set(TRESOR_EINVAL, "the EC key is not on "
		    "P-256, P-384 or P-521");
	return 0;
}

static const struct curve *
curve_of(enum tr_curve id)
{
	size_t i;

	for (i = 0; i < NCURVES; i++) {
		if (curves[i].id == id)
			return &curves[i];
	}
	return NULL;
}

/*
 * The uncompressed point 04||X||Y of CKA_EC_POINT, which PKCS#11 wants
 * DER-encoded as an OCTET STRING but some tokens give raw.  Sets *pt to
 * point into `buf`.
 */
static int
ec_point(const unsigned char *buf, size_t len, size_t flen,
    const unsigned char **pt)
{
	size_t want = 2 * flen + 1, hdr;

	*pt = NULL;
	if (len == want && buf[0] == 0x04) {
		*pt = buf;
		return 0;
	}
	/* OCTET STRING, short or one-byte long form (want <= 133) */
	if (len >= 2 && buf[0] == 0x04 && buf[1] < 0x80)
		hdr = 2;
	else if (len >= 3 && buf[0] == 0x04 && buf[1] == 0x81)
		hdr = 3;
	else
		hdr = 0;
	if (hdr == 0 || len != hdr + want ||
	    (hdr == 2 ? buf[1] : buf[2]) != want || buf[hdr] != 0x04)
		return tr_error_set(TRESOR_EINTERNAL,
		    "the token's EC point is malformed");
	*pt = buf + hdr;
	return 0;
}

/* Write `pkey` as a PEM SubjectPublicKeyInfo into a new string. */
static int
pkey_pem(EVP_PKEY *pkey, char **out)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "public key encoding failed");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "public key encoding failed");
		goto out;
	}
	*out = tr_strndup(data, (size_t)len);
	if (*out == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

/* Export the public key object `o` as PEM (caller frees with tr_free). */
static int
export_pem(struct tr_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    char **out, CK_RV *rv)
{
	const struct curve *c = NULL;
	const unsigned char *pt;
	unsigned char *a1 = NULL, *a2 = NULL;
	size_t l1 = 0, l2 = 0;
	CK_ULONG kt = 0;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int rc = TRESOR_EINTERNAL, ok = 0;

	*out = NULL;
	if ((rc = get_ulong(p, s, o, CKA_KEY_TYPE, &kt, rv)) < 0)
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (kt == CKK_RSA) {
		if ((rc = get_bytes(p, s, o, CKA_MODULUS, &a1, &l1, rv)) < 0 ||
		    (rc = get_bytes(p, s, o, CKA_PUBLIC_EXPONENT, &a2, &l2,
		    rv)) < 0)
			goto out;
		n = BN_bin2bn(a1, (int)l1, NULL);
		e = BN_bin2bn(a2, (int)l2, NULL);
		ok = n != NULL && e != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else if (kt == CKK_EC) {
		if ((rc = key_curve(p, s, o, &c, rv)) < 0 ||
		    (rc = get_bytes(p, s, o, CKA_EC_POINT, &a1, &l1, rv)) < 0 ||
		    (rc = ec_point(a1, l1, c->flen, &pt)) < 0)
			goto out;
		ok = OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) &&
		    OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, 2 * c->flen + 1);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else {
		rc = tr_error_set(TRESOR_EINVAL, "the key is neither RSA nor "
		    "EC");
		goto out;
	}
	if (ok)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params == NULL || ctx == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = tr_error_set(TRESOR_EINTERNAL, "cannot read the token's "
		    "public key");
		goto out;
	}
	if ((rc = pkey_pem(pkey, out)) < 0)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	tr_free(a1);
	tr_free(a2);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}

/* ---------------------------------------------------------------- */
/* open / close                                                     */
/* ---------------------------------------------------------------- */

int
tr_p11_open(struct tr_p11 **out, const char *module_path, const char *token,
    const char *pin_file)
{
	struct tr_p11 *p = NULL;
	const char *msg;
	CK_RV rv;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (module_path == NULL || token == NULL || pin_file == NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "PKCS#11 needs a module, a "
		    "token and a PIN file");
		goto out;
	}
	p = tr_calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		rc = tr_error_set(TRESOR_ENOMEM, "cannot create a mutex");
		goto out;
	}
	if (pthread_cond_init(&p->cond, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		rc = tr_error_set(TRESOR_ENOMEM, "cannot create a condition");
		goto out;
	}
	p->sync_init = true;
	/* the PIN first: a bad PIN file should not wait for a module load */
	if ((rc = read_pin(&p->pin, pin_file)) < 0)
		goto out;
	p->f = p11_kit_module_load(module_path, 0);
	if (p->f == NULL) {
		msg = p11_kit_message();
		rc = tr_error_set(TRESOR_EIO, "cannot load PKCS#11 module %s%s"
		    "%s", module_path, msg != NULL ? ": " : "",
		    msg != NULL ? msg : "");
		goto out;
	}
	rv = p11_kit_module_initialize(p->f);
	if (rv != CKR_OK) {
		rc = tr_error_set(TRESOR_EIO, "cannot initialise PKCS#11 "
		    "module %s: %s", module_path, p11_kit_strerror(rv));
		goto out;
	}
	p->initialized = true;
	if ((rc = find_slot(p, token)) < 0 ||
	    (rc = login_locked(p)) < 0)
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	tr_p11_close(p);
	return rc;
}

void
tr_p11_close(struct tr_p11 *p)
{
	if (p == NULL)
		return;
	if (p->f != NULL) {
		if (p->sync_init)
			drop_sessions_locked(p);
		if (p->initialized)
			(void)p11_kit_module_finalize(p->f);
		p11_kit_module_release(p->f);
	}
	tr_secret_free(p->pin);
	if (p->sync_init) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
	}
	tr_free(p);
}

CK_FUNCTION_LIST *
tr_p11_module(struct tr_p11 *p)
{
	return p->f;
}

CK_SLOT_ID
tr_p11_slot(const struct tr_p11 *p)
{
	return p->slot;
}

/* ---------------------------------------------------------------- */
/* generate, exists, destroy, public key                            */
/* ---------------------------------------------------------------- */

struct gen_arg {
	const char *label;
	const struct tr_key_shape *shape;
	char *pem;			/* out */
};

#define ATTR(t, v, l) do {						\
	tpl[ntpl].type = (t);						\
	tpl[ntpl].pValue = (void *)(v);					\
	tpl[ntpl++].ulValueLen = (l);					\
} while (0)

static int
op_generate(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	static const unsigned char e65537[] = { 0x01, 0x00, 0x01 };
	struct gen_arg *g = arg;
	const struct curve *c = NULL;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS c_secret = CKO_SECRET_KEY, c_pub = CKO_PUBLIC_KEY;
	CK_OBJECT_CLASS c_priv = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt;
	CK_ULONG vlen = 0, bits = 0, ntpl = 0, npub;
	CK_ATTRIBUTE tpl[40];
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE hs[1], key = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	size_t llen = strlen(g->label);
	CK_RV r;
	int rc = TRESOR_EINTERNAL;

	if ((rc = find(p, s, g->label, (CK_OBJECT_CLASS)-1, (CK_KEY_TYPE)-1,
	    hs, 1, &n, rv)) < 0)
		goto out;
	if (n > 0) {
		rc = tr_error_set(TRESOR_EEXISTS, "PKCS#11 token %s already "
		    "holds a key labelled %s", p->token, g->label);
		goto out;
	}
	if (g->shape->alg == TR_KEY_AES) {
		kt = CKK_AES;
		vlen = g->shape->length;
		mech.mechanism = CKM_AES_KEY_GEN;
		ATTR(CKA_CLASS, &c_secret, sizeof(c_secret));
		ATTR(CKA_KEY_TYPE, &kt, sizeof(kt));
		ATTR(CKA_VALUE_LEN, &vlen, sizeof(vlen));
		ATTR(CKA_ENCRYPT, &yes, sizeof(yes));
		ATTR(CKA_DECRYPT, &yes, sizeof(yes));
		ATTR(CKA_SIGN, &no, sizeof(no));
		ATTR(CKA_VERIFY, &no, sizeof(no));
		ATTR(CKA_WRAP, &no, sizeof(no));
		ATTR(CKA_UNWRAP, &no, sizeof(no));
		ATTR(CKA_DERIVE, &no, sizeof(no));
		ATTR(CKA_TOKEN, &yes, sizeof(yes));
		ATTR(CKA_PRIVATE, &yes, sizeof(yes));
		ATTR(CKA_SENSITIVE, &yes, sizeof(yes));
		ATTR(CKA_EXTRACTABLE, &no, sizeof(no));
		ATTR(CKA_MODIFIABLE, &no, sizeof(no));
		ATTR(CKA_LABEL, g->label, llen);
		ATTR(CKA_ID, g->label, llen);
		r = p->f->C_GenerateKey(s, &mech, tpl, ntpl, &key);
		if (r != CKR_OK) {
			*rv = r;
			rc = p11_error(r, "C_GenerateKey");
			goto out;
		}
		rc = 0;
		goto out;
	}

	/* public key template first, then the private key's */
	if (g->shape->alg == TR_KEY_RSA) {
		kt = CKK_RSA;
		bits = g->shape->length * 8;
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
	} else {
		kt = CKK_EC;
		c = curve_of(g->shape->curve);
		if (c == NULL) {
			rc = tr_error_set(TRESOR_EINVAL, "unsupported curve");
			goto out;
		}
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
	}
	ATTR(CKA_CLASS, &c_pub, sizeof(c_pub));
	ATTR(CKA_KEY_TYPE, &kt, sizeof(kt));
	ATTR(CKA_TOKEN, &yes, sizeof(yes));
	ATTR(CKA_PRIVATE, &yes, sizeof(yes));
	ATTR(CKA_MODIFIABLE, &no, sizeof(no));
	ATTR(CKA_VERIFY, &yes, sizeof(yes));
	ATTR(CKA_WRAP, &no, sizeof(no));
	ATTR(CKA_DERIVE, &no, sizeof(no));
	ATTR(CKA_LABEL, g->label, llen);
	ATTR(CKA_ID, g->label, llen);
	if (kt == CKK_RSA) {
		ATTR(CKA_ENCRYPT, &yes, sizeof(yes));
		ATTR(CKA_MODULUS_BITS, &bits, sizeof(bits));
		ATTR(CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	} else {
		ATTR(CKA_EC_PARAMS, c->oid, c->oidlen);
	}
	npub = ntpl;
	ATTR(CKA_CLASS, &c_priv, sizeof(c_priv));
	ATTR(CKA_KEY_TYPE, &kt, sizeof(kt));
	ATTR(CKA_TOKEN, &yes, sizeof(yes));
	ATTR(CKA_PRIVATE, &yes, sizeof(yes));
	ATTR(CKA_SENSITIVE, &yes, sizeof(yes));
	ATTR(CKA_EXTRACTABLE, &no, sizeof(no));
	ATTR(CKA_MODIFIABLE, &no, sizeof(no));
	ATTR(CKA_SIGN, &yes, sizeof(yes));
	ATTR(CKA_UNWRAP, &no, sizeof(no));
	ATTR(CKA_DERIVE, &no, sizeof(no));
	ATTR(CKA_LABEL, g->label, llen);
	ATTR(CKA_ID, g->label, llen);
	if (kt == CKK_RSA)
		ATTR(CKA_DECRYPT, &yes, sizeof(yes));
	r = p->f->C_GenerateKeyPair(s, &mech, tpl, npub, tpl + npub,
	    ntpl - npub, &pub, &key);
	if (r != CKR_OK) {
		pub = key = CK_INVALID_HANDLE;
		*rv = r;
		rc = p11_error(r, "C_GenerateKeyPair");
		goto out;
	}
	if ((rc = export_pem(p, s, pub, &g->pem, rv)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && key != CK_INVALID_HANDLE)
		(void)p->f->C_DestroyObject(s, key);
	if (rc < 0 && pub != CK_INVALID_HANDLE)
		(void)p->f->C_DestroyObject(s, pub);
	return rc;
}

#undef ATTR

int
tr_p11_generate(struct tr_p11 *p, const char *label,
    const struct tr_key_shape *shape, char **public_pem_out)
{
	struct gen_arg g = { label, shape, NULL };
	int rc;

	*public_pem_out = NULL;
	if ((rc = check_label(label)) < 0)
		return rc;
	if (shape == NULL || !tr_key_shape_valid(shape))
		return tr_error_set(TRESOR_EINVAL, "unsupported key shape");
	/* no retry: a lost session after the key was made would see it */
	if ((rc = run(p, op_generate, &g, false)) < 0)
		return rc;
	*public_pem_out = g.pem;
	return 0;
}

struct exists_arg {
	const char *label;
	bool found;			/* out */
};

static int
op_exists(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	struct exists_arg *x = arg;
	CK_OBJECT_HANDLE hs[1];
	CK_ULONG n = 0;
	int rc;

	if ((rc = find(p, s, x->label, (CK_OBJECT_CLASS)-1, (CK_KEY_TYPE)-1,
	    hs, 1, &n, rv)) < 0)
		return rc;
	x->found = n > 0;
	return 0;
}

int
tr_p11_exists(struct tr_p11 *p, const char *label, bool *out)
{
	struct exists_arg x = { label, false };
	int rc;

	*out = false;
	if ((rc = check_label(label)) < 0 ||
	    (rc = run(p, op_exists, &x, true)) < 0)
		return rc;
	*out = x.found;
	return 0;
}

static int
op_destroy(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	const char *label = arg;
	CK_OBJECT_HANDLE hs[FIND_MAX];
	CK_ULONG n = 0, i, total = 0;
	CK_RV r;
	int rc;

	/* find a batch, destroy it, until no object is left */
	for (;;) {
		if ((rc = find(p, s, label, (CK_OBJECT_CLASS)-1,
		    (CK_KEY_TYPE)-1, hs, FIND_MAX, &n, rv)) < 0)
			return rc;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			r = p->f->C_DestroyObject(s, hs[i]);
			if (r != CKR_OK) {
				*rv = r;
				return p11_error(r, "C_DestroyObject");
			}
		}
		total += n;
	}
	if (total == 0)
		return tr_error_set(TRESOR_ENOTFOUND, "PKCS#11 token %s holds "
		    "no key labelled %s", p->token, label);
	return 0;
}

int
tr_p11_destroy(struct tr_p11 *p, const char *label)
{
	int rc;

	if ((rc = check_label(label)) < 0)
		return rc;
	return run(p, op_destroy, (void *)label, true);
}

struct pem_arg {
	const char *label;
	char *pem;			/* out */
};

static int
op_public_pem(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	struct pem_arg *x = arg;
	CK_OBJECT_HANDLE o;
	int rc;

	if ((rc = find_one(p, s, x->label, CKO_PUBLIC_KEY, (CK_KEY_TYPE)-1,
	    &o, rv)) < 0)
		return rc;
	return export_pem(p, s, o, &x->pem, rv);
}

int
tr_p11_public_pem(struct tr_p11 *p, const char *label, char **out)
{
	struct pem_arg x = { label, NULL };
	int rc;

	*out = NULL;
	if ((rc = check_label(label)) < 0 ||
	    (rc = run(p, op_public_pem, &x, true)) < 0)
		return rc;
	*out = x.pem;
	return 0;
}

/* ---------------------------------------------------------------- */
/* AES-GCM                                                          */
/* ---------------------------------------------------------------- */

struct aead_arg {
	const char *label;
	const void *aad;
	size_t aadlen;
	const unsigned char *in;
	size_t inlen;
	unsigned char *blob;		/* out of encrypt */
	struct tr_secret *pt;		/* out of decrypt */
};

static void
gcm_params(CK_GCM_PARAMS *gp, CK_MECHANISM *mech, const unsigned char *iv,
    const void *aad, size_t aadlen)
{
	memset(gp, 0, sizeof(*gp));
	gp->pIv = (CK_BYTE_PTR)iv;
	gp->ulIvLen = TR_AEAD_NONCE;
	gp->ulIvBits = TR_AEAD_NONCE * 8;
	gp->pAAD = (CK_BYTE_PTR)aad;
	gp->ulAADLen = aadlen;
	gp->ulTagBits = TR_AEAD_TAG * 8;
	mech->mechanism = CKM_AES_GCM;
	mech->pParameter = gp;
	mech->ulParameterLen = sizeof(*gp);
}

static int
op_encrypt(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	struct aead_arg *x = arg;
	CK_OBJECT_HANDLE key;
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech;
	CK_ULONG outlen;
	unsigned char *blob = NULL;
	CK_RV r;
	int rc = TRESOR_EINTERNAL;

	if ((rc = find_one(p, s, x->label, CKO_SECRET_KEY, CKK_AES, &key,
	    rv)) < 0)
		goto out;
	blob = tr_malloc(x->inlen + TR_AEAD_OVERHEAD);
	if (blob == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = tr_random_bytes(blob, TR_AEAD_NONCE)) < 0)
		goto out;
	gcm_params(&gp, &mech, blob, x->aad, x->aadlen);
	r = p->f->C_EncryptInit(s, &mech, key);
	if (r != CKR_OK) {
		*rv = r;
		rc = p11_error(r, "C_EncryptInit");
		goto out;
	}
	outlen = x->inlen + TR_AEAD_TAG;
	r = p->f->C_Encrypt(s, (CK_BYTE_PTR)x->in, x->inlen,
	    blob + TR_AEAD_NONCE, &outlen);
	if (r != CKR_OK) {
		*rv = r;
		rc = p11_error(r, "C_Encrypt");
		goto out;
	}
	if (outlen != x->inlen + TR_AEAD_TAG) {
		rc = tr_error_set(TRESOR_EINTERNAL, "PKCS#11 AES-GCM gave %lu "
		    "bytes, expected %zu", (unsigned long)outlen,
		    x->inlen + TR_AEAD_TAG);
		goto out;
	}
	x->blob = blob;
	blob = NULL;
	rc = 0;
out:
	tr_free(blob);
	return rc;
}

int
tr_p11_encrypt(struct tr_p11 *p, const char *label, const void *aad,
    size_t aadlen, const void *pt, size_t ptlen, unsigned char **out,
    size_t *outlen)
{
	struct aead_arg x = { label, aad, aadlen, pt, ptlen, NULL, NULL };
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = check_label(label)) < 0)
		return rc;
	if (ptlen > ULONG_MAX - TR_AEAD_OVERHEAD ||
	    ptlen > SIZE_MAX - TR_AEAD_OVERHEAD || aadlen > ULONG_MAX ||
	    (pt == NULL && ptlen > 0) || (aad == NULL && aadlen > 0))
		return tr_error_set(TRESOR_EINVAL, "bad AEAD parameters");
	if ((rc = run(p, op_encrypt, &x, true)) < 0)
		return rc;
	*out = x.blob;
	*outlen = ptlen + TR_AEAD_OVERHEAD;
	return 0;
}

static int
op_decrypt(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	struct aead_arg *x = arg;
	struct tr_secret *pt = NULL;
	CK_OBJECT_HANDLE key;
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech;
	CK_ULONG outlen;
	size_t ctlen = x->inlen - TR_AEAD_OVERHEAD;
	CK_RV r;
	int rc = TRESOR_EINTERNAL;

	if ((rc = find_one(p, s, x->label, CKO_SECRET_KEY, CKK_AES, &key,
	    rv)) < 0)
		goto out;
	/* room for the tag too: some tokens size the output by the input */
	if ((rc = tr_secret_new(&pt, ctlen + TR_AEAD_TAG)) < 0)
		goto out;
	gcm_params(&gp, &mech, x->in, x->aad, x->aadlen);
	r = p->f->C_DecryptInit(s, &mech, key);
	if (r != CKR_OK) {
		*rv = r;
		rc = p11_error(r, "C_DecryptInit");
		goto out;
	}
	outlen = pt->len;
	r = p->f->C_Decrypt(s, (CK_BYTE_PTR)x->in + TR_AEAD_NONCE,
	    x->inlen - TR_AEAD_NONCE, pt->ptr, &outlen);
	/*
	 * A wrong tag.  The standard answer is CKR_ENCRYPTED_DATA_INVALID;
	 * SoftHSM 2.6 says CKR_GENERAL_ERROR and others CKR_FUNCTION_FAILED.
	 * After a successful C_DecryptInit nothing else can fail that way,
	 * and the code is in the message in case a token means otherwise.
	 */
	if (r == CKR_ENCRYPTED_DATA_INVALID ||
	    r == CKR_ENCRYPTED_DATA_LEN_RANGE || r == CKR_GENERAL_ERROR ||
	    r == CKR_FUNCTION_FAILED) {
		rc = tr_error_set(TRESOR_EAUTH, "ciphertext failed "
		    "authentication (wrong key, damaged data or different "
		    "associated data; token result 0x%lx)", (unsigned long)r);
		goto out;
	}
	if (r != CKR_OK) {
		*rv = r;
		rc = p11_error(r, "C_Decrypt");
		goto out;
	}
	if (outlen != ctlen) {
		rc = tr_error_set(TRESOR_EINTERNAL, "PKCS#11 AES-GCM gave %lu "
		    "bytes, expected %zu", (unsigned long)outlen, ctlen);
		goto out;
	}
	tr_secret_truncate(pt, ctlen);
	x->pt = pt;
	pt = NULL;
	rc = 0;
out:
	tr_secret_free(pt);
	return rc;
}

int
tr_p11_decrypt(struct tr_p11 *p, const char *label, const void *aad,
    size_t aadlen, const unsigned char *blob, size_t bloblen,
    struct tr_secret **out)
{
	struct aead_arg x = { label, aad, aadlen, blob, bloblen, NULL, NULL };
	int rc;

	*out = NULL;
	if ((rc = check_label(label)) < 0)
		return rc;
	if (aadlen > ULONG_MAX || (aad == NULL && aadlen > 0))
		return tr_error_set(TRESOR_EINVAL, "bad AEAD parameters");
	if (blob == NULL || bloblen < TR_AEAD_OVERHEAD ||
	    bloblen > ULONG_MAX)
		return tr_error_set(TRESOR_EAUTH,
		    "ciphertext is truncated or damaged");
	if ((rc = run(p, op_decrypt, &x, true)) < 0)
		return rc;
	*out = x.pt;
	return 0;
}

/* ---------------------------------------------------------------- */
/* sign / verify                                                    */
/* ---------------------------------------------------------------- */

struct sig_arg {
	const char *label;
	const struct tr_sign_alg *a;
	const struct p11_hash *h;
	unsigned char dgst[TR_SIGN_HASH_MAX];
	const unsigned char *sig;	/* in, verify */
	size_t siglen;
	unsigned char *out;		/* out, sign */
	size_t outlen;
	bool valid;			/* out, verify */
};

/*
 * Find the key of class `cls` for `x`, check that the algorithm fits it
 * and set up the mechanism and the data the token signs or verifies:
 * DigestInfo || digest for PKCS#1 v1.5, the digest for PSS and ECDSA.
 */
static int
sig_prepare(struct tr_p11 *p, CK_SESSION_HANDLE s, struct sig_arg *x,
    CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *key, const struct curve **c,
    CK_MECHANISM *mech, CK_RSA_PKCS_PSS_PARAMS *pss,
    unsigned char data[DIGESTINFO_MAX + TR_SIGN_HASH_MAX], size_t *dlen,
    CK_RV *rv)
{
	CK_ULONG kt = 0;
	bool ec = x->a->scheme == TR_SIGN_ECDSA;
	int rc;

	*c = NULL;
	if ((rc = find_one(p, s, x->label, cls, (CK_KEY_TYPE)-1, key,
	    rv)) < 0 ||
	    (rc = get_ulong(p, s, *key, CKA_KEY_TYPE, &kt, rv)) < 0)
		return rc;
	if ((kt != CKK_RSA && kt != CKK_EC) || (kt == CKK_EC) != ec)
		return tr_error_set(TRESOR_EINVAL, "signing algorithm %s "
		    "cannot be used with %s %s", x->a->name,
		    kt == CKK_RSA ? "an RSA" : kt == CKK_EC ? "an ECDSA" :
		    "this", "key");
	if (ec && (rc = key_curve(p, s, *key, c, rv)) < 0)
		return rc;
	memset(mech, 0, sizeof(*mech));
	switch (x->a->scheme) {
	case TR_SIGN_RSA_PKCS1:
		mech->mechanism = CKM_RSA_PKCS;
		memcpy(data, x->h->prefix, DIGESTINFO_MAX);
		memcpy(data + DIGESTINFO_MAX, x->dgst, x->h->len);
		*dlen = DIGESTINFO_MAX + x->h->len;
		break;
	case TR_SIGN_RSA_PSS:
		pss->hashAlg = x->h->mech;
		pss->mgf = x->h->mgf;
		pss->sLen = x->h->len;
		mech->mechanism = CKM_RSA_PKCS_PSS;
		mech->pParameter = pss;
		mech->ulParameterLen = sizeof(*pss);
		memcpy(data, x->dgst, x->h->len);
		*dlen = x->h->len;
		break;
	case TR_SIGN_ECDSA:
		mech->mechanism = CKM_ECDSA;
		memcpy(data, x->dgst, x->h->len);
		*dlen = x->h->len;
		break;
	}
	return 0;
}

/* DER ECDSA-Sig-Value from r||s, into a new allocation. */
static int
ecdsa_to_der(const unsigned char *rs, size_t len, unsigned char **out,
    size_t *outlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL, *p;
	int n, rc = TRESOR_EINTERNAL;

	*out = NULL;
	*outlen = 0;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(rs, (int)(len / 2), NULL);
	s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
	if (es == NULL || r == NULL || s == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	r = s = NULL;		/* owned by es now */
	n = i2d_ECDSA_SIG(es, NULL);
	if (n <= 0) {
		rc = tr_error_set(TRESOR_EINTERNAL, "ECDSA encoding failed");
		goto out;
	}
	der = tr_malloc((size_t)n);
	if (der == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	p = der;
	if (i2d_ECDSA_SIG(es, &p) != n) {
		rc = tr_error_set(TRESOR_EINTERNAL, "ECDSA encoding failed");
		goto out;
	}
	*out = der;
	*outlen = (size_t)n;
	der = NULL;
	rc = 0;
out:
	tr_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

/*
 * r||s of `flen` bytes each from a DER ECDSA-Sig-Value; false when the
 * signature is malformed (trailing bytes, r or s too long).
 */
static bool
ecdsa_from_der(const unsigned char *der, size_t len, size_t flen,
    unsigned char *rs)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	bool ok = false;

	if (len > LONG_MAX)
		return false;
	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (es == NULL || p != der + len)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_is_negative(r) || BN_is_negative(s) ||
	    BN_bn2binpad(r, rs, (int)flen) < 0 ||
	    BN_bn2binpad(s, rs + flen, (int)flen) < 0)
		goto out;
	ok = true;
out:
	ECDSA_SIG_free(es);
	ERR_clear_error();
	return ok;
}

static int
op_sign(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	struct sig_arg *x = arg;
	const struct curve *c = NULL;
	unsigned char data[DIGESTINFO_MAX + TR_SIGN_HASH_MAX];
	unsigned char sig[SIG_MAX];
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM mech;
	CK_ULONG slen = sizeof(sig);
	size_t dlen = 0;
	CK_RV r;
	int rc;

	if ((rc = sig_prepare(p, s, x, CKO_PRIVATE_KEY, &key, &c, &mech,
	    &pss, data, &dlen, rv)) < 0)
		return rc;
	r = p->f->C_SignInit(s, &mech, key);
	if (r != CKR_OK) {
		*rv = r;
		return p11_error(r, "C_SignInit");
	}
	r = p->f->C_Sign(s, data, dlen, sig, &slen);
	if (r != CKR_OK) {
		*rv = r;
		return p11_error(r, "C_Sign");
	}
	if (c != NULL) {
		if (slen != 2 * c->flen)
			return tr_error_set(TRESOR_EINTERNAL, "the token's "
			    "ECDSA signature has %lu bytes, expected %zu",
			    (unsigned long)slen, 2 * c->flen);
		return ecdsa_to_der(sig, slen, &x->out, &x->outlen);
	}
	x->out = tr_malloc(slen);
	if (x->out == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	memcpy(x->out, sig, slen);
	x->outlen = slen;
	return 0;
}

static int
op_verify(struct tr_p11 *p, CK_SESSION_HANDLE s, void *arg, CK_RV *rv)
{
	struct sig_arg *x = arg;
	const struct curve *c = NULL;
	unsigned char data[DIGESTINFO_MAX + TR_SIGN_HASH_MAX];
	unsigned char rs[2 * 66];
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM mech;
	const unsigned char *sig = x->sig;
	size_t dlen = 0, siglen = x->siglen;
	CK_RV r;
	int rc;

	x->valid = false;
	if ((rc = sig_prepare(p, s, x, CKO_PUBLIC_KEY, &key, &c, &mech,
	    &pss, data, &dlen, rv)) < 0)
		return rc;
	if (c != NULL) {
		if (!ecdsa_from_der(x->sig, x->siglen, c->flen, rs))
			return 0;
		sig = rs;
		siglen = 2 * c->flen;
	}
	if (siglen == 0 || siglen > SIG_MAX)
		return 0;
	r = p->f->C_VerifyInit(s, &mech, key);
	if (r != CKR_OK) {
		*rv = r;
		return p11_error(r, "C_VerifyInit");
	}
	r = p->f->C_Verify(s, data, dlen, (CK_BYTE_PTR)sig, siglen);
	if (r == CKR_SIGNATURE_INVALID || r == CKR_SIGNATURE_LEN_RANGE)
		return 0;
	if (r != CKR_OK) {
		*rv = r;
		return p11_error(r, "C_Verify");
	}
	x->valid = true;
	return 0;
}

/* Common argument checks and digest of tr_p11_sign/verify. */
static int
sig_setup(struct sig_arg *x, const char *label, const char *alg,
    const void *msg, size_t len, bool is_digest)
{
	size_t i;
	int rc;

	memset(x, 0, sizeof(*x));
	x->label = label;
	if ((rc = check_label(label)) < 0 ||
	    (rc = tr_sign_alg_lookup(&x->a, alg)) < 0 ||
	    (rc = tr_sign_digest(x->a, msg, len, is_digest, x->dgst)) < 0)
		return rc;
	for (i = 0; i < NHASHES; i++) {
		if (hashes[i].len == x->a->hash_len)
			x->h = &hashes[i];
	}
	if (x->h == NULL)
		return tr_error_set(TRESOR_EINTERNAL, "no PKCS#11 hash");
	return 0;
}

int
tr_p11_sign(struct tr_p11 *p, const char *label, const char *alg,
    const void *msg, size_t len, bool is_digest, unsigned char **sig_out,
    size_t *siglen_out)
{
	struct sig_arg x;
	int rc;

	*sig_out = NULL;
	*siglen_out = 0;
	if ((rc = sig_setup(&x, label, alg, msg, len, is_digest)) < 0 ||
	    (rc = run(p, op_sign, &x, true)) < 0)
		return rc;
	*sig_out = x.out;
	*siglen_out = x.outlen;
	return 0;
}

int
tr_p11_verify(struct tr_p11 *p, const char *label, const char *alg,
    const void *msg, size_t len, bool is_digest, const unsigned char *sig,
    size_t siglen, bool *valid_out)
{
	struct sig_arg x;
	int rc;

	*valid_out = false;
	if ((rc = sig_setup(&x, label, alg, msg, len, is_digest)) < 0)
		return rc;
	x.sig = sig;
	x.siglen = sig != NULL ? siglen : 0;
	if ((rc = run(p, op_verify, &x, true)) < 0)
		return rc;
	*valid_out = x.valid;
	return 0;
}
