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
#include "util/durable.h"
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
	bool writing;			/* a thread writes a batch, unlocked */
	bool syncing;			/* a thread is in fdatasync, unlocked */
	bool failed;			/* the last sync failed */
	char prev[TR_AUDIT_HASH_HEX];	/* hash of the last line */
	dev_t dev;
	ino_t ino;
	/*
	 * Records not written yet, in order: a struct queued then the
	 * record's text, each.  Only the holder of `writing` swaps `queue`
	 * for `spare` and writes the batch (lines built in `out`).
	 */
	struct tr_buf queue, spare, out;
	struct tr_durable *durable;	/* tickets of queued records */
	uint64_t ticket_written;	/* the last ticket in the file */
	uint64_t ticket_synced;		/* the last ticket durable */
};

/* A queued record's header; the text follows. */
struct queued {
	uint64_t ticket;		/* 0: the writer waits for it */
	uint32_t len;
};

/* Records waiting past this many bytes refuse more (fail closed). */
#define QUEUE_MAX ((size_t)64 * 1024 * 1024)

static void wait_idle(struct tr_audit *a);
static void wait_writer(struct tr_audit *a);
static int flush_locked(struct tr_audit *a);

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
	int rc;

	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	/*
	 * A new file: its name made durable before a record goes in (and,
	 * after a rotation, the old file's new name with it), so that no
	 * acknowledged record is in a file a crash could unlink.
	 */
	if (a->fd >= 0 && (rc = tr_fsync_parent(a->path)) < 0) {
		close(a->fd);
		a->fd = -1;
		(void)unlink(a->path);
		return rc;
	}
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
	tr_buf_init(&a->queue, QUEUE_MAX);
	tr_buf_init(&a->spare, QUEUE_MAX);
	tr_buf_init(&a->out, QUEUE_MAX + QUEUE_MAX / 4);
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
tr_audit_attach(struct tr_audit *a, struct tr_durable *d)
{
	pthread_mutex_lock(&a->lock);
	a->durable = d;
	pthread_mutex_unlock(&a->lock);
}

void
tr_audit_close(struct tr_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0) {
		/* records queued after the group commit's last round */
		pthread_mutex_lock(&a->lock);
		wait_idle(a);
		if (flush_locked(a) < 0)
			tr_log_error("audit log: %s", tresor_error_last());
		pthread_mutex_unlock(&a->lock);
		(void)fdatasync(a->fd);
		close(a->fd);
	}
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cv);
	tr_buf_dispose(&a->queue);
	tr_buf_dispose(&a->spare);
	tr_buf_dispose(&a->out);
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

/*
 * Once the file is past max_bytes, and every record in it is durable with
 * no thread writing or syncing: rename it away and start the next; lock
 * held.
 */
