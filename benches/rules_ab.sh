#!/usr/bin/env bash
# Issue 13 end to end: headless ingest (promscope --no-tui --format none) with every
# problem rule on (the default) against every rule off (a --config file), one binary,
# fed by `promscope send` (fresh requests, each series one newer sample: the steady
# state, nothing fires) in turns A B A B ... of SLICE seconds, so that load from other
# processes falls on both alike. Per receiver: requests taken, and its CPU time (user +
# system, /proc/PID/stat) per request over its turns; on/off = CPU per request off /
# on, the throughput with rules on as a share of off when the receiver is CPU bound.
#   benches/rules_ab.sh BINARY        # ROUNDS (4) turns of SLICE (5) s each
# Settings: ROUNDS, SLICE, PROTOCOL (rw1; rw2), SERIES_PER_METRIC (200; 10 metrics),
# CONCURRENCY (1: requests in flight at once arrive out of order, and out-of-order fires), BASE_PORT (20220; a port a turn above it).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# == 1 && -x "$1" ]] || { echo "usage: $0 BINARY" >&2; exit 2; }
bin="$1"
ROUNDS="${ROUNDS:-4}" SLICE="${SLICE:-5}" PROTOCOL="${PROTOCOL:-rw1}"
SERIES_PER_METRIC="${SERIES_PER_METRIC:-200}" CONCURRENCY="${CONCURRENCY:-1}"
BASE_PORT="${BASE_PORT:-20220}"
# shellcheck source=benches/cleanup_lib.sh
source "$(pwd)/benches/cleanup_lib.sh"
bench_work rules-ab
# Every rule id, from the --rule help, switched off in a config file.
{ echo "rules:"; "$bin" --help | sed -n 's/^ \{12\}\([a-z0-9-]*\) (\(error\|warning\|info\)).*/  \1: off/p'; } >"$work/off.yml"
echo "date $(date -u +%FT%TZ)  binary $bin  $PROTOCOL  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)  rules off: $(grep -c ': off' "$work/off.yml")"
declare -A cpu reqs args=([on]="" [off]="--config $work/off.yml")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for name in on off; do cpu[$name]=0; reqs[$name]=0; done
port=$BASE_PORT
for ((r = 0; r <= ROUNDS; r++)); do
    for name in on off; do
        # A fresh receiver a turn: each `send` starts its timestamps anew, which a
        # receiver that saw the last turn would find out of order.
        port=$((port + 1))
        # shellcheck disable=SC2086
        "$bin" --no-tui --format none --listen "127.0.0.1:$port" ${args[$name]} 2>"$work/$name.err" & pid=$!; bench_pids+=($pid)
        sleep 0.5
        before=$(ticks "$pid")
        out="$("$bin" send --url "http://127.0.0.1:$port/api/v1/write" --protocol "$PROTOCOL" \
            --series-per-metric "$SERIES_PER_METRIC" --concurrency "$CONCURRENCY" --duration "${SLICE}s" 2>&1)"
        sleep 0.5
        after=$(ticks "$pid")
        kill -INT "$pid"; wait "$pid" 2>/dev/null || true
        n="$(sed -n 's/^sent \([0-9]*\) requests.*/\1/p' <<<"$out")"
        problems="$(grep -h '^  problems' "$work/$name.err" | sed 's/^ *//' || true)"
        (( r == 0 )) && continue   # warm-up turn
        cpu[$name]=$(( ${cpu[$name]} + after - before )); reqs[$name]=$(( ${reqs[$name]} + n ))
        echo "round $r $name: $n requests, $(( after - before )) ticks${problems:+, $problems}"
    done
done
hz=$(getconf CLK_TCK)
awk -v a="${cpu[on]}" -v na="${reqs[on]}" -v b="${cpu[off]}" -v nb="${reqs[off]}" -v hz="$hz" 'BEGIN {
    on = a / hz / na * 1e6; off = b / hz / nb * 1e6
    printf "rules on: %d requests, %.0f us CPU a request; rules off: %d requests, %.0f us CPU a request; on/off %.3f\n", na, on, nb, off, off / on }'
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
