#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/callgrind.sh WORKDIR [TRESORD]: instructions per signed
# GetSecretBundle on the event loop, counted by callgrind (exact, unlike
# req/s on a shared machine: compare two builds with it).
#
# WORKDIR is a work directory kept by `BENCH_KEEP=1 make bench` (its data
# directory, state.json, get.tsv and bench programs).  Counts what runs
# inside on_req and flush_parked (the request path and the answers sent
# after a sync round); the syncer thread's work is not counted.
set -euo pipefail

W=${1:?usage: bench/callgrind.sh WORKDIR [TRESORD]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${2:-$ROOT/build-release/tresord}
PORT=${CG_PORT:-18557}
HOST=127.0.0.1:$PORT
jget() { node -e "console.log(require('$1')$2)"; }

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is needed" >&2; exit 1; }
RK=$(jget "$W/state.json" .reader.keyFile)
RID=$(jget "$W/state.json" .reader.keyId)
rm -f "$W"/cg.out*
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
    --toggle-collect=on_req --toggle-collect=flush_parked \
    "$BIN" serve --data "$W/data" --listen "$HOST" --threads 1 \
    >"$W/cg.log" 2>&1 &
PID=$!
for _ in $(seq 400); do
	curl -sf "http://$HOST/health" >/dev/null && break
	sleep 0.1
done
cut -f1,2 "$W/get.tsv" | tr '\t' ' ' |
    "$W/bin/presign" --key-file "$RK" --key-id "$RID" --host "$HOST" \
    >"$W/cg.tsv"
BENCH_REQS=$W/cg.tsv BENCH_THREADS=1 wrk -t1 -c4 -d6s \
    -s "$ROOT/bench/wrk/replay.lua" "http://$HOST/" >/dev/null
kill -TERM "$PID"
wait "$PID" || true
N=$(grep -oP '\d+(?= requests made durable)' "$W/cg.log")
T=$(callgrind_annotate "$W/cg.out" 2>/dev/null |
    awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t}')
echo "requests $N, instructions $T, per request $((T / N))"
echo "(callgrind_annotate --inclusive=yes $W/cg.out for the breakdown)"
