#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The multi-node test: three tresord nodes on one throwaway PostgreSQL,
# driven by the official OCI TypeScript SDK (npm, pinned 2.139.1; see
# multinode.mjs for what it checks).
#
#   tests/multinode/run.sh          TRESORD=/path/to/tresord overrides
#                                   <repo>/build/tresord
#
# Exits 77 (skipped) when PostgreSQL or Node.js is not installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
TRESORD=${TRESORD:-$repo/build/tresord}
export TRESORD

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "multinode: Node.js is not installed; skipped" >&2
	exit 77
fi
# first the database: pg.sh runs this script again inside its cluster
if [ -z "${TRESOR_TEST_PG:-}" ]; then
	exec "$repo/tests/pg/pg.sh" run "$0" "$@"
fi

cd "$here"
if ! out=$(npm ci --no-audit --no-fund --prefer-offline 2>&1); then
	printf '%s\n' "$out" >&2
	exit 1
fi
exec node multinode.mjs "$@"
