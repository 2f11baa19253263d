/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tresord: the tresor server.  `tresord init` creates a data directory,
 * `tresord serve` serves it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/daemon.h"

#ifndef TRESOR_VERSION
#define TRESOR_VERSION "0.1.0"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tresord <command> [options]\n"
	    "\n"
	    "commands:\n"
	    "  init    --data DIR [--store URL] [--endpoint URL] [--region R]\n"
	    "          create DIR (0700) with a root key, the database, a tenancy,\n"
	    "          an administrator and its API key (DIR/admin/config)\n"
	    "  serve   --data DIR [--store URL] [--listen HOST:PORT] [--threads N]\n"
	    "          [--tls-cert FILE --tls-key FILE] [--insecure-no-tls]\n"
	    "          [--user NAME] [--rate-limit N] [--log-level LEVEL]\n"
	    "          serve the data directory until SIGTERM or SIGINT\n"
	    "  migrate --data DIR --to postgres://... [--from PATH]\n"
	    "          copy a SQLite store into PostgreSQL, verified record\n"
	    "          by record\n"
	    "  version\n"
	    "\n"
	    "Run 'tresord <command> --help' for the options of a command.\n");
}

int
tr_daemon_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tresord: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
main(int argc, char **argv)
{
	/* every file tresord creates is private to its user */
	umask(077);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "init") == 0)
		return tr_daemon_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return tr_daemon_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate") == 0)
		return tr_daemon_migrate(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("tresord %s\n", TRESOR_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "tresord: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
