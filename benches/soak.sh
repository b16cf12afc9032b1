#!/usr/bin/env bash
# Soak: the dashboard at its default flags under a churning sender for minutes,
# live, then paused, then resumed, sampling its memory and timing keys.
#
# The release binary runs in tmux; `promscope send` sends remote-write at a fixed
# rate, replacing all of its series every CHURN_EVERY requests (a new `cycle_id`).
# The run is live for the first 40%, paused (Space) for the next 20%, and live
# again for the rest. Every few seconds VmRSS of promscope is read from /proc; a
# key is timed every few seconds throughout: `?` opens the help and `x` closes
# it, each timed from tmux's send-keys until tmux's copy of the screen shows the
# change (so the figures include a few ms of tmux and polling). At the end:
# peak RSS (VmHWM) and RSS per phase, key latency p50/p95/max, what the sender
# and promscope counted. Fails past MAX_RSS_MIB or a key slower than MAX_KEY_MS.
#
# Usage: benches/soak.sh [--no-build]
#   DURATION=300       seconds of load
#   RATE=50000         samples/s offered
#   CHURN_EVERY=25     requests between series replacements (2,000 series per
#                      request: 25 is a new set of 2,000 series every second at 50k/s)
#   PROTOCOL=rw1       rw1 or rw2
#   SAMPLE_EVERY=2     seconds between RSS samples
#   KEY_EVERY=3        seconds between timed key pairs
#   MAX_RSS_MIB=1536   MAX_KEY_MS=100   the pass criteria
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-300}
RATE=${RATE:-50000}
CHURN_EVERY=${CHURN_EVERY:-25}
PROTOCOL=${PROTOCOL:-rw1}
SAMPLE_EVERY=${SAMPLE_EVERY:-2}
KEY_EVERY=${KEY_EVERY:-3}
MAX_RSS_MIB=${MAX_RSS_MIB:-1536}
MAX_KEY_MS=${MAX_KEY_MS:-100}
PORT=${PORT:-19711}
BIN=${PROMSCOPE_BIN:-${CARGO_TARGET_DIR:-target}/release/promscope}
SESSION=promscope-soak-$$

[[ "${1:-}" == "--no-build" ]] || cargo build --release --quiet
command -v tmux >/dev/null || { echo "soak: needs tmux" >&2; exit 1; }
[[ -x "$BIN" ]] || { echo "soak: no binary at $BIN (set PROMSCOPE_BIN or CARGO_TARGET_DIR)" >&2; exit 1; }