static void
rotate_if_full_locked(struct tr_audit *a)
{
	char old[4096];
	int fd = a->fd;

	if (a->max_bytes == 0 || a->size < a->max_bytes || a->writing ||
	    a->syncing || a->synced != a->seq)
		return;
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

/*
 * Wait until no thread writes a batch; lock held.  Writing goes on while
 * another thread is in fdatasync: an event loop's checked record never
 * waits for a sync.
 */
static void
wait_writer(struct tr_audit *a)
{
	while (a->writing)
		pthread_cond_wait(&a->cv, &a->lock);
}

/* Wait until no thread writes or syncs outside the lock; lock held. */
static void
wait_idle(struct tr_audit *a)
{
	while (a->writing || a->syncing)
		pthread_cond_wait(&a->cv, &a->lock);
}

/*
 * The tickets of queued records in `batch` failed: their records are
 * not in the log, so their answers must not go out as given.
 */
static void
fail_tickets(struct tr_audit *a, const struct tr_buf *batch)
{
	struct queued q;
	uint64_t lo = 0, hi = 0;
	size_t off = 0;

	while (off < batch->len) {
		memcpy(&q, batch->ptr + off, sizeof(q));
		if (q.ticket != 0) {
			if (lo == 0)
				lo = q.ticket;
			hi = q.ticket;
		}
		off += sizeof(q) + q.len;
	}
	if (hi != 0 && a->durable != NULL)
		tr_durable_fail(a->durable, lo, hi);
}

/*
 * Write every queued record: one write() for the batch, the chain's
 * hashes computed here.  Lock held (it waits for another writer); it is
 * dropped while the batch is written (writers keep queueing).  A batch that
 * cannot be written whole is cut off the file and dropped, and its
 * queued tickets fail.  0 or TRESOR_EIO.
 */
static int
flush_locked(struct tr_audit *a)
{
	struct tr_buf batch;
	struct queued q;
	char prev[TR_AUDIT_HASH_HEX];
	uint64_t seq, last_ticket = 0;
	size_t off = 0, start, written = 0, size;
	ssize_t w;
	int fd, rc = 0;

	wait_writer(a);
	if (a->queue.len == 0)
		return 0;
	fd = a->fd;
	size = a->size;
	seq = a->seq;
	batch = a->queue;
	a->queue = a->spare;
	tr_buf_init(&a->spare, QUEUE_MAX);
	memcpy(prev, a->prev, sizeof(prev));
	a->writing = true;
	pthread_mutex_unlock(&a->lock);

	tr_buf_reset(&a->out);
	while (off < batch.len) {
		memcpy(&q, batch.ptr + off, sizeof(q));
		off += sizeof(q);
		start = a->out.len;
		/* {"seq":N,"prev":"<hash>", then the members */
		(void)tr_buf_addf(&a->out, "{\"seq\":%llu,\"prev\":\"%s\"",
		    (unsigned long long)++seq, prev);
		if (q.len > 2)
			(void)tr_buf_addc(&a->out, ',');
		(void)tr_buf_add(&a->out, batch.ptr + off + 1, q.len - 1);
		if (tr_buf_error(&a->out) < 0)
			break;
		tr_audit_line_hash(a->out.ptr + start, a->out.len - start,
		    prev);
		(void)tr_buf_addc(&a->out, '\n');
		if (q.ticket != 0)
			last_ticket = q.ticket;
		off += q.len;
	}
	if (tr_buf_error(&a->out) < 0)
		rc = tr_error_set(TRESOR_EIO, "audit records too long");
	while (rc == 0 && written < a->out.len) {
		w = write(fd, a->out.ptr + written, a->out.len - written);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* leave no partial line behind */
			rc = tr_error_set(TRESOR_EIO,
			    "cannot write the audit log: %s",
			    w < 0 ? strerror(errno) : "short write");
			if (written > 0 && ftruncate(fd, (off_t)size) != 0)
				tr_log_error("audit log: cannot remove a "
				    "partial record: %s", strerror(errno));
			break;
		}
		written += (size_t)w;
	}

	pthread_mutex_lock(&a->lock);
	if (rc == 0) {
		a->seq = seq;
		memcpy(a->prev, prev, sizeof(prev));
		a->size += a->out.len;
		if (last_ticket != 0)
			a->ticket_written = last_ticket;
	} else {
		fail_tickets(a, &batch);
	}
	/* the batch's buffer is the next spare (its room kept) */
	tr_buf_dispose(&a->spare);
	tr_buf_reset(&batch);
	a->spare = batch;
	a->writing = false;
	pthread_cond_broadcast(&a->cv);
	return rc;
}

/*
 * fdatasync everything written; lock held and not syncing.  A failed sync
 * fails every ticket written since the last good one: after a failed
 * fdatasync the kernel may have dropped those pages.
 */
static int
sync_locked(struct tr_audit *a)
{
	uint64_t target = a->seq, tickets = a->ticket_written;
	int fd = a->fd, r, rc = 0;

	if (a->synced == target)
		return 0;
	a->syncing = true;
	pthread_mutex_unlock(&a->lock);
	r = fdatasync(fd);
	pthread_mutex_lock(&a->lock);
	a->syncing = false;
	a->failed = r != 0;
	if (r == 0) {
		if (target > a->synced)
			a->synced = target;
		if (tickets > a->ticket_synced)
			a->ticket_synced = tickets;
	} else {
		rc = tr_error_set(TRESOR_EIO, "cannot sync the audit log: %s",
		    strerror(errno));
		if (a->durable != NULL && tickets > a->ticket_synced)
			tr_durable_fail(a->durable, a->ticket_synced + 1,
			    tickets);
	}
	pthread_cond_broadcast(&a->cv);
	return rc;
}

