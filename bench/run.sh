#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh: the driver of `make bench`.  Installs what it needs, builds
# tresord with release flags in build-release/, measures, writes
# bench/results.md and prints each headline figure as "RESULT name=value".
#
#   bench/run.sh                  the full run (under 10 minutes on 2 cores)
#   BENCH_QUICK=1 bench/run.sh    smoke mode: every phase about 1 s
#
# Other knobs: BENCH_BUILD (build dir, default build-release), BENCH_OUT
# (results file, default bench/results.md), BENCH_KEEP=1 (keep the work
# directory under /tmp), BENCH_SCALE_BIG (secrets of the big scale run,
# default 1000000; 2000 in smoke mode), BENCH_SCALE_SAMPLE (secrets
# the big scale run reads, spread over the vault; default 4096, 256 in
# smoke mode), BENCH_SCALE_PAIRS (interleaved small/big windows; 3, 1 in
# smoke mode), BENCH_READ_PAIRS (the same for phase 1), BENCH_COMMIT
# (what results.md names as the code measured; default: git's HEAD),
# BENCH_LOOP_CPU (the CPU of the placed windows; default: the one that
# takes the fewest of the data directory's disk interrupts).
#
# Phases (see bench/results.md for what each measures and how):
#   1 read      signed GetSecretBundle vs nginx serving a same-size file,
#               1 worker each (placed on a CPU, wrk on the others, and
#               not placed), then 2 and 2; 32 keep-alive connections
#   2 profile   perf (on-CPU) and strace (syscalls) of tresord under the
#               read load
#   3 writes    durable UpdateSecret at 1, 8 and 32 connections
#   4 kms       Encrypt of 4 KiB, GenerateDataEncryptionKey
#   5 cache     libtresor cached read, simulated fleet
#   6 scale     1,000 and 1,000,000 secrets in one vault, read in
#               interleaved windows
#   7 pg        PostgreSQL (durable settings): reads and UpdateSecret on
#               one node and on three, beside phases 1 and 3 (SQLite)
#
# bench/callgrind.sh counts instructions per read in a kept work dir.
#
# Benchmarks assert nothing: the script fails only when the harness
# itself cannot run (build, setup, a server that does not start).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=${BENCH_QUICK:-0}
BUILD=${BENCH_BUILD:-$ROOT/build-release}
OUT=${BENCH_OUT:-$ROOT/bench/results.md}
T_START=$(date +%s)

if [ "$QUICK" = 1 ]; then
	D_READ=1; D_WARM=0; D_WRITE=1; D_KMS=1; D_SCALE=1; D_PROF=1; D_PG=1
	SCALE_BIG=${BENCH_SCALE_BIG:-2000}; SCALE_SAMPLE=${BENCH_SCALE_SAMPLE:-256}
	CACHE_READS=200000; CACHE_UNCACHED=20; FLEET_PROCS=10
	WRITE_SECRETS=8; WRITE_TABLE=1500; WRITE_ATTEMPTS=1; D_PROF_WRK=2
else
	D_READ=15; D_WARM=2; D_WRITE=8; D_KMS=10; D_SCALE=12; D_PROF=8; D_PG=8
	SCALE_BIG=${BENCH_SCALE_BIG:-1000000}; SCALE_SAMPLE=${BENCH_SCALE_SAMPLE:-4096}
	CACHE_READS=2000000; CACHE_UNCACHED=500; FLEET_PROCS=100
	WRITE_SECRETS=8; WRITE_TABLE=0; WRITE_ATTEMPTS=3; D_PROF_WRK=$((D_PROF + 2))
fi
SCALE_SMALL=1000