work=$(mktemp -d)
sender= sampler=
cleanup() {
    [[ -n "$sender" ]] && kill "$sender" 2>/dev/null || true
    [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null || true
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

tmux new-session -d -s "$SESSION" -x 200 -y 50 \
    "$BIN --listen 127.0.0.1:$PORT 2>$work/summary.txt; echo exited >$work/exited"
screen() { tmux capture-pane -p -t "$SESSION"; }
now_ms() { date +%s%3N; }
# wait_for [-v] PATTERN TIMEOUT_MS: until the screen shows PATTERN (with -v: no
# longer shows it); prints the elapsed ms (the timeout's, failing, if it never does).
wait_for() {
    local invert=
    [[ "$1" == -v ]] && { invert=1; shift; }
    local start deadline
    start=$(now_ms); deadline=$((start + $2))
    while true; do
        if [[ -n "$invert" ]]; then screen | grep -qF -- "$1" || break
        else screen | grep -qF -- "$1" && break; fi
        if (( $(now_ms) >= deadline )); then
            echo "soak: timeout waiting for: $1" >&2
            screen >&2
            echo $(( $(now_ms) - start ))
            return 1
        fi
        sleep 0.002
    done
    echo $(( $(now_ms) - start ))
}
wait_for "Waiting for remote-write" 10000 >/dev/null || exit 1
pid=$(ps --ppid "$(tmux display -p -t "$SESSION" '#{pane_pid}')" -o pid= | tr -d ' ')
[[ -n "$pid" ]] || { echo "soak: promscope's pid not found" >&2; exit 1; }

echo live >"$work/phase"
(
    start=$(now_ms)
    while [[ -r /proc/$pid/status ]]; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
        echo "$(( ($(now_ms) - start) / 1000 )) ${rss:-0} $(cat "$work/phase")" >>"$work/rss"
        sleep "$SAMPLE_EVERY"
    done
) &
sampler=$!

"$BIN" send --url "http://127.0.0.1:$PORT/api/v1/write" --protocol "$PROTOCOL" --rate "$RATE" \
    --churn-every "$CHURN_EVERY" --duration "${DURATION}s" >"$work/send.txt" 2>&1 &
sender=$!
started=$(now_ms)
pause_at=$((started + DURATION * 400))
resume_at=$((started + DURATION * 600))
end_at=$((started + DURATION * 1000))
since() { echo $(( ($(now_ms) - started) / 1000 )); }

echo "soak: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak: ${RATE} samples/s over ${PROTOCOL} for ${DURATION} s, all series replaced every ${CHURN_EVERY} requests; paused from $((DURATION * 2 / 5)) s to $((DURATION * 3 / 5)) s"
: >"$work/keys"
phase=live
while (( $(now_ms) < end_at - 2000 )); do
    if [[ $phase == live && $(now_ms) -ge $pause_at ]]; then
        tmux send-keys -t "$SESSION" Space
        echo "pause $(wait_for " PAUSED " 2000) paused $(since)" >>"$work/keys"
        phase=paused; echo paused >"$work/phase"
    elif [[ $phase == paused && $(now_ms) -ge $resume_at ]]; then
        tmux send-keys -t "$SESSION" Space
        echo "resume $(wait_for -v " PAUSED " 2000) resumed $(since)" >>"$work/keys"
        phase=resumed; echo resumed >"$work/phase"
    fi
    tmux send-keys -t "$SESSION" '?'
    echo "help $(wait_for "any other key closes" 2000) $phase $(since)" >>"$work/keys"
    tmux send-keys -t "$SESSION" 'x'
    echo "close $(wait_for -v "any other key closes" 2000) $phase $(since)" >>"$work/keys"
    sleep "$KEY_EVERY"
done
header=$(screen | sed -n 2p)
wait "$sender" || true
sender=
peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
kill "$sampler" 2>/dev/null || true
sampler=
tmux send-keys -t "$SESSION" q
for _ in $(seq 200); do [[ -f "$work/exited" ]] && break; sleep 0.05; done

# stats FILTER: "count p50 p95 max" of the key latencies whose phase matches.
stats() {
    awk -v want="$1" '$3 ~ want {print $2}' "$work/keys" | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "0 - - -"; exit }
            p50 = v[int((NR + 1) / 2)]; p95 = v[int((NR * 95 + 99) / 100)]
            print NR, p50, p95, v[NR]
        }'
}
rss_max() { awk -v want="$1" '$3 ~ want && $2 > m {m = $2} END {printf "%d", m / 1024}' "$work/rss"; }
rss_last() { awk -v want="$1" '$3 ~ want {l = $2} END {printf "%d", l / 1024}' "$work/rss"; }

read -r n p50 p95 max <<<"$(stats .)"
peak_mib=$((peak_kib / 1024))
echo "soak: header at the end:${header}"
echo "soak: sender: $(tail -1 "$work/send.txt")"
echo "soak: promscope: $(grep -E 'requests +[0-9]' "$work/summary.txt" | sed 's/^ *//')"
echo "soak: promscope: $(grep -E 'dropped' "$work/summary.txt" | sed 's/^ *//')"
echo "soak: promscope: $(grep -E 'series +' "$work/summary.txt" | sed 's/^ *//')"
for ph in live paused resumed; do
    read -r pn pp50 pp95 pmax <<<"$(stats "^$ph\$")"
    echo "soak: ${ph}: RSS max $(rss_max "^$ph\$") MiB, at its end $(rss_last "^$ph\$") MiB; ${pn} keys, ms p50 ${pp50}, p95 ${pp95}, max ${pmax}"
done
echo "soak: pause answered in $(awk '$1 == "pause" {print $2}' "$work/keys") ms, resume in $(awk '$1 == "resume" {print $2}' "$work/keys") ms"
echo "soak: peak RSS (VmHWM) ${peak_mib} MiB over $(wc -l <"$work/rss") samples; ${n} keys, latency ms p50 ${p50}, p95 ${p95}, max ${max}"
echo "soak: RSS MiB every ${SAMPLE_EVERY}s: $(awk '{printf "%s%d", (NR > 1 ? " " : ""), $2 / 1024}' "$work/rss")"
awk -v max="$MAX_KEY_MS" '$2 > max {printf "soak: slow: %s took %d ms at %d s (%s)\n", $1, $2, $4, $3}' "$work/keys"
fail=
(( peak_mib < MAX_RSS_MIB )) || { echo "soak: FAIL: peak RSS ${peak_mib} MiB, over ${MAX_RSS_MIB}"; fail=1; }
(( max <= MAX_KEY_MS )) || { echo "soak: FAIL: slowest key took ${max} ms, over ${MAX_KEY_MS}"; fail=1; }
[[ -z "$fail" ]] && echo "soak: PASS"
[[ -z "$fail" ]]
