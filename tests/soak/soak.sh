#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The 10-minute soak (soak.mjs): a steady mixed load of reads, writes and
# KMS calls against one tresord, sampling its RSS and fd count every 10 s.
#
#   tests/soak/soak.sh                          # 600 s at 300 requests/s
#   DURATION=60 RATE=500 tests/soak/soak.sh
#   SOAK_REPORT=soak.json tests/soak/soak.sh    # figures as JSON
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TRESORD=${TRESORD:-$here/../../build/tresord}
command -v node >/dev/null || { echo "soak.sh: node is required" >&2; exit 77; }
[ -x "$TRESORD" ] || { echo "soak.sh: no tresord at $TRESORD" >&2; exit 1; }
exec node "$here/soak.mjs"
