/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresor_secret_write_file(): atomic, private writes of secret content
 * (include/tresor/file.h, STYLE S5).
 *
 * 1. open the target's directory (O_DIRECTORY) and work relative to it,
 *    so the directory cannot be swapped under us between steps;
 * 2. create ".<name>.tmp-<random>" there with
 *    O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC and the owner bits of
 *    the final mode (at most 0600); O_EXCL|O_NOFOLLOW fail on anything
 *    planted at that name, symlinks included, and a new random name is
 *    drawn (a fixed name in tests fails instead);
 * 3. fchmod the descriptor to those bits, whatever the umask did;
 * 4. write everything, fsync;
 * 5. fchown when asked, then widen to the final mode (never before the
 *    owner is right);
 * 6. renameat over the target (a symlink at the target is replaced, not
 *    followed), fsync the directory.
 * On any failure the temporary file is unlinked and the target is left
 * as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/rand.h"

#define TMP_TRIES 16

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Split `path` into a directory (new string) and its last component. */
static int
split_path(char **dir_out, const char **base_out, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	*dir_out = NULL;
	if (slash == NULL) {
		dir = tr_strdup(".");
		*base_out = path;
	} else {
		dir = tr_strndup(path, slash == path ? 1 : (size_t)(slash -
		    path));
		*base_out = slash + 1;
	}
	if (dir == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	if ((*base_out)[0] == '\0' || strcmp(*base_out, ".") == 0 ||
	    strcmp(*base_out, "..") == 0) {
		tr_free(dir);
		return tr_error_set(TRESOR_EINVAL,
		    "'%.200s' does not name a file", path);
	}
	*dir_out = dir;
	return 0;
}

int
tr_write_file(const char *path, const void *data, size_t len,
    const tresor_write_file_options *opts, const char *tmp_name)
{
	static const tresor_write_file_options defaults =
	    TRESOR_WRITE_FILE_OPTIONS_INIT;
	const tresor_write_file_options *o = opts == NULL ? &defaults : opts;
	char name[NAME_MAX + 1], *dir = NULL;
	const char *base;
	unsigned char rnd[8];
	mode_t mode, first;
	bool created = false;
	int dfd = -1, fd = -1, tries, i, rc = TRESOR_EINTERNAL;

	if (path == NULL || path[0] == '\0' || (data == NULL && len != 0) ||
	    o->version != TRESOR_WRITE_FILE_OPTIONS_VERSION) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "tresor_secret_write_file: a path and options of version "
		    "%u are required", TRESOR_WRITE_FILE_OPTIONS_VERSION);
		goto out;
	}
	mode = o->mode == 0 ? 0600 : (mode_t)o->mode;
	if ((mode & ~(mode_t)0777) != 0 || (mode & 0002) != 0 ||
	    (mode & 0600) == 0) {
		rc = tr_error_set(TRESOR_EINVAL,
		    "mode %04o is not allowed for a secret file (permission "
		    "bits only, readable by the owner, never writable by "
		    "others)", (unsigned int)o->mode);
		goto out;
	}
	first = mode & 0600;
	if ((rc = split_path(&dir, &base, path)) < 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = tr_error_set(errno == ENOENT ? TRESOR_ENOTFOUND :
		    TRESOR_EIO, "cannot open directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	tries = tmp_name != NULL ? 1 : TMP_TRIES;
	for (i = 0; i < tries; i++) {
		if (tmp_name != NULL) {
			if (snprintf(name, sizeof(name), "%s", tmp_name) >=
			    (int)sizeof(name)) {
				rc = tr_error_set(TRESOR_EINVAL,
				    "temporary name too long");
				goto out;
			}
		} else {
			if (tr_random_bytes(rnd, sizeof(rnd)) < 0) {
				rc = tr_error_set(TRESOR_EIO,
				    "no random bytes for a temporary name");
				goto out;
			}
			/* ".<base>.tmp-" + 16 hex; base cut to fit NAME_MAX */
			(void)snprintf(name, sizeof(name),
			    ".%.*s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x",
			    NAME_MAX - 30, base, rnd[0], rnd[1], rnd[2],
			    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
		}
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, first);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = tr_error_set(errno == EEXIST ? TRESOR_EEXISTS :
		    errno == EACCES ? TRESOR_EPERM : TRESOR_EIO,
		    "cannot create a temporary file in %s: %s%s", dir,
		    strerror(errno), errno == EEXIST ?
		    " (something is planted at the temporary name)" : "");
		goto out;
	}
	created = true;
	if (fchmod(fd, first) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot set mode %04o on %s/%s: "
		    "%s", (unsigned int)first, dir, name, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot write %s/%s: %s", dir,
		    name, strerror(errno));
		goto out;
	}
	if (o->set_owner && fchown(fd, o->uid, o->gid) != 0) {
		rc = tr_error_set(errno == EPERM ? TRESOR_EPERM : TRESOR_EIO,
		    "cannot give %s to uid %ld gid %ld: %s", path,
		    (long)(int)o->uid, (long)(int)o->gid, strerror(errno));
		goto out;
	}
	if (mode != first && (fchmod(fd, mode) != 0 || fsync(fd) != 0)) {
		rc = tr_error_set(TRESOR_EIO, "cannot set mode %04o on %s: %s",
		    (unsigned int)mode, path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = tr_error_set(TRESOR_EIO, "cannot write %s/%s: %s", dir,
		    name, strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(dfd, name, dfd, base) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot rename %s/%s to %s: %s",
		    dir, name, path, strerror(errno));
		goto out;
	}
	created = false;
	if (fsync(dfd) != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot fsync directory %s: %s",
		    dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		(void)unlinkat(dfd, name, 0);
	if (dfd >= 0)
		close(dfd);
	tr_free(dir);
	return rc;
}

int
tresor_secret_write_file(const char *path, const void *data, size_t len,
    const tresor_write_file_options *opts)
{
	return tr_write_file(path, data, len, opts, NULL);
}
