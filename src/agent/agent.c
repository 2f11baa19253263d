/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's loop (see agent.h, docs/agent.md).
 *
 * Every secret has a due time.  When it is due the agent reads the
 * bundle; a new version (or a missing file) is written with
 * tresor_secret_write_file() (temporary file, 0600 from creation,
 * fsync, rename, directory fsync) and the secret's command runs once per
 * pass.  The first pass after a start adopts a file that already holds
 * the current content instead of rewriting it, so a restart does not
 * reload services.  A failed read keeps the file as it is, logs the
 * secret's OCID and the version kept, and retries with exponential
 * backoff and jitter capped by max_backoff and the TTL.
 *
 * Signals are blocked and taken with sigtimedwait() while the agent
 * sleeps: SIGTERM and SIGINT end it cleanly (exit 0), SIGHUP reloads the
 * configuration (a bad new one is refused and the old one kept).  A
 * request in flight is abandoned when SIGTERM arrives (the client's
 * cancel callback looks at the pending signals).
 *
 * Log lines name secrets by label, OCID, version and path; never content.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "tresor/tresor.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/error.h"
#include "util/rand.h"
#include "util/secret.h"

struct state {
	bool have_version;
	uint64_t version;
	int64_t next_due;	/* monotonic ms */
	unsigned int failures;
	bool changed;		/* written in this pass */
	bool ok;		/* last read succeeded */
};

struct agent {
	const struct tr_agent_args *args;
	struct tr_agent_config cfg;
	struct state *st;
	tresor_config *tcfg;
	tresor_client *client;
	int level;
	sigset_t sigs;
};

/* ------------------------------------------------------------------ */
/* logging                                                            */
/* ------------------------------------------------------------------ */

