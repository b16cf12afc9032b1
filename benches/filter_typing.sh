#!/usr/bin/env bash
# Filter typing under load: runs the real binary in tmux with a million series,
# keeps remote-write traffic coming with `promscope send`, then types a filter
# one key every GAP_MS (just longer than the dashboard's typing pause, so that
# every key lands while the filter typed so far is being applied: the worst
# case) and times how long each key takes to echo on the filter line (polling
# tmux's copy of the screen, so the figures include a few ms of tmux's own).
#
# Usage: benches/filter_typing.sh [--no-build]
#   SERIES_PER_METRIC=100000  ten metrics of these (1M series)
#   RATE=200000               samples/s sent while typing
#   FILTER='id="[0-9]{3}9"'   what is typed (a regex with no literal that rules
#                             series out: every series goes through the DFA)
#   APPLIED='series 9.0k/'    what the header says once the whole filter applied
#   GAP_MS=200                between keys
#   PROMSCOPE_BIN             the binary (default target/release/promscope)
set -euo pipefail
cd "$(dirname "$0")/.."

SERIES_PER_METRIC=${SERIES_PER_METRIC:-100000}
RATE=${RATE:-200000}
FILTER=${FILTER:-'id="[0-9]{3}9"'}
APPLIED=${APPLIED:-series 9.0k/}
GAP_MS=${GAP_MS:-200}
PORT=${PORT:-19702}
BIN=${PROMSCOPE_BIN:-target/release/promscope}
SESSION=promscope-filter-typing-$$

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
    "$BIN --listen 127.0.0.1:$PORT --max-series 2000000 --max-store-bytes 4294967296 2>$work/summary.txt; echo exited >$work/exited"
screen() { tmux capture-pane -p -t "$SESSION"; }
now_ms() { date +%s%3N; }
wait_for() { # fixed string, timeout in ms; prints the elapsed ms
    local start deadline
    start=$(now_ms); deadline=$((start + $2))
    until screen | grep -qF -- "$1"; do
        (( $(now_ms) < deadline )) || { echo "timeout waiting for: $1" >&2; screen >&2; return 1; }
        sleep 0.002
    done
    echo $(( $(now_ms) - start ))
}
wait_for "Waiting for remote-write" 10000 >/dev/null

url="http://127.0.0.1:$PORT/api/v1/write"
series=$(( 10 * SERIES_PER_METRIC ))
# Every series once (2,000 per request), then steady traffic while typing.
"$BIN" send --url "$url" --metrics 10 --series-per-metric "$SERIES_PER_METRIC" \
    --requests $(( series / 2000 )) --concurrency 4 >"$work/fill.txt" 2>&1
"$BIN" send --url "$url" --metrics 10 --series-per-metric "$SERIES_PER_METRIC" --rate "$RATE" \
    --concurrency 8 --precompute 64 --duration 10m >"$work/send.txt" 2>&1 &
sender=$!
# Building the bodies takes a while; then let the rate settle.
deadline=$(( $(now_ms) + 60000 ))
until screen | sed -n 2p | grep -qv "requests $(( series / 2000 )) "; do
    (( $(now_ms) < deadline )) || { echo "no traffic after 60 s:" >&2; cat "$work/send.txt" >&2; exit 1; }
    sleep 0.2
done
sleep 5
header=$(screen | sed -n 2p)

echo "filter_typing: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "filter_typing: ${series} series sent, ${RATE} samples/s while typing, a key every ${GAP_MS} ms: ${FILTER}"
echo "filter_typing: header:${header}"
tmux send-keys -t "$SESSION" /
wait_for "filter: █" 5000 >/dev/null
latencies=()
typed=
for ((i = 0; i < ${#FILTER}; i++)); do
    c=${FILTER:i:1}
    typed+=$c
    start=$(now_ms)
    tmux send-keys -t "$SESSION" -l -- "$c"
    wait_for "filter: ${typed}█" 10000 >/dev/null
    latencies+=($(( $(now_ms) - start )))
    left=$(( GAP_MS - ($(now_ms) - start) ))
    (( left > 0 )) && sleep "$(printf '0.%03d' "$left")"
done
# Typing paused: the filter applies (an invalid one never does).
start=$(now_ms)
applied=$(wait_for "$APPLIED" 20000 2>/dev/null) || applied=never
matched=$(screen | sed -n 2p)
tmux send-keys -t "$SESSION" Enter
kill "$sender" 2>/dev/null || true
sender=
tmux send-keys -t "$SESSION" q
for _ in $(seq 200); do [[ -f "$work/exited" ]] && break; sleep 0.05; done

sorted=$(printf '%s\n' "${latencies[@]}" | sort -n)
count=${#latencies[@]}
p50=$(echo "$sorted" | sed -n "$(( (count + 1) / 2 ))p")
p95=$(echo "$sorted" | sed -n "$(( (count * 95 + 99) / 100 ))p")
max=$(echo "$sorted" | tail -1)
echo "filter_typing: echo per key (ms, in order): ${latencies[*]}"
echo "filter_typing: ${count} keys, echo ms: p50 ${p50}, p95 ${p95}, max ${max} (target: within 50 ms)"
echo "filter_typing: applied ${applied} ms after the last key:${matched}"
echo "filter_typing: sender: $(tail -1 "$work/send.txt")"
(( max <= 50 )) || { echo "filter_typing: FAIL: the slowest key took ${max} ms to echo"; exit 1; }
echo "filter_typing: PASS"
