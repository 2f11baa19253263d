/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixtures' files, keys among them: created with O_EXCL and their
 * final mode before a byte is written (whatever the umask), never
 * chmod'ed afterwards.
 */
#ifndef TR_TEST_NEW_FILE_H
#define TR_TEST_NEW_FILE_H

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static inline FILE *
new_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fchmod(fd, mode) != 0 || (f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return NULL;
	}
	return f;
}

#endif /* TR_TEST_NEW_FILE_H */
