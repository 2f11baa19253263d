/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing secret content to a file without a window of exposure: a
 * temporary file in the target directory is created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 whatever the umask, written,
 * fsynced, given its final mode and owner, renamed over the target, and
 * the directory is fsynced.  At no moment is the content in a file with a
 * wider mode than the one asked for.
 */
#ifndef TRESOR_FILE_H
#define TRESOR_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tresor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of tresor_secret_write_file(); initialise with the macro. */
typedef struct {
	unsigned int version;	/**< TRESOR_WRITE_FILE_OPTIONS_VERSION */
	unsigned int mode;	/**< 0: 0600; permission bits only, with
				     owner access, never writable by others */
	bool set_owner;		/**< change owner and group */
	uid_t uid;		/**< with set_owner; (uid_t)-1 keeps it */
	gid_t gid;		/**< with set_owner; (gid_t)-1 keeps it */
} tresor_write_file_options;

#define TRESOR_WRITE_FILE_OPTIONS_VERSION 1
#define TRESOR_WRITE_FILE_OPTIONS_INIT \
	{ TRESOR_WRITE_FILE_OPTIONS_VERSION, 0, false, (uid_t)-1, (gid_t)-1 }

/**
 * Atomically replace `path` with `len` bytes of `data`.
 * @param opts NULL for mode 0600, owner unchanged
 * @return 0, TRESOR_EINVAL (bad mode or path), TRESOR_EPERM (cannot set
 *         the owner), TRESOR_EEXISTS (the temporary name is taken, e.g.
 *         by a planted symlink, every time), TRESOR_EIO
 */
TRESOR_EXTERN int tresor_secret_write_file(const char *path,
    const void *data, size_t len, const tresor_write_file_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* TRESOR_FILE_H */
