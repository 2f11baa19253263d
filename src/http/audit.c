/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log writer (see audit.h and util/audit_chain.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/audit.h"
#include "util/alloc.h"
#include "util/audit_chain.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

struct tr_audit {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int fd;
	char *path;
	size_t max_bytes;
	size_t size;			/* bytes in the current file */
	uint64_t seq;			/* last record written */
	uint64_t synced;		/* last record durable */
	bool syncing;			/* a writer is in fdatasync */
	bool failed;			/* the last sync failed */
	char prev[TR_AUDIT_HASH_HEX];	/* hash of the last line */
	dev_t dev;
	ino_t ino;
};

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Recover seq and the last hash from an existing file. */
static int
resume(struct tr_audit *a)
{
	char *buf = NULL, *line;
	off_t end, start;
	ssize_t r;
	size_t len, i;
	json_t *rec;
	int rc = 0;

	end = lseek(a->fd, 0, SEEK_END);
	if (end <= 0) {
		(void)snprintf(a->prev, sizeof(a->prev), "%s", zero_hash);
		return 0;
	}
	start = end > TR_AUDIT_LINE_MAX + 2 ? end - TR_AUDIT_LINE_MAX - 2 : 0;
	buf = tr_malloc((size_t)(end - start) + 1);
	if (buf == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	r = pread(a->fd, buf, (size_t)(end - start), start);
	if (r != end - start || buf[r - 1] != '\n') {
		rc = tr_error_set(TRESOR_EIO,
		    "audit log %s ends with a partial record; verify it and "
		    "move it aside", a->path);
		goto out;
	}
	len = (size_t)r - 1;
	buf[len] = '\0';
	for (i = len; i > 0 && buf[i - 1] != '\n'; i--)
		;
	line = buf + i;
	rec = json_loads(line, 0, NULL);
	if (!json_is_object(rec) ||
	    json_integer_value(json_object_get(rec, "seq")) <= 0) {
		json_decref(rec);
		rc = tr_error_set(TRESOR_EIO,
		    "the last record of audit log %s is damaged", a->path);
		goto out;
	}
	a->seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	json_decref(rec);
	tr_audit_line_hash(line, strlen(line), a->prev);
	a->size = (size_t)end;
out:
	tr_free(buf);
	return rc;
}

/* Open `a->path` for appending, creating it 0600 if absent. */
static int
open_file(struct tr_audit *a)
{
	struct stat sb;

	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0 && errno == EEXIST)
		a->fd = open(a->path, O_RDWR | O_APPEND | O_CLOEXEC |
		    O_NOFOLLOW);
	if (a->fd < 0)
		return tr_error_set(TRESOR_EIO, "cannot open audit log %s: %s",
		    a->path, strerror(errno));
	if (fstat(a->fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0)
		return tr_error_set(TRESOR_EIO,
		    "audit log %s must be a regular file of mode 0600",
		    a->path);
	a->dev = sb.st_dev;
	a->ino = sb.st_ino;
	a->size = (size_t)sb.st_size;
	return 0;
}

int
tr_audit_open(struct tr_audit **out, const char *path, size_t max_bytes)
{
	struct tr_audit *a;
	int rc;

	*out = NULL;
	a = tr_calloc(1, sizeof(*a));
	if (a == NULL)
		return tr_error_set(TRESOR_ENOMEM, "out of memory");
	a->fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->max_bytes = max_bytes;
	a->path = tr_strdup(path);
	if (a->path == NULL) {
		rc = tr_error_set(TRESOR_ENOMEM, "out of memory");
		goto fail;
	}
	/* O_APPEND write-only fds cannot be read: open for resume */
	if ((rc = open_file(a)) < 0)
		goto fail;
	{
		int rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int wfd = a->fd;

		if (rfd < 0) {
			rc = tr_error_set(TRESOR_EIO, "cannot read %s", path);
			goto fail;
		}
		a->fd = rfd;
		rc = resume(a);
		close(rfd);
		a->fd = wfd;
		if (rc < 0)
			goto fail;
	}
	a->synced = a->seq;
	*out = a;
	return 0;
fail:
	tr_audit_close(a);
	return rc;
}

void
tr_audit_close(struct tr_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0) {
		(void)fdatasync(a->fd);
		close(a->fd);
	}
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cv);
	tr_free(a->path);
	tr_free(a);
}

/* True when the open file is still the one at the path. */
static bool
still_linked(struct tr_audit *a)
{
	struct stat sb, sp;

	if (fstat(a->fd, &sb) != 0 || sb.st_nlink == 0)
		return false;
	if (stat(a->path, &sp) != 0 || sp.st_dev != sb.st_dev ||
	    sp.st_ino != sb.st_ino)
		return false;
	return true;
}

/* Rename the full file away and start the next; lock held. */
static void
rotate_locked(struct tr_audit *a)
{
	char old[4096];
	int fd = a->fd;

	(void)snprintf(old, sizeof(old), "%s.%020llu", a->path,
	    (unsigned long long)a->seq);
	if (rename(a->path, old) != 0) {
		tr_log_warn("audit log rotation failed: %s", strerror(errno));
		return;
	}
	if (open_file(a) < 0) {
		/* keep writing to the renamed file rather than lose records */
		tr_log_error("audit log rotation: %s", tresor_error_last());
		(void)rename(old, a->path);
		a->fd = fd;
		return;
	}
	if (fdatasync(fd) == 0)
		a->synced = a->seq;
	close(fd);
	tr_log_info("audit log rotated to %s", old);
}

