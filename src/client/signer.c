/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request signing as the OCI SDKs do it (include/tresor/signer.h,
 * ../shared/spec/oci-wire.md section 1), private key files and session
 * tokens.
 *
 * keyId is "<tenancy>/<user>/<fingerprint>" for an API key and
 * "ST$<token>" for a session token (resource principal 2.2, security
 * token file).  A token given as a file path is re-read, with its key
 * when that is a path too, whenever its "exp" has passed (every request
 * when it has none), which is how the SDKs let a token be rotated by
 * rewriting the file.
 *
 * Key files are refused when group or others may access them or another
 * user owns them (STYLE S6).  Key bytes, pass phrases and tokens live in
 * tr_secret and are zeroed; no message ever carries them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"

struct tresor_signer {
	pthread_mutex_t lock;
	char *key_id;			/* API key: the whole keyId */
	struct tr_secret *token;	/* session: the token (keyId ST$..) */
	EVP_PKEY *key;
	/* re-read on expiry, when given as paths */
	char *token_path;
	char *pem_path;
	struct tr_secret *passphrase;
	int64_t token_exp;		/* seconds; 0: none */
	bool session;
};

/* ------------------------------------------------------------------ */
/* files                                                              */
/* ------------------------------------------------------------------ */

/* Read an open file of at most `max` bytes into a secret. */
static int
read_fd_secret(struct tr_secret **out, int fd, size_t size, size_t max,
    const char *what, const char *path)
{
	struct tr_secret *s = NULL;
	size_t len = 0;
	ssize_t n;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (size > max) {
		rc = tr_error_set(TRESOR_ETOOBIG,
		    "%s %s is larger than %zu bytes", what, path, max);
		goto out;
	}
	if ((rc = tr_secret_new(&s, size + 1)) < 0)
		goto out;
	for (;;) {
		n = read(fd, s->ptr + len, size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot read %s %s: %s",
			    what, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > size) {
			rc = tr_error_set(TRESOR_EIO,
			    "%s %s changed while it was read", what, path);
			goto out;
		}
	}
	tr_secret_truncate(s, len);
	*out = s;
	s = NULL;
	rc = 0;
out:
	tr_secret_free(s);
	return rc;
}

static int
open_cred(int *fd_out, struct stat *st, const char *path, const char *what,
    bool check_mode)
{
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return tr_error_set(TRESOR_ENOTFOUND,
			    "%s %s does not exist", what, path);
		return tr_error_set(errno == EACCES ? TRESOR_EPERM :
		    TRESOR_EIO, "cannot open %s %s: %s", what, path,
		    strerror(errno));
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return tr_error_set(TRESOR_EINVAL,
		    "%s %s is not a regular file", what, path);
	}
	if (check_mode && (st->st_mode & 0077) != 0) {
		close(fd);
		return tr_error_set(TRESOR_EPERM,
		    "%s %s is %s by group or others (mode %04o): refusing to "
		    "use it; fix with: chmod 600 %s", what, path,
		    (st->st_mode & 0044) != 0 ? "readable" : "accessible",
		    (unsigned int)(st->st_mode & 07777), path);
	}
	if (check_mode && st->st_uid != geteuid() && st->st_uid != 0) {
		close(fd);
		return tr_error_set(TRESOR_EPERM,
		    "%s %s is owned by uid %u, not by the user running tresor "
		    "(uid %u): refusing to use it", what, path,
		    (unsigned int)st->st_uid, (unsigned int)geteuid());
	}
	*fd_out = fd;
	return 0;
}

int
tr_key_file_read(struct tr_secret **out, const char *path, const char *what)
{
	struct stat st;
	int fd, rc;

	*out = NULL;
	if ((rc = open_cred(&fd, &st, path, what, true)) < 0)
		return rc;
	rc = read_fd_secret(out, fd, (size_t)st.st_size, TR_KEY_FILE_MAX,
	    what, path);
	close(fd);
	return rc;
}

