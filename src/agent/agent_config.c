/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration file (see agent.h and docs/agent.md):
 *
 *     # settings of the agent (before any section, or in [agent])
 *     profile = DEFAULT
 *     ttl = 5m
 *
 *     [secret db-password]
 *     secret_id = ocid1.vaultsecret.oc1..xxxx
 *     path = /run/app/db-password
 *     mode = 0640
 *     owner = app:app
 *     command = systemctl reload app
 *
 * One "key = value" per line; lines starting with # or ; are comments;
 * a value may be wrapped in double quotes to keep surrounding spaces.
 * Unknown keys, repeated keys and sections, and out-of-range values are
 * refused with the file and line.  The parser reads untrusted bytes:
 * size, line length and section count are bounded and NUL bytes refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "tresor/config.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/ocid.h"
#include "util/parse.h"

#define DAY_MS ((uint64_t)86400 * 1000)

void
tr_agent_config_dispose(struct tr_agent_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		struct tr_agent_secret *s = &c->s[i];

		tr_free(s->label);
		tr_free(s->secret_id);
		tr_free(s->vault_id);
		tr_free(s->name);
		tr_free(s->stage);
		tr_free(s->path);
		tr_free(s->owner);
		tr_free(s->command);
	}
	tr_free(c->s);
	tr_free(c->profile);
	tr_free(c->config_file);
	tr_free(c->endpoint);
	tr_free(c->auth);
	tr_free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

int
tr_agent_parse_duration(const char *s, uint64_t *ms_out)
{
	size_t len = strlen(s), dl = len;
	uint64_t n, mult = 1000;

	*ms_out = 0;
	if (len == 0)
		goto bad;
	switch (s[len - 1]) {
	case 's':
		dl--;
		break;
	case 'm':
		mult = 60 * 1000;
		dl--;
		break;
	case 'h':
		mult = 3600 * 1000;
		dl--;
		break;
	case 'd':
		mult = DAY_MS;
		dl--;
		break;
	default:
		break;
	}
	if (dl == 0 || dl > 9 || tr_parse_u64(s, dl, 1, 999999999, &n) < 0)
		goto bad;
	if (n * mult > 30 * DAY_MS)
		goto bad;
	*ms_out = n * mult;
	return 0;
bad:
	return tr_error_set(TRESOR_EINVAL,
	    "'%.32s' is not a duration of 1 s to 30 d (e.g. 90, 90s, 5m, 2h, "
	    "1d)", s);
}

/* Parse an octal mode such as 0600 or 640. */
static int
parse_mode(const char *v, unsigned int *out)
{
	unsigned int m = 0;
	size_t i, len = strlen(v);

	if (len == 0 || len > 4)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '7')
			return -1;
		m = m * 8 + (unsigned int)(v[i] - '0');
	}
	if (m > 0777 || (m & 0002) != 0 || (m & 0600) == 0)
		return -1;
	*out = m;
	return 0;
}

/* owner = user[:group], names or numbers. */
static int
parse_owner(struct tr_agent_secret *s, const char *v, bool resolve)
{
	char user[256], group[256];
	const char *colon = strchr(v, ':');
	struct passwd *pw;
	struct group *gr;
	uint64_t n;
	size_t ul;

	ul = colon == NULL ? strlen(v) : (size_t)(colon - v);
	if (ul >= sizeof(user) || (colon != NULL &&
	    strlen(colon + 1) >= sizeof(group)))
		return -1;
	memcpy(user, v, ul);
	user[ul] = '\0';
	(void)snprintf(group, sizeof(group), "%s", colon == NULL ? "" :
	    colon + 1);
	s->uid = (uid_t)-1;
	s->gid = (gid_t)-1;
	if (user[0] != '\0') {
		if (tr_parse_u64(user, strlen(user), 0, 0x7fffffff, &n) == 0) {
			s->uid = (uid_t)n;
		} else if (resolve) {
			pw = getpwnam(user);
			if (pw == NULL)
				return -1;
			s->uid = pw->pw_uid;
			if (colon == NULL)
				s->gid = pw->pw_gid;
		}
	}
	if (group[0] != '\0') {
		if (tr_parse_u64(group, strlen(group), 0, 0x7fffffff,
		    &n) == 0) {
			s->gid = (gid_t)n;
		} else if (resolve) {
			gr = getgrnam(group);
			if (gr == NULL)
				return -1;
			s->gid = gr->gr_gid;
		}
	}
	if (user[0] == '\0' && group[0] == '\0')
		return -1;
	s->set_owner = true;
	return 0;
}

