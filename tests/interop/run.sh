#!/usr/bin/env bash
# Interop suite: the official OCI TypeScript SDK (npm, pinned 2.139.1) against a real
# tresord on loopback. TRESORD=/path/to/tresord overrides <repo>/build/tresord.
#
# The suite runs once per leg (TRESOR_INTEROP_LEGS, default "sqlite-http pg-tls"):
#   sqlite-http  SQLite store (DIR/tresor.db), plain HTTP
#   pg-tls       PostgreSQL store (a throwaway cluster from tests/pg/pg.sh, one database
#                per server), TLS with a test CA
#   sqlite-tls   SQLite over TLS (run instead of pg-tls when PostgreSQL is not installed)
# One test CA is made per run; NODE_EXTRA_CA_CERTS makes node (and the SDK) trust it.
#
#   tests/interop/run.sh                         # npm ci, then every leg
#   tests/interop/run.sh test/iam.test.mjs       # only these files, in every leg
#   TRESOR_INTEROP_LEGS=pg-tls tests/interop/run.sh
#   TRESOR_INTEROP_CONCURRENCY=1 tests/interop/run.sh   # test files one at a time (default 2)
# Every test file starts its own tresord (own port, data dir, database), so files run
# side by side; tests inside a file run in order.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
npm ci --no-audit --no-fund

if [ $# -gt 0 ]; then files=("$@"); else files=(test/); fi
legs=${TRESOR_INTEROP_LEGS:-"sqlite-http pg-tls"}
conc=${TRESOR_INTEROP_CONCURRENCY:-2}

ca=$(mktemp -d "${TMPDIR:-/tmp}/tresor-interop-ca.XXXXXX")
trap 'rm -rf "$ca"' EXIT
node lib/tls.mjs make-ca "$ca" >/dev/null
export TRESOR_INTEROP_CA_DIR=$ca NODE_EXTRA_CA_CERTS=$ca/ca.crt

failed=""

run_leg() { # store tls
	echo "=== interop leg: store=$1 tls=$2 ===" >&2
	local t0=$SECONDS rc=0
	TRESOR_INTEROP_STORE=$1 TRESOR_INTEROP_TLS=$2 \
	    node --test --test-concurrency="$conc" "${files[@]}" || rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "=== interop leg store=$1 tls=$2: passed in $((SECONDS - t0)) s ===" >&2
	else
		echo "=== interop leg store=$1 tls=$2: FAILED (exit $rc) after $((SECONDS - t0)) s ===" >&2
		failed="$failed $1-$2"
	fi
}

# The PostgreSQL legs run inside tests/pg/pg.sh run, which starts a throwaway cluster,
# exports TRESOR_TEST_PG, and exits 77 when PostgreSQL is not installed.
run_pg_leg() { # tls
	local t0=$SECONDS rc=0
	echo "=== interop leg: store=pg tls=$1 ===" >&2
	"$here/../pg/pg.sh" run env TRESOR_INTEROP_STORE=pg TRESOR_INTEROP_TLS="$1" \
	    node --test --test-concurrency="$conc" "${files[@]}" || rc=$?
	if [ "$rc" -eq 77 ]; then
		echo "=== interop leg store=pg tls=$1: SKIPPED, PostgreSQL is not installed (tests/pg/pg.sh) ===" >&2
		return 77
	elif [ "$rc" -ne 0 ]; then
		echo "=== interop leg store=pg tls=$1: FAILED (exit $rc) after $((SECONDS - t0)) s ===" >&2
		failed="$failed pg-$1"
	else
		echo "=== interop leg store=pg tls=$1: passed in $((SECONDS - t0)) s ===" >&2
	fi
}

for leg in $legs; do
	case $leg in
	sqlite-http) run_leg sqlite 0 ;;
	sqlite-tls) run_leg sqlite 1 ;;
	pg-tls)
		# without PostgreSQL, TLS still runs, over SQLite
		run_pg_leg 1 || run_leg sqlite 1
		;;
	pg-http) run_pg_leg 0 || true ;;
	*)
		echo "run.sh: unknown leg '$leg'" >&2
		exit 2
		;;
	esac
done

if [ -n "$failed" ]; then
	echo "=== interop: FAILED legs:$failed ===" >&2
	exit 1
fi
echo "=== interop: every leg passed ($legs) ===" >&2
