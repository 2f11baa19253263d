/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tresord serve`: open the data directory and serve it.
 *
 * Start-up hardening before anything is read: no core dumps, not
 * ptrace-attachable (PR_SET_DUMPABLE 0), key material on OpenSSL's
 * locked secure heap.  A listen address other than loopback needs TLS
 * (--tls-cert/--tls-key) unless --insecure-no-tls says otherwise.
 * SIGTERM and SIGINT stop accepting, let requests in flight finish, and
 * exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/token.h"
#include "crypto/keystore.h"
#include "crypto/x509ca.h"
#include "daemon/daemon.h"
#include "daemon/hsm.h"
#include "http/audit.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/durable.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/secret.h"

#define SECURE_HEAP_BYTES (4u * 1024 * 1024)

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t tls_reload_count;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	tls_reload_count++;
}

/* the maintenance lock: one node at a time runs the due jobs */
#define MAINTENANCE_LOCK UINT64_C(0x7472736f726d6e74)

struct serve_ctx {
	struct tr_api_env env;
	char db_path[PATH_MAX];		/* the store: a file or a URL */
	unsigned int maintenance_sec;	/* reaper and rotation period */
	struct tr_ratelimit *limiter;
	struct tr_store_bus *bus;	/* changes, to every read cache */
	int64_t cache_ttl_ms;		/* 0: trust until announced */
	size_t cache_bytes;		/* a handle's read cache; 0: default */
};

/*
 * With several nodes on PostgreSQL: hear what the others commit
 * (LISTEN tresor_changes) and tell this process's caches.  A lost
 * connection may have lost notifications: every cache drops everything;
 * the caches' TTL bounds what a notification lost otherwise can cost.
 */
static void *
listener_main(void *arg)
{
	struct serve_ctx *sc = arg;
	struct tr_store *st = NULL;
	char *chan = NULL, *payload = NULL;
	bool listening = false;
	int rc;

	(void)pthread_setname_np(pthread_self(), "tresord-listen");
	while (!stop_flag) {
		if (st == NULL && tr_store_open_url(&st, sc->db_path,
		    false) < 0) {
			st = NULL;
			sleep(1);
			continue;
		}
		if (!listening) {
			if (st->ops->listen(st, TR_STORE_CHANGES) < 0) {
				sleep(1);
				continue;
			}
			listening = true;
			tr_store_bus_publish(sc->bus, "*");
		}
		rc = st->ops->poll_notify(st, 500, &chan, &payload);
		if (rc < 0) {
			tr_store_bus_publish(sc->bus, "*");
			usleep(200 * 1000);
		} else if (payload != NULL) {
			tr_store_bus_publish(sc->bus, payload);
		}
		tr_free(chan);
		tr_free(payload);
		chan = payload = NULL;
	}
	tr_store_close(st);
	return NULL;
}

/*
 * The maintenance thread: every period, carry out the jobs that are due
 * (deletions whose window ended, scheduled rotations).  With several
 * nodes on one store each runs it; a job is still done once.
 */
static void *
maintenance_main(void *arg)
{
	struct serve_ctx *sc = arg;
	struct tr_api_thread *t = NULL;
	int64_t next = 0, next_ckpt = 0, next_trim = 0;
	size_t done;

	(void)pthread_setname_np(pthread_self(), "tresord-maint");
	if (tr_api_thread_new(&t, &sc->env) < 0) {
		tr_log_error("maintenance thread cannot start: %s",
		    tresor_error_last());
		return NULL;
	}
	/* jobs decide on what is committed, never on the cache */
	tr_store_cache_bypass(tr_api_thread_store(t), true);
	while (!stop_flag) {
		if (tr_mono_ms() >= next) {
			struct tr_store *st = tr_api_thread_store(t);
			bool got = false;

			(void)tr_usage_flush(sc->env.usage, st);
			/*
			 * Jobs are claimed with etags, so two nodes never
			 * both do one; the lock only saves them the race.
			 */
			if (st->ops->try_lock(st, MAINTENANCE_LOCK, &got) < 0)
				got = true;
			if (!got)
				done = 0;
			else if (tr_api_maintenance(t, tr_now_ms(),
			    &done) < 0)
				tr_log_warn("maintenance: %s",
				    tresor_error_last());
			else if (done > 0)
				tr_log_info("maintenance: %zu job%s done",
				    done, done == 1 ? "" : "s");
			if (got)
				(void)st->ops->unlock(st, MAINTENANCE_LOCK);
			next = tr_mono_ms() + (int64_t)sc->maintenance_sec *
			    1000;
		}
		/* the WAL back into the database, about once a second */
		if (tr_mono_ms() >= next_ckpt) {
			if (tr_store_sqlite_checkpoint(
			    tr_api_thread_store(t)) < 0)
				tr_log_warn("checkpoint: %s",
				    tresor_error_last());
			next_ckpt = tr_mono_ms() + 1000;
		}
		/*
		 * Give back to the system what the allocator keeps free:
		 * caches evict and refill all the time, and without this
		 * the freed pages stay in the process (RSS creeps up).
		 */
		if (tr_mono_ms() >= next_trim) {
			(void)malloc_trim(0);
			next_trim = tr_mono_ms() + 10 * 1000;
		}
		usleep(100 * 1000);
	}
	(void)tr_usage_flush(sc->env.usage, tr_api_thread_store(t));
	tr_api_thread_free(t);
	return NULL;
}

static int
open_store(struct tr_store **out, void *payload)
{
	struct serve_ctx *sc = payload;

	struct tr_store *inner = NULL;
	int rc;

	*out = NULL;
	if ((rc = tr_store_open_url(&inner, sc->db_path, false)) < 0)
		return rc;
	if ((rc = tr_store_cache_wrap(out, inner, sc->bus, true,
	    sc->cache_ttl_ms, sc->cache_bytes)) < 0)
		tr_store_close(inner);
	return rc;
}

static int
rate_limit(void *payload, const char *principal, unsigned int *retry_after)
{
	return tr_ratelimit_take(payload, principal, retry_after);
}

static int
thread_init(void **state_out, void *payload)
{
	struct serve_ctx *sc = payload;
	struct tr_api_thread *t;
	int rc;

	*state_out = NULL;
	if ((rc = tr_api_thread_new(&t, &sc->env)) < 0)
		return rc;
	*state_out = t;
	return 0;
}

static void
thread_fini(void *state)
{
	tr_api_thread_free(state);
}

static int
audit_sink(void *payload, const char *record, size_t len, unsigned int flags,
    uint64_t *ticket)
{
	return tr_audit_write(payload, record, len,
	    ((flags & TR_API_AUDIT_SYNC) != 0 ? TR_AUDIT_SYNC : 0) |
	    ((flags & TR_API_AUDIT_CHECK) != 0 ? TR_AUDIT_CHECK : 0), ticket);
}

static void
handle(void *state, const struct tr_request *req, struct tr_response *resp)
{
	tr_api_handle(state, req, resp);
}

static void
serve_usage(FILE *f)
{
	fprintf(f, "usage: tresord serve --data DIR [--listen HOST:PORT] "
	    "[--threads N] [--cpus LIST]\n"
	    "        [--tls-cert FILE --tls-key FILE] [--insecure-no-tls]\n"
	    "        [--public-url URL] [--log-level debug|info|warn|error]\n"
	    "        [--pkcs11-module PATH (--pkcs11-token-label LABEL | "
	    "--pkcs11-slot N)\n"
	    "         --pkcs11-pin-file FILE]\n"
	    "  --listen HOST:PORT  numeric address (default 127.0.0.1:8200;"
	    " IPv6 as [::1]:8200)\n"
	    "  --threads N         event loops (default: the number of CPUs,"
	    " or of --cpus)\n"
	    "  --cpus LIST         run the event loops on these CPUs (loop i "
	    "on the i-th,\n"
	    "                      e.g. 0 or 0,2 or 0-3) and tresord's other "
	    "threads (group\n"
	    "                      commit, pool, maintenance) on the CPUs not "
	    "listed; best\n"
	    "                      with the disk's interrupts on those "
	    "(default: no placement)\n"
	    "  --public-url URL    base URL of the vault endpoints (default:"
	    " from the Host header)\n"
	    "  --token-ttl SEC     lifetime of workload session tokens "
	    "(default 3600)\n"
	    "  --maintenance-interval SEC  how often due deletions and "
	    "rotations run (default 60)\n"
	    "  --enable-test-clock endpoints that move the clock and run "
	    "maintenance (tests only)\n"
	    "  --audit-log PATH    the audit log (default DIR/audit.log)\n"
	    "  --audit-max-bytes N rotate the audit log past N bytes "
	    "(default 256 MiB; 0: never)\n"
	    "  --store URL         postgres://HOST:PORT/DB, or a SQLite file "
	    "(default:\n"
	    "                      DIR/store.url if init --store wrote it, "
	    "else DIR/tresor.db)\n"
	    "  --user NAME         when started as root, run as NAME (DIR is "
	    "handed to NAME)\n"
	    "  --rate-limit N      requests a second per principal (token "
	    "bucket; default 0: off)\n"
	    "  --rate-burst N      bucket size (default: 2 x --rate-limit)\n"
	    "  --db-pool N         handler threads that wait on the database"
	    " so that the\n"
	    "                      event loops never do (default: 0 on "
	    "SQLite, 16 on PostgreSQL)\n"
	    "  --cache-mb N        memory for the read caches in all, in MiB, "
	    "shared by\n"
	    "                      the store handles (default: 32 MiB a "
	    "handle; one handle\n"
	    "                      per event loop, pool thread and background"
	    " job)\n"
	    TR_HSM_SERVE_USAGE
	    "SIGHUP reloads --tls-cert and --tls-key.\n");
}

/* Split "host:port" or "[v6]:port". */
static int
parse_listen(const char *s, char *host, size_t hostcap, uint16_t *port)
{
	const char *colon;
	uint64_t p;
	size_t hl;

	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s - 1);
		if (hl >= hostcap)
			return -1;
		memcpy(host, s + 1, hl);
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
		if (hl >= hostcap)
			return -1;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	if (tr_parse_u64(colon + 1, strlen(colon + 1), 1, 65535, &p) < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static bool
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/*
 * The instance-principal CA: read from the store, created on first use
 * (kept in the store so every node sharing it is the same CA).
 */
static int
load_ca(struct tr_ca **out, struct tr_keystore *ks, struct tr_store *st)
{
	char *cert = NULL, *key = NULL;
	int rc;

	rc = st->ops->setting_get(st, &cert, "instance_ca.cert");
	if (rc == 0)
		rc = st->ops->setting_get(st, &key, "instance_ca.key");
	if (rc == 0) {
		rc = tr_ca_open(out, ks, cert, key);
	} else if (rc == TRESOR_ENOTFOUND) {
		if ((rc = tr_ca_create(out, ks, &key)) == 0 &&
		    ((rc = st->ops->setting_put(st, "instance_ca.key",
		    key)) < 0 || (rc = st->ops->setting_put(st,
		    "instance_ca.cert", tr_ca_cert_pem(*out))) < 0)) {
			tr_ca_free(*out);
			*out = NULL;
		}
	}
	tr_free(cert);
	tr_free(key);
	return rc;
}

static void
harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (tr_secret_heap_init(SECURE_HEAP_BYTES) < 0)
		tr_log_warn("key material is NOT locked in memory: %s",
		    tresor_error_last());
}

/*
 * The store: --store, else the URL init --store left in DIR/store.url,
 * else the SQLite file DIR/tresor.db.
 */
static int
choose_store(struct serve_ctx *sc, const char *dir, const char *where)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (where != NULL) {
		if (strlen(where) >= sizeof(sc->db_path))
			return tr_error_set(TRESOR_EINVAL, "--store is too "
			    "long");
		(void)snprintf(sc->db_path, sizeof(sc->db_path), "%s", where);
		return 0;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_STORE_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			return tr_error_set(TRESOR_EIO, "cannot read %s: %s",
			    path, strerror(errno));
		(void)snprintf(sc->db_path, sizeof(sc->db_path), "%s/%s", dir,
		    TR_DB_FILE);
		return 0;
	}
	n = read(fd, sc->db_path, sizeof(sc->db_path) - 1);
	close(fd);
	if (n <= 0 || (size_t)n >= sizeof(sc->db_path) - 1)
		return tr_error_set(TRESOR_EIO, "%s does not hold a store URL",
		    path);
	while (n > 0 && (sc->db_path[n - 1] == '\n' ||
	    sc->db_path[n - 1] == ' '))
		n--;
	sc->db_path[n] = '\0';
	return 0;
}

/*
 * Check the store before serving it.  After an unclean stop (the
 * running marker is still there) a SQLite file gets a full
 * integrity_check; otherwise a quick_check when the file is small
 * enough to check in well under a second.  PostgreSQL checks itself.
 */
static int
check_store(struct tr_store *st, const char *where, const char *running)
{
	struct stat sb;
	bool crashed = lstat(running, &sb) == 0;
	int rc;

	if (crashed) {
		tr_log_warn("the last run did not stop cleanly; checking the "
		    "database");
		rc = tr_store_sqlite_check(st, true);
	} else if (stat(where, &sb) == 0 &&
	    sb.st_size <= (off_t)64 * 1024 * 1024) {
		rc = tr_store_sqlite_check(st, false);
	} else {
		return 0;
	}
	if (rc < 0) {
		char msg[512];

		(void)snprintf(msg, sizeof(msg), "%s", tresor_error_last());
		return tr_error_set(rc, "%s: %s", where, msg);
	}
	return 0;
}

/* Leave DIR/tresord.running while serving; its presence means a crash. */
static int
mark_running(const char *path)
{
	char pid[32];
	int fd, n;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		tr_log_warn("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (write(fd, pid, (size_t)n) != n)
		tr_log_warn("cannot write %s", path);
	close(fd);
	return 0;
}

/* hand one path to uid/gid; nftw's callback takes no payload */
static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (sb->st_uid == chown_uid && sb->st_gid == chown_gid)
		return 0;
	if (lchown(path, chown_uid, chown_gid) != 0)
		return tr_error_set(TRESOR_EPERM, "cannot hand %s to the "
		    "service user: %s", path, strerror(errno));
	return 0;
}

/*
 * --user NAME: started as root, give DIR (and the audit log, when it
 * lives elsewhere) to NAME and become NAME for good: supplementary
 * groups dropped, gid then uid set, and a check that root cannot be
 * regained.  Ports below 1024 then need CAP_NET_BIND_SERVICE.
 */
static int
drop_privileges(const char *name, const char *dir, const char *audit_path)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	int rc;

	if (getuid() != 0 && geteuid() != 0) {
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &pwp) == 0 &&
		    pwp != NULL && pw.pw_uid == geteuid())
			return 0;
		return tr_error_set(TRESOR_EPERM, "--user %s needs tresord "
		    "to be started as root", name);
	}
	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &pwp);
	if (rc != 0 || pwp == NULL)
		return tr_error_set(TRESOR_ENOTFOUND, "--user: no user %s",
		    name);
	if (pw.pw_uid == 0)
		return tr_error_set(TRESOR_EINVAL, "--user %s is root; name "
		    "an unprivileged user", name);
	chown_uid = pw.pw_uid;
	chown_gid = pw.pw_gid;
	if (nftw(dir, chown_one, 16, FTW_PHYS) != 0)
		return TRESOR_EPERM;
	if (audit_path != NULL && access(audit_path, F_OK) == 0 &&
	    lchown(audit_path, pw.pw_uid, pw.pw_gid) != 0)
		return tr_error_set(TRESOR_EPERM, "cannot hand %s to %s: %s",
		    audit_path, name, strerror(errno));
	if (setgroups(0, NULL) != 0 || setgid(pw.pw_gid) != 0 ||
	    setuid(pw.pw_uid) != 0)
		return tr_error_set(TRESOR_EPERM, "cannot become %s: %s",
		    name, strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0)
		return tr_error_set(TRESOR_EPERM, "still root after "
		    "becoming %s; refusing to serve", name);
	tr_log_info("running as %s (uid %ld)", name, (long)pw.pw_uid);
	return 0;
}

/* "0,2-3" for a CPU set, into buf. */
static void
cpu_set_text(const cpu_set_t *set, char *buf, size_t cap)
{
	size_t at = 0;
	int c, end;

	buf[0] = '\0';
	for (c = 0; c < CPU_SETSIZE && at < cap; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		for (end = c; end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set);
		    end++)
			;
		at += (size_t)snprintf(buf + at, cap - at, end > c ?
		    "%s%d-%d" : "%s%d", at > 0 ? "," : "", c, end);
		c = end;
	}
}

/*
 * --cpus: the event loops' CPUs, in order, into cpus[]; the calling
 * thread, and so every thread it starts from now on (group commit,
 * pool, maintenance), moves to the CPUs tresord may use that are not
 * listed.  Each loop moves to its own CPU as it starts (http/server.c).
 * Keeping the loops apart from the threads that sleep in fdatasync and
 * from the disk's interrupts is worth a fifth of a loop's reads on a
 * small machine (bench/results.md).
 */
static int
place_threads(const char *list, unsigned int *cpus, size_t cap, size_t *n)
{
	cpu_set_t allowed, rest;
	char a[256], r[256];
	size_t i;

	if (tr_parse_cpu_list(list, CPU_SETSIZE, cpus, cap, n) < 0)
		return TRESOR_EINVAL;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return tr_error_set(TRESOR_EIO, "cannot read the CPUs tresord "
		    "may use: %s", strerror(errno));
	rest = allowed;
	cpu_set_text(&allowed, a, sizeof(a));
	for (i = 0; i < *n; i++) {
		if (!CPU_ISSET(cpus[i], &allowed))
			return tr_error_set(TRESOR_EINVAL, "CPU %u is not "
			    "one tresord may use (%s)", cpus[i], a);
		CPU_CLR(cpus[i], &rest);
	}
	if (CPU_COUNT(&rest) == 0) {
		tr_log_info("event loops on CPUs %s; the other threads "
		    "anywhere (no CPU left unlisted)", list);
		return 0;
	}
	cpu_set_text(&rest, r, sizeof(r));
	if (sched_setaffinity(0, sizeof(rest), &rest) != 0)
		return tr_error_set(TRESOR_EIO, "cannot move threads to CPUs "
		    "%s: %s", r, strerror(errno));
	tr_log_info("event loops on CPUs %s; the other threads on %s", list,
	    r);
	return 0;
}

int
tr_daemon_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 'T' },
		{ "cpus", required_argument, NULL, 'G' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "insecure-no-tls", no_argument, NULL, 'I' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "region", required_argument, NULL, 'r' },
		{ "token-ttl", required_argument, NULL, 't' },
		{ "maintenance-interval", required_argument, NULL, 'M' },
		{ "enable-test-clock", no_argument, NULL, 'C' },
		{ "audit-log", required_argument, NULL, 'A' },
		{ "audit-max-bytes", required_argument, NULL, 'B' },
		{ "store", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'U' },
		{ "rate-limit", required_argument, NULL, 'R' },
		{ "rate-burst", required_argument, NULL, 'b' },
		{ "db-pool", required_argument, NULL, 'P' },
		{ "cache-mb", required_argument, NULL, 'K' },
		{ "pkcs11-module", required_argument, NULL,
		    TR_OPT_PKCS11_MODULE },
		{ "pkcs11-slot", required_argument, NULL, TR_OPT_PKCS11_SLOT },
		{ "pkcs11-token-label", required_argument, NULL,
		    TR_OPT_PKCS11_TOKEN_LABEL },
		{ "pkcs11-pin-file", required_argument, NULL,
		    TR_OPT_PKCS11_PIN_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct serve_ctx sc;
	struct tr_http_config hc;
	struct tr_hsm_opts hsm;
	struct tr_keystore *ks = NULL;
	struct tr_token_issuer *issuer = NULL;
	struct tr_ca *ca = NULL;
	struct tr_store *probe = NULL;
	struct sigaction sa;
	const char *data = NULL, *listen_s = "127.0.0.1:8200";
	char host[INET6_ADDRSTRLEN + 1], path[PATH_MAX], dir[PATH_MAX];
	bool insecure = false;
	uint64_t threads = 0, token_ttl = 3600, maint = 60;
	uint64_t audit_max = (uint64_t)256 * 1024 * 1024;
	uint64_t rate = 0, burst = 0, db_pool = UINT64_MAX, cache_mb = 0;
	struct tr_durable *durable = NULL;
	struct tr_sqlite_wal *wal = NULL;
	bool is_pg;
	const char *store_where = NULL, *run_user = NULL;
	char running[PATH_MAX];
	bool running_made = false;
	const char *audit_path = NULL, *cpus_arg = NULL;
	unsigned int cpus[64];
	size_t ncpus = 0;
	char audit_buf[PATH_MAX];
	struct tr_audit *audit = NULL;
	pthread_t maint_thread, listen_thread;
	bool maint_started = false, listen_started = false;
	uint16_t port = 0;
	long ncpu;
	int c, rc = 1;

	memset(&sc, 0, sizeof(sc));
	memset(&hc, 0, sizeof(hc));
	memset(&hsm, 0, sizeof(hsm));
	sc.env.region = TR_DEFAULT_REGION;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:l:T:G:c:k:Iu:L:r:t:M:CA:B:S:U:R:b:P:K:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'l':
			listen_s = optarg;
			break;
		case 'T':
			if (tr_parse_u64(optarg, strlen(optarg), 1, 64,
			    &threads) < 0)
				return tr_daemon_fail("--threads must be 1..64");
			break;
		case 'G':
			cpus_arg = optarg;
			break;
		case 'c':
			hc.tls_cert = optarg;
			break;
		case 'k':
			hc.tls_key = optarg;
			break;
		case 'I':
			insecure = true;
			break;
		case 'u':
			sc.env.public_url = optarg;
			break;
		case 'r':
			sc.env.region = optarg;
			break;
		case 'M':
			if (tr_parse_u64(optarg, strlen(optarg), 1, 86400,
			    &maint) < 0)
				return tr_daemon_fail("--maintenance-interval "
				    "must be 1 to 86400 seconds");
			break;
		case 'C':
			sc.env.test_clock = true;
			break;
		case 'A':
			audit_path = optarg;
			break;
		case 'S':
			store_where = optarg;
			break;
		case 'U':
			run_user = optarg;
			break;
		case 'R':
			if (tr_parse_u64(optarg, strlen(optarg), 0, 1000000,
			    &rate) < 0)
				return tr_daemon_fail("--rate-limit must be 0 "
				    "(off) to 1000000 requests a second");
			break;
		case 'P':
			if (tr_parse_u64(optarg, strlen(optarg), 0, 64,
			    &db_pool) < 0)
				return tr_daemon_fail("--db-pool must be 0 to "
				    "64 threads");
			break;
		case 'K':
			if (tr_parse_u64(optarg, strlen(optarg), 1, 65536,
			    &cache_mb) < 0)
				return tr_daemon_fail("--cache-mb must be 1 to "
				    "65536 MiB");
			break;
		case 'b':
			if (tr_parse_u64(optarg, strlen(optarg), 1, 10000000,
			    &burst) < 0)
				return tr_daemon_fail("--rate-burst must be 1 "
				    "to 10000000 requests");
			break;
		case 'B':
			if (tr_parse_u64(optarg, strlen(optarg), 0,
			    (uint64_t)1 << 40, &audit_max) < 0)
				return tr_daemon_fail("--audit-max-bytes must be"
				    " a number of bytes (0: never rotate)");
			break;
		case 't':
			if (tr_parse_u64(optarg, strlen(optarg), 60, 86400,
			    &token_ttl) < 0)
				return tr_daemon_fail("--token-ttl must be 60 "
				    "to 86400 seconds");
			break;
		case 'L':
			if (strcmp(optarg, "debug") == 0)
				tr_log_set_level(TR_LOG_DEBUG);
			else if (strcmp(optarg, "info") == 0)
				tr_log_set_level(TR_LOG_INFO);
			else if (strcmp(optarg, "warn") == 0)
				tr_log_set_level(TR_LOG_WARN);
			else if (strcmp(optarg, "error") == 0)
				tr_log_set_level(TR_LOG_ERROR);
			else
				return tr_daemon_fail("--log-level must be "
				    "debug, info, warn or error");
			break;
		case TR_OPT_PKCS11_MODULE:
		case TR_OPT_PKCS11_SLOT:
		case TR_OPT_PKCS11_TOKEN_LABEL:
		case TR_OPT_PKCS11_PIN_FILE:
			if (tr_daemon_hsm_option(&hsm, c, optarg) < 0)
				return tr_daemon_fail("%s",
				    tresor_error_last());
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			serve_usage(stderr);
			return 2;
		}
	}
	if (data == NULL || optind != argc) {
		serve_usage(stderr);
		return 2;
	}
	if (parse_listen(listen_s, host, sizeof(host), &port) < 0)
		return tr_daemon_fail("--listen must be HOST:PORT with a numeric"
		    " address, e.g. 127.0.0.1:8200 or [::1]:8200");
	if ((hc.tls_cert == NULL) != (hc.tls_key == NULL))
		return tr_daemon_fail("--tls-cert and --tls-key go together");
	if (hc.tls_cert == NULL && !is_loopback(host) && !insecure)
		return tr_daemon_fail("refusing to serve %s without TLS: secrets"
		    " would cross the network in clear text. Give --tls-cert "
		    "and --tls-key, or --insecure-no-tls if you really mean it",
		    host);
	if (realpath(data, dir) == NULL)
		return tr_daemon_fail("cannot open data directory %s: %s",
		    data, strerror(errno));
	/* before any thread starts: they inherit the placement */
	if (cpus_arg != NULL &&
	    place_threads(cpus_arg, cpus, sizeof(cpus) / sizeof(cpus[0]),
	    &ncpus) < 0)
		return tr_daemon_fail("--cpus: %s", tresor_error_last());

	if (run_user != NULL && drop_privileges(run_user, dir,
	    audit_path) < 0)
		return tr_daemon_fail("%s", tresor_error_last());
	harden_process();
	tr_json_init();
	if (choose_store(&sc, dir, store_where) < 0)
		return tr_daemon_fail("%s", tresor_error_last());
	is_pg = strncmp(sc.db_path, "postgres", 8) == 0 ||
	    strncmp(sc.db_path, "host=", 5) == 0 ||
	    strncmp(sc.db_path, "dbname=", 7) == 0;
	if (db_pool == UINT64_MAX)
		db_pool = is_pg ? 16 : 0;
	sc.cache_ttl_ms = is_pg ? 5000 : 0;
	if (tr_store_bus_new(&sc.bus) < 0)
		return tr_daemon_fail("%s", tresor_error_last());
	(void)snprintf(path, sizeof(path), "%s/%s", dir, TR_ROOT_KEY_FILE);
	if (tr_keystore_open(&ks, path) < 0 ||
	    tr_daemon_hsm_attach(ks, &hsm, dir) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	/*
	 * Open once here: migrations run and a bad store fails early.  A
	 * SQLite file is checked page by page when the last run did not
	 * stop cleanly (and when it is small enough to check in a moment);
	 * a corrupt one is never served.
	 */
	(void)snprintf(running, sizeof(running), "%s/%s", dir,
	    TR_RUNNING_FILE);
	if (tr_store_open_url(&probe, sc.db_path, false) < 0 ||
	    check_store(probe, sc.db_path, running) < 0) {
		tr_store_close(probe);
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	if (load_ca(&ca, ks, probe) < 0) {
		tr_store_close(probe);
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	tr_store_close(probe);
	if (audit_path == NULL) {
		(void)snprintf(audit_buf, sizeof(audit_buf), "%s/audit.log",
		    dir);
		audit_path = audit_buf;
	}
	if (tr_audit_open(&audit, audit_path, (size_t)audit_max) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	if (tr_usage_new(&sc.env.usage) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	sc.env.audit = audit_sink;
	sc.env.audit_payload = audit;
	/*
	 * Group commit: answers wait (off the event loops) for one shared
	 * fdatasync of the audit log and, on SQLite, of the WAL.
	 */
	if (tr_durable_new(&durable) < 0 ||
	    tr_durable_add_source(durable, tr_audit_sync, NULL, audit) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	if (!is_pg) {
		if (tr_store_sqlite_wal_new(&wal, sc.db_path) < 0 ||
		    tr_durable_add_source(durable, tr_store_sqlite_wal_sync,
		    tr_store_sqlite_wal_idle, wal) < 0) {
			rc = tr_daemon_fail("%s", tresor_error_last());
			goto out;
		}
		tr_store_sqlite_group_commit(true);
	}
	tr_audit_attach(audit, durable);
	sc.env.durable = durable;
	if (tr_token_issuer_new(&issuer, ks, (int64_t)token_ttl) < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	sc.env.ks = ks;
	sc.env.issuer = issuer;
	sc.env.ca = ca;
	sc.env.data_dir = dir;
	sc.env.db_path = sc.db_path;
	sc.env.store_open = open_store;
	sc.env.store_payload = &sc;
	if (rate > 0) {
		if (tr_ratelimit_new(&sc.limiter, (double)rate,
		    (double)(burst > 0 ? burst : 2 * rate)) < 0) {
			rc = tr_daemon_fail("%s", tresor_error_last());
			goto out;
		}
		sc.env.rate_limit = rate_limit;
		sc.env.rate_payload = sc.limiter;
	}

	if (threads == 0 && ncpus > 0)
		threads = ncpus;
	if (threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (uint64_t)ncpu;
	}
	hc.host = host;
	hc.port = port;
	hc.threads = (unsigned int)threads;
	hc.cpus = ncpus > 0 ? cpus : NULL;
	hc.ncpus = ncpus;
	if (cache_mb > 0) {
		/* every loop, pool thread and the background jobs' handle */
		uint64_t handles = threads + db_pool + 1;

		sc.cache_bytes = (size_t)(cache_mb * 1024 * 1024 / handles);
		if (sc.cache_bytes < 1024 * 1024)
			sc.cache_bytes = 1024 * 1024;
	}
	/*
	 * h2o refuses bodies past this in plain text before tresor sees
	 * them; tresor's own limits (1 MiB of JSON, 25 KiB of content)
	 * answer in OCI's envelope well below it.
	 */
	hc.max_body = 16 * 1024 * 1024;
	hc.request_timeout_ms = 10000;
	hc.thread_init = thread_init;
	hc.thread_fini = thread_fini;
	hc.handle = handle;
	hc.payload = &sc;
	hc.tls_reload = &tls_reload_count;
	hc.durable = durable;
	hc.offload_threads = (unsigned int)db_pool;
	hc.offload_queue_max = 4096;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	tr_log_info("serving %s://%s%s%s:%u from %s with %u thread%s",
	    hc.tls_cert != NULL ? "https" : "http",
	    strchr(host, ':') != NULL ? "[" : "", host,
	    strchr(host, ':') != NULL ? "]" : "", (unsigned)port, dir,
	    hc.threads, hc.threads == 1 ? "" : "s");
	sc.maintenance_sec = (unsigned int)maint;
	if (sc.env.test_clock)
		tr_log_warn("--enable-test-clock: the testing endpoints can move"
		    " this server's clock; never use it in production");
	if (mark_running(running) == 0)
		running_made = true;
	if (pthread_create(&maint_thread, NULL, maintenance_main, &sc) == 0)
		maint_started = true;
	if (is_pg && pthread_create(&listen_thread, NULL, listener_main,
	    &sc) == 0)
		listen_started = true;
	rc = tr_http_serve(&hc, &stop_flag);
	stop_flag = 1;
	if (maint_started)
		pthread_join(maint_thread, NULL);
	if (listen_started)
		pthread_join(listen_thread, NULL);
	if (rc < 0) {
		rc = tr_daemon_fail("%s", tresor_error_last());
		goto out;
	}
	tr_log_info("stopped");
	rc = 0;
out:
	/* a clean stop (or a refusal to start): no check needed next time */
	if (running_made)
		(void)unlink(running);
	tr_ratelimit_free(sc.limiter);
	/* after the server: its last answers wait for a last round */
	tr_durable_free(durable);
	tr_store_sqlite_wal_free(wal);
	tr_store_bus_free(sc.bus);
	tr_usage_free(sc.env.usage);
	tr_audit_close(audit);
	tr_ca_free(ca);
	tr_token_issuer_free(issuer);
	tr_keystore_free(ks);
	return rc;
}