static bool
label_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static int
set_str(char **dst, const char *v, const char *key, const char *name,
    unsigned int line)
{
	if (*dst != NULL)
		return tr_error_set(TRESOR_EINVAL, "%s, line %u: '%s' is set "
		    "twice", name, line, key);
	*dst = tr_strdup(v);
	return *dst == NULL ? tr_error_set(TRESOR_ENOMEM, "out of memory") : 0;
}

static int
agent_key(struct tr_agent_config *c, const char *k, const char *v,
    const char *name, unsigned int line, unsigned int *seen)
{
	static const char *const keys[] = { "profile", "config_file",
		"endpoint", "auth", "ca_file", "ttl", "max_backoff",
		"command_timeout", "log_level", NULL };
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], k) == 0)
			break;
	if (keys[i] == NULL)
		return tr_error_set(TRESOR_EINVAL, "%s, line %u: unknown "
		    "setting '%.64s' (agent settings: profile, config_file, "
		    "endpoint, auth, ca_file, ttl, max_backoff, "
		    "command_timeout, log_level)", name, line, k);
	if ((*seen & (1u << i)) != 0)
		return tr_error_set(TRESOR_EINVAL, "%s, line %u: '%s' is set "
		    "twice", name, line, k);
	*seen |= 1u << i;
	switch (i) {
	case 0:
		return set_str(&c->profile, v, k, name, line);
	case 1:
		return set_str(&c->config_file, v, k, name, line);
	case 2:
		return set_str(&c->endpoint, v, k, name, line);
	case 3: {
		tresor_auth_kind kind;

		if (tresor_auth_parse(&kind, v) < 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: auth "
			    "must be api_key, resource_principal or "
			    "security_token", name, line);
		return set_str(&c->auth, v, k, name, line);
	}
	case 4:
		return set_str(&c->ca_file, v, k, name, line);
	case 5:
	case 6:
	case 7: {
		uint64_t *dst = i == 5 ? &c->ttl_ms : i == 6 ?
		    &c->max_backoff_ms : &c->command_timeout_ms;

		if (tr_agent_parse_duration(v, dst) < 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: %s: "
			    "%s", name, line, k, tresor_error_last());
		return 0;
	}
	default:
		if (strcmp(v, "debug") == 0)
			c->log_level = 0;
		else if (strcmp(v, "info") == 0)
			c->log_level = 1;
		else if (strcmp(v, "warn") == 0)
			c->log_level = 2;
		else if (strcmp(v, "error") == 0)
			c->log_level = 3;
		else
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "log_level must be debug, info, warn or error",
			    name, line);
		return 0;
	}
}

static int
secret_key(struct tr_agent_secret *s, const char *k, const char *v,
    const char *name, unsigned int line, bool resolve)
{
	uint64_t n;

	if (strcmp(k, "secret_id") == 0) {
		if (!tr_ocid_valid(v, NULL))
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "secret_id is not an OCID", name, line);
		return set_str(&s->secret_id, v, k, name, line);
	}
	if (strcmp(k, "vault_id") == 0) {
		if (!tr_ocid_valid(v, NULL))
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "vault_id is not an OCID", name, line);
		return set_str(&s->vault_id, v, k, name, line);
	}
	if (strcmp(k, "name") == 0) {
		if (v[0] == '\0' || strlen(v) > 255)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: name "
			    "must be 1 to 255 characters", name, line);
		return set_str(&s->name, v, k, name, line);
	}
	if (strcmp(k, "stage") == 0) {
		if (strcmp(v, "CURRENT") != 0 && strcmp(v, "PENDING") != 0 &&
		    strcmp(v, "LATEST") != 0 && strcmp(v, "PREVIOUS") != 0 &&
		    strcmp(v, "DEPRECATED") != 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: stage "
			    "must be CURRENT, PENDING, LATEST, PREVIOUS or "
			    "DEPRECATED", name, line);
		return set_str(&s->stage, v, k, name, line);
	}
	if (strcmp(k, "version") == 0) {
		if (s->version != 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "'version' is set twice", name, line);
		if (tr_parse_u64(v, strlen(v), 1, (uint64_t)1 << 53, &n) < 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "version must be a version number", name, line);
		s->version = n;
		return 0;
	}
	if (strcmp(k, "path") == 0) {
		if (v[0] != '/' || strlen(v) > 4000 || v[strlen(v) - 1] == '/')
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: path "
			    "must be an absolute file path", name, line);
		return set_str(&s->path, v, k, name, line);
	}
	if (strcmp(k, "mode") == 0) {
		if (parse_mode(v, &s->mode) < 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: mode "
			    "must be octal permission bits with owner access, "
			    "never writable by others (e.g. 0600, 0640)", name,
			    line);
		return 0;
	}
	if (strcmp(k, "owner") == 0) {
		if (s->owner != NULL)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "'owner' is set twice", name, line);
		if (parse_owner(s, v, resolve) < 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: owner "
			    "'%.64s' is not user[:group] of this system", name,
			    line, v);
		return set_str(&s->owner, v, k, name, line);
	}
	if (strcmp(k, "command") == 0) {
		if (v[0] == '\0')
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: empty "
			    "command", name, line);
		return set_str(&s->command, v, k, name, line);
	}
	if (strcmp(k, "ttl") == 0) {
		if (tr_agent_parse_duration(v, &s->ttl_ms) < 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: ttl: "
			    "%s", name, line, tresor_error_last());
		return 0;
	}
	return tr_error_set(TRESOR_EINVAL, "%s, line %u: unknown setting "
	    "'%.64s' in a [secret] section (secret_id, vault_id, name, "
	    "stage, version, path, mode, owner, command, ttl)", name, line, k);
}

