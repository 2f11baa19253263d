#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages tresor needs, only those missing.
#   scripts/deps.sh [build|test|bench]   (default: test)
set -euo pipefail

want=${1:-test}

build_pkgs=(build-essential pkg-config meson ninja-build
	libh2o-evloop-dev libssl-dev libjansson-dev libsqlite3-dev
	libbsd-dev libcurl4-openssl-dev openssl sqlite3 libp11-kit-dev libpq-dev)
# softhsm2: the PKCS#11 token of the HSM tests (they skip without it)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev postgresql
	softhsm2)
# make bench: load generator, the nginx baseline, the profilers
bench_pkgs=(wrk nginx-light linux-perf strace)

pkgs=("${build_pkgs[@]}")
case "$want" in
build) ;;
test) pkgs+=("${test_pkgs[@]}") ;;
bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
# Node.js 18+ and npm for the SDK interop tests (Debian's are fine)
if [ "$want" != build ]; then
	if ! command -v node >/dev/null 2>&1; then
		missing+=(nodejs npm)
	elif ! command -v npm >/dev/null 2>&1; then
		missing+=(npm)
	fi
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
