#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The canary test: known secret values through every path that carries
# one, a crash and a restart, then a scan of logs, the audit log, the data
# files (db, WAL) and error bodies for them (canary.mjs, scan.mjs).
#
#   tests/canary/canary.sh
#   CANARY_EXTRA="DIR=VALUES:DIR2=VALUES2" tests/canary/canary.sh
#
# CANARY_EXTRA scans more directories, each with its own canary list
# (one value a line), e.g. what a full suite run left behind:
#   CRASH_DIR=/tmp/c tests/crash/crash.sh   (writes /tmp/c/canaries.txt)
#   CANARY_EXTRA=/tmp/c=/tmp/c/canaries.txt tests/canary/canary.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TRESORD=${TRESORD:-$here/../../build/tresord}
command -v node >/dev/null || { echo "canary.sh: node is required" >&2; exit 77; }
[ -x "$TRESORD" ] || { echo "canary.sh: no tresord at $TRESORD" >&2; exit 1; }
exec node "$here/canary.mjs"
