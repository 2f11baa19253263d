#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 only, its
# data, log and unix socket in one temporary directory.
#
#   tests/pg/pg.sh start DIR PORT   initdb DIR on first use, then start
#                                   the server on 127.0.0.1:PORT; prints
#                                   the connection string (fsync off
#                                   unless PG_DURABLE=1 at initdb)
#   tests/pg/pg.sh stop DIR         stop it (fast shutdown)
#   tests/pg/pg.sh run CMD [ARG...] a fresh cluster in a new temporary
#                                   directory on a free port; CMD runs
#                                   with TRESOR_TEST_PG (a connection
#                                   string) and TRESOR_TEST_PG_DIR, _PORT,
#                                   _BIN and _SH set, then the cluster is
#                                   removed; exits 77 (skip) when
#                                   PostgreSQL is not installed
#
# The server refuses to run as root, so as root it runs as the system
# user tresor-pg (created when missing) or else postgres.  Loopback
# connections are trusted: the cluster lives only as long as a test.
set -u

# Debian's server binaries; the newest installed version unless PGBIN says
if [ -z "${PGBIN:-}" ]; then
	PGBIN=/usr/lib/postgresql/15/bin
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
		PGBIN=$d
	done
fi
SUPERUSER=tresor

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

# The user the server runs as; empty when we are that user already.
server_user() {
	if [ "$(id -u)" -ne 0 ]; then
		return 0
	fi
	if id tresor-pg >/dev/null 2>&1; then
		echo tresor-pg
		return 0
	fi
	if useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin tresor-pg >/dev/null 2>&1; then
		echo tresor-pg
		return 0
	fi
	if id postgres >/dev/null 2>&1; then
		echo postgres
		return 0
	fi
	die "running as root and no unprivileged user for the server"
}

# Run a command as the server user, from a directory it can read.
as_server() {
	local user
	user=$(server_user) || exit 1
	if [ -z "$user" ]; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u "$user" -- "$@")
	else
		(cd / && su -s /bin/sh "$user" -c '"$0" "$@"' -- "$@")
	fi
}

dsn() {
	echo "host=127.0.0.1 port=$1 user=$SUPERUSER dbname=postgres"
}

start() {
	local dir=$1 port=$2 user
	[ -x "$PGBIN/initdb" ] || die "no PostgreSQL in $PGBIN"
	mkdir -p "$dir" || die "cannot create $dir"
	user=$(server_user) || exit 1
	if [ -n "$user" ]; then
		chown "$user" "$dir" || die "cannot hand $dir to $user"
	fi
	chmod 700 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_server "$PGBIN/initdb" -D "$dir/data" -U "$SUPERUSER" \
		    -E UTF8 --no-locale --auth=trust --no-sync \
		    >"$dir/initdb.log" 2>&1 ||
		    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
		cat >"$dir/data/pg_hba.conf" <<-EOF
		local all all trust
		host all all 127.0.0.1/32 trust
		EOF
		cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$dir'
		max_connections = 100
		EOF
		# tests trade durability for speed; benchmarks (PG_DURABLE=1)
		# keep PostgreSQL's durable defaults
		if [ "${PG_DURABLE:-0}" != 1 ]; then
			cat >>"$dir/data/postgresql.conf" <<-EOF
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			EOF
		fi
		if [ -n "$user" ]; then
			chown "$user" "$dir/data/pg_hba.conf" \
			    "$dir/data/postgresql.conf"
		fi
	fi
	as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	    -t 60 -o "-p $port" start >/dev/null ||
	    { tail -n 20 "$dir/server.log" >&2; return 1; }
	dsn "$port"
}

stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	as_server "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop \
	    >/dev/null
}

run() {
	local dir port try rc
	if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
		echo "pg.sh: PostgreSQL is not installed in $PGBIN; skipped" >&2
		exit 77
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tresor-pg.XXXXXX") ||
	    die "no temporary directory"
	trap 'stop "$dir"; rm -rf "$dir"' EXIT
	trap 'exit 143' TERM INT
	port=
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if start "$dir" "$port" >/dev/null; then
			break
		fi
		port=
	done
	[ -n "$port" ] || die "could not start PostgreSQL"
	TRESOR_TEST_PG=$(dsn "$port") TRESOR_TEST_PG_DIR=$dir \
	    TRESOR_TEST_PG_PORT=$port TRESOR_TEST_PG_BIN=$PGBIN \
	    TRESOR_TEST_PG_SH=$(cd "$(dirname "$0")" && pwd)/$(basename "$0") \
	    "$@"
	rc=$?
	exit $rc
}

case "${1:-}" in
start)
	[ $# -eq 3 ] || die "usage: $0 start DIR PORT"
	start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || die "usage: $0 stop DIR"
	stop "$2"
	;;
run)
	shift
	[ $# -ge 1 ] || die "usage: $0 run CMD [ARG...]"
	run "$@"
	;;
*)
	die "usage: $0 start DIR PORT | stop DIR | run CMD [ARG...]"
	;;
esac