log() { printf 'bench: %s\n' "$*" >&2; }
# phase NAME: mark the start of a phase (results.md shows the times)
phase() { echo "$1 $(date +%s.%N)" >>"$RES/phases.txt"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------
# 0. what it needs, the release build, the bench programs
# ---------------------------------------------------------------------
"$ROOT/scripts/deps.sh" bench

if [ ! -f "$BUILD/build.ninja" ]; then
	# -Dwerror=false: -O3 raises -Wmaybe-uninitialized where
	# debugoptimized does not; -g for perf (it changes no code)
	meson setup "$BUILD" --buildtype=release -Db_ndebug=true \
	    -Dwerror=false -Dtests=false -Dc_args=-g >/dev/null
fi
ninja -C "$BUILD" >/dev/null || die "release build failed (ninja -C $BUILD)"
TRESORD=$BUILD/tresord

WORK=$(mktemp -d /tmp/tresor-bench.XXXXXX)
RES=$WORK/res
BIN=$WORK/bin
mkdir -p "$RES" "$BIN"
echo "build $T_START" >"$RES/phases.txt"
SERVER_PID=
NGINX_PID=
# stop only what this script started, by its pid
cleanup() {
	[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
	sleep 0.2
	if [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$WORK" "${NGINX_DIR:-}"
	else
		log "kept $WORK"
	fi
}
trap cleanup EXIT

# Record a command line for results.md (phase, then the words).
cmdlog() { printf '%s\t%s\n' "$1" "${*:2}" >>"$RES/commands.txt"; }

# The bench programs: from the meson build when bench/meson.build is
# read there (subdir('bench')), else compiled here against the same
# release libraries.
PKG_SRV="sqlite3 libpq openssl p11-kit-1 jansson"
PKG_CLI="openssl jansson libcurl"
build_tool() {
	local name=$1 out
	out=$BUILD/bench-cc/$name
	if [ -x "$BUILD/bench/$name" ] &&
	    grep -q "^build bench/$name:" "$BUILD/build.ninja"; then
		ln -sf "$BUILD/bench/$name" "$BIN/$name"
		return
	fi
	mkdir -p "$BUILD/bench-cc"
	ln -sf "$out" "$BIN/$name"
	# up to date: newer than its sources and the libraries
	if [ -x "$out" ] && [ -z "$(find "$ROOT/bench/$name.c" \
	    "$ROOT/src/client" "$ROOT/include/tresor" "$ROOT/src/util" \
	    "$ROOT/src/store" "$ROOT/src/crypto" "$BUILD/src" \
	    -newer "$out" \( -name '*.[ch]' -o -name '*.a' \) \
	    -print -quit)" ]; then
		return
	fi
	# shellcheck disable=SC2046
	case "$name" in
	populate)
		cc -std=c11 -O2 -g -D_GNU_SOURCE -I"$ROOT/include" \
		    -I"$ROOT/src" "$ROOT/bench/populate.c" \
		    "$BUILD/src/store/libtr_store.a" \
		    "$BUILD/src/crypto/libtr_crypto.a" \
		    "$BUILD/src/util/libtr_util.a" \
		    $(pkg-config --cflags --libs $PKG_SRV) -lpthread \
		    -o "$out"
		;;
	*)
		# libtresor from its sources (src/client is not in every
		# meson.build yet)
		cc -std=c11 -O2 -g -D_GNU_SOURCE -I"$ROOT/include" \
		    -I"$ROOT/src" -DTRESOR_VERSION='"bench"' \
		    "$ROOT/bench/$name.c" "$ROOT"/src/client/*.c \
		    "$BUILD/src/util/libtr_util.a" \
		    $(pkg-config --cflags --libs $PKG_CLI) -lpthread \
		    -o "$out"
		;;
	esac
}
for t in populate presign cache_bench fleet_sim; do
	build_tool "$t" 2>"$WORK/build-$t.log" ||
	    { cat "$WORK/build-$t.log" >&2; die "cannot build bench/$t.c"; }
done

# ---------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------
free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",
	    ()=>{console.log(s.address().port);s.close()})'
}
PORT=$(free_port)
NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done
HOST=127.0.0.1:$PORT
DATA=$WORK/data

# utime+stime of a process (all its threads) in seconds
cpu_of() {
	local ticks hz
	hz=$(getconf CLK_TCK)
	ticks=$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0)
	echo "$ticks $hz" | awk '{printf "%.3f", $1 / $2}'
}
cpu_sum() {
	local t=0 p
	for p in "$@"; do
		t=$(echo "$t $(cpu_of "$p")" | awk '{printf "%.3f", $1 + $2}')
	done
	echo "$t"
}

# start_server THREADS TAG [DATADIR [OPTION...]]: tresord on $PORT (on
# $DATA by default), timed to its first /health
start_server() {
	local threads=$1 tag=$2 data=${3:-$DATA} out
	shift $(($# < 3 ? $# : 3))
	cmdlog server "$TRESORD serve --data $data --listen $HOST --threads $threads $*"
	out=$(node "$ROOT/bench/start.mjs" --port "$PORT" \
	    --log "$WORK/tresord.log" -- "$TRESORD" serve --data "$data" \
	    --listen "$HOST" --threads "$threads" "$@") ||
	    { tail -20 "$WORK/tresord.log" >&2; die "tresord did not start"; }
	SERVER_PID=$(echo "$out" | node -e \
	    'let s="";process.stdin.on("data",d=>s+=d).on("end",
	    ()=>console.log(JSON.parse(s).pid))')
	echo "$out" >"$RES/start-$tag.json"
}
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.05; done
	SERVER_PID=
}
vmhwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# run_wrk TAG PHASE THREADS CONNS SECS URL REQS [ONCE]: one wrk run; the
# BENCH_JSON line goes to $RES/TAG.json, wrk's own report to TAG.txt
run_wrk() {
	local tag=$1 phase=$2 t=$3 c=$4 d=$5 url=$6 reqs=$7 once=${8:-0}
	cmdlog "$phase" "BENCH_REQS=$(basename "$reqs") BENCH_THREADS=$t" \
	    "BENCH_ONCE=$once wrk -t$t -c$c -d${d}s --timeout 10s" \
	    "-s bench/wrk/replay.lua $url"
	BENCH_REQS=$reqs BENCH_THREADS=$t BENCH_ONCE=$once \
	    ${WRK_CPUS:+taskset -c "$WRK_CPUS"} \
	    wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s \
	    -s "$ROOT/bench/wrk/replay.lua" "$url" >"$RES/$tag.txt"
	grep '^BENCH_JSON ' "$RES/$tag.txt" | sed 's/^BENCH_JSON //' \
	    >"$RES/$tag.json"
}
warm() {
	[ "$D_WARM" -gt 0 ] || return 0
	BENCH_REQS=$3 BENCH_THREADS=$1 ${WRK_CPUS:+taskset -c "$WRK_CPUS"} \
	    wrk -t"$1" -c32 -d"${D_WARM}s" \
	    -s "$ROOT/bench/wrk/replay.lua" "$2" >/dev/null
}

# quiet_cpu DIR: the CPU that takes the fewest interrupts of DIR's disk
# (its device, virtio1 or nvme0..., and that device's rows in
# /proc/interrupts); the first CPU when that cannot be told
quiet_cpu() {
	local src blk dev
	src=$(df --output=source "$1" 2>/dev/null | tail -1)
	blk=$(basename "$(readlink -f "/sys/class/block/$(basename "$src")" \
	    2>/dev/null)")
	# a partition's disk is the directory above it
	if [ -e "/sys/class/block/$blk/partition" ]; then
		blk=$(basename "$(dirname "$(readlink -f \
		    "/sys/class/block/$blk")")")
	fi
	dev=$(basename "$(readlink -f "/sys/block/$blk/device" 2>/dev/null)")
	awk -v dev="$dev" '
	    NR == 1 { for (i = 1; i <= NF; i++) cpu[i] = substr($i, 4); n = NF; next }
	    dev != "" && $0 ~ (dev "[-q]") { for (i = 1; i <= n; i++) s[i] += $(i + 1) }
	    END { b = 1; for (i = 2; i <= n; i++) if (s[i] < s[b]) b = i; print cpu[b] }
	' /proc/interrupts
}

# presign KEYFILE KEYID < lines > tsv (libtresor's signer)
presign() {
	"$BIN/presign" --key-file "$1" --key-id "$2" --host "$HOST" \
	    --threads "$(nproc)"
}
jget() { node -e "console.log(require('$1')$2)"; }

# ---------------------------------------------------------------------
# machine
# ---------------------------------------------------------------------
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "quick=$QUICK"
	echo "nproc=$(nproc)"
	echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "mem_kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
	echo "kernel=$(uname -sr)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "nginx=$(nginx -v 2>&1 | sed 's/^nginx version: //')"
	echo "wrk=$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//')"
	echo "node=$(node --version)"
	echo "cc=$(cc --version | head -1)"
	echo "sqlite=$(pkg-config --modversion sqlite3)"
	echo "openssl=$(pkg-config --modversion openssl)"
	echo "h2o=$(pkg-config --modversion libh2o-evloop 2>/dev/null || echo '?')"
	echo "commit=${BENCH_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')}"
	echo "build=$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
	    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
	    const o=JSON.parse(s),g=n=>o.find(x=>x.name===n)?.value;
	    console.log(`buildtype=${g("buildtype")} optimization=${g("optimization")} b_ndebug=${g("b_ndebug")} c_args=${JSON.stringify(g("c_args"))}`)})')"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "fs=$(df -T "$WORK" | awk 'NR==2 {print $2}')"
	echo "port=$PORT"
} >"$RES/machine.env"

# ---------------------------------------------------------------------
# setup: a data directory and the policy world, through the API
# ---------------------------------------------------------------------
phase setup
log "setup (work dir $WORK)"
cmdlog setup "$TRESORD init --data $DATA --endpoint http://$HOST"
"$TRESORD" init --data "$DATA" --endpoint "http://$HOST" >/dev/null
start_server 2 setup
cmdlog setup "node bench/setup.mjs --port $PORT --data $DATA --out state.json --write-secrets $WRITE_SECRETS"
node "$ROOT/bench/setup.mjs" --port "$PORT" --data "$DATA" \
    --out "$WORK/state.json" --write-secrets "$WRITE_SECRETS" >&2
cp "$WORK/state.json" "$RES/state.json"
ST=$WORK/state.json
READER_KEY=$(jget "$ST" .reader.keyFile)
READER_ID=$(jget "$ST" .reader.keyId)
WRITER_KEY=$(jget "$ST" .writer.keyFile)
WRITER_ID=$(jget "$ST" .writer.keyId)
READ_SECRET=$(jget "$ST" .readSecret)
BUNDLE_BYTES=$(jget "$ST" .bundleBytes)

# ---------------------------------------------------------------------
# 1. signed GetSecretBundle against nginx
# ---------------------------------------------------------------------
NGINX_DIR=$(mktemp -d /tmp/tresor-bench-nginx.XXXXXX)
chmod 755 "$NGINX_DIR"	# nginx's workers run as nobody
mkdir -p "$NGINX_DIR/www" "$NGINX_DIR/tmp"
# valid JSON exactly as long as the real body
node -e "const n=$BUNDLE_BYTES, h='{\"pad\":\"', t='\"}';
    process.stdout.write(h + 'x'.repeat(n - h.length - t.length) + t)" \
    >"$NGINX_DIR/www/bundle.json"
chmod 644 "$NGINX_DIR/www/bundle.json"
start_nginx() {
	sed -e "s|@WORKERS@|$1|; s|@PORT@|$NPORT|; s|@PREFIX@|$NGINX_DIR|g" \
	    "$ROOT/bench/nginx.conf.in" >"$NGINX_DIR/nginx.conf"
	cmdlog read "nginx -p $NGINX_DIR -c $NGINX_DIR/nginx.conf (bench/nginx.conf.in, worker_processes $1)"
	nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" &
	NGINX_PID=$!
	local _
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$NPORT/x" && return 0
		sleep 0.05
	done
	die "nginx did not start: $(cat "$NGINX_DIR/error.log")"
}
stop_nginx() {
	kill -QUIT "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}

phase read
# Interleaved pairs: tresord then nginx, READ_PAIRS times, each
# D_READ/READ_PAIRS seconds; both servers stay up, the idle one waits.
# The machine's speed drifts over a run (other guests): a pair's two
# windows are seconds apart, and report.mjs takes the pair with the
# median ratio.
READ_PAIRS=${BENCH_READ_PAIRS:-$([ "$QUICK" = 1 ] && echo 1 || echo 5)}
D_PAIR=$(( D_READ / READ_PAIRS > 0 ? D_READ / READ_PAIRS : 1 ))
# One worker each, then two and two.  With one worker, every pair runs
# both servers in two placements, the same for both: "placed", the
# server's worker on LOOP_CPU (the CPU that takes the fewest of the data
# disk's interrupts) and wrk, with tresord's other threads, on the other
# CPUs -- what `tresord serve --cpus LOOP_CPU` does, set here with taskset
# on the threads by name so that one server switches between windows --
# and "free", everything where the scheduler puts it.  report.mjs shows
# both, and compares each server's better placement within a pair.
LOOP_CPU=${BENCH_LOOP_CPU:-$(quiet_cpu "$DATA")}
GEN_CPUS=$(seq 0 $(($(nproc) - 1)) | grep -vx "$LOOP_CPU" | paste -sd, -)
ALL_CPUS=0-$(($(nproc) - 1))
echo "loop_cpu=$LOOP_CPU" >>"$RES/machine.env"
echo "gen_cpus=$GEN_CPUS" >>"$RES/machine.env"
# place MODE: both servers' threads for MODE (placed or free)
place() {
	local t n
	for t in /proc/"$SERVER_PID"/task/*; do
		n=$(cat "$t/comm" 2>/dev/null) || continue
		if [ "$1" = free ]; then
			taskset -pc "$ALL_CPUS" "${t##*/}"
		elif [[ $n == tresord-loop* ]]; then
			taskset -pc "$LOOP_CPU" "${t##*/}"
		else
			taskset -pc "$GEN_CPUS" "${t##*/}"
		fi
	done >/dev/null
	for t in $workers; do
		taskset -pc "$([ "$1" = free ] && echo "$ALL_CPUS" || echo "$LOOP_CPU")" "$t"
	done >/dev/null
	WRK_CPUS=
	[ "$1" = free ] || WRK_CPUS=$GEN_CPUS
}
for w in 1 2; do
	modes=free
	[ "$w" = 1 ] && [ -n "$GEN_CPUS" ] && modes="placed free"
	log "read: tresord $w thread(s) vs nginx $w worker(s), $READ_PAIRS" \
	    "interleaved pairs of ${D_PAIR}s (${modes// / and })"
	stop_server
	start_server "$w" "read-w$w"
	echo "GET /20190301/secretbundles/$READ_SECRET" |
	    presign "$READER_KEY" "$READER_ID" >"$WORK/get.tsv"
	cmdlog read "echo GET /20190301/secretbundles/<bench-read> | presign --key-file bench-reader.pem --key-id <bench-reader keyId> --host $HOST > get.tsv"
	start_nginx "$w"
	workers=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
	warm "$w" "http://$HOST/" "$WORK/get.tsv"
	warm "$w" "http://127.0.0.1:$NPORT/" "$WORK/get.tsv"
	for k in $(seq "$READ_PAIRS"); do
		for mode in $modes; do
			tag=read-w$w
			if [ "$mode" = placed ]; then
				tag=read-w${w}p
				cmdlog read "placed: tresord-loop* and nginx's worker on CPU $LOOP_CPU, tresord's other threads and wrk on $GEN_CPUS (taskset)"
			fi
			place "$mode"
			c0=$(cpu_of "$SERVER_PID")
			run_wrk "$tag-tresor-r$k" read "$w" 32 "$D_PAIR" \
			    "http://$HOST/" "$WORK/get.tsv"
			echo "$(cpu_of "$SERVER_PID") $c0" |
			    awk '{printf "%.3f\n", $1 - $2}' \
			    >"$RES/$tag-tresor-r$k.cpu"
			# shellcheck disable=SC2086
			c0=$(cpu_sum $workers)
			run_wrk "$tag-nginx-r$k" read "$w" 32 "$D_PAIR" \
			    "http://127.0.0.1:$NPORT/" "$WORK/get.tsv"
			# shellcheck disable=SC2086
			echo "$(cpu_sum $workers) $c0" |
			    awk '{printf "%.3f\n", $1 - $2}' \
			    >"$RES/$tag-nginx-r$k.cpu"
		done
	done
	place free
	vmhwm_kb "$SERVER_PID" >"$RES/read-w$w-tresor.rss"
	stop_nginx
