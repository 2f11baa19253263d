#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Protection mode HSM end to end (hsm.test.mjs): tresord with its keys and
# its root key in a throwaway SoftHSM2 token, driven by the official OCI
# TypeScript SDK of the interop suite (tests/interop/node_modules, installed
# with `npm ci` there when missing).
#
#   tests/hsm/run.sh        TRESORD=/path/to/tresord overrides
#                           <repo>/build/tresord
#
# Exits 77 (skipped) only when SoftHSM2 is not installed
# (scripts/deps.sh test installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
TRESORD=${TRESORD:-$repo/build/tresord}
export TRESORD

module=
for m in ${TRESOR_SOFTHSM_MODULE:-} /usr/lib/softhsm/libsofthsm2.so \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/local/lib/softhsm/libsofthsm2.so; do
	if [ -r "$m" ]; then
		module=$m
		break
	fi
done
if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
	echo "hsm: SoftHSM2 is not installed (apt-get install softhsm2, or" \
	    "scripts/deps.sh test); skipped" >&2
	exit 77
fi
export TRESOR_SOFTHSM_MODULE=$module

if [ ! -d "$repo/tests/interop/node_modules/oci-keymanagement" ]; then
	(cd "$repo/tests/interop" && npm ci --no-audit --no-fund --prefer-offline)
fi
# plain HTTP and SQLite, whatever the interop legs are set to
unset TRESOR_INTEROP_TLS TRESOR_INTEROP_STORE
cd "$here"
exec node --test --test-concurrency=1 hsm.test.mjs
