#!/usr/bin/env bash
# Forward mode's cost: throughput and added latency of promscope --forward in front of
# a fast sink (another promscope, --no-tui --format none), against sending to the sink
# directly: same workload, same run.
#
#   benches/forward.sh                 # build, then RW1 and RW2 (~6 minutes)
#   DURATION=20 benches/forward.sh --no-build
#
# Receivers, all on loopback:
#   sink       promscope --no-tui --format none                       (the fast backend)
#   headless   promscope --no-tui --format none --forward sink
#   paused     promscope --forward sink with its dashboard open and paused (tmux)
#   live       promscope --forward sink with its dashboard open, drawing
#   metered    promscope --no-tui --format none --forward sink, for the paced runs alone
# Per protocol (the default avalanche workload written by `promscope send --write-bodies`,
# 2000 samples per request, replayed by wrk with benches/wrk_replay.lua):
#   1. throughput: wrk flat out at each receiver in turn, ROUNDS rounds of DURATION/ROUNDS
#      seconds each (sink, headless, paused, live, sink, ...), so that load from other
#      processes falls on all alike; samples/s = 2xx responses x 2000 / seconds, and each
#      forwarder's count as a ratio to the sink's turns around it: the median, quartiles
#      and range over the rounds (benches/forward_lib.sh), with the CPU time
#      per request of the forwarder and of the sink (/proc/PID/stat), the steadier figure;
#   2. latency at 100k samples/s: benches/paced.py sends 50 requests/s of 2000 samples
#      over one kept-alive connection to the sink, then to metered, in turns (ROUNDS
#      rounds of LATENCY_SECONDS each); added latency = forward's percentile minus the
#      sink's in the same round: the median over the rounds (benches/forward_lib.sh).
# At the end, what the forwarders inspected (headless: flat out; metered: at the paced
# rate, where every request should be) and what the sink received (summaries).
#
# Needs: wrk (apt-get install wrk when missing), tmux, python3. Traffic stays on
# 127.0.0.1; every wait is bounded; processes, the tmux session and the temp dir are
# cleaned up on exit. Settings: DURATION (s, 30), ROUNDS (10), LATENCY_SECONDS (5),
# CONNECTIONS (wrk -c, 8), PROTOCOLS ("rw1 rw2"), BASE_PORT (20020), PROMSCOPE_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

DURATION="${DURATION:-30}"
ROUNDS="${ROUNDS:-10}"
LATENCY_SECONDS="${LATENCY_SECONDS:-5}"
CONNECTIONS="${CONNECTIONS:-8}"
PROTOCOLS="${PROTOCOLS:-rw1 rw2}"
BASE_PORT="${BASE_PORT:-20020}"
SAMPLES_PER_REQUEST=2000
RATE_SAMPLES=100000

# shellcheck source=benches/forward_lib.sh
source "$root/benches/forward_lib.sh"
log() { fb_log "$@"; }
die() { fb_die "$@"; }

build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        *) die "unknown argument $arg" ;;
    esac
done
command -v wrk >/dev/null || apt-get install -y -q wrk >&2 || die "wrk is not installed"
command -v tmux >/dev/null || die "tmux is needed"
promscope="${PROMSCOPE_BIN:-$root/target/release/promscope}"
if [[ -z "${PROMSCOPE_BIN:-}" && ( "$build" == 1 || ! -x "$promscope" ) ]]; then
    log "cargo build --release"
    cargo build --release -q >&2
    promscope="${CARGO_TARGET_DIR:-$root/target}/release/promscope"
fi
[[ -x "$promscope" ]] || die "no promscope binary at $promscope"

work="$(mktemp -d "${TMPDIR:-/tmp}/forward-bench.XXXXXX")"
session="forward-bench-$$"
fb_traps

sink=$BASE_PORT headless=$((BASE_PORT + 1)) paused=$((BASE_PORT + 2)) live=$((BASE_PORT + 3))
metered=$((BASE_PORT + 4))
fb_start sink "$sink" "$promscope"
fb_start headless "$headless" "$promscope" --forward "http://127.0.0.1:$sink"
fb_start metered "$metered" "$promscope" --forward "http://127.0.0.1:$sink"
# The dashboards, in a tmux session of their own (an 80x24 terminal each).
fb_tmux paused "$paused" "$promscope --listen 127.0.0.1:$paused --forward http://127.0.0.1:$sink"
fb_tmux live "$live" "$promscope --listen 127.0.0.1:$live --forward http://127.0.0.1:$sink"
for port in $sink $headless $paused $live $metered; do fb_wait_listening "$port"; done
tmux send-keys -t "$session:paused" space
sleep 0.5
tmux capture-pane -p -t "$session:paused" | grep -q PAUSED || die "the dashboard did not pause"

slice=$(( DURATION / ROUNDS ))
(( slice >= 1 )) || die "DURATION must be at least ROUNDS seconds"
rate=$(( RATE_SAMPLES / SAMPLES_PER_REQUEST ))
echo "forward-bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')," \
    "load $(cut -d' ' -f1-3 /proc/loadavg), $DURATION s per receiver in $ROUNDS rounds, wrk -c$CONNECTIONS"
for proto in $PROTOCOLS; do
    bodies="$work/bodies-$proto"
    fb_bodies "$promscope" "$proto" "$bodies"
    fb_wrk_ok "$sink" 2 "$bodies" >/dev/null # warm-up: the sink sees every series once
    : >"$work/turns-$proto"
    fb_turns "$work/turns-$proto" "$ROUNDS" "$slice" "$bodies" sink \
        "sink:$sink" "headless:$headless" "paused:$paused" "live:$live"
    echo "$proto throughput:"
    fb_summary "$work/turns-$proto" "$slice" sink "$SAMPLES_PER_REQUEST" sink headless paused live
    : >"$work/lat-$proto"
    for round in $(seq "$ROUNDS"); do
        fb_paced "$work/lat-$proto" "$round" sink "$sink" "$bodies" "$rate" "$LATENCY_SECONDS"
        fb_paced "$work/lat-$proto" "$round" forward "$metered" "$bodies" "$rate" "$LATENCY_SECONDS"
    done
    echo "$proto latency at $RATE_SAMPLES samples/s:"
    fb_latency_summary "$work/lat-$proto" sink forward
done

tmux send-keys -t "$session:paused" q
tmux send-keys -t "$session:live" q
for pid in ${fb_pids[@]+"${fb_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in ${fb_pids[@]+"${fb_pids[@]}"}; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
fb_pids=()
echo "headless forwarder (flat out): $(grep -E '^  forwarded' "$work/headless.stderr" | sed 's/^ *//')"
echo "metered forwarder (paced): $(grep -E '^  forwarded' "$work/metered.stderr" | sed 's/^ *//')"
echo "sink: $(grep -E '^  requests' "$work/sink.stderr" | sed 's/^ *//')"
