#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The crash test of issue 7: concurrent clients write secrets while
# tresord is SIGKILLed at random moments; after each restart every
# acknowledged write must be there, intact (crash.mjs).  Then the
# corruption check: a truncated or scribbled database is refused at start
# with a clear message, a torn WAL tail is recovered (corrupt.mjs).
#
#   tests/crash/crash.sh                 # the long run: 50 rounds
#   ROUNDS=3 tests/crash/crash.sh        # the short run `make test` uses
#
# Environment: TRESORD (default build/tresord), ROUNDS (50), DURATION
# (seconds, 0 = no limit), CLIENTS (4), KILL_MIN_MS (50), KILL_MAX_MS
# (800), SEED, CRASH_DIR (keep everything there; the canary scans it),
# CRASH_REPORT (JSON summary), SKIP_CORRUPT=1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TRESORD=${TRESORD:-$here/../../build/tresord}
for p in node sqlite3; do
	command -v "$p" >/dev/null || { echo "crash.sh: $p is required" >&2; exit 77; }
done
[ -x "$TRESORD" ] || { echo "crash.sh: no tresord at $TRESORD" >&2; exit 1; }
status=0
node "$here/crash.mjs" || status=1
if [ "${SKIP_CORRUPT:-0}" != 1 ]; then
	node "$here/corrupt.mjs" || status=1
fi
exit $status