done

# ---------------------------------------------------------------------
# 2. profile of the read path (tresord, 1 thread)
# ---------------------------------------------------------------------
phase profile
stop_server
start_server 1 profile
echo "GET /20190301/secretbundles/$READ_SECRET" |
    presign "$READER_KEY" "$READER_ID" >"$WORK/get.tsv"
log "profile: perf record ${D_PROF}s, strace -c"
if command -v perf >/dev/null 2>&1; then
	BENCH_REQS=$WORK/get.tsv BENCH_THREADS=1 wrk -t1 -c32 \
	    -d"${D_PROF_WRK}s" -s "$ROOT/bench/wrk/replay.lua" \
	    "http://$HOST/" >"$RES/profile-wrk.txt" &
	wrk_pid=$!
	sleep 1
	cmdlog profile "perf record -F 999 --call-graph dwarf,16384 -p <tresord> -- sleep $D_PROF"
	if perf record -q -F 999 --call-graph dwarf,16384 -p "$SERVER_PID" \
	    -o "$WORK/perf.data" -- sleep "$D_PROF" >/dev/null 2>&1; then
		perf report -i "$WORK/perf.data" --no-children \
		    --sort dso,symbol --stdio -g none 2>/dev/null |
		    grep '%' | head -40 >"$RES/profile-self.txt" || true
		perf report -i "$WORK/perf.data" --children --sort symbol \
		    --stdio -g none 2>/dev/null | grep '%' \
		    >"$RES/profile-children.txt" || true
	fi
	wait "$wrk_pid" || true
