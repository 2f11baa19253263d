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
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
npm ci --no-audit --no-fund

if [ $# -gt 0 ]; then files=("$@"); else files=(test/); fi
legs=${TRESOR_INTEROP_LEGS:-"sqlite-http pg-tls"}

ca=$(mktemp -d "${TMPDIR:-/tmp}/tresor-interop-ca.XXXXXX")
trap 'rm -rf "$ca"' EXIT
node lib/tls.mjs make-ca "$ca" >/dev/null
export TRESOR_INTEROP_CA_DIR=$ca NODE_EXTRA_CA_CERTS=$ca/ca.crt

run_leg() { # store tls
	echo "=== interop leg: store=$1 tls=$2 ===" >&2
	local t0=$SECONDS
	TRESOR_INTEROP_STORE=$1 TRESOR_INTEROP_TLS=$2 \
	    node --test --test-concurrency=1 "${files[@]}"
	echo "=== interop leg store=$1 tls=$2: passed in $((SECONDS - t0)) s ===" >&2
}

for leg in $legs; do
	case $leg in
	sqlite-http) run_leg sqlite 0 ;;
	sqlite-tls) run_leg sqlite 1 ;;
	pg-tls | pg-http)
		tls=0
		[ "$leg" = pg-tls ] && tls=1
		rc=0
		echo "=== interop leg: store=pg tls=$tls ===" >&2
		t0=$SECONDS
		"$here/../pg/pg.sh" run env TRESOR_INTEROP_STORE=pg TRESOR_INTEROP_TLS=$tls \
		    node --test --test-concurrency=1 "${files[@]}" || rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "=== interop leg $leg SKIPPED: PostgreSQL is not installed (tests/pg/pg.sh); running sqlite-tls instead ===" >&2
			[ "$tls" = 1 ] && run_leg sqlite 1
		elif [ "$rc" -ne 0 ]; then
			echo "=== interop leg $leg FAILED (exit $rc) ===" >&2
			exit "$rc"
		else
			echo "=== interop leg store=pg tls=$tls: passed in $((SECONDS - t0)) s ===" >&2
		fi
		;;
	*)
		echo "run.sh: unknown leg '$leg'" >&2
		exit 2
		;;
	esac
done