static void
alog(struct agent *a, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
alog(struct agent *a, int level, const char *fmt, ...)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARN",
		"ERROR" };
	char ts[TR_TIME_RFC3339_LEN], msg[1024];
	va_list ap;

	if (level < a->level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tr_time_rfc3339(ts, tr_now_ms());
	fprintf(stderr, "%s tresor-agent[%ld]: %s: %s\n", ts, (long)getpid(),
	    names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
	fflush(stderr);
}

static void
client_log(tresor_log_level level, const char *msg, void *payload)
{
	alog(payload, (int)level, "%s", msg);
}

/* Stop waiting on the network when SIGTERM or SIGINT is pending. */
static int
cancelled(void *payload)
{
	sigset_t pend;

	(void)payload;
	if (sigpending(&pend) != 0)
		return 0;
	return sigismember(&pend, SIGTERM) == 1 ||
	    sigismember(&pend, SIGINT) == 1;
}

/* ------------------------------------------------------------------ */
/* the client                                                         */
/* ------------------------------------------------------------------ */

static int
make_client(struct agent *a, const struct tr_agent_config *c,
    tresor_config **tcfg_out, tresor_client **client_out)
{
	tresor_config_options co = TRESOR_CONFIG_OPTIONS_INIT;
	tresor_client_options cl = TRESOR_CLIENT_OPTIONS_INIT;
	const char *auth;
	int rc;

	*tcfg_out = NULL;
	*client_out = NULL;
	co.profile = a->args->profile != NULL ? a->args->profile : c->profile;
	co.config_file = a->args->config_file != NULL ?
	    a->args->config_file : c->config_file;
	co.endpoint = a->args->endpoint != NULL ? a->args->endpoint :
	    c->endpoint;
	auth = a->args->auth != NULL ? a->args->auth : c->auth;
	if (auth != NULL && (rc = tresor_auth_parse(&co.auth, auth)) < 0)
		return rc;
	if ((rc = tresor_config_load(tcfg_out, &co)) < 0)
		return rc;
	cl.config = *tcfg_out;
	/* the agent backs off per secret: one quick retry per read */
	cl.max_attempts = 2;
	cl.base_delay_ms = 500;
	cl.max_delay_ms = 2000;
	cl.max_retry_after_ms = 5000;
	cl.connect_timeout_ms = 5000;
	cl.timeout_ms = 30000;
	cl.ca_file = a->args->cert_bundle != NULL ? a->args->cert_bundle :
	    c->ca_file;
	cl.log_fn = client_log;
	cl.log_payload = a;
	cl.cancel_fn = cancelled;
	if ((rc = tresor_client_new(client_out, &cl)) < 0) {
		tresor_config_free(*tcfg_out);
		*tcfg_out = NULL;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* files and commands                                                 */
/* ------------------------------------------------------------------ */

/*
 * Does `path` hold exactly `len` bytes equal to `data`, with the mode
 * the configuration asks for?  (The first pass adopts such a file.)
 */
static bool
file_matches(const char *path, const unsigned char *data, size_t len,
    unsigned int mode)
{
	struct tr_secret *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	bool same = false;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size != len || (st.st_mode & 07777) != mode ||
	    tr_secret_new(&buf, len + 1) < 0)
		goto out;
	while (got < len + 1) {
		n = read(fd, buf->ptr + got, len + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	same = got == len && (len == 0 || tr_ct_eq(buf->ptr, data, len));
out:
	tr_secret_free(buf);
	close(fd);
	return same;
}

/* Run `cmd` with /bin/sh, waiting at most `timeout_ms`. */
static void
run_command(struct agent *a, const struct tr_agent_secret *s, uint64_t ver)
{
	char verbuf[24];
	sigset_t none;
	pid_t pid, w;
	int status = 0, fd;
	int64_t deadline;
	struct timespec ts = { 0, 50 * 1000000L };

	(void)snprintf(verbuf, sizeof(verbuf), "%llu",
	    (unsigned long long)ver);
	pid = fork();
	if (pid < 0) {
		alog(a, TRESOR_LOG_ERROR, "secret %s: cannot run its command: "
		    "fork: %s", s->label, strerror(errno));
		return;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		setenv("TRESOR_SECRET_NAME", s->label, 1);
		setenv("TRESOR_SECRET_PATH", s->path, 1);
		setenv("TRESOR_SECRET_VERSION", verbuf, 1);
		if (s->secret_id != NULL)
			setenv("TRESOR_SECRET_ID", s->secret_id, 1);
		execl("/bin/sh", "sh", "-c", s->command, (char *)NULL);
		_exit(127);
	}
	alog(a, TRESOR_LOG_INFO, "secret %s: running its command (pid %ld)",
	    s->label, (long)pid);
	deadline = tr_mono_ms() + (int64_t)a->cfg.command_timeout_ms;
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			alog(a, TRESOR_LOG_ERROR, "secret %s: waitpid: %s",
			    s->label, strerror(errno));
			return;
		}
		if (tr_mono_ms() >= deadline) {
			alog(a, TRESOR_LOG_ERROR, "secret %s: command still "
			    "running after %llu s: killing it", s->label,
			    (unsigned long long)(a->cfg.command_timeout_ms /
			    1000));
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return;
		}
		(void)nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		alog(a, TRESOR_LOG_INFO, "secret %s: command succeeded",
		    s->label);
	else if (WIFEXITED(status))
		alog(a, TRESOR_LOG_WARN, "secret %s: command exited with %d",
		    s->label, WEXITSTATUS(status));
	else
		alog(a, TRESOR_LOG_WARN, "secret %s: command killed by signal "
		    "%d", s->label, WIFSIGNALED(status) ? WTERMSIG(status) :
		    0);
}

/* ------------------------------------------------------------------ */
/* one secret                                                         */
/* ------------------------------------------------------------------ */

static uint64_t
ttl_of(const struct agent *a, const struct tr_agent_secret *s)
{
	return s->ttl_ms != 0 ? s->ttl_ms : a->cfg.ttl_ms;
}

/* Equal jitter: [bound/2, bound], bound doubling from 1 s. */
static uint64_t
backoff(const struct agent *a, const struct tr_agent_secret *s,
    unsigned int failures)
{
	uint64_t bound = 1000, cap = a->cfg.max_backoff_ms, r = 0;
	unsigned int i;

	if (ttl_of(a, s) < cap)
		cap = ttl_of(a, s);
	for (i = 1; i < failures && bound < cap; i++)
		bound *= 2;
	if (bound > cap)
		bound = cap;
	if (tr_random_bytes(&r, sizeof(r)) < 0)
		r = (uint64_t)tr_mono_ms();
	return bound / 2 + r % (bound / 2 + 1);
}

static void
render(struct agent *a, size_t i)
{
	const struct tr_agent_secret *s = &a->cfg.s[i];
	struct state *st = &a->st[i];
	tresor_bundle_selector sel = TRESOR_BUNDLE_SELECTOR_INIT;
	tresor_write_file_options wo = TRESOR_WRITE_FILE_OPTIONS_INIT;
	tresor_secret_bundle *b = NULL;
	const unsigned char *data;
	const char *id;
	struct stat fst;
	uint64_t ver, delay;
	size_t len;
	int64_t now;
	int rc;

	sel.secret_id = s->secret_id;
	sel.vault_id = s->vault_id;
	sel.secret_name = s->name;
	sel.stage = s->stage;
	sel.version_number = s->version;
	rc = tresor_secret_bundle_get(&b, a->client, &sel);
	now = tr_mono_ms();
	if (rc < 0) {
		char kept[200];

		st->ok = false;
		st->failures++;
		delay = backoff(a, s, st->failures);
		if (st->have_version)
			(void)snprintf(kept, sizeof(kept), "keeping version "
			    "%llu in %s", (unsigned long long)st->version,
			    s->path);
		else
			(void)snprintf(kept, sizeof(kept), "nothing written "
			    "to %s yet", s->path);
		alog(a, rc == TRESOR_ENET || rc == TRESOR_EUNAVAIL ?
		    TRESOR_LOG_WARN : TRESOR_LOG_ERROR, "secret %s (%s): %s: "
		    "%s; %s; retrying in %llu s (failure %u)", s->label,
		    s->secret_id != NULL ? s->secret_id : s->name,
		    rc == TRESOR_ENET ? "tresord unreachable" :
		    "cannot read the secret", tresor_error_last(), kept,
		    (unsigned long long)((delay + 999) / 1000), st->failures);
		st->next_due = now + (int64_t)delay;
		return;
	}
	ver = tresor_secret_bundle_version(b);
	id = tresor_secret_bundle_secret_id(b);
	data = tresor_secret_bundle_content(b, &len);
	if (st->failures > 0)
		alog(a, TRESOR_LOG_INFO, "secret %s (%s): reachable again "
		    "after %u failure(s)", s->label, id, st->failures);
	st->failures = 0;
	st->ok = true;
	st->next_due = now + (int64_t)ttl_of(a, s);
	if (st->have_version && st->version == ver &&
	    stat(s->path, &fst) == 0) {
		alog(a, TRESOR_LOG_DEBUG, "secret %s (%s): version %llu "
		    "unchanged", s->label, id, (unsigned long long)ver);
		goto out;
	}
	if (!st->have_version && file_matches(s->path, data, len, s->mode)) {
		alog(a, TRESOR_LOG_INFO, "secret %s (%s): %s already holds "
		    "version %llu", s->label, id, s->path,
		    (unsigned long long)ver);
		st->have_version = true;
		st->version = ver;
		goto out;
	}
	wo.mode = s->mode;
	wo.set_owner = s->set_owner;
	wo.uid = s->uid;
	wo.gid = s->gid;
	if (tresor_secret_write_file(s->path, data, len, &wo) < 0) {
		st->ok = false;
		st->failures++;
		delay = backoff(a, s, st->failures);
		alog(a, TRESOR_LOG_ERROR, "secret %s (%s): cannot write "
		    "version %llu to %s: %s; retrying in %llu s", s->label, id,
		    (unsigned long long)ver, s->path, tresor_error_last(),
		    (unsigned long long)((delay + 999) / 1000));
		st->next_due = now + (int64_t)delay;
		goto out;
	}
	if (st->have_version && st->version != ver)
		alog(a, TRESOR_LOG_INFO, "secret %s (%s): wrote version %llu "
		    "to %s (was version %llu)", s->label, id,
		    (unsigned long long)ver, s->path,
		    (unsigned long long)st->version);
	else
		alog(a, TRESOR_LOG_INFO, "secret %s (%s): wrote version %llu "
		    "to %s", s->label, id, (unsigned long long)ver, s->path);
	st->have_version = true;
	st->version = ver;
	st->changed = true;
out:
	tresor_secret_bundle_free(b);
}

/* One pass over the due secrets, then their commands (each once). */
static void
pass(struct agent *a)
{
	size_t i, k;
	int64_t now = tr_mono_ms();

	for (i = 0; i < a->cfg.n; i++) {
		if (cancelled(NULL))
			return;
		if (a->st[i].next_due <= now)
			render(a, i);
	}
	for (i = 0; i < a->cfg.n; i++) {
		const struct tr_agent_secret *s = &a->cfg.s[i];

		if (!a->st[i].changed || s->command == NULL)
			continue;
		/* the same command for several changed secrets runs once */
		for (k = 0; k < i; k++)
			if (a->st[k].changed && a->cfg.s[k].command != NULL &&
			    strcmp(a->cfg.s[k].command, s->command) == 0)
				break;
		if (k == i)
			run_command(a, s, a->st[i].version);
	}
	for (i = 0; i < a->cfg.n; i++)
		a->st[i].changed = false;
}

/* ------------------------------------------------------------------ */
/* configuration reload                                               */
/* ------------------------------------------------------------------ */

static bool
same_str(const char *x, const char *y)
{
	return (x == NULL && y == NULL) || (x != NULL && y != NULL &&
	    strcmp(x, y) == 0);
}

static void
reload(struct agent *a)
{
	struct tr_agent_config nc;
	struct state *ns = NULL;
	tresor_config *tcfg = NULL;
	tresor_client *client = NULL;
	size_t i, k;

	if (tr_agent_config_load(&nc, a->args->config_path) < 0) {
		alog(a, TRESOR_LOG_ERROR, "reload refused, keeping the running "
		    "configuration: %s", tresor_error_last());
		return;
	}
	if (make_client(a, &nc, &tcfg, &client) < 0) {
		alog(a, TRESOR_LOG_ERROR, "reload refused, keeping the running "
		    "configuration: %s", tresor_error_last());
		tr_agent_config_dispose(&nc);
		return;
	}
	ns = tr_calloc(nc.n, sizeof(*ns));
	if (ns == NULL) {
		alog(a, TRESOR_LOG_ERROR, "reload refused: out of memory");
		tresor_client_free(client);
		tresor_config_free(tcfg);
		tr_agent_config_dispose(&nc);
		return;
	}
	/* keep what is known of secrets that did not change */
	for (i = 0; i < nc.n; i++) {
		for (k = 0; k < a->cfg.n; k++) {
			const struct tr_agent_secret *o = &a->cfg.s[k];
			const struct tr_agent_secret *n = &nc.s[i];

			if (same_str(o->label, n->label) &&
			    same_str(o->secret_id, n->secret_id) &&
			    same_str(o->vault_id, n->vault_id) &&
			    same_str(o->name, n->name) &&
			    same_str(o->stage, n->stage) &&
			    o->version == n->version &&
			    same_str(o->path, n->path) && o->mode == n->mode) {
				ns[i].have_version = a->st[k].have_version;
				ns[i].version = a->st[k].version;
			}
		}
		ns[i].next_due = 0;
	}
	tresor_client_free(a->client);
	tresor_config_free(a->tcfg);
	tr_agent_config_dispose(&a->cfg);
	tr_free(a->st);
	a->cfg = nc;
	a->st = ns;
	a->client = client;
	a->tcfg = tcfg;
	if (a->args->log_level == TRESOR_LOG_INFO && a->cfg.log_level >= 0)
		a->level = a->cfg.log_level;
	alog(a, TRESOR_LOG_INFO, "configuration reloaded: %zu secret(s)",
	    a->cfg.n);
}

/* ------------------------------------------------------------------ */
/* the loop                                                           */
/* ------------------------------------------------------------------ */

int
tr_agent_run(const struct tr_agent_args *args)
{
	struct agent a;
	struct timespec ts;
	siginfo_t info;
	int64_t next, now;
	size_t i;
	int sig, rc = 1;

	memset(&a, 0, sizeof(a));
	a.args = args;
	a.level = args->log_level;
	sigemptyset(&a.sigs);
	sigaddset(&a.sigs, SIGTERM);
	sigaddset(&a.sigs, SIGINT);
	sigaddset(&a.sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &a.sigs, NULL) != 0) {
		alog(&a, TRESOR_LOG_ERROR, "sigprocmask: %s", strerror(errno));
		return 1;
	}
	if (tr_agent_config_load(&a.cfg, args->config_path) < 0) {
		alog(&a, TRESOR_LOG_ERROR, "%s", tresor_error_last());
		return 1;
	}
	if (args->log_level == TRESOR_LOG_INFO && a.cfg.log_level >= 0)
		a.level = a.cfg.log_level;
	if (make_client(&a, &a.cfg, &a.tcfg, &a.client) < 0) {
		alog(&a, TRESOR_LOG_ERROR, "%s", tresor_error_last());
		goto out;
	}
	a.st = tr_calloc(a.cfg.n, sizeof(*a.st));
	if (a.st == NULL) {
		alog(&a, TRESOR_LOG_ERROR, "out of memory");
		goto out;
	}
	alog(&a, TRESOR_LOG_INFO, "started: %zu secret(s) from %s, endpoint "
	    "%s, ttl %llu s", a.cfg.n, args->config_path,
	    tresor_client_endpoint(a.client),
	    (unsigned long long)(a.cfg.ttl_ms / 1000));
	for (;;) {
		pass(&a);
		if (args->once) {
			rc = 0;
			for (i = 0; i < a.cfg.n; i++)
				if (!a.st[i].ok)
					rc = 1;
			goto out;
		}
		now = tr_mono_ms();
		next = now + 86400000;
		for (i = 0; i < a.cfg.n; i++)
			if (a.st[i].next_due < next)
				next = a.st[i].next_due;
		if (next < now)
			next = now;
		ts.tv_sec = (time_t)((next - now) / 1000);
		ts.tv_nsec = (long)((next - now) % 1000) * 1000000L;
		sig = sigtimedwait(&a.sigs, &info, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			alog(&a, TRESOR_LOG_INFO, "%s: stopping; the files "
			    "stay as they are", sig == SIGTERM ? "SIGTERM" :
			    "SIGINT");
			rc = 0;
			goto out;
		}
		if (sig == SIGHUP) {
			alog(&a, TRESOR_LOG_INFO, "SIGHUP: reloading %s",
			    args->config_path);
			reload(&a);
		}
	}
out:
	tresor_client_free(a.client);
	tresor_config_free(a.tcfg);
	tr_agent_config_dispose(&a.cfg);
	tr_free(a.st);
	return rc;
}