int
tr_cred_file_read(struct tr_secret **out, const char *path,
    const char *what, bool check_mode)
{
	struct stat st;
	size_t len;
	int fd, rc;

	*out = NULL;
	if ((rc = open_cred(&fd, &st, path, what, check_mode)) < 0)
		return rc;
	rc = read_fd_secret(out, fd, (size_t)st.st_size, TR_TOKEN_MAX, what,
	    path);
	close(fd);
	if (rc < 0)
		return rc;
	len = (*out)->len;
	while (len > 0 && ((*out)->ptr[len - 1] == '\n' ||
	    (*out)->ptr[len - 1] == '\r' || (*out)->ptr[len - 1] == ' ' ||
	    (*out)->ptr[len - 1] == '\t'))
		len--;
	tr_secret_truncate(*out, len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* keys and tokens                                                    */
/* ------------------------------------------------------------------ */

struct pass_arg {
	const struct tr_secret *pass;
	bool asked;
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_arg *a = u;

	(void)rwflag;
	a->asked = true;
	if (a->pass == NULL || size <= 0 || a->pass->len >= (size_t)size)
		return -1;
	memcpy(buf, a->pass->ptr, a->pass->len);
	return (int)a->pass->len;
}

/* Parse an RSA private key from PEM held in a secret. */
static int
parse_key(EVP_PKEY **out, const unsigned char *pem, size_t len,
    const struct tr_secret *pass, const char *what)
{
	struct pass_arg arg = { pass, false };
	EVP_PKEY *k = NULL;
	BIO *bio;

	*out = NULL;
	if (len > TR_KEY_FILE_MAX)
		return tr_error_set(TRESOR_ETOOBIG, "%s is too large", what);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	k = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &arg);
	BIO_free(bio);
	ERR_clear_error();
	if (k == NULL) {
		if (arg.asked && pass == NULL)
			return tr_error_set(TRESOR_EINVAL,
			    "%s is encrypted: set pass_phrase in the profile",
			    what);
		if (arg.asked)
			return tr_error_set(TRESOR_EINVAL,
			    "%s: wrong pass phrase, or not a private key",
			    what);
		return tr_error_set(TRESOR_EINVAL,
		    "%s is not a PEM private key (expected -----BEGIN "
		    "PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)",
		    what);
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		return tr_error_set(TRESOR_EINVAL,
		    "%s is not an RSA key: OCI request signing uses RSA", what);
	}
	*out = k;
	return 0;
}

int
tr_jwt_exp(int64_t *out, const char *token, size_t len)
{
	const char *d1, *d2;
	unsigned char *payload = NULL;
	size_t plen, blen, i;
	json_t *claims = NULL, *exp;
	json_error_t jerr;
	int rc = TRESOR_EINTERNAL;

	*out = 0;
	for (i = 0; i < len; i++) {
		char ch = token[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '='))
			return tr_error_set(TRESOR_EINVAL,
			    "the session token is not a JWT (unexpected "
			    "character at offset %zu)", i);
	}
	d1 = memchr(token, '.', len);
	d2 = d1 == NULL ? NULL : memchr(d1 + 1, '.',
	    len - (size_t)(d1 + 1 - token));
	if (d1 == NULL || d2 == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "the session token is not a JWT "
		    "(header.payload.signature)");
	blen = (size_t)(d2 - d1 - 1);
	while (blen > 0 && d1[blen] == '=')
		blen--;
	payload = tr_malloc(blen + 1);
	if (payload == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (tr_base64url_decode(payload, blen + 1, &plen, d1 + 1, blen) < 0) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "the session token's payload is not base64url");
		goto out;
	}
	claims = json_loadb((const char *)payload, plen,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(claims)) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "the session token's payload is not a JSON object");
		goto out;
	}
	exp = json_object_get(claims, "exp");
	if (json_is_integer(exp))
		*out = (int64_t)json_integer_value(exp);
	else if (json_is_real(exp))
		*out = (int64_t)json_real_value(exp);
	rc = 0;
out:
	json_decref(claims);
	tr_freezero(payload, blen + 1);
	return rc;
}

/*
 * Refresh a session signer's token (and key) from their files when the
 * token has expired or carries no expiry.  Called with the lock held.
 */
static int
refresh_locked(tresor_signer *s, int64_t now_sec)
{
	struct tr_secret *tok = NULL, *pem = NULL;
	EVP_PKEY *key = NULL;
	int64_t exp = 0;
	int rc = TRESOR_EINTERNAL;

	if (s->token_path == NULL)
		return 0;
	if (s->token != NULL && s->token_exp != 0 && now_sec < s->token_exp)
		return 0;
	if ((rc = tr_cred_file_read(&tok, s->token_path, "session token file",
	    false)) < 0)
		goto out;
	if ((rc = tr_jwt_exp(&exp, (const char *)tok->ptr, tok->len)) < 0)
		goto out;
	if (s->pem_path != NULL) {
		if ((rc = tr_key_file_read(&pem, s->pem_path,
		    "session key file")) < 0 ||
		    (rc = parse_key(&key, pem->ptr, pem->len, s->passphrase,
		    "session key file")) < 0)
			goto out;
		EVP_PKEY_free(s->key);
		s->key = key;
		key = NULL;
	}
	tr_secret_free(s->token);
	s->token = tok;
	tok = NULL;
	s->token_exp = exp;
	rc = 0;
out:
	tr_secret_free(tok);
	tr_secret_free(pem);
	EVP_PKEY_free(key);
	return rc;
}