/* Check a finished [secret] section. */
static int
secret_done(const struct tr_agent_config *c, const struct tr_agent_secret *s,
    const char *name)
{
	size_t i;

	if ((s->secret_id == NULL) == (s->vault_id == NULL || s->name == NULL)
	    || (s->secret_id != NULL && (s->vault_id != NULL ||
	    s->name != NULL)))
		return tr_error_set(TRESOR_EINVAL, "%s, line %u: [secret %s] "
		    "needs secret_id, or vault_id and name", name, s->line,
		    s->label);
	if (s->stage != NULL && s->version != 0)
		return tr_error_set(TRESOR_EINVAL, "%s, line %u: [secret %s] "
		    "gives both stage and version", name, s->line, s->label);
	if (s->path == NULL)
		return tr_error_set(TRESOR_EINVAL, "%s, line %u: [secret %s] "
		    "needs a path", name, s->line, s->label);
	for (i = 0; &c->s[i] != s; i++)
		if (strcmp(c->s[i].path, s->path) == 0)
			return tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "[secret %s] writes %s, as [secret %s] does", name,
			    s->line, s->label, s->path, c->s[i].label);
	return 0;
}

int
tr_agent_config_parse(struct tr_agent_config *out, const char *buf,
    size_t len, const char *name, bool resolve_owners)
{
	const char *p = buf, *end = buf + len, *eol, *s, *e, *eq;
	char key[64], *val = NULL;
	struct tr_agent_secret *cur = NULL;
	unsigned int line = 0, seen = 0;
	bool in_agent = true;
	size_t i;
	int rc = TRESOR_EINTERNAL;

	memset(out, 0, sizeof(*out));
	out->log_level = -1;
	if (len > TR_AGENT_CONFIG_MAX) {
		rc = tr_error_set(TRESOR_ETOOBIG, "%s is larger than %zu bytes",
		    name, TR_AGENT_CONFIG_MAX);
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		rc = tr_error_set(TRESOR_EINVAL, "%s holds a NUL byte", name);
		goto out;
	}
	while (p < end) {
		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > TR_AGENT_LINE_MAX) {
			rc = tr_error_set(TRESOR_ETOOBIG, "%s, line %u: longer "
			    "than %d bytes", name, line, TR_AGENT_LINE_MAX);
			goto out;
		}
		s = p;
		e = eol;
		p = eol < end ? eol + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			e--;
		if (s == e || *s == '#' || *s == ';')
			continue;
		for (i = 0; s + i < e; i++)
			if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
				rc = tr_error_set(TRESOR_EINVAL, "%s, line %u: "
				    "control character", name, line);
				goto out;
			}
		if (*s == '[') {
			const char *ls, *le;

			if (e[-1] != ']') {
				rc = tr_error_set(TRESOR_EINVAL, "%s, line %u: "
				    "a section header is [agent] or [secret "
				    "NAME]", name, line);
				goto out;
			}
			if (cur != NULL && (rc = secret_done(out, cur,
			    name)) < 0)
				goto out;
			cur = NULL;
			ls = s + 1;
			le = e - 1;
			while (ls < le && *ls == ' ')
				ls++;
			while (le > ls && le[-1] == ' ')
				le--;
			if (le - ls == 5 && memcmp(ls, "agent", 5) == 0) {
				in_agent = true;
				continue;
			}
			if (le - ls < 7 || memcmp(ls, "secret ", 7) != 0 ||
			    !label_ok(ls + 7, (size_t)(le - ls - 7))) {
				rc = tr_error_set(TRESOR_EINVAL, "%s, line %u: "
				    "a section header is [agent] or [secret "
				    "NAME] (NAME: 1-64 of A-Z a-z 0-9 . _ -)",
				    name, line);
				goto out;
			}
			for (i = 0; i < out->n; i++)
				if (strlen(out->s[i].label) == (size_t)(le -
				    ls - 7) && memcmp(out->s[i].label, ls + 7,
				    (size_t)(le - ls - 7)) == 0) {
					rc = tr_error_set(TRESOR_EINVAL,
					    "%s, line %u: [secret %s] appears "
					    "twice", name, line,
					    out->s[i].label);
					goto out;
				}
			if (out->n == TR_AGENT_SECRETS_MAX) {
				rc = tr_error_set(TRESOR_ETOOBIG,
				    "%s, line %u: more than %d secrets", name,
				    line, TR_AGENT_SECRETS_MAX);
				goto out;
			}
			{
				struct tr_agent_secret *ns = tr_reallocarray(
				    out->s, out->n + 1, sizeof(*ns));

				if (ns == NULL) {
					rc = tr_error_set(TRESOR_ENOMEM,
					    "out of memory");
					goto out;
				}
				out->s = ns;
			}
			cur = &out->s[out->n++];
			memset(cur, 0, sizeof(*cur));
			cur->mode = 0600;
			cur->line = line;
			cur->label = tr_strndup(ls + 7, (size_t)(le - ls - 7));
			if (cur->label == NULL) {
				out->n--;
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
			in_agent = false;
			continue;
		}
		eq = memchr(s, '=', (size_t)(e - s));
		if (eq == NULL) {
			rc = tr_error_set(TRESOR_EINVAL, "%s, line %u: "
			    "expected 'key = value'", name, line);
			goto out;
		}
		{
			const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;

			while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t'))
				ke--;
			while (vs < ve && (*vs == ' ' || *vs == '\t'))
				vs++;
			if (ke == ks || (size_t)(ke - ks) >= sizeof(key)) {
				rc = tr_error_set(TRESOR_EINVAL, "%s, line %u: "
				    "missing or overlong key", name, line);
				goto out;
			}
			memcpy(key, ks, (size_t)(ke - ks));
			key[ke - ks] = '\0';
			if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
				vs++;
				ve--;
			}
			tr_free(val);
			val = tr_strndup(vs, (size_t)(ve - vs));
			if (val == NULL) {
				rc = tr_error_set(TRESOR_ENOMEM,
				    "out of memory");
				goto out;
			}
		}
		if (in_agent)
			rc = agent_key(out, key, val, name, line, &seen);
		else
			rc = secret_key(cur, key, val, name, line,
			    resolve_owners);
		if (rc < 0)
			goto out;
	}
	if (cur != NULL && (rc = secret_done(out, cur, name)) < 0)
		goto out;
	if (out->n == 0) {
		rc = tr_error_set(TRESOR_EINVAL, "%s: no [secret NAME] "
		    "section: nothing to render", name);
		goto out;
	}
	if (out->ttl_ms == 0)
		out->ttl_ms = 5 * 60 * 1000;
	if (out->max_backoff_ms == 0)
		out->max_backoff_ms = 60 * 1000;
	if (out->command_timeout_ms == 0)
		out->command_timeout_ms = 60 * 1000;
	rc = 0;
out:
	tr_free(val);
	if (rc < 0)
		tr_agent_config_dispose(out);
	return rc;
}

int
tr_agent_config_load(struct tr_agent_config *out, const char *path)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = TRESOR_EINTERNAL;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return tr_error_set(errno == ENOENT ? TRESOR_ENOTFOUND :
		    TRESOR_EIO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = tr_error_set(TRESOR_EINVAL, "%s is not a regular file",
		    path);
		goto out;
	}
	if ((uint64_t)st.st_size > TR_AGENT_CONFIG_MAX) {
		rc = tr_error_set(TRESOR_ETOOBIG, "%s is larger than %zu "
		    "bytes", path, TR_AGENT_CONFIG_MAX);
		goto out;
	}
	buf = tr_malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot read %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = tr_agent_config_parse(out, buf, len, path, true);
out:
	tr_free(buf);
	close(fd);
	return rc;
}
