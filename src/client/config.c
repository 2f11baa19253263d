/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: OCI config files (~/.oci/config), environment
 * overrides and the resource-principal 2.2 environment (see
 * include/tresor/config.h).
 *
 * The file parser follows what the OCI SDKs get from Python's
 * configparser (interpolation off): sections in brackets, "key = value"
 * or "key: value", comment lines starting with # or ;, keys compared
 * case-insensitively, the DEFAULT section inherited by every profile, a
 * repeated section or key refused.  It reads untrusted bytes: the file
 * size, line length, entry and section counts are bounded, NUL bytes are
 * refused, and every message names the file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/error.h"

/* ------------------------------------------------------------------ */
/* the INI parser                                                     */
/* ------------------------------------------------------------------ */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim [*s, *e) of surrounding whitespace. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

void
tr_ini_dispose(struct tr_ini *ini)
{
	size_t i;

	if (ini == NULL)
		return;
	for (i = 0; i < ini->n; i++) {
		tr_free(ini->e[i].key);
		if (ini->e[i].value != NULL)
			tr_freezero(ini->e[i].value, strlen(ini->e[i].value));
	}
	for (i = 0; i < ini->nsections; i++)
		tr_free(ini->sections[i]);
	tr_free(ini->e);
	tr_free(ini->sections);
	memset(ini, 0, sizeof(*ini));
}

bool
tr_ini_has_section(const struct tr_ini *ini, const char *section)
{
	size_t i;

	for (i = 0; i < ini->nsections; i++)
		if (strcmp(ini->sections[i], section) == 0)
			return true;
	return false;
}

static const char *
lookup(const struct tr_ini *ini, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].section, section) == 0 &&
		    strcmp(ini->e[i].key, key) == 0)
			return ini->e[i].value;
	return NULL;
}

const char *
tr_ini_get(const struct tr_ini *ini, const char *section, const char *key)
{
	const char *v = NULL;

	if (section != NULL)
		v = lookup(ini, section, key);
	if (v == NULL)
		v = lookup(ini, "DEFAULT", key);
	return v;
}

