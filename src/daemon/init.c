/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tresord init --data DIR`: a new data directory.
 *
 *   DIR/            mode 0700
 *   DIR/root.key    the root key (0600 from creation), or with
 *                   --root-key-in-token the marker of one generated in
 *                   the PKCS#11 token
 *   DIR/pkcs11.conf the --pkcs11-* options, when given (daemon/hsm.h)
 *   DIR/tresor.db   the SQLite store (0600 from creation)
 *   DIR/admin/      key.pem (the administrator's RSA-2048 API key) and
 *                   config (an OCI config file, profile DEFAULT)
 *
 * The store receives, in one transaction, a tenancy, the user "admin",
 * the group "Administrators" with admin in it, the policy "Allow group
 * Administrators to manage all-resources in tenancy" and admin's API key.
 * A directory that already holds any of it is refused untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/httpsig.h"
#include "crypto/keystore.h"
#include "daemon/daemon.h"
#include "daemon/hsm.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/durable.h"
#include "util/error.h"
#include "util/json.h"
#include "util/ocid.h"

struct init_opts {
	const char *data;
	const char *endpoint;
	const char *region;
	const char *tenancy_name;
};

static void
init_usage(FILE *f)
{
	fprintf(f, "usage: tresord init --data DIR [--store URL] "
	    "[--endpoint URL] [--region REGION] [--tenancy-name NAME]\n"
	    "        [--pkcs11-module PATH (--pkcs11-token-label LABEL | "
	    "--pkcs11-slot N)\n"
	    "         --pkcs11-pin-file FILE [--root-key-in-token]]\n"
	    "  --store URL      keep the data in PostgreSQL "
	    "(postgres://HOST:PORT/DB;\n"
	    "                   credentials from PGPASSFILE/~/.pgpass or "
	    "PG* variables)\n"
	    "  --endpoint URL   base URL written to DIR/admin/config "
	    "(default %s)\n"
	    "  --region REGION  region written to the config (default %s)\n"
	    TR_HSM_INIT_USAGE,
	    TR_DEFAULT_ENDPOINT, TR_DEFAULT_REGION);
}

/* Create `path` with O_EXCL and mode 0600, write `len` bytes, fsync. */
static int
write_new_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		return tr_error_set(errno == EEXIST ? TRESOR_EEXISTS :
		    TRESOR_EIO, "cannot create %s: %s", path, strerror(errno));
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = tr_error_set(TRESOR_EIO, "cannot write %s: %s",
			    path, strerror(errno));
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = tr_error_set(TRESOR_EIO, "cannot fsync %s: %s", path,
		    strerror(errno));
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Fill the common columns of a new object. */
static int
new_obj(struct tr_obj *o, const char *type, const char *tenancy,
    const char *name, int64_t now)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = tr_ocid_new(o->id, sizeof(o->id), type, NULL)) < 0 ||
	    (rc = tr_store_new_etag(o->etag)) < 0)
		return rc;
	(void)snprintf(o->type, sizeof(o->type), "%s", type);
	(void)snprintf(o->tenancy_id, sizeof(o->tenancy_id), "%s",
	    tenancy == NULL ? o->id : tenancy);
	(void)snprintf(o->compartment_id, sizeof(o->compartment_id), "%s",
	    tenancy == NULL ? o->id : tenancy);
	(void)snprintf(o->name, sizeof(o->name), "%s", name);
	(void)snprintf(o->state, sizeof(o->state), "ACTIVE");
	o->time_created = now;
	return 0;
}

static char *
dump_new(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	return s;
}

/* The parents of `path` that do not exist, created as mkdir -p does. */
static int
make_parents(const char *path)
{
	char buf[4096];
	size_t n = strlen(path), i;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		buf[i] = '/';
	}
	return 0;
}

/* Refuse a directory that already holds a tresor installation. */
static int
check_fresh(const char *dir)
{
	static const char *const names[] = { TR_ROOT_KEY_FILE, TR_DB_FILE,
		TR_DB_FILE "-wal", TR_ADMIN_DIR, TR_STORE_FILE,
		TR_PKCS11_CONF_FILE, NULL };
	char path[PATH_MAX];
	struct stat sb;
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (lstat(path, &sb) == 0)
			return tr_error_set(TRESOR_EEXISTS,
			    "%s already holds a tresor tenancy (%s exists); "
			    "refusing to change it", dir, names[i]);
	}
	return 0;
}

/* Refuse a shared store that already holds a tenancy. */
static int
check_empty_store(struct tr_store *st, const char *where)
{
	struct tr_obj_filter f;
	struct tr_page page;
	struct tr_obj *items = NULL;
	size_t n = 0, i;
	bool more = false;
	int rc;

	memset(&f, 0, sizeof(f));
	memset(&page, 0, sizeof(page));
	f.type = "tenancy";
	page.limit = 1;
	rc = st->ops->obj_list(st, &items, &n, &more, &f, &page);
	for (i = 0; i < n; i++)
		tr_obj_dispose(&items[i]);
	tr_free(items);
	if (rc < 0)
		return rc;
	if (n > 0)
		return tr_error_set(TRESOR_EEXISTS, "%s already holds a tresor "
		    "tenancy; refusing to change it (to add a node, copy the "
		    "first node's root.key and serve with --store)", where);
	return 0;
}

int
tr_daemon_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "region", required_argument, NULL, 'r' },
		{ "tenancy-name", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 's' },
		{ "pkcs11-module", required_argument, NULL,
		    TR_OPT_PKCS11_MODULE },
		{ "pkcs11-slot", required_argument, NULL, TR_OPT_PKCS11_SLOT },
		{ "pkcs11-token-label", required_argument, NULL,
		    TR_OPT_PKCS11_TOKEN_LABEL },
		{ "pkcs11-pin-file", required_argument, NULL,
		    TR_OPT_PKCS11_PIN_FILE },
		{ "root-key-in-token", no_argument, NULL,
		    TR_OPT_ROOT_KEY_IN_TOKEN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct init_opts o = { NULL, TR_DEFAULT_ENDPOINT, TR_DEFAULT_REGION,
		"tresor" };
	char dir[PATH_MAX], path[PATH_MAX], keypath[PATH_MAX], fp[48];
	struct tr_obj tenancy, user, group, member, policy, apikey;
	struct tr_store_write w[6];
	struct tr_store *st = NULL;
	struct tr_hsm_opts hsm;
	struct tr_buf cfg;
	struct stat sb;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *pem_priv = NULL, *pem_pub = NULL, *data;
	const char *store_url = NULL;
	long len;
	int64_t now;
	int c, rc = 1, err, made;
	size_t i;

	memset(w, 0, sizeof(w));
	memset(&hsm, 0, sizeof(hsm));
	memset(&tenancy, 0, sizeof(tenancy));
	memset(&user, 0, sizeof(user));
	memset(&group, 0, sizeof(group));
	memset(&member, 0, sizeof(member));
	memset(&policy, 0, sizeof(policy));
	memset(&apikey, 0, sizeof(apikey));
	tr_buf_init(&cfg, 16384);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:e:r:t:s:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			o.data = optarg;
			break;
		case 'e':
			o.endpoint = optarg;
			break;
		case 'r':
			o.region = optarg;
			break;
		case 't':
			o.tenancy_name = optarg;
			break;
		case 's':
			store_url = optarg;
			break;
		case TR_OPT_PKCS11_MODULE:
		case TR_OPT_PKCS11_SLOT:
		case TR_OPT_PKCS11_TOKEN_LABEL:
		case TR_OPT_PKCS11_PIN_FILE:
		case TR_OPT_ROOT_KEY_IN_TOKEN:
			if (tr_daemon_hsm_option(&hsm, c, optarg) < 0)
				return tr_daemon_fail("%s",
				    tresor_error_last());
			break;
		case 'h':
			init_usage(stdout);
			return 0;
		default:
			init_usage(stderr);
			return 2;
		}
	}
	if (o.data == NULL || optind != argc) {
		init_usage(stderr);
		return 2;
	}
	if (strncmp(o.endpoint, "http://", 7) != 0 &&
	    strncmp(o.endpoint, "https://", 8) != 0)
		return tr_daemon_fail("--endpoint must be an http:// or "
		    "https:// URL");
	tr_json_init();

	/*
	 * The directory: create it 0700 (and missing parents as mkdir -p
	 * does), or accept an empty-of-tresor one.
	 */
	made = mkdir(o.data, 0700);
	if (made != 0 && errno == ENOENT && make_parents(o.data) == 0)
		made = mkdir(o.data, 0700);
	if (made != 0 && errno != EEXIST)
		return tr_daemon_fail("cannot create %s: %s", o.data,
		    strerror(errno));
	if (stat(o.data, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return tr_daemon_fail("%s is not a directory", o.data);
	if (realpath(o.data, dir) == NULL)
		return tr_daemon_fail("cannot resolve %s: %s", o.data,
		    strerror(errno));
	if (check_fresh(dir) < 0)
		return tr_daemon_fail("%s", tresor_error_last());
	if ((sb.st_mode & 077) != 0)
		return tr_daemon_fail("%s is accessible by group or others "
		    "(mode %04o); make it private (chmod 700 %s) or choose a "
		    "new directory", dir, (unsigned)(sb.st_mode & 07777), dir);
	if (sb.st_uid != geteuid())
		return tr_daemon_fail("%s belongs to another user", dir);

	/* root key (and the token's record), then the database */
	if (tr_daemon_hsm_init(dir, &hsm) < 0)
		return tr_daemon_fail("%s", tresor_error_last());
	if (store_url != NULL) {
		if (tr_store_open_url(&st, store_url, true) < 0 ||
		    check_empty_store(st, store_url) < 0) {
			rc = tr_daemon_fail("%s", tresor_error_last());
			goto out;
		}
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    TR_STORE_FILE);
		if (write_new_file(path, store_url, strlen(store_url)) < 0) {
			rc = tr_daemon_fail("%s", tresor_error_last());
			goto out;
		}
	} else {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_DB_FILE);
		if (tr_store_sqlite_open(&st, path, true) < 0) {
			rc = tr_daemon_fail("%s", tresor_error_last());
			goto out;
		}
	}

	/* the administrator's API key */
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	bio = BIO_new(BIO_s_mem());
	if (key == NULL || bio == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = tr_daemon_fail("cannot generate the API key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	pem_priv = tr_strndup(data, (size_t)len);
	(void)BIO_reset(bio);
	if (pem_priv == NULL || PEM_write_bio_PUBKEY(bio, key) != 1 ||
	    tr_httpsig_fingerprint(fp, key) < 0) {
		rc = tr_daemon_fail("cannot encode the API key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	pem_pub = tr_strndup(data, (size_t)len);
	if (pem_pub == NULL) {
		rc = tr_daemon_fail("out of memory");
		goto out;
	}

	/* the tenancy and its administrator, in one transaction */
	now = tr_now_ms();
	if (new_obj(&tenancy, "tenancy", NULL, o.tenancy_name, now) < 0 ||
	    new_obj(&user, "user", tenancy.id, "admin", now) < 0 ||
	    new_obj(&group, "group", tenancy.id, "Administrators", now) < 0 ||
	    new_obj(&member, "groupmembership", tenancy.id, "", now) < 0 ||
	    new_obj(&policy, "policy", tenancy.id, "Tenant Admin Policy",
	    now) < 0 ||
	    new_obj(&apikey, "apikey", tenancy.id, fp, now) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	(void)snprintf(member.parent_id, sizeof(member.parent_id), "%s",
	    user.id);
	(void)snprintf(member.name, sizeof(member.name), "%s", group.id);
	(void)snprintf(apikey.parent_id, sizeof(apikey.parent_id), "%s",
	    user.id);
	tenancy.attrs = dump_new(json_pack("{s:s, s:s}", "description",
	    "tresor tenancy", "homeRegionKey", o.region));
	user.attrs = dump_new(json_pack("{s:s, s:b}", "description",
	    "tenancy administrator", "isMfaActivated", 0));
	group.attrs = dump_new(json_pack("{s:s}", "description",
	    "Administrators of the tenancy"));
	member.attrs = dump_new(json_object());
	policy.attrs = dump_new(json_pack("{s:s, s:[s]}", "description",
	    "Administrators manage everything",
	    "statements",
	    "Allow group Administrators to manage all-resources in tenancy"));
	apikey.attrs = dump_new(json_pack("{s:s, s:s}", "keyValue", pem_pub,
	    "fingerprint", fp));
	if (tenancy.attrs == NULL || user.attrs == NULL ||
	    group.attrs == NULL || member.attrs == NULL ||
	    policy.attrs == NULL || apikey.attrs == NULL) {
		rc = tr_daemon_fail("out of memory");
		goto out;
	}
	w[0].obj = &tenancy;
	w[1].obj = &user;
	w[2].obj = &group;
	w[3].obj = &member;
	w[4].obj = &policy;
	w[5].obj = &apikey;
	for (i = 0; i < 6; i++)
		w[i].kind = TR_W_OBJ_PUT;
	if (st->ops->apply(st, w, 6) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}

	/* DIR/admin: the key and the OCI config file, 0600 from creation */
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_ADMIN_DIR);
	if (mkdir(path, 0700) != 0) {
		rc = tr_daemon_fail("cannot create %s: %s", path,
		    strerror(errno));
		goto out;
	}
	(void)snprintf(keypath, sizeof(keypath), "%s/%s", dir,
	    TR_ADMIN_KEY_FILE);
	if (write_new_file(keypath, pem_priv, strlen(pem_priv)) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	tr_buf_addf(&cfg, "[DEFAULT]\n"
	    "user=%s\n"
	    "fingerprint=%s\n"
	    "key_file=%s\n"
	    "tenancy=%s\n"
	    "region=%s\n"
	    "endpoint=%s\n", user.id, fp, keypath, tenancy.id, o.region,
	    o.endpoint);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_ADMIN_CONFIG_FILE);
	if (tr_buf_error(&cfg) < 0 ||
	    write_new_file(path, cfg.ptr, cfg.len) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_ADMIN_DIR);
	(void)tr_fsync_dir(path);
	(void)tr_fsync_dir(dir);
	printf("tresord: initialised %s\n"
	    "  tenancy        %s\n"
	    "  administrator  %s (group Administrators)\n"
	    "  API key        %s (fingerprint %s)\n"
	    "  OCI config     %s/%s (profile DEFAULT, endpoint %s)\n",
	    dir, tenancy.id, user.id, keypath, fp, dir, TR_ADMIN_CONFIG_FILE,
	    o.endpoint);
	rc = 0;
out:
	err = rc;
	tr_store_close(st);
	if (pem_priv != NULL)
		tr_freezero(pem_priv, strlen(pem_priv));
	tr_free(pem_pub);
	BIO_free(bio);
	EVP_PKEY_free(key);
	tr_buf_dispose(&cfg);
	tr_obj_dispose(&tenancy);
	tr_obj_dispose(&user);
	tr_obj_dispose(&group);
	tr_obj_dispose(&member);
	tr_obj_dispose(&policy);
	tr_obj_dispose(&apikey);
	return err;
}