static int
signer_alloc(tresor_signer **out)
{
	tresor_signer *s;

	*out = NULL;
	s = tr_calloc(1, sizeof(*s));
	if (s == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		tr_free(s);
		return tr_error_set(TRESOR_EINTERNAL, "mutex init failed");
	}
	*out = s;
	return 0;
}

void
tresor_signer_free(tresor_signer *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	tr_free(s->key_id);
	tr_secret_free(s->token);
	EVP_PKEY_free(s->key);
	tr_free(s->token_path);
	tr_free(s->pem_path);
	tr_secret_free(s->passphrase);
	tr_free(s);
}

int
tresor_signer_new_from_pem(tresor_signer **out, const char *key_id,
    const char *pem, size_t pem_len, const char *passphrase)
{
	tresor_signer *s = NULL;
	struct tr_secret *pass = NULL;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	if (key_id == NULL || pem == NULL || key_id[0] == '\0') {
		rc = tr_error_set(TRESOR_EINVAL, "key id and PEM are required");
		goto out;
	}
	if ((rc = signer_alloc(&s)) < 0)
		goto out;
	if (passphrase != NULL && (rc = tr_secret_from(&pass, passphrase,
	    strlen(passphrase))) < 0)
		goto out;
	if ((rc = parse_key(&s->key, (const unsigned char *)pem, pem_len,
	    pass, "private key")) < 0)
		goto out;
	if (strncmp(key_id, "ST$", 3) == 0) {
		s->session = true;
		if ((rc = tr_secret_from(&s->token, key_id + 3,
		    strlen(key_id + 3))) < 0)
			goto out;
	} else {
		s->key_id = tr_strdup(key_id);
		if (s->key_id == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	tr_secret_free(pass);
	tresor_signer_free(s);
	return rc;
}

static int
signer_api_key(tresor_signer *s, const tresor_config *c)
{
	struct tr_secret *pem = NULL;
	size_t n;
	int rc;

	if ((rc = tr_key_file_read(&pem, c->key_file, "key file")) < 0)
		return rc;
	rc = parse_key(&s->key, pem->ptr, pem->len, c->pass_phrase,
	    "key file");
	tr_secret_free(pem);
	if (rc < 0)
		return rc;
	n = strlen(c->tenancy) + strlen(c->user) + strlen(c->fingerprint) + 3;
	s->key_id = tr_malloc(n);
	if (s->key_id == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	(void)snprintf(s->key_id, n, "%s/%s/%s", c->tenancy, c->user,
	    c->fingerprint);
	return 0;
}

static int
signer_security_token(tresor_signer *s, const tresor_config *c)
{
	struct tr_secret *pem = NULL;
	int64_t exp;
	int rc;

	s->session = true;
	if ((rc = tr_key_file_read(&pem, c->key_file, "key file")) < 0)
		return rc;
	rc = parse_key(&s->key, pem->ptr, pem->len, c->pass_phrase,
	    "key file");
	tr_secret_free(pem);
	if (rc < 0)
		return rc;
	s->token_path = tr_strdup(c->security_token_file);
	if (s->token_path == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if ((rc = refresh_locked(s, tr_now_ms() / 1000)) < 0)
		return rc;
	exp = s->token_exp;
	if (exp != 0 && exp <= tr_now_ms() / 1000)
		return tr_error_set(TRESOR_EAUTH,
		    "the session token in %s expired %lld seconds ago: "
		    "refresh it", c->security_token_file,
		    (long long)(tr_now_ms() / 1000 - exp));
	return 0;
}

static int
signer_rp(tresor_signer *s, const tresor_config *c)
{
	struct tr_secret *pem = NULL, *pass = NULL;
	int64_t exp;
	int rc = TRESOR_EINTERNAL;

	s->session = true;
	if (c->rp_passphrase_path != NULL) {
		if ((rc = tr_cred_file_read(&pass, c->rp_passphrase_path,
		    "pass phrase file", true)) < 0)
			goto out;
	} else if (c->rp_passphrase != NULL) {
		if ((rc = tr_secret_from(&pass, c->rp_passphrase->ptr,
		    c->rp_passphrase->len)) < 0)
			goto out;
	}
	if (c->rp_pem_path != NULL) {
		s->pem_path = tr_strdup(c->rp_pem_path);
		if (s->pem_path == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = tr_key_file_read(&pem, c->rp_pem_path,
		    "session key file")) < 0)
			goto out;
		rc = parse_key(&s->key, pem->ptr, pem->len, pass,
		    "session key file");
	} else {
		rc = parse_key(&s->key, c->rp_pem->ptr, c->rp_pem->len, pass,
		    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM");
	}
	if (rc < 0)
		goto out;
	s->passphrase = pass;
	pass = NULL;
	if (c->rp_token_path != NULL) {
		s->token_path = tr_strdup(c->rp_token_path);
		if (s->token_path == NULL) {
			rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
			goto out;
		}
		/* the key was just read; the first refresh reads the token */
		tr_free(s->pem_path);
		s->pem_path = NULL;
		if ((rc = refresh_locked(s, tr_now_ms() / 1000)) < 0)
			goto out;
		if (c->rp_pem_path != NULL) {
			s->pem_path = tr_strdup(c->rp_pem_path);
			if (s->pem_path == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
		}
	} else {
		if ((rc = tr_jwt_exp(&exp, (const char *)c->rp_token->ptr,
		    c->rp_token->len)) < 0 ||
		    (rc = tr_secret_from(&s->token, c->rp_token->ptr,
		    c->rp_token->len)) < 0)
			goto out;
	}
	rc = 0;
out:
	tr_secret_free(pem);
	tr_secret_free(pass);
	return rc;
}

int
tresor_signer_new(tresor_signer **out, const tresor_config *c)
{
	tresor_signer *s = NULL;
	int rc;

	*out = NULL;
	if (c == NULL)
		return tr_error_set(TRESOR_EINVAL, "no configuration");
	if ((rc = signer_alloc(&s)) < 0)
		return rc;
	switch (c->auth) {
	case TRESOR_AUTH_RESOURCE_PRINCIPAL:
		rc = signer_rp(s, c);
		break;
	case TRESOR_AUTH_SECURITY_TOKEN:
		rc = signer_security_token(s, c);
		break;
	default:
		rc = signer_api_key(s, c);
		break;
	}
	if (rc < 0) {
		tresor_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
tresor_signer_fingerprint(tresor_signer *s, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *der = NULL, md5[16];
	int dlen, i, rc = TRESOR_EINTERNAL;

	out[0] = '\0';
	if (pthread_mutex_lock(&s->lock) != 0)
		return tr_error_set(TRESOR_EINTERNAL, "mutex lock failed");
	dlen = i2d_PUBKEY(s->key, &der);
	pthread_mutex_unlock(&s->lock);
	if (dlen <= 0 || EVP_Digest(der, (size_t)dlen, md5, NULL, EVP_md5(),
	    NULL) != 1) {
		ERR_clear_error();
		rc = tr_error_set(TRESOR_EINTERNAL,
		    "cannot compute the key's fingerprint");
		goto out;
	}
	for (i = 0; i < 16; i++) {
		out[i * 3] = hex[md5[i] >> 4];
		out[i * 3 + 1] = hex[md5[i] & 15];
		out[i * 3 + 2] = i == 15 ? '\0' : ':';
	}
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

/* ------------------------------------------------------------------ */
/* signing                                                            */
/* ------------------------------------------------------------------ */

const char *
tr_sign_header_list(bool with_body)
{
	return with_body ?
	    "x-date (request-target) host Content-Type Content-Length "
	    "x-content-sha256" : "x-date (request-target) host";
}

int
tr_sign_string(struct tr_buf *out, const char *method_lower,
    const char *target, const char *host, const char *x_date,
    bool with_body, const char *content_length, const char *sha256)
{
	tr_buf_addf(out, "x-date: %s\n(request-target): %s %s\nhost: %s",
	    x_date, method_lower, target, host);
	if (with_body)
		tr_buf_addf(out, "\ncontent-type: application/json\n"
		    "content-length: %s\nx-content-sha256: %s",
		    content_length, sha256);
	return tr_buf_error(out);
}

static bool
has_body(const char *m)
{
	return strcasecmp(m, "POST") == 0 || strcasecmp(m, "PUT") == 0 ||
	    strcasecmp(m, "PATCH") == 0;
}

int
tresor_sign_at(tresor_signed_headers *out, tresor_signer *s,
    const char *method, const char *host, const char *target,
    const void *body, size_t body_len, int64_t unix_seconds)
{
	unsigned char digest[32], sig[1024];
	char m[16], sig_b64[1400];
	struct tr_buf ss, auth;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *key = NULL;
	size_t i, siglen = sizeof(sig);
	bool body_method;
	int rc = TRESOR_EINTERNAL;

	memset(out, 0, sizeof(*out));
	out->content_type = "application/json";
	tr_buf_init(&ss, 64 * 1024);
	tr_buf_init(&auth, 256 * 1024);
	if (s == NULL || method == NULL || host == NULL || target == NULL ||
	    (body == NULL && body_len != 0) || strlen(method) >= sizeof(m) ||
	    target[0] != '/') {
		rc = tr_error_set(TRESOR_EINVAL,
		    "tresor_sign: method, host and a target starting with / "
		    "are required");
		goto out;
	}
	for (i = 0; method[i] != '\0'; i++)
		m[i] = (char)(method[i] >= 'A' && method[i] <= 'Z' ?
		    method[i] + 32 : method[i]);
	m[i] = '\0';
	body_method = has_body(method);
	tr_time_http(out->x_date, unix_seconds);
	if (body_method) {
		if (EVP_Digest(body == NULL ? "" : body, body_len, digest,
		    NULL, EVP_sha256(), NULL) != 1 ||
		    (rc = tr_base64_encode(out->x_content_sha256,
		    sizeof(out->x_content_sha256), digest, 32)) < 0) {
			rc = tr_error_set(TRESOR_EINTERNAL, "SHA-256 failed");
			goto out;
		}
		(void)snprintf(out->content_length,
		    sizeof(out->content_length), "%zu", body_len);
	}
	if ((rc = tr_sign_string(&ss, m, target, host, out->x_date,
	    body_method, out->content_length, out->x_content_sha256)) < 0)
		goto out;

	/* take the key and key id under the lock (a refresh swaps them) */
	if (pthread_mutex_lock(&s->lock) != 0) {
		rc = tr_error_set(TRESOR_EINTERNAL, "mutex lock failed");
		goto out;
	}
	rc = refresh_locked(s, unix_seconds);
	if (rc == 0) {
		key = s->key;
		if (EVP_PKEY_up_ref(key) != 1)
			key = NULL;
		/* one allocation: the token must not be copied by growth */
		tr_buf_reserve(&auth, (s->session ? s->token->len :
		    strlen(s->key_id)) + 2048);
		tr_buf_addstr(&auth, "Signature version=\"1\",keyId=\"");
		if (s->session) {
			tr_buf_addstr(&auth, "ST$");
			tr_buf_add(&auth, s->token->ptr, s->token->len);
		} else {
			tr_buf_addstr(&auth, s->key_id);
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		goto out;
	if (key == NULL) {
		rc = tr_error_set(TRESOR_EINTERNAL, "no signing key");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)ss.ptr,
	    ss.len) != 1 || siglen > sizeof(sig) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)ss.ptr,
	    ss.len) != 1) {
		ERR_clear_error();
		rc = tr_error_set(TRESOR_EINTERNAL, "RSA signing failed");
		goto out;
	}
	if ((rc = tr_base64_encode(sig_b64, sizeof(sig_b64), sig,
	    siglen)) < 0)
		goto out;
	tr_buf_addf(&auth, "\",algorithm=\"rsa-sha256\",headers=\"%s\","
	    "signature=\"%s\"", tr_sign_header_list(body_method), sig_b64);
	if ((rc = tr_buf_error(&auth)) < 0)
		goto out;
	out->authorization = tr_buf_detach(&auth);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	tr_buf_dispose(&ss);
	if (auth.ptr != NULL)
		tr_secure_zero(auth.ptr, auth.cap);
	tr_buf_dispose(&auth);
	return rc;
}

int
tresor_sign(tresor_signed_headers *out, tresor_signer *s,
    const char *method, const char *host, const char *target,
    const void *body, size_t body_len)
{
	return tresor_sign_at(out, s, method, host, target, body, body_len,
	    tr_now_ms() / 1000);
}

void
tresor_signed_headers_dispose(tresor_signed_headers *h)
{
	if (h == NULL)
		return;
	if (h->authorization != NULL)
		tr_freezero(h->authorization, strlen(h->authorization));
	h->authorization = NULL;
}