fi
if command -v strace >/dev/null 2>&1; then
	cmdlog profile "strace -c -f -p <tresord> during wrk -t1 -c32 -d${D_PROF}s"
	strace -q -c -f -p "$SERVER_PID" -o "$RES/strace.txt" &
	strace_pid=$!
	sleep 0.5
	BENCH_REQS=$WORK/get.tsv BENCH_THREADS=1 wrk -t1 -c32 -d"${D_PROF}s" \
	    -s "$ROOT/bench/wrk/replay.lua" "http://$HOST/" |
	    grep '^BENCH_JSON ' | sed 's/^BENCH_JSON //' \
	    >"$RES/strace-wrk.json"
	kill -INT "$strace_pid" 2>/dev/null || true
	wait "$strace_pid" 2>/dev/null || true
fi

# ---------------------------------------------------------------------
# 3. durable UpdateSecret at 1, 8 and 32 connections
# ---------------------------------------------------------------------
phase writes
stop_server
start_server 2 writes
rate=0
for c in 1 8 32; do
	t=$((c < 2 ? 1 : 2))
	# the table: each request a distinct signed PUT, sized from what
	# the previous level did; a table that runs out is made 3x larger
	# and the level run again (smoke mode: one small table, one try)
	if [ "$WRITE_TABLE" -gt 0 ]; then n=$WRITE_TABLE
	elif [ "$rate" = 0 ]; then n=$((1200 * D_WRITE)); else
		n=$(echo "$rate $D_WRITE" | awk '{printf "%d", $1 * $2 * 3 + 200}')
	fi
	for attempt in $(seq "$WRITE_ATTEMPTS"); do
		log "writes: $c connection(s), table of $n signed PUTs"
		cmdlog writes "node bench/writes.mjs prepare --state state.json --count $n --min-secrets $((2 * c)) --out put.lines --ids put.ids"
		node "$ROOT/bench/writes.mjs" prepare --state "$ST" --count "$n" \
		    --min-secrets $((2 * c)) --out "$WORK/put.lines" \
		    --ids "$WORK/put-c$c.ids" >"$RES/writes-c$c.prep.json"
		cmdlog writes "presign --key-file bench-writer.pem ... < put.lines > put.tsv"
		presign "$WRITER_KEY" "$WRITER_ID" <"$WORK/put.lines" \
		    >"$WORK/put.tsv"
		run_wrk "writes-c$c" writes "$t" "$c" "$D_WRITE" \
		    "http://$HOST/" "$WORK/put.tsv" 1
		ex=$(jget "$RES/writes-c$c.json" .exhausted_threads)
		[ "$ex" = 0 ] && break
		n=$((n * 3))
	done
	echo "$attempt" >"$RES/writes-c$c.attempts"
	cmdlog writes "node bench/writes.mjs verify --state state.json --ids put.ids"
	node "$ROOT/bench/writes.mjs" verify --state "$ST" \
	    --ids "$WORK/put-c$c.ids" >"$RES/writes-c$c.verify.json"
	rate=$(node -e "const r=require('$RES/writes-c$c.json');
	    console.log(((r.requests - r.errors.status) / r.duration_us * 1e6).toFixed(1))")
done

# ---------------------------------------------------------------------
# 4. KMS: Encrypt 4 KiB, GenerateDataEncryptionKey
# ---------------------------------------------------------------------
phase kms
VAULT=$(jget "$ST" .vault)
KEY=$(jget "$ST" .key)
PT=$(head -c 4096 /dev/urandom | base64 -w0)
echo "POST /kms/$VAULT/crypto/20180608/encrypt {\"keyId\":\"$KEY\",\"plaintext\":\"$PT\"}" \
    >"$WORK/enc.lines"
echo "POST /kms/$VAULT/crypto/20180608/generateDataEncryptionKey {\"keyId\":\"$KEY\",\"keyShape\":{\"algorithm\":\"AES\",\"length\":32},\"includePlaintextKey\":true}" \
    >"$WORK/gdek.lines"
for op in enc gdek; do
	log "kms: $op, ${D_KMS}s"
	cmdlog kms "presign --key-file bench-writer.pem ... < $op.lines > $op.tsv ($(cut -c1-60 "$WORK/$op.lines" | sed "s|$VAULT|<vault>|")...)"
	presign "$WRITER_KEY" "$WRITER_ID" <"$WORK/$op.lines" >"$WORK/$op.tsv"
	warm 2 "http://$HOST/" "$WORK/$op.tsv"
	run_wrk "kms-$op" kms 2 32 "$D_KMS" "http://$HOST/" "$WORK/$op.tsv"
done

# ---------------------------------------------------------------------
# 5. the client cache
# ---------------------------------------------------------------------
phase cache
log "cache: cached reads, fleet simulation"
cmdlog cache "cache_bench --config bench-reader.config --secret <bench-read> --reads $CACHE_READS --uncached $CACHE_UNCACHED"
"$BIN/cache_bench" --config "$(jget "$ST" .reader.config)" \
    --secret "$READ_SECRET" --reads "$CACHE_READS" \
    --uncached "$CACHE_UNCACHED" | grep '^CACHE_JSON ' |
    sed 's/^CACHE_JSON //' >"$RES/cache.json"
cmdlog cache "fleet_sim --procs $FLEET_PROCS --secrets 10 --seconds 3600 --ttl-ms 900000 --rotate-at 2000"
"$BIN/fleet_sim" --procs "$FLEET_PROCS" --secrets 10 --seconds 3600 \
    --ttl-ms 900000 --rotate-at 2000 | grep '^FLEET_JSON ' |
    sed 's/^FLEET_JSON //' >"$RES/fleet.json"

# ---------------------------------------------------------------------
# 6. scale: 1,000 and 1,000,000 secrets in one vault
# ---------------------------------------------------------------------
# The vault is filled to 1,000 secrets, the data directory copied (the
# small store), then filled to 1,000,000.  The two stores are read in
# interleaved windows, small then big, SCALE_PAIRS times, each by a
# fresh tresord (start-up timed) placed as in phase 1 (`--cpus
# LOOP_CPU`, wrk on the other CPUs): the machine's drift falls on both.
phase scale
TEMPLATE=$(jget "$ST" .scaleTemplate)
SCALE_PAIRS=${BENCH_SCALE_PAIRS:-$([ "$QUICK" = 1 ] && echo 1 || echo 3)}
D_SCALE_WIN=$(( D_SCALE / SCALE_PAIRS > 0 ? D_SCALE / SCALE_PAIRS : 1 ))
DATA_SMALL=$WORK/data-1k
have=1
stop_server
for size in small big; do
	if [ "$size" = small ]; then total=$SCALE_SMALL; sample=$SCALE_SMALL
	else total=$SCALE_BIG; sample=$SCALE_SAMPLE; fi
	add=$((total - have))
	log "scale: populate $add secrets (vault holds $total)"
	cmdlog scale "populate --data DATA --template <scale-template> --count $add --start $have --prefix scale- --sample $sample --sample-out ids.txt"
	t0=$(date +%s.%N)
	"$BIN/populate" --data "$DATA" --template "$TEMPLATE" --count "$add" \
	    --start "$have" --prefix scale- --sample "$sample" \
	    --sample-out "$WORK/scale-$size.ids" >"$RES/scale-$size.populate.txt"
	echo "$(date +%s.%N) $t0" | awk '{printf "%.1f\n", $1 - $2}' \
	    >"$RES/scale-$size.populate_s"
	have=$total
	stat -c %s "$DATA/tresor.db" >"$RES/scale-$size.db_bytes"
	echo "$total" >"$RES/scale-$size.count"
	if [ "$size" = small ]; then
		# the small store: the directory without its audit logs
		# (tresord stopped: the store is checkpointed, one file)
		mkdir -m 700 "$DATA_SMALL"
		cp -a "$DATA/root.key" "$DATA/admin" "$DATA/tresor.db" \
		    "$DATA_SMALL/"
		cmdlog scale "cp -a DATA/root.key DATA/admin DATA/tresor.db data-1k/ (the 1,000-secret store)"
	fi
done
# the stores were just written: flush them, so that the kernel's
# write-back does not compete with the runs (their fdatasyncs)
sync
# each size's requests, signed once (the whole phase stays well within
# the 5-minute skew the server allows)
for size in small big; do
	sed 's|^|GET /20190301/secretbundles/|' "$WORK/scale-$size.ids" |
	    presign "$READER_KEY" "$READER_ID" >"$WORK/scale-$size.tsv"
	cmdlog scale "presign ... > scale-$size.tsv ($(wc -l <"$WORK/scale-$size.ids") GETs spread over the vault's secrets)"
done
SCALE_PLACE=()
if [ -n "$GEN_CPUS" ]; then
	SCALE_PLACE=(--cpus "$LOOP_CPU")
	WRK_CPUS=$GEN_CPUS
fi
for k in $(seq "$SCALE_PAIRS"); do
	for size in small big; do
		dir=$DATA
		[ "$size" = small ] && dir=$DATA_SMALL
		start_server 1 "scale-$size-r$k" "$dir" "${SCALE_PLACE[@]}"
		warm 1 "http://$HOST/" "$WORK/scale-$size.tsv"
		run_wrk "scale-$size-r$k" scale 1 32 "$D_SCALE_WIN" \
		    "http://$HOST/" "$WORK/scale-$size.tsv"
		vmhwm_kb "$SERVER_PID" >"$RES/scale-$size-r$k.rss"
		stop_server
	done
done
WRK_CPUS=

# ---------------------------------------------------------------------
# 7. PostgreSQL: reads and durable writes on one node and on three
# ---------------------------------------------------------------------
# A cluster of its own, with PostgreSQL's durable defaults (fsync,
# synchronous_commit on: a 2xx means committed on disk).  Node 1 is
# initialised and gets the same policy world as the SQLite run; nodes 2
# and 3 get copies of its directory (root key, store.url, admin/), each
# with its own audit log.  Reads: GetSecretBundle as bench-reader, 32
# connections in all (three nodes: 11 each, one wrk per node).  Writes:
# UpdateSecret as bench-writer, 32 connections in all, each request a
# distinct signed PUT.  The SQLite figures to compare are phase 1's one
# thread and phase 3's 32 connections.
phase pg
PG_SH=$ROOT/tests/pg/pg.sh
PGW=$(mktemp -d /tmp/tresor-bench-pg.XXXXXX)
chmod 755 "$PGW"	# the cluster's directory is handed to the server's user
PG_NODES=()
pg_cleanup() {
	local p
	for p in "${PG_NODES[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PG_NODES[@]}"; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	PG_NODES=()
	"$PG_SH" stop "$PGW/cluster" >/dev/null 2>&1 || true
	rm -rf "$PGW"
}
pg_node_start() {	# pg_node_start N: node N on PG_PORT[N]
	local n=$1 out
	out=$(node "$ROOT/bench/start.mjs" --port "${PG_PORT[$n]}" \
	    --log "$PGW/node$n.log" -- "$TRESORD" serve --data "$PGW/node$n" \
	    --listen "127.0.0.1:${PG_PORT[$n]}" --threads 1) ||
	    { tail -20 "$PGW/node$n.log" >&2; return 1; }
	PG_NODES+=("$(echo "$out" | node -e 'let s="";process.stdin.on("data",
	    d=>s+=d).on("end",()=>console.log(JSON.parse(s).pid))')")
}
pg_run() {	# pg_run TAG NODES CONNS-PER-NODE TABLE-PREFIX ONCE
	local tag=$1 nodes=$2 c=$3 pre=$4 once=$5 n pids=()
	for n in $(seq 1 "$nodes"); do
		run_wrk "$tag-n$n" pg 1 "$c" "$D_PG" \
		    "http://127.0.0.1:${PG_PORT[$n]}/" "$pre-n$n.tsv" "$once" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
	echo "$nodes" >"$RES/$tag.nodes"
}
pg_phase() {
	local conn n lines
	PG_PORT=(0)
	for n in 1 2 3 4; do PG_PORT+=("$(free_port)"); done
	cmdlog pg "PG_DURABLE=1 tests/pg/pg.sh start <dir> <port> (PostgreSQL $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1 | cut -d/ -f5); fsync, synchronous_commit, full_page_writes on)"
	conn=$(PG_DURABLE=1 "$PG_SH" start "$PGW/cluster" "${PG_PORT[4]}") ||
	    return 1
	psql "$conn" -qc "CREATE DATABASE bench" >/dev/null || return 1
	conn="${conn/dbname=postgres/dbname=bench}"
	cmdlog pg "$TRESORD init --data node1 --store '$conn' --endpoint http://127.0.0.1:<port1>"
	"$TRESORD" init --data "$PGW/node1" --store "$conn" \
	    --endpoint "http://127.0.0.1:${PG_PORT[1]}" >/dev/null || return 1
	for n in 2 3; do
		mkdir -m 700 "$PGW/node$n"
		cp -a "$PGW/node1/root.key" "$PGW/node1/store.url" \
		    "$PGW/node1/admin" "$PGW/node$n/"
	done
	pg_node_start 1 || return 1
	log "pg: setup on node 1"
	node "$ROOT/bench/setup.mjs" --port "${PG_PORT[1]}" \
	    --data "$PGW/node1" --out "$PGW/state.json" \
	    --write-secrets "$WRITE_SECRETS" >&2 || return 1
	local st=$PGW/state.json rk rid wk wid rs
	rk=$(jget "$st" .reader.keyFile); rid=$(jget "$st" .reader.keyId)
	wk=$(jget "$st" .writer.keyFile); wid=$(jget "$st" .writer.keyId)
	rs=$(jget "$st" .readSecret)
	for n in 1 2 3; do
		echo "GET /20190301/secretbundles/$rs" |
		    "$BIN/presign" --key-file "$rk" --key-id "$rid" \
		    --host "127.0.0.1:${PG_PORT[$n]}" --threads "$(nproc)" \
		    >"$PGW/get-n$n.tsv"
	done
	# two write tables (fresh secrets each, so that no secret passes
	# its version limit): one for node 1, one split over three nodes
	lines=$((4000 * D_PG))
	log "pg: write tables of $lines signed PUTs"
	cmdlog pg "node bench/writes.mjs prepare --state state.json --count $lines --min-secrets 64 (twice: one node; split in three, presigned per node)"
	local t
	for t in 1 3; do
		node "$ROOT/bench/writes.mjs" prepare --state "$st" \
		    --count "$lines" --min-secrets 64 --out "$PGW/put$t.lines" \
		    --ids "$PGW/put$t.ids" >"$RES/pg-writes-$t.prep.json" ||
		    return 1
		for n in $(seq 1 "$t"); do
			awk -v k="$n" -v t="$t" 'NR % t == k % t' \
			    "$PGW/put$t.lines" |
			    "$BIN/presign" --key-file "$wk" --key-id "$wid" \
			    --host "127.0.0.1:${PG_PORT[$n]}" \
			    --threads "$(nproc)" >"$PGW/put$t-n$n.tsv"
		done
	done

	log "pg: one node, reads then writes, ${D_PG}s each"
	warm 1 "http://127.0.0.1:${PG_PORT[1]}/" "$PGW/get-n1.tsv"
	pg_run pg-read-1 1 32 "$PGW/get" 0
	pg_run pg-write-1 1 32 "$PGW/put1" 1
	pg_node_start 2 || return 1
	pg_node_start 3 || return 1
	log "pg: three nodes, reads then writes, ${D_PG}s each"
	for n in 1 2 3; do
		warm 1 "http://127.0.0.1:${PG_PORT[$n]}/" "$PGW/get-n$n.tsv"
	done
	pg_run pg-read-3 3 11 "$PGW/get" 0
	pg_run pg-write-3 3 11 "$PGW/put3" 1
	for t in 1 3; do
		node "$ROOT/bench/writes.mjs" verify --state "$st" \
		    --ids "$PGW/put$t.ids" >"$RES/pg-writes-$t.verify.json" ||
		    return 1
	done
	echo ok >"$RES/pg.ok"
}
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	pg_phase || log "pg: phase failed (see $PGW); no PostgreSQL figures"
else
	log "pg: PostgreSQL is not installed; skipped"
fi
pg_cleanup
phase end

# ---------------------------------------------------------------------
# results.md and the RESULT lines
# ---------------------------------------------------------------------
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/machine.env"
echo "wall_s=$(($(date +%s) - T_START))" >>"$RES/machine.env"
node "$ROOT/bench/report.mjs" --res "$RES" --out "$OUT"
log "wrote $OUT in $(($(date +%s) - T_START)) s"
