#!/usr/bin/env bash
# Forward mode, two binaries against each other and against sending directly:
# one sink (promscope --no-tui --format none, from B), a headless forwarder of A and
# one of B in front of it; wrk flat out at sink, A, B in turns (A B A B ...), so that
# load from other processes falls on all alike. Per receiver: 2xx requests/s, and
# per request the CPU time (user + system, /proc/PID/stat) of the forwarder and of
# the sink over its turns.
#
#   benches/forward_ab.sh OLD_BINARY NEW_BINARY        # ROUNDS (6) turns of SLICE (5) s each
#
# Settings: ROUNDS, SLICE, CONNECTIONS (wrk -c, 8), PROTOCOL (rw1), BASE_PORT (20120),
# SINK_ARGS (more arguments for the sink, e.g. every problem rule off: a faster sink).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
[[ $# == 2 && -x "$1" && -x "$2" ]] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
old="$1" new="$2"
ROUNDS="${ROUNDS:-6}" SLICE="${SLICE:-5}" CONNECTIONS="${CONNECTIONS:-8}"
PROTOCOL="${PROTOCOL:-rw1}" BASE_PORT="${BASE_PORT:-20120}"
command -v wrk >/dev/null || { echo "wrk is needed" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/forward-ab.XXXXXX")"
pids=()
cleanup() {
    for pid in ${pids[@]+"${pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in ${pids[@]+"${pids[@]}"}; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
sink=$BASE_PORT a=$((BASE_PORT + 1)) b=$((BASE_PORT + 2))
# shellcheck disable=SC2086 # SINK_ARGS is a list of words
"$new" --listen "127.0.0.1:$sink" --no-tui --format none ${SINK_ARGS:-} >/dev/null 2>&1 & pids+=("$!"); sink_pid=$!
"$old" --listen "127.0.0.1:$a" --no-tui --format none --forward "http://127.0.0.1:$sink" >/dev/null 2>&1 & pids+=("$!"); a_pid=$!
"$new" --listen "127.0.0.1:$b" --no-tui --format none --forward "http://127.0.0.1:$sink" >/dev/null 2>&1 & pids+=("$!"); b_pid=$!
for port in $sink $a $b; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
"$new" send --write-bodies "$work/bodies" --count 64 --protocol "$PROTOCOL" >/dev/null 2>&1
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wrk_ok() {
    timeout $(( SLICE + 60 )) wrk -t1 -c"$CONNECTIONS" -d"$SLICE"s --timeout 10s \
        -s "$root/benches/wrk_replay.lua" "http://127.0.0.1:$1/api/v1/write" -- "$work/bodies" 1 |
        grep -o 'status_2[0-9][0-9]=[0-9]*' | awk -F= '{s+=$2} END {print s+0}'
}
wrk_ok "$sink" >/dev/null # warm-up
declare -A ok=() fwd_ticks=() sink_ticks=()
echo "forward-ab: $(date -u +%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg), $PROTOCOL, $ROUNDS rounds of $SLICE s, wrk -c$CONNECTIONS, sink args: ${SINK_ARGS:-none}" | cut -c1-200
for round in $(seq "$ROUNDS"); do
    for name in sink a b; do
        port="${!name}"; pid_var="${name}_pid"; pid="${!pid_var}"
        t0=$(ticks "$pid"); s0=$(ticks "$sink_pid")
        n=$(wrk_ok "$port")
        ok[$name]=$(( ${ok[$name]:-0} + n ))
        fwd_ticks[$name]=$(( ${fwd_ticks[$name]:-0} + $(ticks "$pid") - t0 ))
        sink_ticks[$name]=$(( ${sink_ticks[$name]:-0} + $(ticks "$sink_pid") - s0 ))
    done
done
hz=$(getconf CLK_TCK)
for name in sink a b; do
    awk -v n="$name" -v ok="${ok[$name]}" -v base="${ok[sink]}" -v t="${fwd_ticks[$name]}" \
        -v s="${sink_ticks[$name]}" -v hz="$hz" -v secs=$(( ROUNDS * SLICE )) 'BEGIN {
        label = (n == "sink") ? "direct to the sink" : (n == "a") ? "through OLD" : "through NEW";
        printf "  %-20s %7.1f requests/s  %5.1f%% of direct", label, ok / secs, 100 * ok / base;
        if (n != "sink") printf "  forwarder %.3f ms CPU/request", 1000 * t / hz / ok;
        printf "  sink %.3f ms CPU/request\n", 1000 * s / hz / ok }'
done
echo "  load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