static int
add_section(struct tr_ini *ini, const char *s, size_t len, const char *name,
    unsigned int line, char **out)
{
	char *sec, **ns;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20)
			return tr_error_set(TRESOR_EINVAL,
			    "%s, line %u: control character in a section name",
			    name, line);
	if (len == 0)
		return tr_error_set(TRESOR_EINVAL,
		    "%s, line %u: empty section name", name, line);
	if (ini->nsections == TR_CONFIG_MAX_SECTIONS)
		return tr_error_set(TRESOR_ETOOBIG,
		    "%s, line %u: more than %d sections", name, line,
		    TR_CONFIG_MAX_SECTIONS);
	sec = tr_strndup(s, len);
	if (sec == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if (tr_ini_has_section(ini, sec)) {
		tr_free(sec);
		return tr_error_set(TRESOR_EINVAL,
		    "%s, line %u: section [%.*s] appears twice", name, line,
		    (int)(len > 64 ? 64 : len), s);
	}
	ns = tr_reallocarray(ini->sections, ini->nsections + 1, sizeof(*ns));
	if (ns == NULL) {
		tr_free(sec);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	ini->sections = ns;
	ns[ini->nsections++] = sec;
	*out = sec;
	return 0;
}

static int
add_entry(struct tr_ini *ini, char *section, const char *k, size_t klen,
    const char *v, size_t vlen, const char *name, unsigned int line)
{
	struct tr_ini_entry *ne, *e;
	size_t i;

	if (ini->n == TR_CONFIG_MAX_ENTRIES)
		return tr_error_set(TRESOR_ETOOBIG,
		    "%s, line %u: more than %d entries", name, line,
		    TR_CONFIG_MAX_ENTRIES);
	if (ini->n == ini->cap) {
		size_t ncap = ini->cap == 0 ? 16 : ini->cap * 2;

		ne = tr_reallocarray(ini->e, ncap, sizeof(*ne));
		if (ne == NULL)
			return tr_error_set(TRESOR_ENOMEM, "out of memory");
		ini->e = ne;
		ini->cap = ncap;
	}
	e = &ini->e[ini->n];
	memset(e, 0, sizeof(*e));
	e->key = tr_strndup(k, klen);
	e->value = tr_strndup(v, vlen);
	if (e->key == NULL || e->value == NULL) {
		tr_free(e->key);
		tr_free(e->value);
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	}
	for (i = 0; i < klen; i++)
		if (e->key[i] >= 'A' && e->key[i] <= 'Z')
			e->key[i] = (char)(e->key[i] + 32);
	e->section = section;
	e->line = line;
	if (lookup(ini, section, e->key) != NULL) {
		int rc = tr_error_set(TRESOR_EINVAL,
		    "%s, line %u: '%.64s' is set twice in [%.64s]", name, line,
		    e->key, section);

		tr_free(e->key);
		tr_freezero(e->value, vlen);
		return rc;
	}
	ini->n++;
	return 0;
}

int
tr_ini_parse(struct tr_ini *out, const char *buf, size_t len,
    const char *name)
{
	const char *p = buf, *end = buf + len, *eol, *s, *e, *d;
	char *section = NULL;
	unsigned int line = 0;
	int rc = TRESOR_EINTERNAL;

	memset(out, 0, sizeof(*out));
	if (len > TR_CONFIG_MAX_BYTES) {
		rc = tr_error_set(TRESOR_ETOOBIG,
		    "%s is larger than %zu bytes", name, TR_CONFIG_MAX_BYTES);
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "%s holds a NUL byte: not a text file", name);
		goto out;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > TR_CONFIG_MAX_LINE) {
			rc = tr_error_set(TRESOR_ETOOBIG,
			    "%s, line %u: longer than %d bytes", name, line,
			    TR_CONFIG_MAX_LINE);
			goto out;
		}
		s = p;
		e = eol;
		p = eol < end ? eol + 1 : end;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (e[-1] != ']' || e - s < 2) {
				rc = tr_error_set(TRESOR_EINVAL,
				    "%s, line %u: a section header must be "
				    "[name]", name, line);
				goto out;
			}
			if ((rc = add_section(out, s + 1, (size_t)(e - s - 2),
			    name, line, &section)) < 0)
				goto out;
			continue;
		}
		if (section == NULL) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "%s, line %u: a setting before any [section] "
			    "header (start the file with [DEFAULT])", name,
			    line);
			goto out;
		}
		for (d = s; d < e && *d != '=' && *d != ':'; d++)
			;
		if (d == e) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "%s, line %u: expected 'key = value'", name, line);
			goto out;
		}
		{
			const char *ks = s, *ke = d, *vs = d + 1, *ve = e;

			trim(&ks, &ke);
			trim(&vs, &ve);
			if (ks == ke) {
				rc = tr_error_set(TRESOR_EINVAL,
				    "%s, line %u: empty key", name, line);
				goto out;
			}
			if ((rc = add_entry(out, section, ks,
			    (size_t)(ke - ks), vs, (size_t)(ve - vs), name,
			    line)) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		tr_ini_dispose(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* files and the environment                                          */
/* ------------------------------------------------------------------ */

int
tr_expand_home(char **out, const char *path)
{
	const char *home;
	struct passwd *pw;
	size_t hl, pl;
	char *s;

	*out = NULL;
	if (path[0] != '~') {
		*out = tr_strdup(path);
		return *out == NULL ?
		    tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
	}
	if (path[1] != '/' && path[1] != '\0')
		return tr_error_set(TRESOR_EINVAL,
		    "path '%.200s': only ~/ is expanded, not ~user/", path);
	home = secure_getenv("HOME");
	if (home == NULL || home[0] == '\0') {
		pw = getpwuid(getuid());
		if (pw == NULL || pw->pw_dir == NULL)
			return tr_error_set(TRESOR_EINVAL,
			    "cannot expand '~' in '%.200s': no home directory",
			    path);
		home = pw->pw_dir;
	}
	hl = strlen(home);
	pl = strlen(path + 1);
	s = tr_malloc(hl + pl + 1);
	if (s == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	memcpy(s, home, hl);
	memcpy(s + hl, path + 1, pl + 1);
	*out = s;
	return 0;
}

/*
 * Read a whole regular file of at most `max` bytes into a new
 * NUL-terminated buffer (free with tr_freezero(*out, *cap_out)).
 * TRESOR_ENOTFOUND when it does not exist.
 */
static int
read_small_file(char **out, size_t *len_out, size_t *cap_out,
    const char *path, size_t max, const char *what)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = -1, rc = TRESOR_EINTERNAL;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			rc = tr_error_set(TRESOR_ENOTFOUND,
			    "%s %s does not exist", what, path);
			goto out;
		}
		rc = tr_error_set(TRESOR_EIO, "cannot open %s %s: %s", what,
		    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = tr_error_set(TRESOR_EINVAL, "%s %s is not a regular file",
		    what, path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		rc = tr_error_set(TRESOR_ETOOBIG,
		    "%s %s is larger than %zu bytes", what, path, max);
		goto out;
	}
	cap = (size_t)st.st_size + 2;
	buf = tr_malloc(cap);
	if (buf == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, cap - 1 - len);
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
		if (len == cap - 1) {
			rc = tr_error_set(TRESOR_EIO,
			    "%s %s changed while it was read", what, path);
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*len_out = len;
	*cap_out = cap;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL)
		tr_freezero(buf, cap);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The first non-empty environment variable of the NULL-ended list. */
static const char *
env_first(const tresor_config_options *o, const char *a, const char *b)
{
	const char *v;

	if (o->ignore_environment)
		return NULL;
	v = secure_getenv(a);
	if (v != NULL && v[0] != '\0')
		return v;
	if (b == NULL)
		return NULL;
	v = secure_getenv(b);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

static int
dup_into(char **dst, const char *v)
{
	if (v == NULL)
		return 0;
	*dst = tr_strdup(v);
	return *dst == NULL ? tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
}

void
tresor_config_free(tresor_config *c)
{
	if (c == NULL)
		return;
	tr_free(c->config_file);
	tr_free(c->profile);
	tr_free(c->user);
	tr_free(c->tenancy);
	tr_free(c->fingerprint);
	tr_free(c->key_file);
	tr_free(c->region);
	tr_free(c->endpoint);
	tr_free(c->security_token_file);
	tr_secret_free(c->pass_phrase);
	tr_secret_free(c->rp_token);
	tr_free(c->rp_token_path);
	tr_secret_free(c->rp_pem);
	tr_free(c->rp_pem_path);
	tr_secret_free(c->rp_passphrase);
	tr_free(c->rp_passphrase_path);
	tr_free(c->rp_region);
	tr_free(c);
}

int
tresor_auth_parse(tresor_auth_kind *out, const char *v)
{
	static const struct {
		const char *name;
		tresor_auth_kind kind;
	} names[] = {
		{ "api_key", TRESOR_AUTH_API_KEY },
		{ "resource_principal", TRESOR_AUTH_RESOURCE_PRINCIPAL },
		{ "security_token", TRESOR_AUTH_SECURITY_TOKEN },
	};
	size_t i;

	for (i = 0; v != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].name, v) == 0) {
			*out = names[i].kind;
			return 0;
		}
	}
	return tr_error_set(TRESOR_EINVAL, "unsupported auth '%.64s' (use "
	    "api_key, resource_principal or security_token)",
	    v == NULL ? "" : v);
}

/*
 * The resource-principal 2.2 environment, read as the OCI SDKs read it:
 * each of the token, the PEM and its pass phrase is either the value
 * itself or an absolute path to a file holding it.
 */
static int
load_rp(tresor_config *c, const tresor_config_options *o)
{
	const char *ver, *tok, *pem, *pass, *region;
	int rc;

	ver = env_first(o, "OCI_RESOURCE_PRINCIPAL_VERSION", NULL);
	if (ver == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "resource principal authentication needs "
		    "OCI_RESOURCE_PRINCIPAL_VERSION=2.2 in the environment");
	if (strcmp(ver, "2.2") != 0)
		return tr_error_set(TRESOR_EINVAL,
		    "OCI_RESOURCE_PRINCIPAL_VERSION is '%.16s': only 2.2 is "
		    "supported", ver);
	tok = env_first(o, "OCI_RESOURCE_PRINCIPAL_RPST", NULL);
	pem = env_first(o, "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", NULL);
	if (tok == NULL || pem == NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "resource principal 2.2 needs OCI_RESOURCE_PRINCIPAL_RPST "
		    "and OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM (a value or an "
		    "absolute path)");
	pass = env_first(o, "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE",
	    NULL);
	region = env_first(o, "OCI_RESOURCE_PRINCIPAL_REGION", NULL);
	if (tok[0] == '/')
		rc = dup_into(&c->rp_token_path, tok);
	else
		rc = tr_secret_from(&c->rp_token, tok, strlen(tok));
	if (rc < 0)
		return rc;
	if (pem[0] == '/')
		rc = dup_into(&c->rp_pem_path, pem);
	else
		rc = tr_secret_from(&c->rp_pem, pem, strlen(pem));
	if (rc < 0)
		return rc;
	if (pass != NULL) {
		if ((pass[0] == '/') != (pem[0] == '/'))
			return tr_error_set(TRESOR_EINVAL,
			    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM and its "
			    "_PASSPHRASE must both be values or both be paths");
		if (pass[0] == '/')
			rc = dup_into(&c->rp_passphrase_path, pass);
		else
			rc = tr_secret_from(&c->rp_passphrase, pass,
			    strlen(pass));
		if (rc < 0)
			return rc;
	}
	return dup_into(&c->rp_region, region);
}

/* Check the shape of an endpoint early, with the name of its source. */
static int
check_endpoint(const char *ep, const char *source)
{
	struct tr_url u;
	int rc;

	if ((rc = tr_url_parse(&u, ep)) < 0)
		return tr_error_set(rc, "%s: %s", source,
		    tresor_error_last());
	return 0;
}

int
tresor_config_load(tresor_config **out, const tresor_config_options *opts)
{
	static const tresor_config_options defaults =
	    TRESOR_CONFIG_OPTIONS_INIT;
	static const struct {
		const char *key;
		const char *env;
		size_t off;
		bool path;	/* expand a leading ~/ */
	} fields[] = {
		{ "user", "OCI_CLI_USER", offsetof(tresor_config, user),
		    false },
		{ "tenancy", "OCI_CLI_TENANCY",
		    offsetof(tresor_config, tenancy), false },
		{ "fingerprint", "OCI_CLI_FINGERPRINT",
		    offsetof(tresor_config, fingerprint), false },
		{ "key_file", "OCI_CLI_KEY_FILE",
		    offsetof(tresor_config, key_file), true },
		{ "region", "OCI_CLI_REGION", offsetof(tresor_config, region),
		    false },
		{ "security_token_file", "OCI_CLI_SECURITY_TOKEN_FILE",
		    offsetof(tresor_config, security_token_file), true },
	};
	const tresor_config_options *o = opts == NULL ? &defaults : opts;
	struct tr_ini ini;
	tresor_config *c = NULL;
	const char *file, *profile, *v, *ep, *ep_source = NULL;
	char *path = NULL, *text = NULL;
	size_t len = 0, cap = 0, i;
	bool have_file = false, explicit_file = true;
	int rc = TRESOR_EINTERNAL;

	*out = NULL;
	memset(&ini, 0, sizeof(ini));
	if (o->version != TRESOR_CONFIG_OPTIONS_VERSION) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "tresor_config_options version %u is not supported",
		    o->version);
		goto out;
	}
	c = tr_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	c->auth = o->auth;
	if (c->auth == TRESOR_AUTH_DEFAULT) {
		v = env_first(o, "TRESOR_AUTH", "OCI_CLI_AUTH");
		c->auth = TRESOR_AUTH_API_KEY;
		if (v != NULL && (rc = tresor_auth_parse(&c->auth, v)) < 0)
			goto out;
	}

	/* the file */
	file = o->config_file;
	if (file == NULL)
		file = env_first(o, "TRESOR_CONFIG_FILE",
		    "OCI_CLI_CONFIG_FILE");
	if (file == NULL) {
		file = "~/.oci/config";
		explicit_file = false;
	}
	if ((rc = tr_expand_home(&path, file)) < 0)
		goto out;
	rc = read_small_file(&text, &len, &cap, path, TR_CONFIG_MAX_BYTES,
	    "config file");
	if (rc == 0) {
		have_file = true;
		if ((rc = tr_ini_parse(&ini, text, len, path)) < 0)
			goto out;
	} else if (rc != TRESOR_ENOTFOUND ||
	    (explicit_file && c->auth != TRESOR_AUTH_RESOURCE_PRINCIPAL)) {
		goto out;
	}

	/* the profile */
	profile = o->profile;
	if (profile == NULL)
		profile = env_first(o, "TRESOR_PROFILE", "OCI_CLI_PROFILE");
	if (profile == NULL)
		profile = "DEFAULT";
	if ((rc = dup_into(&c->profile, profile)) < 0)
		goto out;
	if (have_file && !tr_ini_has_section(&ini, profile) &&
	    c->auth != TRESOR_AUTH_RESOURCE_PRINCIPAL) {
		struct tr_buf names;

		tr_buf_init(&names, 1024);
		for (i = 0; i < ini.nsections && i < 20; i++)
			tr_buf_addf(&names, "%s%s", i == 0 ? "" : ", ",
			    ini.sections[i]);
		rc = tr_error_set(TRESOR_ENOTFOUND,
		    "profile '%.64s' not found in config file %s (profiles: "
		    "%s)", profile, path, ini.nsections == 0 ? "none" :
		    tr_buf_cstr(&names));
		tr_buf_dispose(&names);
		goto out;
	}
	if (have_file && (rc = dup_into(&c->config_file, path)) < 0)
		goto out;

	/* values: environment, then the profile, then DEFAULT */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char **dst = (char **)(void *)((char *)c + fields[i].off);

		v = env_first(o, fields[i].env, NULL);
		if (v == NULL && have_file)
			v = tr_ini_get(&ini, profile, fields[i].key);
		if (v != NULL && v[0] == '\0')
			v = NULL;
		if (v == NULL)
			continue;
		if (fields[i].path)
			rc = tr_expand_home(dst, v);
		else
			rc = dup_into(dst, v);
		if (rc < 0)
			goto out;
	}
	v = have_file ? tr_ini_get(&ini, profile, "pass_phrase") : NULL;
	if (v != NULL && v[0] != '\0' &&
	    (rc = tr_secret_from(&c->pass_phrase, v, strlen(v))) < 0)
		goto out;

	ep = o->endpoint;
	if (ep != NULL)
		ep_source = "--endpoint";
	if (ep == NULL) {
		ep = env_first(o, "TRESOR_ENDPOINT", "OCI_CLI_ENDPOINT");
		ep_source = "TRESOR_ENDPOINT/OCI_CLI_ENDPOINT";
	}
	if (ep == NULL && have_file) {
		ep = tr_ini_get(&ini, profile, "endpoint");
		ep_source = "the profile's endpoint";
	}
	if (ep != NULL && ep[0] != '\0') {
		if ((rc = check_endpoint(ep, ep_source)) < 0 ||
		    (rc = dup_into(&c->endpoint, ep)) < 0)
			goto out;
	}

	/* what each kind of authentication needs */
	switch (c->auth) {
	case TRESOR_AUTH_RESOURCE_PRINCIPAL:
		if ((rc = load_rp(c, o)) < 0)
			goto out;
		break;
	case TRESOR_AUTH_SECURITY_TOKEN:
		if (c->security_token_file == NULL || c->key_file == NULL) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "security_token authentication needs "
			    "security_token_file and key_file in profile "
			    "'%.64s'", profile);
			goto out;
		}
		break;
	default:
		if (!have_file && (c->user == NULL || c->tenancy == NULL ||
		    c->fingerprint == NULL || c->key_file == NULL)) {
			rc = tr_error_set(TRESOR_ENOTFOUND,
			    "config file %s does not exist: create it (see "
			    "docs/cli.md) or set --config-file", path);
			goto out;
		}
		if (c->user == NULL || c->tenancy == NULL ||
		    c->fingerprint == NULL || c->key_file == NULL) {
			rc = tr_error_set(TRESOR_EINVAL,
			    "profile '%.64s' in %s lacks %s (api_key "
			    "authentication needs user, tenancy, fingerprint "
			    "and key_file)", profile, path,
			    c->user == NULL ? "user" : c->tenancy == NULL ?
			    "tenancy" : c->fingerprint == NULL ?
			    "fingerprint" : "key_file");
			goto out;
		}
		break;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	tr_ini_dispose(&ini);
	if (text != NULL)
		tr_freezero(text, cap);
	tr_free(path);
	tresor_config_free(c);
	return rc;
}

const char *
tresor_config_get(const tresor_config *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	if (strcmp(name, "user") == 0)
		return c->user;
	if (strcmp(name, "tenancy") == 0)
		return c->tenancy;
	if (strcmp(name, "fingerprint") == 0)
		return c->fingerprint;
	if (strcmp(name, "key_file") == 0)
		return c->key_file;
	if (strcmp(name, "region") == 0)
		return c->region != NULL ? c->region : c->rp_region;
	if (strcmp(name, "endpoint") == 0)
		return c->endpoint;
	if (strcmp(name, "security_token_file") == 0)
		return c->security_token_file;
	if (strcmp(name, "profile") == 0)
		return c->profile;
	if (strcmp(name, "config_file") == 0)
		return c->config_file;
	return NULL;
}

tresor_auth_kind
tresor_config_auth(const tresor_config *c)
{
	return c->auth;
}