int
tr_audit_write(struct tr_audit *a, json_t *record, unsigned int flags)
{
	struct tr_buf body, lb;
	char *line = NULL;
	uint64_t mine, target;
	size_t len, off = 0;
	ssize_t w;
	int rc = 0;

	/* the record's members, serialised outside the lock */
	tr_buf_init(&body, TR_AUDIT_LINE_MAX);
	tr_buf_init(&lb, TR_AUDIT_LINE_MAX + 1);
	if (tr_json_dump_buf(&body, record, false) < 0 || body.len < 2 ||
	    tr_buf_reserve(&lb, body.len + 128) < 0) {
		tr_buf_dispose(&body);
		tr_buf_dispose(&lb);
		return tr_error_set(TRESOR_EIO, "audit record too long");
	}
	pthread_mutex_lock(&a->lock);
	if ((flags & (TR_AUDIT_CHECK | TR_AUDIT_SYNC)) != 0 &&
	    !still_linked(a)) {
		rc = tr_error_set(TRESOR_EIO,
		    "the audit log %s was removed or replaced", a->path);
		goto out;
	}
	/* {"seq":N,"prev":"<hash>", then the members */
	(void)tr_buf_addf(&lb, "{\"seq\":%llu,\"prev\":\"%s\"",
	    (unsigned long long)a->seq + 1, a->prev);
	if (body.len > 2)
		(void)tr_buf_addc(&lb, ',');
	(void)tr_buf_add(&lb, body.ptr + 1, body.len - 1);
	if (tr_buf_error(&lb) < 0 || lb.len > TR_AUDIT_LINE_MAX) {
		rc = tr_error_set(TRESOR_EIO, "audit record too long");
		goto out;
	}
	line = lb.ptr;
	len = lb.len;
	line[len] = '\n';
	while (off < len + 1) {
		w = write(a->fd, line + off, len + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* leave no partial line behind */
			rc = tr_error_set(TRESOR_EIO,
			    "cannot write the audit log: %s",
			    w < 0 ? strerror(errno) : "short write");
			if (off > 0 && ftruncate(a->fd, (off_t)a->size) != 0)
				tr_log_error("audit log: cannot remove a "
				    "partial record: %s", strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	a->seq++;
	a->size += len + 1;
	tr_audit_line_hash(line, len, a->prev);
	mine = (flags & TR_AUDIT_SYNC) != 0 ? a->seq : 0;
	/* group sync: one fdatasync covers every record written so far */
	while (a->synced < mine) {
		if (a->syncing) {
			pthread_cond_wait(&a->cv, &a->lock);
			if (a->failed && a->synced < mine) {
				rc = tr_error_set(TRESOR_EIO,
				    "cannot sync the audit log");
				goto out;
			}
			continue;
		}
		a->syncing = true;
		target = a->seq;
		pthread_mutex_unlock(&a->lock);
		w = fdatasync(a->fd);
		pthread_mutex_lock(&a->lock);
		a->syncing = false;
		a->failed = w != 0;
		if (w == 0 && target > a->synced)
			a->synced = target;
		pthread_cond_broadcast(&a->cv);
		if (w != 0) {
			rc = tr_error_set(TRESOR_EIO,
			    "cannot sync the audit log: %s", strerror(errno));
			goto out;
		}
	}
	if (a->max_bytes > 0 && a->size >= a->max_bytes && !a->syncing)
		rotate_locked(a);
out:
	pthread_mutex_unlock(&a->lock);
	tr_buf_dispose(&body);
	tr_buf_dispose(&lb);
	return rc;
}

int
tr_audit_sync(void *payload)
{
	struct tr_audit *a = payload;
	uint64_t target;
	int fd, r, rc = 0;

	pthread_mutex_lock(&a->lock);
	while (a->syncing)
		pthread_cond_wait(&a->cv, &a->lock);
	if (a->synced == a->seq) {
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	if (!still_linked(a)) {
		pthread_mutex_unlock(&a->lock);
		return tr_error_set(TRESOR_EIO, "the audit log %s was removed "
		    "or replaced", a->path);
	}
	a->syncing = true;
	target = a->seq;
	fd = a->fd;
	pthread_mutex_unlock(&a->lock);
	r = fdatasync(fd);
	pthread_mutex_lock(&a->lock);
	a->syncing = false;
	a->failed = r != 0;
	if (r == 0 && target > a->synced)
		a->synced = target;
	pthread_cond_broadcast(&a->cv);
	if (r != 0) {
		rc = tr_error_set(TRESOR_EIO, "cannot sync the audit log: %s",
		    strerror(errno));
		tr_log_error("%s", tresor_error_last());
	} else if (a->max_bytes > 0 && a->size >= a->max_bytes) {
		rotate_locked(a);
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}
