#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The security probe suite (probes.mjs) against a fresh tresord, followed
# by a canary scan of its data directory, log and error bodies.
# TRESORD defaults to build/tresord; PROBES_SLOW=0 skips the slowloris
# probes; PROBES_DIR keeps the run's files.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TRESORD=${TRESORD:-$here/../../build/tresord}
command -v node >/dev/null || { echo "probes.sh: node is required" >&2; exit 77; }
[ -x "$TRESORD" ] || { echo "probes.sh: no tresord at $TRESORD" >&2; exit 1; }
exec node "$here/probes.mjs" "$@"