/* Queue `len` bytes of `rec` under `ticket`; lock held.  0 or TRESOR_EIO. */
static int
enqueue(struct tr_audit *a, const char *rec, size_t len, uint64_t ticket)
{
	struct queued q = { ticket, (uint32_t)len };
	size_t at = a->queue.len;

	if (tr_buf_add(&a->queue, &q, sizeof(q)) < 0 ||
	    tr_buf_add(&a->queue, rec, len) < 0) {
		a->queue.err = 0;
		a->queue.len = at;
		return tr_error_set(TRESOR_EIO, "the audit log is not keeping "
		    "up: %zu bytes of records wait", a->queue.len);
	}
	return 0;
}

int
tr_audit_write(struct tr_audit *a, const char *rec, size_t len,
    unsigned int flags, uint64_t *ticket)
{
	uint64_t mine;
	int rc = 0;

	if (len < 2 || rec[0] != '{' || rec[len - 1] != '}')
		return tr_error_set(TRESOR_EIO, "an audit record must be a "
		    "JSON object");
	/* room for {"seq":N,"prev":"<64 hex>", */
	if (len + 128 > TR_AUDIT_LINE_MAX)
		return tr_error_set(TRESOR_EIO, "audit record too long");
	pthread_mutex_lock(&a->lock);
	if (flags == 0 && ticket != NULL && a->durable != NULL) {
		/*
		 * Queued: the sync round writes it.  Ticket and record are
		 * taken and queued under the lock, which the round's
		 * tr_audit_sync needs too: queued tickets rise with the
		 * queue, and a round covering the ticket finds the record.
		 */
		*ticket = tr_durable_ticket(a->durable);
		rc = enqueue(a, rec, len, *ticket);
		pthread_mutex_unlock(&a->lock);
		return rc;
	}
	if (ticket != NULL)
		*ticket = 0;
	/* written now: no other thread can take it between queue and write */
	wait_writer(a);
	if ((flags & (TR_AUDIT_CHECK | TR_AUDIT_SYNC)) != 0 &&
	    !still_linked(a)) {
		rc = tr_error_set(TRESOR_EIO,
		    "the audit log %s was removed or replaced", a->path);
		goto out;
	}
	if ((rc = enqueue(a, rec, len, 0)) < 0 || (rc = flush_locked(a)) < 0)
		goto out;
	mine = (flags & TR_AUDIT_SYNC) != 0 ? a->seq : 0;
	/* group sync: one fdatasync covers every record written so far */
	while (rc == 0 && a->synced < mine) {
		if (a->syncing) {
			pthread_cond_wait(&a->cv, &a->lock);
			if (a->failed && a->synced < mine)
				rc = tr_error_set(TRESOR_EIO,
				    "cannot sync the audit log");
			continue;
		}
		rc = sync_locked(a);
	}
	if (rc == 0)
		rotate_if_full_locked(a);
out:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int
tr_audit_sync(void *payload)
{
	struct tr_audit *a = payload;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	wait_idle(a);
	if (a->queue.len == 0 && a->synced == a->seq)
		goto out;
	if (!still_linked(a)) {
		rc = tr_error_set(TRESOR_EIO, "the audit log %s was removed "
		    "or replaced", a->path);
		fail_tickets(a, &a->queue);
		tr_buf_reset(&a->queue);
		goto out;
	}
	if ((rc = flush_locked(a)) < 0) {
		tr_log_error("%s", tresor_error_last());
		goto out;
	}
	while (a->syncing)
		pthread_cond_wait(&a->cv, &a->lock);
	if ((rc = sync_locked(a)) < 0) {
		tr_log_error("%s", tresor_error_last());
		goto out;
	}
	rotate_if_full_locked(a);
out:
	pthread_mutex_unlock(&a->lock);
	return rc;
}
