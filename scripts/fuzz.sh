#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build and run tresor's libFuzzer targets (tests/fuzz/fuzz_*.c).
#
#   scripts/fuzz.sh [build|run|smoke|replay] [TARGET...]
#
#   build   configure build-fuzz/ with clang (address,undefined, and
#           -fsanitize=fuzzer-no-link on the libraries so coverage reaches
#           into them) and link every target with
#           -fsanitize=fuzzer,address,undefined against the project's
#           static libraries.
#   run     (default) build, then fuzz each target FUZZ_SECONDS seconds
#           (default 60) on a scratch copy of tests/fuzz/corpus/<name>/
#           (the committed corpus is never written to).  New crashes are
#           kept in build-fuzz/artifacts/<target>/ and listed at the end.
#   smoke   for CI and `make test`: replay, then fuzz each target
#           FUZZ_SECONDS seconds (default 5).
#   replay  build, then run each target once over its committed corpus
#           and every input in tests/fuzz/regressions/<name>/ (no
#           fuzzing: deterministic, a few seconds).
#
# TARGET is a name like fuzz_httpsig (default: every tests/fuzz/fuzz_*.c).
# Environment: FUZZ_SECONDS, FUZZ_BUILD (default build-fuzz), FUZZ_JOBS
# (targets fuzzed at once, default 1), FUZZ_ARGS (extra libFuzzer flags),
# FUZZ_ALLOW_BUILD_FAIL=1 (a target that does not build is skipped with a
# warning instead of failing the run), CC (default clang).
#
# A target may name extra sources it needs in a comment line
#   * FUZZ_EXTRA_SOURCES: src/daemon/init.c
# and may have a dictionary tests/fuzz/<target>.dict or
# tests/fuzz/<target without fuzz_>.dict.
#
# Exit status: 0 when every target built and nothing crashed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MODE=${1:-run}
case "$MODE" in
build | run | smoke | replay) shift || true ;;
fuzz_*) MODE=run ;;
-h | --help)
	sed -n '3,31p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "fuzz.sh: unknown mode '$MODE' (build, run, smoke, replay)" >&2
	exit 2
	;;
esac
BUILD=${FUZZ_BUILD:-build-fuzz}
CC=${CC:-clang}
JOBS=${FUZZ_JOBS:-1}
if [ "$MODE" = smoke ]; then
	SECONDS_EACH=${FUZZ_SECONDS:-5}
else
	SECONDS_EACH=${FUZZ_SECONDS:-60}
fi
OUT="$BUILD/fuzz"
# the targets' scratch directories (fuzz_common.h reads FUZZ_TMPDIR): one
# per run, removed at the end even when a target died
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
FZTMP=$(mktemp -d "$base/tresor-fuzzsh.XXXXXX") || exit 1
export FUZZ_TMPDIR="$FZTMP"
trap 'rm -rf "$FZTMP"' EXIT
ARTIFACTS="$BUILD/artifacts"

log() { printf 'fuzz.sh: %s\n' "$*" >&2; }

if ! command -v "$CC" >/dev/null; then
	log "$CC not found (apt-get install clang)"
	exit 1
fi

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		TARGETS+=("$(basename "$f" .c)")
	done
fi

# ---------------------------------------------------------------- build
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
if [ ! -f "$BUILD/build.ninja" ]; then
	log "configuring $BUILD with $CC"
	if ! CC="$CC" meson setup "$BUILD" --buildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false -Dtests=false \
		-Dwerror=false \
		"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		>"${TMPDIR:-/tmp}/tresor-fuzz-setup.$$.log" 2>&1; then
		cat "${TMPDIR:-/tmp}/tresor-fuzz-setup.$$.log" >&2
		log "meson setup failed"
		exit 1
	fi
	rm -f "${TMPDIR:-/tmp}/tresor-fuzz-setup.$$.log"
fi

# Every static library of the project; one that does not build (the tree
# may be mid-change) is reported, and targets needing it fail to link.
mapfile -t LIBTARGETS < <(ninja -C "$BUILD" -t targets all 2>/dev/null |
	sed -n 's/^\([^:]*\.a\): STATIC_LINKER$/\1/p')
if ! ninja -C "$BUILD" "${LIBTARGETS[@]}" >"$BUILD/libs.log" 2>&1; then
	for t in "${LIBTARGETS[@]}"; do
		if ! ninja -C "$BUILD" "$t" >>"$BUILD/libs.log" 2>&1; then
			log "warning: $t does not build (see $BUILD/libs.log)"
		fi
	done
fi
LIBS=()
for t in "${LIBTARGETS[@]}"; do
	case "$t" in
	*/libtresor.a) continue ;;	# client + util again; use the parts
	esac
	[ -f "$BUILD/$t" ] && LIBS+=("$BUILD/$t")
done
SYSLIBS=$(pkg-config --libs openssl jansson sqlite3 libh2o-evloop libcurl \
	p11-kit-1 libpq 2>/dev/null)
mkdir -p "$OUT" "$ARTIFACTS"

