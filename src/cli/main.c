/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tresor`: the command-line tool (cli.c) and `tresor agent`
 * (src/agent).  Process set-up only: file descriptors 0-2 exist, every
 * file created is private, libtresor is initialised with zeroing JSON
 * allocations, and the test switch TRESOR_TEST_CLOCK_OFFSET_MS moves
 * this process's clock (integration tests of clock skew).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "util/clock.h"
#include "util/parse.h"

/* Make sure 0, 1 and 2 are open so no file we open lands on them. */
static void
sane_fds(void)
{
	int fd;

	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			break;
		if (fd > 2) {
			close(fd);
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	const char *off;
	uint64_t ms;
	bool neg;
	int rc;

	sane_fds();
	umask(077);
	off = getenv("TRESOR_TEST_CLOCK_OFFSET_MS");
	if (off != NULL && off[0] != '\0') {
		neg = off[0] == '-';
		if (tr_parse_u64(off + neg, strlen(off + neg), 0,
		    (uint64_t)1 << 50, &ms) == 0)
			tr_clock_set_offset_ms(neg ? -(int64_t)ms :
			    (int64_t)ms);
	}
	if (tresor_global_init(TRESOR_GLOBAL_SECURE_JSON) < 0)
		return CLI_ESERVICE;
	rc = tr_cli_main(argc, argv);
	tresor_global_cleanup();
	return rc;
}
