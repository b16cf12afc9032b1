#!/usr/bin/env bash
# Keystroke latency of the dashboard under load: runs the real binary in tmux,
# sends it remote-write traffic at a fixed rate with `promscope send`, then presses
# keys and times how long each takes to show on screen (polling tmux's copy of the
# screen, so the figures include a few ms of tmux overhead). At the end it checks
# that nothing was dropped: the sender saw no non-2xx and promscope answered no 503.
#
# Usage: benches/tui_latency.sh [--no-build]
#   RATE=1000000     samples/s to send (the target is 1M)
#   DURATION=40      seconds of load
#   KEYS=20          keystrokes to time
#   PROTOCOL=rw1     rw1 or rw2
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-1000000}
DURATION=${DURATION:-40}
KEYS=${KEYS:-20}
PROTOCOL=${PROTOCOL:-rw1}
PORT=${PORT:-19701}
BIN=${PROMSCOPE_BIN:-target/release/promscope}
SESSION=promscope-latency-$$

[[ "${1:-}" == "--no-build" ]] || cargo build --release --quiet
command -v tmux >/dev/null || { apt-get install -y tmux >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y tmux >/dev/null); }

work=$(mktemp -d)
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    [[ -n "${sender:-}" ]] && kill "$sender" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

tmux new-session -d -s "$SESSION" -x 200 -y 50 \
    "$BIN --listen 127.0.0.1:$PORT 2>$work/summary.txt; echo exited >$work/exited"
screen() { tmux capture-pane -p -t "$SESSION"; }
now_ms() { date +%s%3N; }
wait_for() { # pattern, timeout in ms; prints the elapsed ms
    local start deadline
    start=$(now_ms); deadline=$((start + $2))
    until screen | grep -q -- "$1"; do
        (( $(now_ms) < deadline )) || { echo "timeout waiting for: $1" >&2; screen >&2; exit 1; }
        sleep 0.002
    done
    echo $(( $(now_ms) - start ))
}
wait_for "Waiting for remote-write" 10000 >/dev/null

# Pre-built bodies: building fresh ones costs the sender more CPU than promscope
# spends receiving them, on the same two cores. (Their timestamps repeat, so the
# dashboard flags out-of-order samples; that does not change the work it does.)
"$BIN" send --url "http://127.0.0.1:$PORT/api/v1/write" --protocol "$PROTOCOL" --rate "$RATE" --concurrency 8 \
    --precompute 64 --duration "${DURATION}s" >"$work/send.txt" 2>&1 &
sender=$!
wait_for "series 2.0k" 15000 >/dev/null
sleep 5 # let the rate settle

echo "tui_latency: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), ${RATE} samples/s offered over ${PROTOCOL}"
# Alternate between two states that differ on screen: help open / closed.
latencies=()
for ((i = 0; i < KEYS; i++)); do
    tmux send-keys -t "$SESSION" '?'
    latencies+=("$(wait_for "any other key closes" 2000)")
    tmux send-keys -t "$SESSION" 'x'
    latencies+=("$(wait_for "Metrics (10)" 2000)")
done
header=$(screen | sed -n 2p)
wait "$sender" || true
sender=
tmux send-keys -t "$SESSION" q
for _ in $(seq 100); do [[ -f "$work/exited" ]] && break; sleep 0.05; done

sorted=$(printf '%s\n' "${latencies[@]}" | sort -n)
count=${#latencies[@]}
p50=$(echo "$sorted" | sed -n "$(( (count + 1) / 2 ))p")
p95=$(echo "$sorted" | sed -n "$(( (count * 95 + 99) / 100 ))p")
max=$(echo "$sorted" | tail -1)
echo "tui_latency: header under load:${header}"
echo "tui_latency: sender: $(tail -1 "$work/send.txt")"
echo "tui_latency: promscope: $(grep -E 'requests +[0-9]' "$work/summary.txt" | sed 's/^ *//')"
echo "tui_latency: promscope: $(grep -E 'dropped' "$work/summary.txt" | sed 's/^ *//')"
echo "tui_latency: ${count} keystrokes, latency ms: p50 ${p50}, p95 ${p95}, max ${max} (target: answered within 100 ms)"
grep -q "non-2xx 0" "$work/send.txt" || grep -q "2xx [0-9]*, non-2xx 0" "$work/send.txt" || { echo "tui_latency: FAIL: the sender saw non-2xx responses"; exit 1; }
grep -q "dropped     0 requests" "$work/summary.txt" || { echo "tui_latency: FAIL: promscope dropped requests"; exit 1; }
(( max <= 100 )) || { echo "tui_latency: FAIL: slowest keystroke took ${max} ms"; exit 1; }
echo "tui_latency: PASS"