build_one() {
	local t=$1 src="tests/fuzz/$1.c" extra=() e
	[ -f "$src" ] || { log "$src: no such target"; return 1; }
	for e in $(sed -n 's/^.*FUZZ_EXTRA_SOURCES:\(.*\)$/\1/p' "$src"); do
		extra+=("$e")
	done
	# rebuild when the source, a header of tests/fuzz or a library is newer
	if [ -x "$OUT/$t" ] && [ -z "$(find "$src" tests/fuzz/*.h "${extra[@]}" \
		"${LIBS[@]}" -newer "$OUT/$t" 2>/dev/null | head -1)" ]; then
		return 0
	fi
	# shellcheck disable=SC2086
	"$CC" -g -O1 -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 \
		-fsanitize=fuzzer $SAN -fno-omit-frame-pointer \
		-Wall -Werror -Wno-unused-parameter \
		-Iinclude -Isrc -I"$BUILD" -Itests/fuzz \
		-o "$OUT/$t" "$src" "${extra[@]}" \
		-Wl,--start-group "${LIBS[@]}" -Wl,--end-group \
		$SYSLIBS -lpthread -lm -ldl >"$OUT/$t.build.log" 2>&1
}

BUILT=()
FAILED_BUILD=()
for t in "${TARGETS[@]}"; do
	if build_one "$t"; then
		BUILT+=("$t")
	else
		FAILED_BUILD+=("$t")
		log "$t does not build:"
		sed -n '1,30p' "$OUT/$t.build.log" >&2
	fi
done
status=0
if [ ${#FAILED_BUILD[@]} -gt 0 ] && [ "${FUZZ_ALLOW_BUILD_FAIL:-0}" != 1 ]; then
	status=1
fi
[ "$MODE" = build ] && exit $status

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}

dict_of() {
	local t=$1
	for d in "tests/fuzz/$t.dict" "tests/fuzz/${t#fuzz_}.dict"; do
		[ -f "$d" ] && { echo "-dict=$d"; return; }
	done
}

# ---------------------------------------------------------------- replay
# Each target once over its committed corpus and its regressions.
replay_one() {
	local t=$1 inputs=() f
	for f in "tests/fuzz/corpus/${t#fuzz_}"/* "tests/fuzz/regressions/${t#fuzz_}"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
	if [ ${#inputs[@]} -eq 0 ]; then
		log "$t: no corpus or regression inputs to replay"
		return 0
	fi
	if ! "$OUT/$t" -runs=1 "${inputs[@]}" >"$OUT/$t.replay.log" 2>&1; then
		log "$t: REPLAY FAILED (see $OUT/$t.replay.log)"
		grep -E 'ERROR|SUMMARY|invariant|Running:|#[0-9]+ ' \
			"$OUT/$t.replay.log" | tail -25 >&2
		return 1
	fi
	log "$t: replayed ${#inputs[@]} inputs, ok"
}

# ---------------------------------------------------------------- fuzz
fuzz_one() {
	local t=$1 work corpus="tests/fuzz/corpus/${t#fuzz_}" art="$ARTIFACTS/$t"
	local before after rc
	mkdir -p "$art"
	work=$(mktemp -d "${TMPDIR:-/tmp}/tresor-$t-corpus.XXXXXX")
	before=$(find "$art" -type f | wc -l)
	# libFuzzer adds new inputs to the first directory only
	# shellcheck disable=SC2046,SC2086
	"$OUT/$t" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$art/" $(dict_of "$t") \
		${FUZZ_ARGS:-} "$work" $( [ -d "$corpus" ] && echo "$corpus") \
		>"$OUT/$t.fuzz.log" 2>&1
	rc=$?
	after=$(find "$art" -type f | wc -l)
	local execs cov
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.fuzz.log")
	cov=$(grep -Eo 'cov: [0-9]+' "$OUT/$t.fuzz.log" | tail -1)
	if [ $rc -ne 0 ] || [ "$after" -gt "$before" ]; then
		log "$t: CRASH after ${execs:-?} runs ($cov); inputs in $art/"
		grep -E 'ERROR|SUMMARY|invariant|#[0-9]+ 0x' "$OUT/$t.fuzz.log" |
			head -30 >&2
		rm -rf "$work"
		return 1
	fi
	log "$t: ${SECONDS_EACH}s, ${execs:-?} runs, $cov, $(find "$work" -type f | wc -l) new inputs, no crash"
	rm -rf "$work"
}

for t in "${BUILT[@]}"; do
	if [ "$MODE" = replay ] || [ "$MODE" = smoke ]; then
		replay_one "$t" || status=1
	fi
done
if [ "$MODE" = run ] || [ "$MODE" = smoke ]; then
	running=0
	pids=()
	for t in "${BUILT[@]}"; do
		fuzz_one "$t" &
		pids+=($!)
		running=$((running + 1))
		if [ "$running" -ge "$JOBS" ]; then
			wait "${pids[0]}" || status=1
			pids=("${pids[@]:1}")
			running=$((running - 1))
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || status=1
	done
fi
if [ ${#FAILED_BUILD[@]} -gt 0 ]; then
	log "did not build: ${FAILED_BUILD[*]}"
fi
exit $status
