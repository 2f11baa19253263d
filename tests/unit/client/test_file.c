/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresor_secret_write_file(): mode 0600 whatever the umask (000 and
 * 0277 included), no moment with a wider mode (checked from another
 * thread while writing a large file), a symlink planted at the
 * temporary path is refused and its target untouched, a symlink at the
 * target is replaced not followed, the final mode and owner, bad modes
 * and paths refused, no temporary file left behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client_int.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/tresor-fileXXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
read_back(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Only the expected entries are in the directory (no temporaries). */
static size_t
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_mode_0600_under_umask_000(void **state)
{
	char path[128], buf[64];
	mode_t old;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/a", dir);
	old = umask(000);
	assert_int_equal(tresor_secret_write_file(path, "hunter2", 7, NULL), 0);
	umask(old);
	assert_int_equal(mode_of(path), 0600);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "hunter2");
	/* a restrictive umask does not leave it unreadable either */
	old = umask(0277);
	assert_int_equal(tresor_secret_write_file(path, "v2", 2, NULL), 0);
	umask(old);
	assert_int_equal(mode_of(path), 0600);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "v2");
	assert_int_equal(entries(), 1);
	unlink(path);
}

static volatile int watching;
static volatile int wider_seen;
static char watch_dir[128];

/* Watch every file in the directory; note a mode wider than 0600. */
static void *
watcher(void *arg)
{
	(void)arg;
	while (watching) {
		DIR *d = opendir(watch_dir);
		struct dirent *e;
		char p[512];
		struct stat st;

		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
			    e->d_name[1] == '.'))
				continue;
			(void)snprintf(p, sizeof(p), "%s/%s", watch_dir,
			    e->d_name);
			if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
			    (st.st_mode & 0077) != 0)
				wider_seen = 1;
		}
		closedir(d);
	}
	return NULL;
}

static void
test_never_wider_while_writing(void **state)
{
	char path[160];
	size_t big = 8 * 1024 * 1024, i;
	char *data = malloc(big);
	pthread_t th;
	mode_t old;

	(void)state;
	memset(data, 's', big);
	(void)snprintf(watch_dir, sizeof(watch_dir), "%s/w", dir);
	mkdir(watch_dir, 0700);
	(void)snprintf(path, sizeof(path), "%s/secret", watch_dir);
	watching = 1;
	wider_seen = 0;
	pthread_create(&th, NULL, watcher, NULL);
	old = umask(000);
	for (i = 0; i < 5; i++)
		assert_int_equal(tresor_secret_write_file(path, data, big,
		    NULL), 0);
	umask(old);
	watching = 0;
	pthread_join(th, NULL);
	assert_int_equal(wider_seen, 0);
	unlink(path);
	rmdir(watch_dir);
	free(data);
}

static void
test_symlink_at_temporary_path(void **state)
{
	char path[128], tmp[64], victim[128], link[160], buf[64];
	FILE *f;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/target", dir);
	(void)snprintf(victim, sizeof(victim), "%s/victim", dir);
	(void)snprintf(tmp, sizeof(tmp), ".target.tmp-fixed");
	(void)snprintf(link, sizeof(link), "%s/%s", dir, tmp);
	f = fopen(victim, "w");
	fputs("untouched", f);
	fclose(f);
	chmod(victim, 0644);
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(tr_write_file(path, "hunter2", 7, NULL, tmp),
	    TRESOR_EEXISTS);
	/* the victim keeps its content and mode; nothing at the target */
	read_back(victim, buf, sizeof(buf));
	assert_string_equal(buf, "untouched");
	assert_int_equal(mode_of(victim), 0644);
	assert_int_equal(access(path, F_OK), -1);
	/* the planted link is not removed by the failed attempt */
	(void)mode_of(link);
	/* a dangling symlink too */
	unlink(victim);
	assert_int_equal(tr_write_file(path, "hunter2", 7, NULL, tmp),
	    TRESOR_EEXISTS);
	assert_int_equal(access(victim, F_OK), -1);
	unlink(link);
	/* random names: a planted link is stepped around */
	assert_int_equal(tresor_secret_write_file(path, "ok", 2, NULL), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "ok");
	unlink(path);
}

static void
test_symlink_at_target_is_replaced(void **state)
{
	char path[128], victim[128], buf[64];
	struct stat st;
	FILE *f;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/t2", dir);
	(void)snprintf(victim, sizeof(victim), "%s/victim2", dir);
	f = fopen(victim, "w");
	fputs("untouched", f);
	fclose(f);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(tresor_secret_write_file(path, "new", 3, NULL), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	read_back(victim, buf, sizeof(buf));
	assert_string_equal(buf, "untouched");
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "new");
	unlink(path);
	unlink(victim);
}

static void
test_final_mode_and_owner(void **state)
{
	tresor_write_file_options o = TRESOR_WRITE_FILE_OPTIONS_INIT;
	char path[128];
	struct stat st;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/m", dir);
	o.mode = 0640;
	assert_int_equal(tresor_secret_write_file(path, "x", 1, &o), 0);
	assert_int_equal(mode_of(path), 0640);
	o.mode = 0400;
	assert_int_equal(tresor_secret_write_file(path, "y", 1, &o), 0);
	assert_int_equal(mode_of(path), 0400);
	/* owner: our own ids always work */
	o.mode = 0600;
	o.set_owner = true;
	o.uid = getuid();
	o.gid = getgid();
	assert_int_equal(tresor_secret_write_file(path, "z", 1, &o), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, getuid());
	if (getuid() != 0) {
		o.uid = 0;
		assert_int_equal(tresor_secret_write_file(path, "w", 1, &o),
		    TRESOR_EPERM);
	}
	assert_int_equal(entries(), 1);
	unlink(path);
}

static void
test_bad_arguments(void **state)
{
	tresor_write_file_options o = TRESOR_WRITE_FILE_OPTIONS_INIT;
	char path[128];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/b", dir);
	o.mode = 0602;		/* writable by others */
	assert_int_equal(tresor_secret_write_file(path, "x", 1, &o),
	    TRESOR_EINVAL);
	o.mode = 04600;		/* setuid */
	assert_int_equal(tresor_secret_write_file(path, "x", 1, &o),
	    TRESOR_EINVAL);
	o.mode = 0044;		/* no owner access */
	assert_int_equal(tresor_secret_write_file(path, "x", 1, &o),
	    TRESOR_EINVAL);
	assert_int_equal(tresor_secret_write_file("", "x", 1, NULL),
	    TRESOR_EINVAL);
	(void)snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(tresor_secret_write_file(path, "x", 1, NULL),
	    TRESOR_EINVAL);
	assert_int_equal(tresor_secret_write_file("/nonexistent/dir/f", "x", 1,
	    NULL), TRESOR_ENOTFOUND);
	/* a directory at the target: the rename fails, nothing is left */
	(void)snprintf(path, sizeof(path), "%s/d", dir);
	mkdir(path, 0700);
	assert_int_equal(tresor_secret_write_file(path, "x", 1, NULL),
	    TRESOR_EIO);
	rmdir(path);
	assert_int_equal(entries(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_0600_under_umask_000),
		cmocka_unit_test(test_never_wider_while_writing),
		cmocka_unit_test(test_symlink_at_temporary_path),
		cmocka_unit_test(test_symlink_at_target_is_replaced),
		cmocka_unit_test(test_final_mode_and_owner),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
