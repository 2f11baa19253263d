/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log writer (http/audit.c) with group commit: records handed
 * over without a flag are queued and written by the sync round, in
 * order, as one chain; a round that cannot write them fails exactly
 * their tickets and leaves no partial line; a checked record first
 * writes what was queued before it.  Writes are made to fail with
 * RLIMIT_FSIZE (EFBIG), as a full disk would.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/audit.h"
#include "util/audit_chain.h"
#include "util/durable.h"
#include "util/error.h"

struct fx {
	char dir[64];
	char path[128];
	struct tr_audit *a;
	struct tr_durable *d;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tr-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
	assert_int_equal(tr_audit_open(&f->a, f->path, 0), 0);
	assert_int_equal(tr_durable_new(&f->d), 0);
	assert_int_equal(tr_durable_add_source(f->d, tr_audit_sync, NULL,
	    f->a), 0);
	tr_audit_attach(f->a, f->d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	tr_durable_free(f->d);
	tr_audit_close(f->a);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static uint64_t
queue(struct fx *f, const char *rec)
{
	uint64_t t = 0;

	assert_int_equal(tr_audit_write(f->a, rec, strlen(rec), 0, &t), 0);
	assert_true(t > 0);
	return t;
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* The log's text, NUL-terminated. */
static size_t
read_log(struct fx *f, char *buf, size_t cap)
{
	FILE *fp = fopen(f->path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return n;
}

/* Let the file grow `room` more bytes: writes past that fail (EFBIG). */
static void
limit_growth(struct fx *f, off_t room, struct rlimit *old)
{
	struct rlimit lim;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
	lim = *old;
	lim.rlim_cur = (rlim_t)(file_size(f->path) + room);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static uint64_t
verify(struct fx *f)
{
	const char *paths[] = { f->path };
	uint64_t n = 0;

	assert_int_equal(tr_audit_verify(paths, 1, &n, NULL, 0), 0);
	return n;
}

/* Queued records reach the file only in the round; all in order. */
static void
test_queued_records_written_by_the_round(void **state)
{
	struct fx *f = *state;
	uint64_t t1, t2, t3;
	char buf[4096];
	size_t n;

	t1 = queue(f, "{\"event\":\"response\",\"n\":1}");
	t2 = queue(f, "{\"event\":\"response\",\"n\":2}");
	t3 = queue(f, "{}");
	assert_true(t1 < t2 && t2 < t3);
	assert_int_equal(tr_durable_wait(f->d, t3), 0);
	assert_int_equal(tr_durable_status(f->d, t1), 1);
	assert_int_equal(verify(f), 3);
	n = read_log(f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"seq\":1,\"prev\":\"0000"));
	assert_non_null(strstr(buf, "\",\"event\":\"response\",\"n\":1}\n"));
	assert_true(strstr(buf, "\"n\":1}") < strstr(buf, "\"n\":2}"));
	/* the empty object gets seq and prev only */
	assert_non_null(strstr(buf, "{\"seq\":3,\"prev\":\""));
	assert_int_equal(buf[n - 1], '\n');
}

/* A write that fails fails the queued tickets and leaves the file whole. */
static void
test_failed_write_fails_its_tickets(void **state)
{
	struct fx *f = *state;
	struct rlimit old;
	char big[2048];
	uint64_t t0, t1, t2, t3;
	off_t before;

	t0 = queue(f, "{\"n\":0}");
	assert_int_equal(tr_durable_wait(f->d, t0), 0);
	before = file_size(f->path);

	/* the next batch does not fit under the file size limit */
	memset(big, 'x', sizeof(big));
	(void)snprintf(big, sizeof(big), "{\"pad\":\"%0*d\"}", 1500, 0);
	limit_growth(f, 200, &old);
	/* one batch: the syncer (idle now) is woken after both */
	tr_durable_defer_begin();
	t1 = queue(f, "{\"n\":1}");
	t2 = queue(f, big);
	tr_durable_defer_end();
	assert_int_equal(tr_durable_wait(f->d, t2), TRESOR_EIO);
	assert_int_equal(tr_durable_status(f->d, t1), TRESOR_EIO);
	assert_int_equal(tr_durable_status(f->d, t0), 1);
	/* nothing of the failed batch stays behind */
	assert_int_equal(file_size(f->path), before);
	assert_int_equal(verify(f), 1);

	/* space again: the chain goes on from the last written record */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	t3 = queue(f, "{\"n\":3}");
	assert_int_equal(tr_durable_wait(f->d, t3), 0);
	assert_int_equal(verify(f), 2);
}

/* A checked record is written at once, after what was queued before it. */
static void
test_checked_record_writes_the_queue_first(void **state)
{
	struct fx *f = *state;
	const char *rec = "{\"event\":\"request\"}";
	char buf[4096];
	uint64_t t1;

	t1 = queue(f, "{\"event\":\"response\",\"n\":1}");
	assert_int_equal(tr_audit_write(f->a, rec, strlen(rec),
	    TR_AUDIT_CHECK, NULL), 0);
	/* in the file now, before any round */
	(void)read_log(f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"n\":1}\n{\"seq\":2,"));
	assert_non_null(strstr(buf, "\"event\":\"request\"}\n"));
	assert_int_equal(tr_durable_wait(f->d, t1), 0);
	assert_int_equal(verify(f), 2);
}

/*
 * A checked write that fails drops what was queued before it: those
 * tickets fail although their own round (with nothing left to write)
 * succeeds.
 */
static void
test_failed_checked_write_fails_queued_tickets(void **state)
{
	struct fx *f = *state;
	struct rlimit old;
	char rec[600];
	uint64_t t0, t1, t2;
	off_t before;

	t0 = queue(f, "{\"n\":0}");
	assert_int_equal(tr_durable_wait(f->d, t0), 0);
	before = file_size(f->path);
	(void)snprintf(rec, sizeof(rec), "{\"pad\":\"%0*d\"}", 400, 0);
	limit_growth(f, 300, &old);
	tr_durable_defer_begin();
	t1 = queue(f, "{\"n\":1}");
	assert_int_equal(tr_audit_write(f->a, rec, strlen(rec),
	    TR_AUDIT_CHECK, NULL), TRESOR_EIO);
	tr_durable_defer_end();
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(tr_durable_wait(f->d, t1), TRESOR_EIO);
	assert_int_equal(file_size(f->path), before);
	/* later tickets are not tainted */
	t2 = queue(f, "{\"n\":2}");
	assert_int_equal(tr_durable_wait(f->d, t2), 0);
	assert_int_equal(tr_durable_status(f->d, t0), 1);
	assert_int_equal(verify(f), 2);
}

/* A removed log fails the round and the queued tickets. */
static void
test_removed_log_fails_queued_tickets(void **state)
{
	struct fx *f = *state;
	const char *rec = "{\"event\":\"request\"}";
	uint64_t t1;

	assert_int_equal(unlink(f->path), 0);
	t1 = queue(f, "{\"n\":1}");
	assert_int_equal(tr_durable_wait(f->d, t1), TRESOR_EIO);
	assert_int_equal(tr_audit_write(f->a, rec, strlen(rec),
	    TR_AUDIT_CHECK, NULL), TRESOR_EIO);
}

/* Queued records rotate the log past its size; the chain spans the files. */
static void
test_rotation_keeps_the_chain(void **state)
{
	struct fx *f = *state;
	char pattern[160], cmd[256], line[256], *paths[8];
	uint64_t t = 0, n = 0;
	size_t i, np = 0;
	FILE *ls;

	tr_durable_free(f->d);
	tr_audit_close(f->a);
	assert_int_equal(tr_audit_open(&f->a, f->path, 600), 0);
	assert_int_equal(tr_durable_new(&f->d), 0);
	assert_int_equal(tr_durable_add_source(f->d, tr_audit_sync, NULL,
	    f->a), 0);
	tr_audit_attach(f->a, f->d);
	for (i = 0; i < 20; i++) {
		t = queue(f, "{\"event\":\"response\",\"pad\":\"0123456789\"}");
		assert_int_equal(tr_durable_wait(f->d, t), 0);
	}
	/* the rotated files, oldest first, then the current one */
	(void)snprintf(pattern, sizeof(pattern), "%s.0*", f->path);
	(void)snprintf(cmd, sizeof(cmd), "ls %s", pattern);
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (np < 7 && fgets(line, sizeof(line), ls) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		paths[np++] = strdup(line);
	}
	pclose(ls);
	assert_true(np >= 2);
	paths[np++] = strdup(f->path);
	assert_int_equal(tr_audit_verify((const char *const *)paths, np, &n,
	    NULL, 0), 0);
	assert_int_equal(n, 20);
	for (i = 0; i < np; i++)
		free(paths[i]);
}

/* Not an object, or too long: refused before anything is queued. */
static void
test_bad_records_refused(void **state)
{
	struct fx *f = *state;
	static char huge[TR_AUDIT_LINE_MAX];
	uint64_t t = 0;

	assert_int_equal(tr_audit_write(f->a, "[1]", 3, 0, &t), TRESOR_EIO);
	assert_int_equal(tr_audit_write(f->a, "{", 1, 0, &t), TRESOR_EIO);
	memset(huge, ' ', sizeof(huge));
	huge[0] = '{';
	huge[sizeof(huge) - 1] = '}';
	assert_int_equal(tr_audit_write(f->a, huge, sizeof(huge), 0, &t),
	    TRESOR_EIO);
	assert_int_equal(t, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_queued_records_written_by_the_round, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_write_fails_its_tickets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_checked_record_writes_the_queue_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_checked_write_fails_queued_tickets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_removed_log_fails_queued_tickets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_the_chain,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_records_refused,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
